"""Which HTTP status an image operation's exception answers, as dockerd maps them.

Image store errors carry their status; registry errors follow moby's distribution error
translation (unknown manifest or repository, and denied access, are 404; wrong credentials
401; unreachable registries and other failures 500).
"""
from __future__ import annotations

from dockyard.images.errors import ImageError
from dockyard.images.platform import PlatformError
from dockyard.images.reference import ReferenceError
from dockyard.registry import errors as regerrors


class Cancelled(Exception):
    """The client went away and the operation stopped before it changed anything."""


def http_status(e: BaseException) -> int:
    if isinstance(e, ImageError):
        return e.http_status
    if isinstance(e, ReferenceError):
        return 400
    if isinstance(e, PlatformError):
        return 404 if str(e).startswith("no matching manifest") else 400
    if isinstance(e, regerrors.Unauthorized):
        return 404 if str(e).startswith("pull access denied") else 401
    if isinstance(e, (regerrors.NotFound, regerrors.Denied)):
        return 404
    if isinstance(e, regerrors.TooManyRequests):
        return 429
    return 500


def message(e: BaseException) -> str:
    """One line naming what failed."""
    text = str(e) or type(e).__name__
    return " ".join(text.split())
