"""The ``rate_limit`` table: the token's budget per API resource (GET /rate_limit).

GitHub does not count this request against the limit. ``"limit"`` is an SQL keyword:
quote it in queries (``SELECT "limit", remaining FROM rate_limit``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

from sqlgh.tables.spec import AccessPath, Api, Batch, Column, Table

RATE_LIMIT = "/rate_limit"

COLUMNS = (
    Column("resource", "$.resource", doc="API resource: core, search, graphql, ..."),
    Column("limit", "$.limit", "INTEGER", doc="Requests allowed per window."),
    Column("used", "$.used", "INTEGER", doc="Requests used in this window."),
    Column("remaining", "$.remaining", "INTEGER", doc="Requests left in this window."),
    Column("reset", "$.reset", doc="ISO-8601 time (UTC) the window resets."),
)


def _iso(epoch: Any) -> str | None:
    if isinstance(epoch, bool) or not isinstance(epoch, (int, float)):
        return None
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def fetch(api: Api, key: Mapping[str, Any]) -> Iterator[Batch]:
    """One GET of /rate_limit; a row per resource, in GitHub's order."""
    overview = api.client.get_json(api.client.url(RATE_LIMIT), counted=False)
    yield (
        {},
        [
            {**budget, "resource": resource, "reset": _iso(budget.get("reset"))}
            for resource, budget in (overview.get("resources") or {}).items()
            if isinstance(budget, Mapping)
        ],
    )


TABLE = Table(
    name="rate_limit",
    doc="The rate-limit budget of the connection's token (or address), per resource.",
    columns=COLUMNS,
    paths=(AccessPath("all", (), fetch, "1 (not counted against the limit)", cost=1, rows=10),),
    needs="nothing",
    rowid=None,
)
