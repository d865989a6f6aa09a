"""The floor of the submission benchmark: the least a Django view can do to
store one customer's complete answers with GapSurvey's models.

    POST /bench/floor/<study_id>/   item_<id>=<value> … → 302

One transaction, one INSERT of the Response and one bulk INSERT of its
Answers; no token, no invitation, no validation beyond int(), no form, no
template. Served only by the benchmark's URLconf (bench/urls.py, which
bench/settings.py names); the app's own URLconf never includes it. What no
real submission path can beat on the same machine, middleware and database.
"""

from django.db import transaction
from django.http import HttpRequest, HttpResponseRedirect
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from surveys.models import Answer, Audience, Response

PREFIX = "item_"


@csrf_exempt
@require_POST
def floor_submit(request: HttpRequest, study_id: int) -> HttpResponseRedirect:
    now = timezone.now()
    answers = [
        (int(key[len(PREFIX) :]), int(value) if value else None)
        for key, value in request.POST.items()
        if key.startswith(PREFIX)
    ]
    with transaction.atomic():
        response = Response.objects.create(
            study_id=study_id,
            audience=Audience.CUSTOMER,
            status=Response.Status.SUBMITTED,
            comment=request.POST.get("comment", ""),
            created_at=now,
            updated_at=now,
            submitted_at=now,
        )
        Answer.objects.bulk_create(
            Answer(response=response, item_id=item_id, value=value)
            for item_id, value in answers
        )
    return HttpResponseRedirect("/bench/floor/thanks/")
