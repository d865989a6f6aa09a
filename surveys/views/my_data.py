"""A contact's own copy of their data, from the single-use link mailed to them.

Like the survey pages: no login, no cookie, the token is the only credential
(so CSRF-exempt), and anything that is not an unused, unexpired link is a plain
404 that says nothing about why. The page shows a button; only pressing it
(a POST) uses the link, so a mail scanner that opens links cannot spend it.
"""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from surveys.services import rights


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def my_data(request: HttpRequest, export_token: str) -> HttpResponse:
    export = rights.data_export_for_token(export_token)
    if export is None:
        raise Http404()
    if request.method == "GET":
        return render(
            request,
            "surveys/my_data.html",
            {"export": export, "organization": export.contact.organization},
        )
    data = rights.data_export_download(export)
    if data is None:
        raise Http404()
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="my-data.json"'
    return response
