"""Settings for the benchmarks: the app's own, with debug off.

Imported after gapsurvey.settings has read the environment (with DJANGO_DEBUG
unset, so the local defaults apply: no HTTPS redirect, plain static files, the
development secret key — the same key `generate_study` derived the tokens with).
Debug off is what production runs: no query log, cached templates.
"""

from gapsurvey.settings import *  # noqa: F403

DEBUG = False
# The app's URLs plus the floor view of the submission benchmark (bench/floor.py).
ROOT_URLCONF = "bench.urls"
