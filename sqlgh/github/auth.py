"""Where sqlgh finds a token: the same environment variables the gh CLI reads."""

from __future__ import annotations

import os
from collections.abc import Mapping

TOKEN_VARIABLES = ("GH_TOKEN", "GITHUB_TOKEN")


def token_from_environment(environ: Mapping[str, str] | None = None) -> str | None:
    """Return the first non-empty token among ``TOKEN_VARIABLES``, or None."""
    env = os.environ if environ is None else environ
    for name in TOKEN_VARIABLES:
        value = env.get(name, "").strip()
        if value:
            return value
    return None


def where_tokens_come_from() -> str:
    """A phrase for error messages: where sqlgh looks for a token."""
    return " or ".join(TOKEN_VARIABLES) + " in the environment, or connect(token=...)"
