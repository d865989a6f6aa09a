"""A web worker loads the URLconf and every view without the analysis stack:
pandas, scipy, numpy and plotly are imported by the views that use them (the
dashboard, the exports), so a worker's first customer submit does not pay
seconds of imports."""

import subprocess
import sys

HEAVY = ("pandas", "scipy", "numpy", "plotly", "openpyxl")


def test_the_urlconf_and_its_views_import_no_heavy_library():
    code = (
        "import sys, django; django.setup(); "
        "from django.urls import get_resolver; "
        "resolver = get_resolver(); resolver.url_patterns; "
        "[p.callback for p in resolver.url_patterns if hasattr(p, 'callback')]; "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
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
    assert result.stdout.strip() == ""
