"""Counting a request's SQL statements, for the submission benchmarks: used by
GapSurvey's child (bench.submit) and the peer's (bench.peer.child, in the peer's
own environment), so it needs Django alone.

Every statement the request sends through Django's connection is recorded with
whether it ran inside a transaction (`atomic`) or on its own in autocommit.
(A connection health check's `SELECT 1` bypasses this: it is off in both
projects' benchmark settings.)
"""


def post_counted(client, path: str, data: dict) -> tuple[int, list[dict]]:
    """POST through Django's test client; its status and its statements."""
    from django.db import connection

    statements = []

    def record(execute, sql, params, many, context):
        statements.append(
            {"sql": sql[:160], "atomic": connection.in_atomic_block, "many": many}
        )
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        response = client.post(path, data)
    return response.status_code, statements


def summary(statuses: list[int], each: list[list[dict]]) -> dict:
    """The last of a few submissions (the first ones warm caches up)."""
    last = each[-1]
    return {
        "queries": len(last),
        "queries_in_transaction": sum(1 for s in last if s["atomic"]),
        "queries_autocommit": sum(1 for s in last if not s["atomic"]),
        "queries_each": [len(statements) for statements in each],
        "statuses": statuses,
        "sql": last,
    }
