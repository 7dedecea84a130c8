"""Verbs over several objects: do each, print the names that worked, report every failure, exit 1."""
from __future__ import annotations

from .api import quote
from .errors import CLIError


SKIP = object()  # an action's "nothing to print"


def each(app, names: list[str], action, echo: bool = True, trailer: str = "") -> int:
    errors: list[str] = []
    for name in names:
        try:
            result = action(name)
        except CLIError as e:
            errors.append(e.message)
            continue
        if echo and result is not SKIP:
            app.out(name if result is None else str(result))
    if errors:
        if trailer:
            errors.append(trailer)
        raise CLIError("\n".join(errors))
    return 0


def path(template: str, name: str) -> str:
    """"/containers/{}/stop" with the name percent-encoded."""
    return template.format(quote(name))


def call(app, method: str, p: str, query=None) -> None:
    """A request whose answer has no body worth keeping."""
    app.api.request(method, p, query).read()
