"""gunicorn configuration of the cold-worker benchmark (bench/cold.py): marks
when a worker has loaded the application and is about to take requests, by
creating the file named in BENCH_READY_FILE."""

import os
from pathlib import Path


def post_worker_init(worker) -> None:
    ready = os.environ.get("BENCH_READY_FILE")
    if ready:
        Path(ready).touch()
