"""The invite form: all contacts, or one segment."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout, Submit
from django import forms

from surveys.models import Organization, Segment


class InviteForm(forms.Form):
    segment = forms.ModelChoiceField(
        queryset=Segment.objects.none(),
        required=False,
        empty_label="All contacts",
        label="Whom to invite",
        help_text="Opted-out contacts and contacts already invited are skipped.",
    )

    def __init__(self, *args, organization: Organization, **kw):
        super().__init__(*args, **kw)
        self.fields["segment"].queryset = Segment.objects.filter(
            organization=organization
        )
        self.helper = FormHelper()
        self.helper.layout = Layout("segment", Submit("invite", "Invite"))
