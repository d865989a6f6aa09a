"""Forms for adding staff: one person, or a CSV file of them."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout, Submit
from django import forms

from surveys.models import Department, Organization
from surveys.services.staff import DEPARTMENT_MAX, NAME_MAX, one_line


class StaffAddForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)
    name = forms.CharField(label="Name", max_length=NAME_MAX)
    department = forms.ModelChoiceField(
        label="Department",
        queryset=Department.objects.none(),
        required=False,
        empty_label="— none —",
    )
    new_department = forms.CharField(
        label="…or a new department",
        max_length=DEPARTMENT_MAX,
        required=False,
        help_text="Type a name to create a department (or use an existing one).",
    )

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.filter(
            organization=organization
        )
        self.helper = FormHelper()
        self.helper.layout = Layout(
            "email",
            "name",
            "department",
            "new_department",
            Submit("add", "Add and send the invitation"),
        )

    def clean_name(self) -> str:
        # A name travels into emails: it is kept on one line.
        name = one_line(self.cleaned_data["name"])
        if not name:
            raise forms.ValidationError("Please give a name.")
        return name

    def clean_new_department(self) -> str:
        return one_line(self.cleaned_data["new_department"])

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("department") and cleaned.get("new_department"):
            self.add_error(
                "new_department",
                "Choose an existing department or type a new one, not both.",
            )
        return cleaned


class StaffImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: email, name, department (header row first; UTF-8).",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout("file", Submit("preview", "Preview the import"))
