"""The form to add or edit an action on a gap."""

from crispy_forms.helper import FormHelper
from django import forms

from surveys.models import Action, Gap


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class ActionForm(forms.Form):
    gap = forms.ChoiceField(choices=Gap.choices)
    description = forms.CharField(
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What will be done about this gap.",
    )
    owner = forms.CharField(
        max_length=200, required=False, help_text="Who is responsible."
    )
    due_on = forms.DateField(label="Due on", required=False, widget=DateInput())
    status = forms.ChoiceField(choices=Action.Status.choices, initial="planned")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        # The template writes the <form> tag, its fieldset and the button.
        self.helper.form_tag = False

    def clean_description(self) -> str:
        return self.cleaned_data["description"].strip()

    def clean_owner(self) -> str:
        return self.cleaned_data["owner"].strip()
