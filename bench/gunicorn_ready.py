"""gunicorn configuration of the cold-worker benchmark (bench/cold.py).

post_worker_init runs in each worker once it has loaded the application
(Django set up, models imported), just before it takes requests. With
BENCH_WARM_URLCONF=1 it first does what a worker's first request otherwise
does lazily: import the URLconf with every view it names and build the
reverse() table — the experiment "load the URLconf at worker start" that
bench/cold.py measures beside the app as shipped. Then it creates the file
named in BENCH_READY_FILE, so the benchmark knows the worker is ready.
"""

import os
from pathlib import Path


def post_worker_init(worker) -> None:
    if os.environ.get("BENCH_WARM_URLCONF") == "1":
        from django.urls import get_resolver

        resolver = get_resolver()
        resolver.url_patterns  # noqa: B018 - imports the URLconf and its views
        resolver.reverse_dict  # noqa: B018 - builds the reverse() table
    ready = os.environ.get("BENCH_READY_FILE")
    if ready:
        Path(ready).touch()
