"""What kind of host a URL names: only loopback may get a token over plain http."""

from __future__ import annotations

import ipaddress


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
