"""The audit log page's filter."""

from django import forms

from surveys.audit import AUDIT_KINDS


class AuditFilterForm(forms.Form):
    kind = forms.ChoiceField(
        required=False,
        choices=[("", "Everything")]
        + [(kind, label) for kind, (label, _) in AUDIT_KINDS.items()],
    )

    def actions(self) -> tuple[str, ...] | None:
        """The actions of the chosen kind; None for everything (or a bad value)."""
        if not self.is_bound or not self.is_valid() or not self.cleaned_data["kind"]:
            return None
        return AUDIT_KINDS[self.cleaned_data["kind"]][1]
