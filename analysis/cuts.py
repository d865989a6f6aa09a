"""The dashboard filter as a value: light on purpose (no pandas), so that the
URLconf can load the filter form without the analysis stack."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Cut:
    """The dashboard filter: staff of one department, customers of one segment."""

    department_id: int | None = None
    segment_id: int | None = None


ALL = Cut()
