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
