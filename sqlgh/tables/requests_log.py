"""The ``sqlgh_requests`` table: every HTTP request this connection made, newest last.

It reads the client's in-memory log (the last 10,000 requests), so it costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

from sqlgh.github.client import RequestRecord
from sqlgh.tables.spec import AccessPath, Api, Batch, Column, Table


def iso_time(epoch: float) -> str:
    """Seconds since the epoch as ISO-8601 UTC text with milliseconds."""
    moment = datetime.fromtimestamp(epoch, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def as_row(seq: int, record: RequestRecord) -> dict[str, Any]:
    """One log record as the table's columns."""
    return {
        "seq": seq,
        "started": iso_time(record.started),
        "method": record.method,
        "path": record.path,
        "status": record.status,
        "elapsed_ms": record.elapsed_ms,
        "from_cache": int(record.from_cache),
        "rate_remaining": record.rate_remaining,
    }


def fetch_log(api: Api, key: Mapping[str, Any]) -> Iterator[Batch]:
    """A snapshot of the client's request log, oldest first."""
    yield {}, [as_row(seq, record) for seq, record in enumerate(list(api.client.log), start=1)]


TABLE = Table(
    name="sqlgh_requests",
    doc="Every HTTP request this connection made (the last 10,000), oldest first: what "
    "each query cost.",
    columns=(
        Column(
            "seq",
            "$.seq",
            "INTEGER",
            doc="Position in the log, 1 = oldest kept (positions shift once the log is full).",
        ),
        Column("started", "$.started", doc="ISO-8601 UTC time the request was sent."),
        Column("method", "$.method", doc="GET, POST, PATCH or DELETE."),
        Column(
            "path",
            "$.path",
            doc="API path with its query; another host's URL without its query (signatures "
            "are never shown).",
        ),
        Column("status", "$.status", "INTEGER", doc="HTTP status, NULL when no answer came."),
        Column("elapsed_ms", "$.elapsed_ms", "REAL", doc="Milliseconds until the answer."),
        Column("from_cache", "$.from_cache", "INTEGER", doc="1 when served from a cache."),
        Column(
            "rate_remaining",
            "$.rate_remaining",
            "INTEGER",
            doc="x-ratelimit-remaining after the request, when GitHub sent it.",
        ),
    ),
    paths=(AccessPath("log", (), fetch_log, "0 (reads the local log)", cost=0.001, rows=100),),
    needs="nothing",
    rowid=None,
)
