"""The questionnaire form, shared by staff (internal wording) and customers
(customer wording): one radio group per item, grouped by gap."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Layout
from django import forms
from django.utils.html import format_html

from surveys.models import (
    GAP_EXPLANATIONS,
    Audience,
    ContactChannel,
    Gap,
    Item,
    Questionnaire,
)

DONT_KNOW = "dk"
FIELD_PREFIX = "item_"
# Each item is a fieldset with a legend, its radios labelled, its error next to it.
ITEM_TEMPLATE = "surveys/answers_item.html"


def item_field_name(item: Item) -> str:
    return f"{FIELD_PREFIX}{item.pk}"


def scale_choices(questionnaire: Questionnaire) -> list[tuple[str, str]]:
    """Radio choices for the scale; the ends and the middle carry their labels."""
    labels = {
        questionnaire.scale_min: questionnaire.label_min,
        questionnaire.scale_max: questionnaire.label_max,
    }
    midpoint = questionnaire.scale_midpoint
    if midpoint == int(midpoint):
        labels[int(midpoint)] = questionnaire.label_mid
    choices = []
    for value in range(questionnaire.scale_min, questionnaire.scale_max + 1):
        label = f"{value} – {labels[value]}" if value in labels else str(value)
        choices.append((str(value), label))
    if questionnaire.allow_dont_know:
        choices.append((DONT_KNOW, "Don't know"))
    return choices


def scale_header(questionnaire: Questionnaire) -> dict:
    """The compact grid's column header: each scale point's number, and the labels
    of the ends and middle, each spanning the columns it may take (grid column 1
    holds the statements; the scale starts at column 2).

    Out: {"points": [values], "labels": [{"text", "column", "span", "align"}]}.
    """
    low, high = questionnaire.scale_min, questionnaire.scale_max
    n = high - low + 1
    midpoint = questionnaire.scale_midpoint
    middle = 3 if n >= 7 else 1
    has_middle = midpoint == int(midpoint)
    side = (n - middle) // 2 if has_middle else n // 2
    labels = [
        {"text": questionnaire.label_min, "column": 2, "span": side, "align": "start"},
        {
            "text": questionnaire.label_max,
            "column": 2 + n - side,
            "span": side,
            "align": "end",
        },
    ]
    if has_middle:
        labels.insert(
            1,
            {
                "text": questionnaire.label_mid,
                "column": 2 + int(midpoint) - low - middle // 2,
                "span": middle,
                "align": "center",
            },
        )
    return {"points": list(range(low, high + 1)), "labels": labels}


class AnswersForm(forms.Form):
    """Answers to every item of a questionnaire, plus an optional comment.

    `cleaned_answers()` gives {item_id: value or None for "don't know"} for the items
    that were answered. With `require_all` every item needs a value or "don't know".
    """

    # Set True to show the answers (bound or initial) without letting them change.
    answers_locked = False
    # Set True when a refused submit kept what was answered as the draft.
    kept_as_draft = False

    comment = forms.CharField(
        label="Anything you would like to add? (optional)",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # Which questionnaire the page was built for: a changed value means the form
    # was tampered with or the questionnaire changed since the page was shown.
    questionnaire_key = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args,
        questionnaire: Questionnaire,
        items: list[Item],
        audience: str,
        require_all: bool = False,
        ask_consent: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.ask_consent = ask_consent
        if ask_consent:
            self._add_consent_fields()
        self.questionnaire = questionnaire
        self.items = items
        self.require_all = require_all
        self.fields["questionnaire_key"].initial = self.expected_key
        self.positions: dict[str, int] = {}
        choices = scale_choices(questionnaire)
        internal = audience == Audience.INTERNAL
        self.for_customer = not internal
        for position, item in enumerate(items, start=1):
            text = item.internal_text if internal else item.customer_text
            self.positions[item_field_name(item)] = position
            self.fields[item_field_name(item)] = forms.ChoiceField(
                label=f"{position}. {text}",
                choices=choices,
                required=False,
                widget=forms.RadioSelect,
                error_messages={
                    "invalid_choice": "That is not a value on this scale; "
                    "please choose one of the options."
                },
            )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        # Render with templates/surveys/answers_form.html: it summarises every error
        # (non-field ones included) at the top, and writes questionnaire_key and
        # the comment (with its own error) after the items.
        self.helper.form_show_errors = False
        self.helper.layout = Layout(*self._sections(internal))

    def _add_consent_fields(self) -> None:
        """The customer's optional "May we contact you?" (no by default)."""
        self.fields["contact_ok"] = forms.BooleanField(
            label="Yes, you may contact me about my answers.",
            required=False,
        )
        self.fields["contact_channel"] = forms.ChoiceField(
            label="How would you like to be contacted?",
            choices=ContactChannel.choices,
            initial=ContactChannel.EMAIL,
            required=False,
            widget=forms.RadioSelect,
        )
        self.fields["contact_phone"] = forms.CharField(
            label="Phone number (only if you prefer a call)",
            required=False,
            max_length=30,
            widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
        )

    def clean_contact_phone(self) -> str:
        from surveys.services.followup import valid_phone

        phone = " ".join(self.cleaned_data.get("contact_phone", "").split())
        if phone and not valid_phone(phone):
            raise forms.ValidationError(
                "Write the phone number with digits (and + ( ) - if you like).",
                code="phone",
            )
        return phone

    def cleaned_consent(self):
        """The customer's consent (a `Consent`), or None when they did not give it."""
        from surveys.services.followup import Consent

        if not self.ask_consent or not self.cleaned_data.get("contact_ok"):
            return None
        channel = self.cleaned_data.get("contact_channel") or ContactChannel.EMAIL
        return Consent(
            channel=channel, phone=self.cleaned_data.get("contact_phone", "")
        )

    @property
    def scale_header(self) -> dict:
        return scale_header(self.questionnaire)

    @property
    def expected_key(self) -> str:
        return f"{self.questionnaire.pk}:{len(self.items)}"

    def _sections(self, internal: bool) -> list:
        """Staff see items grouped by gap, named; customers see no gap jargon."""
        if not internal:
            return [
                Field(item_field_name(item), template=ITEM_TEMPLATE)
                for item in self.items
            ]
        sections = []
        for gap in Gap:
            fields = [
                Field(item_field_name(item), template=ITEM_TEMPLATE)
                for item in self.items
                if item.gap == gap
            ]
            if fields:
                # A heading per gap (not a fieldset: each item is one already).
                sections.append(
                    Div(
                        HTML(
                            format_html(
                                '<h2 class="h4" id="gap-{}">{}</h2>'
                                '<p class="text-body-secondary">{}</p>',
                                gap.value,
                                gap.label,
                                GAP_EXPLANATIONS[gap],
                            )
                        ),
                        *fields,
                        css_class="gap-section mb-4",
                    )
                )
        return sections

    def clean(self) -> dict:
        cleaned = super().clean()
        known = set(self.fields)
        unknown = [
            key
            for key in self.data
            if key.startswith(FIELD_PREFIX) and key not in known
        ]
        if unknown:
            raise forms.ValidationError(
                "The form contained a question that is not part of this questionnaire. "
                "Please reload the page and try again.",
                code="unknown_item",
            )
        key = cleaned.get("questionnaire_key")
        if key and key != self.expected_key:
            raise forms.ValidationError(
                "The form does not match this questionnaire: it was changed outside "
                "this page. Your answers are kept below; check them and send again.",
                code="tampered",
            )
        if (
            self.ask_consent
            and cleaned.get("contact_ok")
            and cleaned.get("contact_channel") == ContactChannel.PHONE
            and not cleaned.get("contact_phone")
            and "contact_phone" not in self.errors
        ):
            self.add_error(
                "contact_phone",
                forms.ValidationError(
                    "Give a phone number, or choose to be contacted by email.",
                    code="phone_missing",
                ),
            )
        if self.require_all:
            for item in self.items:
                name = item_field_name(item)
                if not cleaned.get(name) and name not in self.errors:
                    self.add_error(
                        name,
                        forms.ValidationError(
                            "Please choose an answer"
                            + (
                                " or “Don't know”."
                                if self.questionnaire.allow_dont_know
                                else "."
                            ),
                            code="required",
                        ),
                    )
        return cleaned

    def cleaned_answers(self) -> dict[int, int | None]:
        answers: dict[int, int | None] = {}
        for item in self.items:
            raw = self.cleaned_data.get(item_field_name(item))
            if raw == DONT_KNOW:
                answers[item.pk] = None
            elif raw:
                answers[item.pk] = int(raw)
        return answers

    def error_summary(self) -> list[dict[str, str]]:
        """The form's errors for the summary at the top: each with the message, the
        question it belongs to and the id of the control to jump to."""
        summary = [
            {"label": "", "message": str(message), "anchor": ""}
            for message in self.non_field_errors()
        ]
        for name, errors in self.errors.items():
            if name not in self.fields or name == "questionnaire_key":
                continue
            bound = self[name]
            if name in self.positions:
                label = f"Question {self.positions[name]}"
                anchor = f"{bound.auto_id}_0"
            else:
                label = str(bound.label)
                anchor = bound.auto_id
            summary.extend(
                {"label": label, "message": str(message), "anchor": anchor}
                for message in errors
            )
        return summary

    def only_answers_missing(self) -> bool:
        """True when the form's only problems are unanswered items: what was
        answered is valid and can be kept as a draft."""
        errors = self.errors.as_data()
        return bool(errors) and all(
            name in self.positions and all(e.code == "required" for e in field_errors)
            for name, field_errors in errors.items()
        )

    @property
    def missing_count(self) -> int:
        return len(self.items) - self.answered_count

    def resume_fragment(self, requested: str = "") -> str:
        """The URL fragment of the question to come back to after a save: the one
        the person was at (`requested`, an item id sent by the page), else the
        first one unanswered, else none ("")."""
        names = [item_field_name(item) for item in self.items]
        wanted = f"{FIELD_PREFIX}{requested}"
        if wanted not in names:
            source = self.data if self.is_bound else self.initial
            wanted = next((name for name in names if not source.get(name)), "")
        return f"#fs_{self[wanted].auto_id}" if wanted else ""

    @property
    def answered_count(self) -> int:
        """How many items carry an answer in the submitted or initial data."""
        source = self.data if self.is_bound else self.initial
        return sum(1 for item in self.items if source.get(item_field_name(item)))


def initial_from_answers(answers: dict[int, int | None]) -> dict[str, str]:
    """Form initial data from stored answers (a draft being resumed)."""
    return {
        f"{FIELD_PREFIX}{item_id}": DONT_KNOW if value is None else str(value)
        for item_id, value in answers.items()
    }
