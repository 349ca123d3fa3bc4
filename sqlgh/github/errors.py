"""GitHub's error answers, turned into readable exceptions."""

from __future__ import annotations

import re
from typing import Any

import requests
from requests.structures import CaseInsensitiveDict


class GitHubError(Exception):
    """GitHub answered a request with an error status.

    ``str()`` reads as a sentence: status, GitHub's own message, and the request
    (method and path, never the token or the host's credentials).
    """

    def __init__(
        self,
        status: int,
        message: str,
        method: str,
        path: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.message = message
        self.method = method
        self.path = path
        self.errors = errors or []
        # Looked up by name as HTTP does: without regard to case.
        self.headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(headers or {})
        super().__init__(self.describe())

    @property
    def error_codes(self) -> list[str]:
        """The ``code`` of each entry of GitHub's ``errors`` array (e.g. ``already_exists``)."""
        return [str(e.get("code")) for e in self.errors if isinstance(e, dict)]

    def describe(self) -> str:
        """One line: ``GitHub answered 404 (Not Found) to GET /repos/a/b/releases``."""
        text = f"GitHub answered {self.status} ({self.message}) to {self.method} {self.path}"
        details = [
            e.get("message") or e.get("code")
            for e in self.errors
            if isinstance(e, dict) and (e.get("message") or e.get("code"))
        ]
        if details:
            text += ": " + "; ".join(str(d) for d in details)
        return text

    @classmethod
    def from_response(cls, response: requests.Response, path: str) -> GitHubError:
        """Build the error from a failed response; ``path`` is what the log shows."""
        message, errors = _parse_error_body(response)
        return cls(
            response.status_code,
            message or response.reason or "error",
            response.request.method or "GET",
            path,
            errors=errors,
            headers=dict(response.headers),
        )


class TransportError(Exception):
    """GitHub could not be reached, or the connection broke before an answer arrived."""

    transient = True  # worth another attempt

    def __init__(
        self, method: str, path: str, cause: BaseException, detail: str | None = None
    ) -> None:
        self.method = method
        self.path = path
        self.cause = cause
        self.detail = detail  # a plain sentence, when the cause alone would not say it
        super().__init__(f"could not complete {method} {path}: {detail or _short(cause)}")


class UnsafeAnswerError(TransportError):
    """An answer leads where sqlgh will not go: to a host other than GitHub's API and
    uploads hosts (an ``upload_url``, a ``Link``, a redirect), a redirect a write cannot
    follow, or back to a page already read. Checked before sending; never retried."""

    transient = False

    def __init__(self, method: str, path: str, detail: str) -> None:
        super().__init__(method, path, ValueError(detail), detail)


class ExplainedError(GitHubError):
    """A GitHubError with a sentence in front that says what it means for the user."""

    def __init__(self, error: GitHubError, explanation: str) -> None:
        self.explanation = explanation
        super().__init__(
            error.status,
            error.message,
            error.method,
            error.path,
            errors=error.errors,
            headers=error.headers,
        )

    def describe(self) -> str:
        """The explanation, then GitHub's own answer."""
        return f"{self.explanation} ({super().describe()})"


class AccessError(ExplainedError):
    """GitHub refused the token (401) or its permissions (403, or 404 on a write).

    The message says which permission the request needs; it never shows the token.
    """


def _parse_error_body(response: requests.Response) -> tuple[str, list[dict[str, Any]]]:
    try:
        body = response.json()
    except ValueError:
        return _storage_error(response.text) or response.text.strip()[:200], []
    if not isinstance(body, dict):
        return "", []
    errors = body.get("errors")
    return str(body.get("message", "")), errors if isinstance(errors, list) else []


def _short(cause: BaseException) -> str:
    text = str(cause) or type(cause).__name__
    return text if len(text) <= 300 else text[:297] + "..."


_XML_FIELD = re.compile(r"<(Code|Message)>([^<]{1,300})</\1>")


def _storage_error(text: str) -> str | None:
    """``NoSuchKey: The specified key does not exist.`` from object storage's XML error
    body (``<Error><Code>..</Code><Message>..</Message></Error>``, as S3 and Azure Blob
    Storage answer); None for any other body."""
    if not text.lstrip().startswith("<"):
        return None
    fields = dict(_XML_FIELD.findall(text))
    if not fields:
        return None
    return ": ".join(fields[k] for k in ("Code", "Message") if k in fields)
