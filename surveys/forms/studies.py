"""Forms to create, edit and reopen a study."""

from crispy_forms.helper import FormHelper
from django import forms
from django.utils import timezone

from surveys.models import Organization, Study
from surveys.services.studies import (
    MIN_GROUP_SIZE,
    questionnaire_preferred,
    questionnaires_available,
    study_dates_problems,
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class QuestionnaireChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        owner = "default" if obj.organization_id is None else "yours"
        return f"{obj.name} (v{obj.version}, {owner})"


class StudyForm(forms.Form):
    name = forms.CharField(
        max_length=200, help_text="For you and your staff; customers never see it."
    )
    public_title = forms.CharField(
        label="Title for customers (optional)",
        required=False,
        max_length=200,
        help_text="In the email subject and on the customer pages, e.g. “How did we "
        "do?”. Left empty, customers see your organization's name.",
    )
    questionnaire = QuestionnaireChoiceField(
        queryset=None, empty_label=None, help_text="The default or one of yours."
    )
    opens_on = forms.DateField(
        label="Opens on",
        required=False,
        widget=DateInput(),
        help_text="Planned; opening the study early sets it to that day.",
    )
    closes_on = forms.DateField(label="Closes on", widget=DateInput())
    introduction = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Shown to customers and staff before the questions.",
    )
    min_group_size = forms.IntegerField(
        label="Minimum group size",
        initial=5,
        min_value=MIN_GROUP_SIZE,
        max_value=1000,
        help_text="Groups smaller than this are never reported (at least 3).",
        error_messages={
            "min_value": f"The minimum group size must be at least {MIN_GROUP_SIZE}."
        },
    )
    reminder_interval_days = forms.IntegerField(
        label="Days between reminders", initial=7, min_value=1, max_value=365
    )
    max_reminders = forms.IntegerField(
        label="Maximum number of reminders", initial=2, min_value=0, max_value=10
    )

    def __init__(
        self, *args, organization: Organization, study: Study | None = None, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.study = study
        self.fields["questionnaire"].queryset = questionnaires_available(organization)
        if study is None and not self.is_bound and "questionnaire" not in self.initial:
            preferred = questionnaire_preferred(organization)
            if preferred is not None:
                self.initial["questionnaire"] = preferred.pk
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    @classmethod
    def initial_for(cls, study: Study) -> dict:
        return {
            "name": study.name,
            "public_title": study.public_title,
            "questionnaire": study.questionnaire_id,
            "opens_on": study.opens_on,
            "closes_on": study.closes_on,
            "introduction": study.introduction,
            "min_group_size": study.min_group_size,
            "reminder_interval_days": study.reminder_interval_days,
            "max_reminders": study.max_reminders,
        }

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean(self) -> dict:
        cleaned = super().clean()
        problems = study_dates_problems(
            opens_on=cleaned.get("opens_on"),
            closes_on=cleaned.get("closes_on"),
            today=timezone.localdate(),
            unchanged=(self.study.opens_on, self.study.closes_on)
            if self.study
            else (None, None),
        )
        for field, message in problems.items():
            if field not in self.errors:
                self.add_error(field, message)
        return cleaned


class StudyReopenForm(forms.Form):
    closes_on = forms.DateField(label="Reopen until", widget=DateInput())

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def clean_closes_on(self):
        closes_on = self.cleaned_data["closes_on"]
        if closes_on <= timezone.localdate():
            raise forms.ValidationError("The new closing date must be in the future.")
        return closes_on
