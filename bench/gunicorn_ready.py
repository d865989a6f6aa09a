"""gunicorn configuration of the cold-worker benchmark (bench/cold.py).

post_worker_init runs in each worker once it has loaded the application
(Django set up, models imported), just before it takes requests. With
BENCH_WARM_URLCONF=1 it first does what a worker's first request otherwise
does lazily: import the URLconf with every view it names and build the
reverse() table — the experiment "load the URLconf at worker start" that
bench/cold.py measures beside the app as shipped; with BENCH_WARM_URLCONF=2
it also opens the database connection (kept: persistent connections). Then
it creates the file named in BENCH_READY_FILE, so the benchmark knows the
worker is ready.
"""

import os
from pathlib import Path


def post_worker_init(worker) -> None:
    warm = os.environ.get("BENCH_WARM_URLCONF", "0")
    if warm in ("1", "2"):
        from django.urls import get_resolver

        resolver = get_resolver()
        resolver.url_patterns  # noqa: B018 - imports the URLconf and its views
        resolver.reverse_dict  # noqa: B018 - builds the reverse() table
    if warm == "2":
        from django.db import connection

        connection.ensure_connection()  # kept: CONN_MAX_AGE > 0
    ready = os.environ.get("BENCH_READY_FILE")
    if ready:
        Path(ready).touch()
