"""Realistic synthetic responses, written with bulk inserts.

Used by the demo data (`manage.py demo`) and the benchmark generator
(`manage.py generate_study`). Values are drawn per respondent: a gap mean for the
audience, shifted by the respondent's group and by the respondent's own leaning,
plus noise per answer, rounded and clipped to the scale; a few "don't know".

Questionnaires in the expectation or tolerance mode get their other ratings
(E; or A and D) drawn the same way around the perception's means, shifted per
kind (and per item where the profile says so); with importance, each
respondent spreads 100 points over the areas (drawn around the profile's
importance), and customers give the overall rating when it is asked. The
perception ratings are drawn first, from the same random stream as before, so
a perception study is generated exactly as it always was.
"""

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.db import connection, transaction

from surveys.areas import area_of, areas, by_dimension
from surveys.models import (
    IMPORTANCE_POINTS,
    Allocation,
    Answer,
    Audience,
    Item,
    Response,
    Study,
)
from surveys.services.invitations import invitation_token_new

BATCH = 5000


@dataclass(frozen=True)
class Respondent:
    """One response to write: who it came from, and the group it is counted in."""

    audience: str
    department_id: int | None = None
    segment_id: int | None = None
    invitation_id: int | None = None
    user_id: int | None = None
    # Added to every gap mean of this respondent (e.g. a department that is
    # harsher on itself, or a segment that is served worse).
    shift: float = 0.0
    comment: str = ""
    submitted: bool = True


@dataclass(frozen=True)
class Profile:
    """The mean answer per gap for each audience, on the questionnaire's scale."""

    internal: dict[str, float]
    customer: dict[str, float]
    respondent_sd: float = 0.6  # how much respondents differ from each other
    answer_sd: float = 0.9  # how much one respondent's answers scatter
    dont_know_rate: float = 0.03
    item_shift: dict[int, float] = field(default_factory=dict)
    # The other ratings, around the perception's means: E above it, the
    # minimum acceptable A below, the desired D above.
    kind_shift: dict[str, float] = field(
        default_factory=lambda: {"E": 0.9, "A": -1.2, "D": 1.1}
    )
    # Per (kind, item id), e.g. a statement customers expect much of.
    kind_item_shift: dict[tuple[str, int], float] = field(default_factory=dict)
    # Relative importance of the areas (Dirichlet weights); equal when absent.
    importance: dict[str, float] = field(default_factory=dict)
    staff_importance: dict[str, float] = field(default_factory=dict)


def answer_matrix(
    *,
    items: Sequence[Item],
    respondents: Sequence[Respondent],
    profile: Profile,
    scale: tuple[int, int],
    rng: np.random.Generator,
    kind: str = "P",
) -> np.ndarray:
    """Draw a respondents × items matrix of answers; NaN means "don't know".
    `kind` "P" is the perception; the other kinds are shifted by the
    profile's kind_shift and kind_item_shift."""
    low, high = scale
    extra = 0.0 if kind == "P" else profile.kind_shift.get(kind, 0.0)
    means = np.array(
        [
            [
                (
                    profile.internal
                    if r.audience == Audience.INTERNAL
                    else profile.customer
                )[item.gap]
                + profile.item_shift.get(item.pk, 0.0)
                + extra
                + profile.kind_item_shift.get((kind, item.pk), 0.0)
                + r.shift
                for item in items
            ]
            for r in respondents
        ]
    )
    leaning = rng.normal(0.0, profile.respondent_sd, size=(len(respondents), 1))
    values = np.clip(
        np.rint(means + leaning + rng.normal(0.0, profile.answer_sd, means.shape)),
        low,
        high,
    )
    values[rng.random(values.shape) < profile.dont_know_rate] = np.nan
    return values


def _answers_insert(
    *,
    response_ids: np.ndarray,
    item_ids: np.ndarray,
    values: np.ndarray,
    kind: str = "P",
) -> int:
    """Insert answer rows straight from arrays (NaN value = "don't know").

    Hundreds of thousands of Answer objects would cost far more than the insert
    itself, so rows go as plain tuples: PostgreSQL's COPY where available, else
    one executemany.
    """
    table = connection.ops.quote_name(Answer._meta.db_table)
    columns = ", ".join(
        connection.ops.quote_name(Answer._meta.get_field(name).column)
        for name in ("response", "item", "value", "kind")
    )
    rows = zip(response_ids.tolist(), item_ids.tolist(), values.tolist(), strict=True)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        if connection.vendor == "postgresql" and hasattr(raw, "copy_expert"):
            text = "".join(
                f"{r},{i},{'' if v != v else int(v)},{kind}\n" for r, i, v in rows
            )
            raw.copy_expert(
                f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)",
                io.StringIO(text),
            )
        else:
            cursor.executemany(
                # Names from the model's meta, quoted; the values are parameters.
                f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s)",  # noqa: S608
                [(r, i, None if v != v else int(v), kind) for r, i, v in rows],
            )
    return len(response_ids)


