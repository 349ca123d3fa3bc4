"""sqlgh: GitHub release assets as SQL tables.

>>> import sqlgh
>>> db = sqlgh.connect()
>>> db.execute("SELECT name, size FROM release_assets WHERE owner='cli' AND repo='cli'")
"""

from __future__ import annotations

__version__ = "0.1.0"

from sqlgh.connection import connect

__all__ = ["__version__", "connect"]
