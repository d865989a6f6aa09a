"""Forms of the contacts pages: one contact, the CSV upload, the list filter."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Layout, Submit
from django import forms

from surveys.models import Organization, Segment


class ContactForm(forms.Form):
    email = forms.EmailField(max_length=254)
    name = forms.CharField(max_length=200, required=False)
    segment = forms.CharField(
        max_length=120,
        required=False,
        help_text="Pick an existing segment or type a new one; empty for none.",
    )

    def __init__(self, *args, organization: Organization, submit_label: str, **kw):
        super().__init__(*args, **kw)
        self.segment_names = list(
            Segment.objects.filter(organization=organization).values_list(
                "name", flat=True
            )
        )
        self.helper = FormHelper()
        self.helper.layout = Layout(
            "email",
            "name",
            Field("segment", list="segment-options", autocomplete="off"),
            Submit("submit", submit_label),
        )

    def clean_segment(self) -> str:
        return " ".join(self.cleaned_data["segment"].split())


class ContactImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns email, name, segment (header row required; name and "
        "segment may be left out). UTF-8, comma or semicolon separated.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.helper = FormHelper()
        self.helper.layout = Layout("file", Submit("submit", "Preview the import"))


class ContactFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=200)
    segment = forms.ModelChoiceField(
        queryset=Segment.objects.none(), required=False, empty_label="All segments"
    )

    def __init__(self, *args, organization: Organization, **kw):
        super().__init__(*args, **kw)
        self.fields["segment"].queryset = Segment.objects.filter(
            organization=organization
        )
        self.fields["q"].widget.attrs["placeholder"] = "Email or name"
