"""Where sqlgh finds its API URL and token: as the gh CLI does.

* API URL: ``GITHUB_API_URL``; else ``GH_HOST`` (when not github.com) as
  ``https://HOST/api/v3``, GitHub Enterprise Server's address; else https://api.github.com.
* Token for github.com (and loopback, where the emulator runs): ``GH_TOKEN``, then
  ``GITHUB_TOKEN``. For any other host (GitHub Enterprise Server): ``GH_ENTERPRISE_TOKEN``,
  then ``GITHUB_ENTERPRISE_TOKEN``. When none is set: ``gh auth token --hostname HOST``
  if gh is installed (a missing or failing gh is no error: the connection is anonymous).

Tokens are never printed: messages name the variable a token came from, never its value.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlgh.github.errors import AccessError, GitHubError
from sqlgh.github.hosts import is_loopback

DEFAULT_API_URL = "https://api.github.com"
TOKEN_VARIABLES = ("GH_TOKEN", "GITHUB_TOKEN")
ENTERPRISE_TOKEN_VARIABLES = ("GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN")
GH_TIMEOUT = 5.0
GITHUB_HOSTS = frozenset({"github.com", "api.github.com"})


@dataclass(frozen=True)
class Token:
    """A token and where it came from (``GH_TOKEN``, ``gh auth token``, ...)."""

    value: str
    source: str

    def __repr__(self) -> str:
        return f"Token(source={self.source!r})"  # never the value


def api_url_from_environment(environ: Mapping[str, str] | None = None) -> str:
    """``GITHUB_API_URL``, else ``https://GH_HOST/api/v3`` for an Enterprise host, else
    GitHub.com's API."""
    env = os.environ if environ is None else environ
    explicit = env.get("GITHUB_API_URL", "").strip()
    if explicit:
        return explicit
    host = env.get("GH_HOST", "").strip().lower().rstrip("/")
    if host and host not in GITHUB_HOSTS:
        return f"https://{host}/api/v3"
    return DEFAULT_API_URL


def gh_hostname(api_url: str) -> str:
    """The host name gh knows an API URL by: github.com, or the Enterprise host."""
    netloc = (urlsplit(api_url).netloc or "").lower()
    return "github.com" if netloc in GITHUB_HOSTS else netloc


def _uses_github_com_tokens(api_url: str) -> bool:
    host = gh_hostname(api_url)
    name = urlsplit(api_url).hostname or ""
    return host == "github.com" or host.endswith(".ghe.com") or is_loopback(name)


def token_variables(api_url: str = DEFAULT_API_URL) -> tuple[str, ...]:
    """The environment variables read for a token for this API, in order."""
    return TOKEN_VARIABLES if _uses_github_com_tokens(api_url) else ENTERPRISE_TOKEN_VARIABLES


def find_token(
    api_url: str = DEFAULT_API_URL,
    environ: Mapping[str, str] | None = None,
    *,
    use_gh: bool = True,
) -> Token | None:
    """The token for ``api_url`` from the environment, else from ``gh auth token``."""
    env = os.environ if environ is None else environ
    for name in token_variables(api_url):
        value = env.get(name, "").strip()
        if value:
            return Token(value, name)
    return token_from_gh(gh_hostname(api_url), env) if use_gh else None


def token_from_gh(hostname: str, environ: Mapping[str, str] | None = None) -> Token | None:
    """The token ``gh auth token --hostname HOST`` prints, or None (gh missing or failing)."""
    env = dict(os.environ if environ is None else environ)
    gh = shutil.which("gh", path=env.get("PATH"))
    if gh is None:
        return None
    try:
        done = subprocess.run(
            [gh, "auth", "token", "--hostname", hostname],
            capture_output=True,
            text=True,
            timeout=GH_TIMEOUT,
            env=env,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    value = done.stdout.strip() if done.returncode == 0 else ""
    if not value or any(c.isspace() for c in value):
        return None
    return Token(value, "gh auth token")


def where_tokens_come_from(api_url: str = DEFAULT_API_URL) -> str:
    """A phrase for error messages: where sqlgh looks for a token."""
    names = " or ".join(token_variables(api_url))
    return f"{names} in the environment, `gh auth token`, or connect(token=...)"


def explain_access(error: GitHubError, token_source: str | None) -> GitHubError:
    """Turn a 401, a 403 that is no rate limit, or a 404 on a write into an AccessError
    that says what to do; other errors are returned unchanged."""
    write = error.method.upper() not in ("GET", "HEAD")
    permission = '"Contents: write"' if write else '"Contents: read"'
    if error.status == 401:
        if token_source is None:
            text = f"GitHub requires a token here; give one with the {permission} permission"
        else:
            text = (
                f"GitHub refused the token from {token_source} (bad credentials: wrong, "
                "expired or revoked); create a new one or fix the setting"
            )
        return AccessError(error, text)
    sso_page = _sso_page(error)
    if error.status in (403, 404) and sso_page is not None:
        # GitHub may answer 404 as well as 403 for an SSO-protected resource.
        return AccessError(error, _sso_required(sso_page))
    if error.status == 403:
        return AccessError(error, _forbidden(error, token_source, permission))
    if error.status == 404 and write:
        return AccessError(
            error,
            "not found: it does not exist, or the token cannot see it (a write needs the "
            f"{permission} permission on the repository)",
        )
    return error


def _sso_page(error: GitHubError) -> str | None:
    """The page GitHub names for authorizing the token (``X-GitHub-SSO: required;
    url=<page>``): "" when it names none, None when SSO is not what refused the request."""
    sso = error.headers.get("x-github-sso", "")
    if not sso.startswith("required"):
        return None
    return sso.partition("url=")[2].strip()


def _sso_required(url: str) -> str:
    where = f" at {url}" if url else " (GitHub settings > Personal access tokens)"
    return (
        "the organization enforces SAML single sign-on and the token is not authorized "
        f"for it; authorize the token for the organization{where}"
    )


def _forbidden(error: GitHubError, token_source: str | None, permission: str) -> str:
    """What a 403 that is neither a rate limit nor SSO means: an IP allow list, an archived
    repository, or permissions."""
    if "ip allow list" in error.message.lower():
        return (
            "the organization accepts requests only from addresses on its IP allow list, "
            "and this machine's is not; run from an allowed network or ask an owner"
        )
    if "archived" in error.message.lower():  # "Repository was archived so is read-only."
        return "the repository is archived, so it is read-only; unarchive it in its settings first"
    whose = f"the token from {token_source}" if token_source else "an anonymous request"
    return f"{whose} may not do this; the request needs the {permission} permission"
