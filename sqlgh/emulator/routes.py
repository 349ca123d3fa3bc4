"""Matching decoded path segments against route shapes like ``repos/{owner}/{repo}``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    """A method and a shape; ``{name}`` segments are parameters. ``write`` routes need a
    token that may write."""

    method: str
    shape: tuple[str, ...]
    handler: Callable
    write: bool = False


@dataclass(frozen=True)
class Match:
    """A route matched, with the parameter values."""

    route: Route
    params: dict[str, str]


def route(method: str, shape: str, handler: Callable, *, write: bool = False) -> Route:
    """A Route from a shape written as a path (``"repos/{owner}/{repo}"``)."""
    return Route(method, tuple(shape.strip("/").split("/")), handler, write)


class Router:
    """Finds the first route whose shape and method fit. Order the literal shapes
    (``releases/latest``) before the parameter ones (``releases/{release_id}``)."""

    def __init__(self, routes: list[Route]) -> None:
        self._by_length: dict[int, list[Route]] = {}
        for r in routes:
            self._by_length.setdefault(len(r.shape), []).append(r)

    def match(self, method: str, segments: list[str]) -> Match | None:
        """The matching route, or None when no route has this method and shape."""
        for r in self._by_length.get(len(segments), ()):
            if r.method != method:
                continue
            params = {}
            for pattern, segment in zip(r.shape, segments, strict=False):
                if pattern.startswith("{"):
                    params[pattern[1:-1]] = segment
                elif pattern != segment:
                    break
            else:
                return Match(r, params)
        return None
