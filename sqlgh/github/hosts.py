"""Which hosts a URL names: GitHub's own (the API and its uploads host, the only ones
that get the token) and loopback (the only host that may get it over plain http)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback(hostname: str | None) -> bool:
    """True for localhost and 127.0.0.0/8 or ::1 addresses (not for names like 127.x.com)."""
    if not hostname:
        return False
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname.strip("[]")).is_loopback
    except ValueError:
        return False


DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased and without user info or a default
    port: what "the same host" compares (``https://api.github.com:443`` is
    ``https://api.github.com``)."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    try:
        port = parts.port
    except ValueError:  # not a number: never the same as a real origin
        return f"{scheme}://{parts.netloc.lower()} (bad port)"
    if port is None or port == DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def uploads_origin(api_url: str, uploads_url: str | None = None) -> str:
    """The origin GitHub serves uploads from, for an API at ``api_url``.

    ``uploads_url`` (the ``uploads_url`` option) wins. Otherwise: GitHub Enterprise Server
    (``https://HOST/api/v3``) serves them from ``/api/uploads`` of the same host; an API
    host named ``api.X`` serves them from ``uploads.X``: ``uploads.github.com`` for
    GitHub.com (its docs' upload endpoint), ``uploads.SUBDOMAIN.ghe.com`` for GitHub
    Enterprise Cloud with data residency; any other API host, from itself.
    """
    if uploads_url:
        parts = urlsplit(uploads_url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"uploads_url {uploads_url!r} is not an http(s) URL; use e.g. "
                "https://uploads.github.com"
            )
        return origin(uploads_url.strip())
    parts = urlsplit(api_url)
    host = (parts.hostname or "").lower()
    if host.startswith("api.") and not parts.path.rstrip("/").endswith("/api/v3"):
        return origin(api_url).replace("://api.", "://uploads.", 1)
    return origin(api_url)
