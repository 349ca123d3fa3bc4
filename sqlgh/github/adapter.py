"""The transport adapter every sqlgh session mounts.

Two things differ from requests' own ``HTTPAdapter``:

- it never retries: every retry is decided above it (``retry.py``, ``resilience.py``),
  since urllib3's ``Retry`` would resend a POST on some connection errors;
- a response that is not streamed is read in one piece. requests reads a body in 10 KiB
  pieces, each through several layers of urllib3 and ``http.client``; for a page of
  release assets (about 145 KB) one read takes 15% less CPU, and for a release list
  carrying thousands of embedded assets (7 MB) a quarter of it (docs/performance.md).
  ``http.client`` makes room for the whole declared length before it reads a byte, so
  one read is used only for a declared ``Content-Length`` of at most ``ONE_READ_MAX``;
  other bodies are read in ``PIECE`` pieces. A redirect's body is left to requests, which
  reads it and forgives it being cut short.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter

from sqlgh.github.retry import NEVER_RETRY

ONE_READ_MAX = 64 << 20
PIECE = 1 << 20


class GitHubAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` that never retries and reads a body that is not streamed at once."""

    def __init__(self, **options: Any) -> None:
        super().__init__(max_retries=NEVER_RETRY, **options)

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, stream: bool = False, **options: Any
    ) -> requests.Response:
        """Send as ``HTTPAdapter.send`` does; unless streaming, read the body now."""
        response = super().send(request, stream=stream, **options)
        if not stream and not response.is_redirect:
            # iter_content raises what Response.content would (ChunkedEncodingError for a
            # cut body, and so on); None as the size is one read of the whole body. _content
            # is where requests keeps a body it has read (Response.content returns it).
            length = response.headers.get("Content-Length", "")
            whole = length.isdigit() and int(length) <= ONE_READ_MAX
            response._content = b"".join(response.iter_content(None if whole else PIECE))
        return response


def mount(session: requests.Session) -> None:
    """Mount a ``GitHubAdapter`` on a session sqlgh made, for http and https."""
    for prefix in ("https://", "http://"):
        session.mount(prefix, GitHubAdapter())
