"""The table specs sqlgh registers, in the order the docs list them."""

from sqlgh.tables import release_assets, releases, repositories
from sqlgh.tables.spec import Table

TABLES: tuple[Table, ...] = (
    release_assets.TABLE,
    releases.TABLE,
    releases.LATEST_TABLE,
    repositories.TABLE,
)

__all__ = ["TABLES", "Table"]
