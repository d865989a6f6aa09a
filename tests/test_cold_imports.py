"""A web worker loads the URLconf and every view without the analysis stack:
pandas, scipy, numpy and plotly are imported by the views that use them (the
dashboard, the exports), so a worker's first customer submit does not pay
seconds of imports."""

import subprocess
import sys

HEAVY = ("pandas", "scipy", "numpy", "plotly", "openpyxl")


def _printed(code: str) -> str:
    """What a fresh Python process running `code` prints."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **__import__("os").environ,
            "DJANGO_SETTINGS_MODULE": "gapsurvey.settings",
        },
        check=True,
    )
    return result.stdout


def test_the_urlconf_and_its_views_import_no_heavy_library():
    code = (
        "import sys, django; django.setup(); "
        "from django.urls import get_resolver; "
        "resolver = get_resolver(); resolver.url_patterns; "
        "[p.callback for p in resolver.url_patterns if hasattr(p, 'callback')]; "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    assert _printed(code).strip() == ""


def test_the_wsgi_application_loads_the_urlconf_at_start_without_heavy_imports():
    """gunicorn's workers load gapsurvey.wsgi when they start: by then the
    URLconf is imported and the reverse() table built (no first-request
    cost left), and still none of the analysis stack is loaded."""
    code = (
        "import sys; import gapsurvey.wsgi; "
        "from django.urls import get_resolver; "
        "resolver = get_resolver(); "
        "print(resolver._populated, 'url_patterns' in resolver.__dict__); "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    warmed, heavy = _printed(code).splitlines()
    assert warmed == "True True"
    assert heavy == ""
