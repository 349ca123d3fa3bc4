"""Talking to GitHub's REST API. Nothing in this package knows about SQL."""

from sqlgh.github.client import Client, RequestRecord
from sqlgh.github.errors import GitHubError, TransportError

__all__ = ["Client", "GitHubError", "RequestRecord", "TransportError"]
