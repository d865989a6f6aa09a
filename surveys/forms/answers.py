"""The questionnaire form, shared by staff (internal wording) and customers
(customer wording): one radio group per item and rating kind, grouped by gap.

In the perception mode an item has one rating (P), the field `item_<id>`. The
other modes add `item_<id>_<kind>` (E; or A and D) beside it, shown side by
side on wide screens and stacked on a phone (answers_item_multi.html)."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Layout
from django import forms
from django.utils.html import format_html

from surveys.areas import AREA_HINTS, areas
from surveys.models import (
    GAP_EXPLANATIONS,
    IMPORTANCE_POINTS,
    Audience,
    ContactChannel,
    Gap,
    Item,
    Questionnaire,
    RatingKind,
)
from surveys.text import count

POINTS_PREFIX = "points_"
OVERALL_FIELD = "overall"
POINTS_MESSAGE = f"Points are whole numbers from 0 to {IMPORTANCE_POINTS}."

DONT_KNOW = "dk"
FIELD_PREFIX = "item_"
# Each item is a fieldset with a legend, its radios labelled, its error next to it.
ITEM_TEMPLATE = "surveys/answers_item.html"


P = RatingKind.PERCEPTION.value
# What each rating asks, per audience: (title, wording source). Staff give E, A
# and D as they believe customers would.
RATING_TITLES = {
    Audience.CUSTOMER: {
        "E": "An excellent company",
        "P": "This company",
        "A": "The minimum I would accept",
        "D": "The service I want",
    },
    Audience.INTERNAL: {
        "E": "What customers expect of an excellent company (your estimate)",
        "P": "What we do",
        "A": "Customers' minimum acceptable (your estimate)",
        "D": "Customers' desired service (your estimate)",
    },
}
TOLERANCE_P_TITLE = {
    Audience.CUSTOMER: "The service I get",
    Audience.INTERNAL: "What we do",
}


def item_field_name(item: Item | int, kind: str = P) -> str:
    pk = item if isinstance(item, int) else item.pk
    return f"{FIELD_PREFIX}{pk}" if kind == P else f"{FIELD_PREFIX}{pk}_{kind}"


def parse_field_name(name: str) -> tuple[int, str] | None:
    """(item id, rating kind) of a field name `item_<id>` or `item_<id>_<kind>`;
    None when it is neither."""
    rest = name[len(FIELD_PREFIX) :]
    pk, _, kind = rest.partition("_")
    if not pk.isdigit() or (kind and kind not in RatingKind.values):
        return None
    return int(pk), kind or P


def answer_key(item_id: int, kind: str):
    """The key of an answer in `cleaned_answers()` and the services: the item id
    for a perception rating (as before the modes), (item id, kind) otherwise."""
    return item_id if kind == P else (item_id, kind)


class ScaleField(forms.ChoiceField):
    """A radio group on the questionnaire's scale. Its choices come as
    `scale_choices` makes them — (value, label) pairs of text, the shape
    Django's normalization gives — so they are set as they are: normalizing
    them for each field and again for its widget was a tenth of a customer
    submit's CPU (25 fields). Neither the field nor the widget changes the
    list, so one list serves every field of a form."""

    @property
    def choices(self):
        return self._choices

    @choices.setter
    def choices(self, value):
        self._choices = self.widget._choices = value


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


def overall_choices(questionnaire: Questionnaire) -> list[tuple[str, str]]:
    """The overall rating's choices: the scale from poor to excellent."""
    choices = []
    for value in range(questionnaire.scale_min, questionnaire.scale_max + 1):
        label = str(value)
        if value == questionnaire.scale_min:
            label = f"{value} – Very poor"
        elif value == questionnaire.scale_max:
            label = f"{value} – Excellent"
        choices.append((str(value), label))
    if questionnaire.allow_dont_know:
        choices.append((DONT_KNOW, "Don't know"))
    return choices


