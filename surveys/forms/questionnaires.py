"""Forms for editing an organization's questionnaire: its scale and its items."""

from crispy_forms.helper import FormHelper
from django import forms

from surveys.models import Dimension, Gap, MeasurementMode
from surveys.services.questionnaires import SCALE_POINTS_MAX, SCALE_POINTS_MIN


class _FieldsOnlyForm(forms.Form):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class QuestionnaireSettingsForm(_FieldsOnlyForm):
    name = forms.CharField(max_length=200)
    scale_points = forms.TypedChoiceField(
        label="Points on the scale",
        coerce=int,
        choices=[
            (n, f"{n} points (1 to {n})")
            for n in range(SCALE_POINTS_MIN, SCALE_POINTS_MAX + 1)
        ],
        error_messages={
            "invalid_choice": f"The scale must have between {SCALE_POINTS_MIN} and "
            f"{SCALE_POINTS_MAX} points."
        },
    )
    label_min = forms.CharField(label="Label of the lowest point", max_length=60)
    label_mid = forms.CharField(
        label="Label of the midpoint",
        max_length=60,
        required=False,
        help_text="Shown only when the scale has an odd number of points.",
    )
    label_max = forms.CharField(label="Label of the highest point", max_length=60)
    allow_dont_know = forms.BooleanField(label="Offer “Don't know”", required=False)
    mode = forms.ChoiceField(
        label="Measurement mode",
        choices=MeasurementMode.choices,
        # Left out of a post, the mode stays as it is.
        required=False,
        help_text="Fixed once the questionnaire has answers. Perception: one "
        "rating per item. Expectation: customers also rate what an excellent "
        "company would do, staff how they believe customers would. Zone of "
        "tolerance: minimum acceptable, desired and perceived service.",
        error_messages={
            "invalid_choice": "Choose one of the measurement modes: perception, "
            "expectation or tolerance."
        },
    )

    def clean_mode(self) -> str | None:
        return self.cleaned_data["mode"] or None

    ask_importance = forms.BooleanField(
        label="Ask respondents to spread 100 points over the areas (importance)",
        required=False,
    )
    ask_overall = forms.BooleanField(
        label="Ask for one overall rating of the service", required=False
    )

    @classmethod
    def initial_for(cls, questionnaire) -> dict:
        return {
            "name": questionnaire.name,
            "scale_points": questionnaire.scale_points,
            "label_min": questionnaire.label_min,
            "label_mid": questionnaire.label_mid,
            "label_max": questionnaire.label_max,
            "allow_dont_know": questionnaire.allow_dont_know,
            "mode": questionnaire.mode,
            "ask_importance": questionnaire.ask_importance,
            "ask_overall": questionnaire.ask_overall,
        }


def _not_blank(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise forms.ValidationError(f"The {what} wording cannot be empty.")
    return value


class ItemForm(_FieldsOnlyForm):
    gap = forms.ChoiceField(choices=Gap.choices)
    dimension = forms.ChoiceField(
        label="Service dimension (optional)",
        choices=[("", "—")] + list(Dimension.choices),
        required=False,
    )
    internal_text = forms.CharField(
        label="Wording for staff",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
    )
    customer_text = forms.CharField(
        label="Wording for customers",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
    )
    expectation_text = forms.CharField(
        label="Expectation wording for customers",
        help_text="What an excellent company in this field would do, e.g. "
        "“Excellent insurers answer a claim within a week.” Asked in the "
        "expectation mode.",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
        required=False,
    )

    def clean_internal_text(self) -> str:
        return _not_blank(self.cleaned_data["internal_text"], "staff")

    def clean_customer_text(self) -> str:
        return _not_blank(self.cleaned_data["customer_text"], "customer")

    @classmethod
    def initial_for(cls, item) -> dict:
        return {
            "gap": item.gap,
            "dimension": item.dimension,
            "internal_text": item.internal_text,
            "customer_text": item.customer_text,
            "expectation_text": item.expectation_text,
        }