@transaction.atomic
def responses_bulk_create(
    *,
    study: Study,
    respondents: Sequence[Respondent],
    profile: Profile,
    submitted_at: Sequence[datetime],
    rng: np.random.Generator,
) -> int:
    """Write one response per respondent, with answers to every item (every
    rating of the questionnaire's mode), the importance allocation and the
    customers' overall rating when the questionnaire asks for them.

    Drafts get answers to the first half of the items only, and no allocation
    or overall rating. Returns the number of answers written.
    """
    questionnaire = study.questionnaire
    items = list(questionnaire.items.order_by("position", "id"))
    scale = (questionnaire.scale_min, questionnaire.scale_max)
    kinds = ["P", *(k for k in questionnaire.kinds if k != "P")]
    matrices = {
        kind: answer_matrix(
            items=items,
            respondents=respondents,
            profile=profile,
            scale=scale,
            rng=rng,
            kind=kind,
        )
        for kind in kinds
    }
    values = matrices["P"]
    overall = _overall_ratings(values, respondents, scale, rng, questionnaire)
    allocations = _allocations(items, respondents, profile, rng, questionnaire)
    item_ids = np.array([item.pk for item in items], dtype=np.int64)
    written = 0
    for start in range(0, len(respondents), BATCH):
        chunk = respondents[start : start + BATCH]
        responses = Response.objects.bulk_create(
            Response(
                study=study,
                audience=r.audience,
                department_id=r.department_id,
                segment_id=r.segment_id,
                invitation_id=r.invitation_id,
                user_id=r.user_id,
                status=Response.Status.SUBMITTED
                if r.submitted
                else Response.Status.DRAFT,
                comment=r.comment,
                created_at=when,
                updated_at=when,
                submitted_at=when if r.submitted else None,
                overall_rating=rating,
            )
            for r, when, rating in zip(
                chunk,
                submitted_at[start : start + BATCH],
                overall[start : start + BATCH],
                strict=True,
            )
        )
        ids = np.array([response.pk for response in responses], dtype=np.int64)
        # Drafts get answers to the first half of the items only.
        keep = np.ones((len(chunk), len(items)), dtype=bool)
        drafts = np.array([not r.submitted for r in chunk])
        keep[drafts, len(items) // 2 :] = False
        for kind in kinds:
            block = matrices[kind][start : start + len(chunk)]
            written += _answers_insert(
                response_ids=np.repeat(ids, len(items))[keep.ravel()],
                item_ids=np.tile(item_ids, len(chunk))[keep.ravel()],
                values=block.ravel()[keep.ravel()],
                kind=kind,
            )
        if allocations is not None:
            Allocation.objects.bulk_create(
                (
                    Allocation(response_id=pk, area=area, points=points)
                    for pk, r, row in zip(
                        ids.tolist(),
                        chunk,
                        allocations[start : start + len(chunk)],
                        strict=True,
                    )
                    if r.submitted
                    for area, points in row.items()
                ),
                batch_size=BATCH,
            )
    return written


def _overall_ratings(values, respondents, scale, rng, questionnaire) -> list:
    """The customers' overall rating, near the mean of their perception
    ratings; None for staff, drafts, or when the questionnaire does not ask."""
    if not questionnaire.ask_overall:
        return [None] * len(respondents)
    with np.errstate(all="ignore"):
        centre = np.nanmean(values, axis=1)
    drawn = np.clip(
        np.rint(centre + rng.normal(0.0, 0.6, len(respondents))), scale[0], scale[1]
    )
    return [
        int(value)
        if r.audience == Audience.CUSTOMER and r.submitted and value == value
        else None
        for r, value in zip(respondents, drawn, strict=True)
    ]


def points_split(weights: np.ndarray) -> list[int]:
    """Shares as whole points adding up to exactly IMPORTANCE_POINTS (largest
    remainders)."""
    raw = weights / weights.sum() * IMPORTANCE_POINTS
    points = np.floor(raw).astype(int)
    rest = IMPORTANCE_POINTS - int(points.sum())
    for index in np.argsort(-(raw - points))[:rest]:
        points[index] += 1
    return points.tolist()


def _allocations(items, respondents, profile, rng, questionnaire) -> list | None:
    """Each respondent's {area: points}, drawn around the profile's
    importance (staff: their guess of it), or None when not asked."""
    if not questionnaire.ask_importance:
        return None
    keys = [key for key, _ in areas(items)]
    rows = []
    for r in respondents:
        source = (
            profile.staff_importance or profile.importance
            if r.audience == Audience.INTERNAL
            else profile.importance
        )
        alpha = np.array([source.get(key, 1.0) for key in keys]) * 6.0
        rows.append(dict(zip(keys, points_split(rng.dirichlet(alpha)), strict=True)))
    return rows


def item_areas(items) -> dict[int, str]:
    """{item id: area} of a questionnaire's items (`surveys.areas`)."""
    dimensions = by_dimension(items)
    return {item.pk: area_of(item, dimensions) for item in items}


# --- a whole study of any size, for the benchmarks (`manage.py generate_study`) ---

GENERATED_DEPARTMENTS = {
    "Front desk": 0.2,
    "Field service": -0.1,
    "Billing": -0.3,
    "Sales": 0.4,
    "Back office": 0.0,
}
# name: (share of the customers, weight, shift of their ratings)
GENERATED_SEGMENTS = {
    "Households": (0.45, "0.350", 0.0),
    "Small business": (0.30, "0.450", -0.3),
    "Public sector": (0.20, "0.200", 0.3),
    "Partners": (0.05, None, 0.0),
}
GENERATED_PROFILE = Profile(
    internal={
        "knowledge": 5.7,
        "standards": 5.9,
        "delivery": 5.8,
        "communication": 6.0,
        "perception": 5.9,
    },
    customer={
        "knowledge": 4.5,
        "standards": 5.3,
        "delivery": 4.7,
        "communication": 3.8,
        "perception": 4.4,
    },
)
GENERATED_COMMENTS = [
    "The engineer was friendly but came a day later than promised.",
    "Invoices are hard to read & the totals never match the quote.",
    "Very happy overall, the front desk knows me by name.",
    "Good people, slow process.",
]
GENERATED_MANAGER_PASSWORD = "gapsurvey-bench"
GENERATED_STAFF_PASSWORD = "gapsurvey-bench-staff"
DEFAULT_QUESTIONNAIRE_NAME = "Five gaps — standard"
EXPECTATIONS_QUESTIONNAIRE_NAME = "Five gaps — expectations"
TOLERANCE_QUESTIONNAIRE_NAME = "Five gaps — tolerance (generated)"
# An expectation-mode copy of the default questionnaire: the perception
# mode's 25 items, each asked twice (`study_generate(default_items=True)`).
EXPECTATION_COPY_NAME = "Five gaps — expectation on the default items (generated)"
MODES = ("perception", "expectation", "tolerance")


def questionnaire_for_mode(mode: str, organization, default_items: bool = False):
    """The questionnaire a generated study of a mode uses: the default one
    (perception), the expectations one (expectation), or the organization's
    copy of the default one in the mode, made once (tolerance; expectation
    with `default_items`: the same items as the perception mode, so twice its
    answers)."""
    from surveys.models import Questionnaire
    from surveys.services.questionnaires import questionnaire_copy

    if mode not in MODES:
        raise ValueError(f"Unknown measurement mode {mode!r}.")
    copied = mode == "tolerance" or (mode == "expectation" and default_items)
    name = (
        EXPECTATIONS_QUESTIONNAIRE_NAME
        if mode == "expectation" and not copied
        else DEFAULT_QUESTIONNAIRE_NAME
    )
    source = Questionnaire.objects.get(organization=None, name=name, version=1)
    if not copied:
        return source
    copy_name = (
        TOLERANCE_QUESTIONNAIRE_NAME if mode == "tolerance" else EXPECTATION_COPY_NAME
    )
    found = Questionnaire.objects.filter(
        organization=organization, name=copy_name
    ).first()
    if found is None:
        found = questionnaire_copy(
            questionnaire=source, organization=organization, actor=None, mode=mode
        )
        found.name = copy_name
        found.ask_importance = found.ask_overall = True
        found.save(update_fields=["name", "ask_importance", "ask_overall"])
    return found


@dataclass(frozen=True)
class GeneratedStudy:
    study: Study
    manager_email: str
    customers: int
    staff: int
    answers: int
    # Plain tokens of the invitations left unanswered (nothing else keeps them).
    tokens: list[str]


def _ensure_groups(organization) -> tuple[list, list]:
    from surveys.models import Department, Segment

    departments = []
    for name in GENERATED_DEPARTMENTS:
        department, _ = Department.objects.get_or_create(
            organization=organization, name=name
        )
        departments.append(department)
    segments = []
    for name, (_, weight, _) in GENERATED_SEGMENTS.items():
        segment, _ = Segment.objects.get_or_create(
            organization=organization, name=name, defaults={"weight": weight}
        )
        segments.append(segment)
    return departments, segments


def _ensure_contacts(organization, segments, count: int, rng) -> list[tuple]:
    """At least `count` generated contacts; (pk, segment_id) of the first `count`."""
    from surveys.models import Contact

    domain = f"@{organization.slug}.example"
    emails = [f"customer{i:06d}{domain}" for i in range(count)]
    existing = dict(
        Contact.objects.filter(organization=organization, email__endswith=domain)
        .values_list("email", "segment_id")
        .iterator(chunk_size=BATCH)
    )
    shares = np.array([share for share, _, _ in GENERATED_SEGMENTS.values()])
    drawn = rng.choice(len(segments), size=count, p=shares / shares.sum())
    missing = [
        Contact(
            organization=organization,
            email=email,
            name=f"Customer {i}",
            segment_id=segments[drawn[i]].pk,
        )
        for i, email in enumerate(emails)
        if email not in existing
    ]
    Contact.objects.bulk_create(missing, batch_size=BATCH)
    by_email = dict(
        Contact.objects.filter(organization=organization, email__endswith=domain)
        .values_list("email", "pk")
        .iterator(chunk_size=BATCH)
    )
    segment_of = {c.email: c.segment_id for c in missing} | existing
    return [(by_email[email], segment_of[email]) for email in emails]


def _ensure_staff(organization, departments, count: int) -> list[tuple]:
    """At least `count` generated staff members; (user_id, department_id) each."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from surveys.models import Membership, Role

    User = get_user_model()
    domain = f"@{organization.slug}.example"
    emails = [f"staff{i:05d}{domain}" for i in range(count)]
    existing = set(
        User.objects.filter(username__endswith=domain).values_list(
            "username", flat=True
        )
    )
    password = make_password(GENERATED_STAFF_PASSWORD)  # slow: once for all
    User.objects.bulk_create(
        [
            User(username=email, email=email, first_name="Staff", password=password)
            for email in emails
            if email not in existing
        ],
        batch_size=BATCH,
    )
    user_ids = dict(
        User.objects.filter(username__endswith=domain).values_list("username", "pk")
    )
    members = dict(
        Membership.objects.filter(organization=organization).values_list(
            "user_id", "department_id"
        )
    )
    new = []
    for i, email in enumerate(emails):
        user_id = user_ids[email]
        if user_id not in members:
            department_id = departments[i % len(departments)].pk
            new.append(
                Membership(
                    user_id=user_id,
                    organization=organization,
                    role=Role.STAFF,
                    department_id=department_id,
                )
            )
            members[user_id] = department_id
    Membership.objects.bulk_create(new, batch_size=BATCH)
    return [(user_ids[email], members[user_ids[email]]) for email in emails]


def _ensure_manager(organization) -> str:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from surveys.models import Membership, Role

    email = f"manager@{organization.slug}.example"
    user, created = get_user_model().objects.get_or_create(
        username=email,
        defaults={
            "email": email,
            "password": make_password(GENERATED_MANAGER_PASSWORD),
        },
    )
    Membership.objects.get_or_create(
        user=user, organization=organization, defaults={"role": Role.MANAGER}
    )
    return email


def _statistics_refresh() -> None:
    """Refresh the query planner's statistics of the tables just filled.

    A database in service gets this from autovacuum (PostgreSQL) within minutes;
    right after a bulk load the planner would otherwise still believe the tables
    are nearly empty and pick nested loops over hundreds of thousands of rows.
    """
    from surveys.models import Contact, Invitation

    with connection.cursor() as cursor:
        for model in (Contact, Invitation, Response, Answer):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


@transaction.atomic
def study_generate(
    *,
    customers: int,
    staff: int,
    organization_slug: str = "bench",
    seed: int = 0,
    unanswered: int = 0,
    unsent: bool = False,
    now: datetime | None = None,
    mode: str = "perception",
    default_items: bool = False,
) -> GeneratedStudy:
    """Create an open study with `customers` + `staff` submitted responses.

    The organization (made if missing, else reused with its generated departments,
    segments, contacts and staff) gets a new study on the default questionnaire;
    every customer response comes through its own invitation. `unanswered` more
    contacts are invited but do not answer (their invitations not yet mailed if
    `unsent`); their plain tokens are returned. Everything is bulk inserted.
    `mode` picks the questionnaire (`questionnaire_for_mode`): the expectation
    and tolerance modes write two or three ratings per item, the importance
    allocation and the overall rating; `default_items` asks the expectation
    mode on the default questionnaire's items.
    """
    from datetime import timedelta

    from django.utils import timezone

    from surveys.models import Invitation, Organization, token_hash

    rng = np.random.default_rng(seed)
    now = now or timezone.now()
    organization, _ = Organization.objects.get_or_create(
        slug=organization_slug,
        defaults={"name": f"Benchmark {organization_slug}"},
    )
    questionnaire = questionnaire_for_mode(mode, organization, default_items)
    manager_email = _ensure_manager(organization)
    departments, segments = _ensure_groups(organization)
    contacts = _ensure_contacts(organization, segments, customers + unanswered, rng)
    members = _ensure_staff(organization, departments, staff)

    opens = now - timedelta(days=30)
    study = Study.objects.create(
        organization=organization,
        questionnaire=questionnaire,
        name=f"Generated study: {customers} customers, {staff} staff"
        + ("" if mode == "perception" else f" ({mode} mode)"),
        status=Study.Status.OPEN,
        opens_on=opens.date(),
        closes_on=(now + timedelta(days=30)).date(),
        opened_at=opens,
        changed_at=now,
    )
    created_at = opens
    tokens = [
        invitation_token_new(study_id=study.pk, contact_id=pk, created_at=created_at)
        for pk, _ in contacts
    ]
    # Seconds since the opening at which each response came in.
    span = int((now - opens).total_seconds())
    offsets = np.sort(rng.integers(60, span, size=customers + staff)).tolist()
    answered_at = [opens + timedelta(seconds=s) for s in offsets]
    rng.shuffle(answered_at)
    invitations = []
    for i, ((contact_id, _), token) in enumerate(zip(contacts, tokens, strict=True)):
        answered = i < customers
        mailed = answered or not unsent
        invitations.append(
            Invitation(
                study=study,
                contact_id=contact_id,
                token_hash=token_hash(token),
                created_at=created_at,
                attempts=1 if mailed else 0,
                sent_at=created_at if mailed else None,
                opened_at=answered_at[i] if answered else None,
                responded_at=answered_at[i] if answered else None,
            )
        )
    invitations = Invitation.objects.bulk_create(invitations, batch_size=BATCH)

    shifts = {s.pk: GENERATED_SEGMENTS[s.name][2] for s in segments}
    department_shift = {d.pk: GENERATED_DEPARTMENTS[d.name] for d in departments}
    comment_draw = rng.random(customers)
    comment_pick = rng.integers(len(GENERATED_COMMENTS), size=customers)
    respondents = [
        Respondent(
            audience=Audience.CUSTOMER,
            segment_id=segment_id,
            invitation_id=invitation.pk,
            shift=shifts.get(segment_id, 0.0),
            comment=GENERATED_COMMENTS[comment_pick[i]]
            if comment_draw[i] < 0.05
            else "",
        )
        for i, ((_, segment_id), invitation) in enumerate(
            zip(contacts[:customers], invitations[:customers], strict=True)
        )
    ]
    respondents += [
        Respondent(
            audience=Audience.INTERNAL,
            department_id=department_id,
            user_id=user_id,
            shift=department_shift.get(department_id, 0.0),
        )
        for user_id, department_id in members
    ]
    answers = responses_bulk_create(
        study=study,
        respondents=respondents,
        profile=GENERATED_PROFILE,
        submitted_at=answered_at,
        rng=rng,
    )
    _statistics_refresh()
    return GeneratedStudy(
        study=study,
        manager_email=manager_email,
        customers=customers,
        staff=staff,
        answers=answers,
        tokens=tokens[customers:],
    )
