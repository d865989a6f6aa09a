"""Forms of the organization settings page: its name, departments, segments."""

from crispy_forms.helper import FormHelper
from django import forms


class _FieldsOnlyForm(forms.Form):
    """Rendered inside a <form> the template writes (each has its own action)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())


class OrganizationForm(_FieldsOnlyForm):
    name = forms.CharField(label="Organization name", max_length=200)


class DepartmentForm(_FieldsOnlyForm):
    name = forms.CharField(label="Department name", max_length=120)


class SegmentForm(_FieldsOnlyForm):
    name = forms.CharField(label="Segment name", max_length=120)
    weight = forms.DecimalField(
        label="Weight (optional)",
        required=False,
        min_value=0,
        max_digits=9,
        decimal_places=3,
        help_text="E.g. the segment's share of revenue; used to rank where to act.",
    )


class BrandingForm(_FieldsOnlyForm):
    """The face customers see; checked for real by the branding service."""

    logo = forms.FileField(
        label="Logo (optional)",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
        help_text="A PNG or JPEG image; it is shown at about 48 pixels high.",
    )
    remove_logo = forms.BooleanField(label="Remove the logo", required=False)
    accent_color = forms.CharField(
        label="Accent colour (optional)",
        required=False,
        max_length=32,
        help_text="Written #rrggbb, e.g. #1a5276; used for buttons and the top bar.",
        widget=forms.TextInput(attrs={"placeholder": "#1a5276", "size": 9}),
    )
