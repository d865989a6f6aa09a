"""The dashboard filter: one department (staff) and/or one segment (customers)."""

from django import forms

from analysis.cuts import ALL, Cut


class DashboardFilterForm(forms.Form):
    department = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label="Staff department"
    )
    segment = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label="Customer segment"
    )

    def __init__(self, *args, departments: list, segments: list, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [("", "All departments")] + [
            (str(pk), name) for pk, name in departments
        ]
        self.fields["segment"].choices = [("", "All segments")] + [
            (str(pk), name) for pk, name in segments
        ]

    def cut(self) -> Cut:
        """The chosen cut; everything when the filter is empty or invalid."""
        if not self.is_valid():
            return ALL
        return Cut(
            department_id=self.cleaned_data["department"],
            segment_id=self.cleaned_data["segment"],
        )

    @property
    def is_filtered(self) -> bool:
        return self.cut() != ALL
