"""dockyard diff: files changed in a container's filesystem (A added, C changed, D deleted)."""
from __future__ import annotations

from ..bulk import path

USAGE = "CONTAINER"
SHORT = "Inspect changes to files or directories on a container's filesystem"
ARGS = (1, 1)

KINDS = {0: "C", 1: "A", 2: "D"}


def flags(fs):
    pass


def main(app, opts, args):
    for ch in app.api.get(path("/containers/{}/changes", args[0])) or []:
        app.out(f"{KINDS.get(ch.get('Kind'), '?')} {ch.get('Path', '')}")
    return 0
