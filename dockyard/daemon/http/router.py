"""Route table: ``(method, pattern)`` -> handler, patterns like ``/containers/{name}/json``.

``{name}`` matches one path segment, ``{name:path}`` matches the rest including slashes (image
names). Static paths are looked up in a dict; patterns are tried in the order they were added.
"""
from __future__ import annotations

import re
from typing import Awaitable, Callable

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+))?\}")
_METHOD = re.compile(r"[A-Z]+")
_KINDS = {None: "[^/]+", "path": ".+"}

Handler = Callable[..., Awaitable]


class Route:
    __slots__ = ("method", "pattern", "handler", "stream", "regex")

    def __init__(self, method: str, pattern: str, handler: Handler, stream: bool, regex):
        self.method = method
        self.pattern = pattern
        self.handler = handler
        self.stream = stream
        self.regex = regex


def compile_pattern(pattern: str):
    """The regex of a pattern with parameters, or None for a static path."""
    if not pattern.startswith("/"):
        raise ValueError(f"route pattern {pattern!r} must start with '/'")
    literal = _PARAM.sub("", pattern)
    if "{" in literal or "}" in literal:
        raise ValueError(f"route pattern {pattern!r}: malformed parameter")
    out, names, pos = [], set(), 0
    for m in _PARAM.finditer(pattern):
        name, kind = m.group(1), m.group(2)
        if kind not in _KINDS:
            raise ValueError(f"route pattern {pattern!r}: unknown parameter kind {kind!r}")
        if name in names:
            raise ValueError(f"route pattern {pattern!r}: parameter {name!r} appears twice")
        names.add(name)
        out.append(re.escape(pattern[pos:m.start()]))
        out.append(f"(?P<{name}>{_KINDS[kind]})")
        pos = m.end()
    if not names:
        return None
    out.append(re.escape(pattern[pos:]))
    return re.compile("".join(out), re.DOTALL)


class Router:
    def __init__(self):
        self._static: dict[str, dict[str, Route]] = {}   # method -> path -> route
        self._dynamic: dict[str, list[Route]] = {}       # method -> routes in order

    def add(self, method: str, pattern: str, handler: Handler, stream: bool = False) -> Route:
        if not _METHOD.fullmatch(method or ""):
            raise ValueError(f"route {pattern!r}: invalid method {method!r}")
        regex = compile_pattern(pattern)
        route = Route(method, pattern, handler, stream, regex)
        if regex is None:
            table = self._static.setdefault(method, {})
            if pattern in table:
                raise ValueError(f"route {method} {pattern} is already registered")
            table[pattern] = route
        else:
            routes = self._dynamic.setdefault(method, [])
            if any(r.pattern == pattern for r in routes):
                raise ValueError(f"route {method} {pattern} is already registered")
            routes.append(route)
        return route

    def _find(self, method: str, path: str):
        route = self._static.get(method, {}).get(path)
        if route is not None:
            return route, {}
        for route in self._dynamic.get(method, ()):
            m = route.regex.fullmatch(path)
            if m:
                return route, m.groupdict()
        return None

    def match(self, method: str, path: str):
        """``(route, params)`` or None. HEAD falls back to the GET route."""
        found = self._find(method, path)
        if found is None and method == "HEAD":
            found = self._find("GET", path)
        return found
