"""The "Are you sure you want to continue? [y/N]" confirmation of prune commands."""
from __future__ import annotations

import sys

from .errors import StatusError


def confirm(message: str) -> bool:
    sys.stdout.write(f"{message}\nAre you sure you want to continue? [y/N] ")
    sys.stdout.flush()
    line = sys.stdin.readline()
    return line.strip().lower() in ("y", "yes")


def confirm_or_cancel(message: str, what: str) -> None:
    """Docker says nothing more and exits 0 when the user does not confirm."""
    if not confirm(message):
        raise StatusError(0)
