"""dockyard create: create a container and print its ID."""
from __future__ import annotations

from ..containers import build_body, create
from ..opts.container import add_flags

USAGE = "[OPTIONS] IMAGE [COMMAND] [ARG...]"
SHORT = "Create a new container"
ARGS = (1, None)
INTERSPERSED = False


def flags(fs):
    add_flags(fs, run=False)


def main(app, opts, args):
    image, cmd = args[0], args[1:]
    body = build_body(app, opts, image, cmd, "create")
    app.out(create(app, opts, image, cmd, body, "create"))
    return 0
