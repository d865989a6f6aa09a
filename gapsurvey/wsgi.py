"""The WSGI application, for gunicorn.

Each worker loads the URLconf (every view module it names) and builds the
reverse() table here, at start, instead of on its first request: a fresh
worker's first customer submit then costs about what its tenth does
(BENCHMARKS.md, "Cold workers"). The views import pandas, scipy and plotly
only when they run, so this loads none of them.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gapsurvey.settings")

application = get_wsgi_application()


def _warm() -> None:
    from django.urls import get_resolver

    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018 - imports the URLconf and its views
    resolver.reverse_dict  # noqa: B018 - builds the reverse() table


_warm()
