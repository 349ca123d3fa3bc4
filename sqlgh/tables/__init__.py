"""The table specs sqlgh registers, in the order the docs list them."""

from sqlgh.tables import (
    checksum_entries,
    rate_limit,
    release_assets,
    releases,
    repositories,
    requests_log,
)
from sqlgh.tables.spec import Table

TABLES: tuple[Table, ...] = (
    release_assets.TABLE,
    releases.TABLE,
    releases.LATEST_TABLE,
    repositories.TABLE,
    checksum_entries.TABLE,
    rate_limit.TABLE,
    requests_log.TABLE,
)

__all__ = ["TABLES", "Table"]