class AnswersForm(forms.Form):
    """Answers to every item of a questionnaire, plus an optional comment.

    `cleaned_answers()` gives {key: value or None for "don't know"} for the
    ratings that were answered, key = `answer_key(item_id, kind)`. With
    `require_all` every rating of every item needs a value or "don't know".
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
        organization_name: str = "",
        ask_consent: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.organization_name = organization_name or "this company"
        self.ask_consent = ask_consent
        if ask_consent:
            self._add_consent_fields()
        self.questionnaire = questionnaire
        self.items = items
        self.require_all = require_all
        self.fields["questionnaire_key"].initial = self.expected_key
        self.positions: dict[str, int] = {}
        self.kinds: tuple[str, ...] = questionnaire.kinds
        self.multi = len(self.kinds) > 1
        self.audience = audience
        choices = scale_choices(questionnaire)
        internal = audience == Audience.INTERNAL
        self.for_customer = not internal
        for position, item in enumerate(items, start=1):
            text = item.internal_text if internal else item.customer_text
            for kind in self.kinds:
                name = item_field_name(item, kind)
                self.positions[name] = position
                self.fields[name] = ScaleField(
                    label=f"{position}. {text}"
                    if kind == P
                    else f"{position}. {self.rating_title(kind)}",
                    choices=choices,
                    required=False,
                    widget=forms.RadioSelect,
                    error_messages={
                        "invalid_choice": "That is not a value on this scale; "
                        "please choose one of the options."
                    },
                )
        self._add_importance_and_overall(questionnaire, internal)
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

    def _add_importance_and_overall(self, questionnaire, internal: bool) -> None:
        """The importance allocation (points over the areas; staff as they
        believe customers would) and, for customers, the overall rating."""
        self.areas = areas(self.items) if questionnaire.ask_importance else []
        for key, label in self.areas:
            self.fields[f"{POINTS_PREFIX}{key}"] = forms.IntegerField(
                label=label if internal else AREA_HINTS[key],
                help_text=AREA_HINTS[key] if internal else "",
                required=False,
                min_value=0,
                max_value=IMPORTANCE_POINTS,
                error_messages={
                    "invalid": POINTS_MESSAGE,
                    "min_value": POINTS_MESSAGE,
                    "max_value": POINTS_MESSAGE,
                },
                widget=forms.NumberInput(
                    attrs={
                        "min": 0,
                        "max": IMPORTANCE_POINTS,
                        "step": 1,
                        "inputmode": "numeric",
                        "data-points": "",
                        "class": "form-control importance-points",
                    }
                ),
            )
        self.asks_overall = questionnaire.ask_overall and not internal
        if self.asks_overall:
            self.fields[OVERALL_FIELD] = forms.ChoiceField(
                label="Overall, how would you rate the service of "
                f"{self.organization_name}?",
                choices=overall_choices(questionnaire),
                required=False,
                widget=forms.RadioSelect,
                error_messages={
                    "invalid_choice": "That is not a value on this scale; "
                    "please choose one of the options."
                },
            )

    @property
    def importance_fields(self) -> list:
        return [self[f"{POINTS_PREFIX}{key}"] for key, _ in self.areas]

    @property
    def importance_errors(self) -> list[str]:
        return [str(e) for field in self.importance_fields for e in field.errors]

    @property
    def importance_total(self) -> int | None:
        """The points entered so far (the server-side running total)."""
        source = self.data if self.is_bound else self.initial
        total = 0
        for key, _ in self.areas:
            raw = str(source.get(f"{POINTS_PREFIX}{key}", "") or "").strip()
            if raw.isdigit():
                total += int(raw)
        return total

    @property
    def importance_status(self) -> str:
        """What is left to do, after the running total."""
        left = IMPORTANCE_POINTS - (self.importance_total or 0)
        if left > 0:
            return f" — {count(left, 'point')} still to give"
        if left < 0:
            return f" — {count(-left, 'point')} too many"
        return " — done"

    @property
    def importance_legend(self) -> str:
        if self.for_customer:
            return (
                f"How important is each of these to you? Spread {IMPORTANCE_POINTS} "
                "points over them: the more important, the more points."
            )
        return (
            f"How do you believe customers would spread {IMPORTANCE_POINTS} "
            "points over these, by how important each is to them?"
        )

    def _clean_importance(self, cleaned: dict) -> None:
        """All or nothing: once any points are given they must be whole,
        not negative, and total exactly IMPORTANCE_POINTS; on submit they
        are needed."""
        if not self.areas:
            return
        names = [f"{POINTS_PREFIX}{key}" for key, _ in self.areas]
        if any(name in self.errors for name in names):
            return
        given = [cleaned.get(name) for name in names]
        if all(value is None for value in given):
            if self.require_all:
                self.add_error(
                    names[0],
                    forms.ValidationError(
                        f"Please spread {IMPORTANCE_POINTS} points over these.",
                        code="required",
                    ),
                )
            return
        total = sum(value or 0 for value in given)
        if total != IMPORTANCE_POINTS:
            self.add_error(
                names[0],
                forms.ValidationError(
                    f"The points add up to {total}; they must add up to exactly "
                    f"{IMPORTANCE_POINTS}.",
                    code="importance_total",
                ),
            )

    def cleaned_allocation(self) -> dict[str, int] | None:
        """{area: points} when the allocation was given, else None."""
        if not self.areas:
            return None
        points = {
            key: self.cleaned_data.get(f"{POINTS_PREFIX}{key}") for key, _ in self.areas
        }
        if all(value is None for value in points.values()):
            return None
        return {key: value or 0 for key, value in points.items()}

    def cleaned_overall(self) -> int | None:
        raw = self.cleaned_data.get(OVERALL_FIELD) if self.asks_overall else None
        return int(raw) if raw and raw != DONT_KNOW else None

    def rating_title(self, kind: str) -> str:
        """The name of a rating, as the form shows it above its scale."""
        if kind == P and len(self.kinds) == 3:
            return TOLERANCE_P_TITLE[self.audience]
        return RATING_TITLES[self.audience][kind]

    def rating_wording(self, item: Item, kind: str) -> str:
        """The statement a rating is about: the expectation wording for E (the
        customer wording when an item has none), else the item's own."""
        own = (
            item.internal_text
            if self.audience == Audience.INTERNAL
            else item.customer_text
        )
        if kind == RatingKind.EXPECTATION:
            return item.expectation_text or item.customer_text
        return own

    def item_groups(self) -> list[dict]:
        """Per item, for answers_item_multi.html: position, item, its legend,
        its ratings [{kind, title, wording, field}] and its errors."""
        groups = []
        for position, item in enumerate(self.items, start=1):
            own = (
                item.internal_text
                if self.audience == Audience.INTERNAL
                else item.customer_text
            )
            ratings = [
                {
                    "kind": kind,
                    "title": self.rating_title(kind),
                    "wording": self.rating_wording(item, kind),
                    "field": self[item_field_name(item, kind)],
                }
                for kind in self.kinds
            ]
            groups.append(
                {
                    "position": position,
                    "item": item,
                    "legend": f"{position}. {own}",
                    "ratings": ratings,
                    "field": self[item_field_name(item)],
                    "invalid": any(r["field"].errors for r in ratings),
                }
            )
        return groups

    def gap_sections(self) -> list[dict]:
        """Item groups under their gap (staff) or in one section (customers)."""
        groups = self.item_groups()
        if self.for_customer:
            return [{"gap": None, "groups": groups}]
        return [
            {
                "gap": gap,
                "explanation": GAP_EXPLANATIONS[gap],
                "groups": [g for g in groups if g["item"].gap == gap],
            }
            for gap in Gap
            if any(g["item"].gap == gap for g in groups)
        ]

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
        stray = []
        for key in unknown:
            parsed = parse_field_name(key)
            name = item_field_name(parsed[0]) if parsed else ""
            if name in known:
                # A known item with a rating this mode does not ask for.
                self.add_error(
                    name,
                    forms.ValidationError(
                        "This survey does not ask for that rating of this "
                        "statement; the form was changed outside this page. "
                        "Your answers are kept; check them and send again.",
                        code="unknown_kind",
                    ),
                )
            else:
                stray.append(key)
        if stray:
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
        if self.multi:
            self._check_perception_given(cleaned)
        self._clean_importance(cleaned)
        if (
            self.require_all
            and self.asks_overall
            and not cleaned.get(OVERALL_FIELD)
            and OVERALL_FIELD not in self.errors
        ):
            self.add_error(
                OVERALL_FIELD,
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
                for kind in self.kinds:
                    name = item_field_name(item, kind)
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

    def _check_perception_given(self, cleaned: dict) -> None:
        """An expectation (or a minimum or desired level) means nothing without
        the perception it is compared with: refused beside the P rating."""
        for item in self.items:
            name = item_field_name(item)
            if cleaned.get(name) or name in self.errors:
                continue
            given = [
                kind
                for kind in self.kinds
                if kind != P and cleaned.get(item_field_name(item, kind))
            ]
            if given:
                self.add_error(
                    name,
                    forms.ValidationError(
                        f"You rated “{self.rating_title(given[0])}”; please also "
                        f"rate “{self.rating_title(P)}”"
                        + (
                            " (or choose “Don't know”)."
                            if self.questionnaire.allow_dont_know
                            else "."
                        ),
                        code="perception_missing",
                    ),
                )

    def cleaned_answers(self) -> dict:
        answers: dict = {}
        for item in self.items:
            for kind in self.kinds:
                raw = self.cleaned_data.get(item_field_name(item, kind))
                if raw == DONT_KNOW:
                    answers[answer_key(item.pk, kind)] = None
                elif raw:
                    answers[answer_key(item.pk, kind)] = int(raw)
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
            if name.startswith(POINTS_PREFIX):
                summary.extend(
                    {
                        "label": f"Importance ({bound.label})",
                        "message": str(message),
                        "anchor": bound.auto_id,
                    }
                    for message in errors
                )
                continue
            if name == OVERALL_FIELD:
                summary.extend(
                    {
                        "label": "Overall rating",
                        "message": str(message),
                        "anchor": f"{bound.auto_id}_0",
                    }
                    for message in errors
                )
                continue
            if name in self.positions:
                label = f"Question {self.positions[name]}"
                kind = parse_field_name(name)[1]
                if self.multi:
                    label += f" ({self.rating_title(kind)})"
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
            (
                name in self.positions
                or name == OVERALL_FIELD
                or (name.startswith(POINTS_PREFIX) and name in self.fields)
            )
            and all(e.code == "required" for e in field_errors)
            for name, field_errors in errors.items()
        )

    @property
    def missing_count(self) -> int:
        return len(self.items) - self.answered_count

    def _item_answered(self, item: Item) -> bool:
        source = self.data if self.is_bound else self.initial
        return all(source.get(item_field_name(item, kind)) for kind in self.kinds)

    def resume_fragment(self, requested: str = "") -> str:
        """The URL fragment of the question to come back to after a save: the one
        the person was at (`requested`, an item id sent by the page), else the
        first one not fully answered, else none ("")."""
        names = [item_field_name(item) for item in self.items]
        wanted = f"{FIELD_PREFIX}{requested}"
        if wanted not in names:
            wanted = next(
                (
                    item_field_name(item)
                    for item in self.items
                    if not self._item_answered(item)
                ),
                "",
            )
        return f"#fs_{self[wanted].auto_id}" if wanted else ""

    @property
    def answered_count(self) -> int:
        """How many items carry every rating in the submitted or initial data."""
        return sum(1 for item in self.items if self._item_answered(item))


def initial_from_response(response) -> dict[str, str]:
    """Form initial data of a stored draft's allocation and overall rating."""
    initial = {
        f"{POINTS_PREFIX}{area}": str(points)
        for area, points in response.allocations.values_list("area", "points")
    }
    if response.overall_rating is not None:
        initial[OVERALL_FIELD] = str(response.overall_rating)
    return initial


def initial_from_answers(answers: dict) -> dict[str, str]:
    """Form initial data from stored answers (a draft being resumed), keyed as
    `cleaned_answers()` is."""
    initial = {}
    for key, value in answers.items():
        item_id, kind = key if isinstance(key, tuple) else (key, P)
        initial[item_field_name(item_id, kind)] = (
            DONT_KNOW if value is None else str(value)
        )
    return initial
