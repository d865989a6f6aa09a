"""Forms of closing the loop: a study's follow-up rules, working a case, the
case list's filters."""

from django import forms

from surveys.models import Case, Gap, Membership, Segment, Study
from surveys.services.followup import (
    DEFAULT_DUE_HOURS,
    MAX_DUE_HOURS,
    FollowUpRules,
    Trigger,
    default_threshold,
    member_name,
)


def _member_choices(organization_id: int) -> list[tuple[str, str]]:
    members = Membership.objects.filter(organization_id=organization_id).select_related(
        "user"
    )
    return [
        (str(m.user_id), f"{member_name(m)} ({m.get_role_display().lower()})")
        for m in sorted(members, key=lambda m: member_name(m).lower())
    ]


class FollowUpRulesForm(forms.Form):
    enabled = forms.BooleanField(
        label="Ask customers whether they may be contacted, and open cases",
        required=False,
    )
    trigger = forms.ChoiceField(
        label="Open a case", choices=Trigger.CHOICES, widget=forms.RadioSelect
    )
    threshold = forms.IntegerField(
        label="Threshold",
        required=False,
        help_text="A case opens when any area score (the mean of an area's "
        "answers) is at or below this.",
    )
    due_hours = forms.IntegerField(
        label="Due within (hours)",
        initial=DEFAULT_DUE_HOURS,
        help_text="The time to the first contact.",
    )
    owner = forms.ChoiceField(
        label="Owner (when the segment has none of its own)", required=False
    )
    mail_customer = forms.BooleanField(
        label="A resolved case may mail the customer a short note from its owner",
        required=False,
    )

    def __init__(self, *args, study: Study, **kwargs) -> None:
        rules = FollowUpRules.of(study)
        initial = {
            "enabled": rules.enabled,
            "trigger": rules.trigger,
            "threshold": rules.threshold
            if rules.threshold is not None
            else default_threshold(study),
            "due_hours": rules.due_hours,
            "owner": str(rules.owner or ""),
            "mail_customer": rules.mail_customer,
        }
        self.segments = list(Segment.objects.filter(organization=study.organization))
        for segment in self.segments:
            initial[f"segment_{segment.pk}"] = str(
                rules.segment_owners.get(str(segment.pk), "")
            )
        super().__init__(*args, initial=initial, **kwargs)
        choices = [("", "—")] + _member_choices(study.organization_id)
        self.fields["owner"].choices = choices
        questionnaire = study.questionnaire
        self.fields["threshold"].help_text += (
            f" On this questionnaire's scale, {questionnaire.scale_min} to "
            f"{questionnaire.scale_max}."
        )
        self.fields["due_hours"].widget.attrs.update(min=1, max=MAX_DUE_HOURS)
        for segment in self.segments:
            self.fields[f"segment_{segment.pk}"] = forms.ChoiceField(
                label=f"Owner for {segment.name}",
                choices=[("", "The owner above")] + choices[1:],
                required=False,
            )

    @property
    def segment_fields(self):
        return [self[f"segment_{segment.pk}"] for segment in self.segments]

    def values(self) -> dict:
        """The service's keyword arguments."""
        data = self.cleaned_data

        def user_id(value: str):
            return int(value) if value else None

        return {
            "enabled": data["enabled"],
            "trigger": data["trigger"],
            "threshold": data.get("threshold"),
            "due_hours": data["due_hours"],
            "owner_id": user_id(data.get("owner")),
            "segment_owner_ids": {
                segment.pk: user_id(data.get(f"segment_{segment.pk}"))
                for segment in self.segments
            },
            "mail_customer": data["mail_customer"],
        }


class CaseNoteForm(forms.Form):
    text = forms.CharField(
        label="Note", max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class CaseStatusForm(forms.Form):
    to = forms.ChoiceField(
        choices=[
            ("contacted", "Contacted"),
            ("resolved", "Resolved"),
            ("closed", "Closed without contact"),
        ]
    )
    note = forms.CharField(
        label="What was done",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    customer_note = forms.CharField(
        label="A short note to the customer (optional, mailed to them)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CaseAssignForm(forms.Form):
    owner = forms.ChoiceField(label="Owner")

    def __init__(self, *args, organization_id: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = _member_choices(organization_id)


class CaseActionForm(forms.Form):
    gap = forms.ChoiceField(label="Gap", choices=Gap.choices)
    description = forms.CharField(
        label="Action", max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )


class CaseFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *Case.Status.choices]
    )
    owner = forms.ChoiceField(required=False)
    segment = forms.ChoiceField(required=False)
    overdue = forms.BooleanField(required=False, label="Overdue only")

    def __init__(self, *args, organization_id: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", "Any owner")] + _member_choices(
            organization_id
        )
        self.fields["segment"].choices = [("", "Any segment")] + [
            (str(pk), name)
            for pk, name in Segment.objects.filter(
                organization_id=organization_id
            ).values_list("pk", "name")
        ]

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "status": data.get("status") or "",
            "owner_id": int(data["owner"]) if data.get("owner") else None,
            "segment_id": int(data["segment"]) if data.get("segment") else None,
            "overdue": bool(data.get("overdue")),
        }
