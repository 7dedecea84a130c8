"""Errors of the image store, with the HTTP status the Engine API maps them to."""
from __future__ import annotations


class ImageError(Exception):
    http_status = 500


class ImageNotFound(ImageError, LookupError):
    """No image matches a reference or ID (Docker: "No such image: ...")."""

    http_status = 404

    def __init__(self, what: str, message: str | None = None):
        super().__init__(message or f"No such image: {what}")
        self.what = what


class AmbiguousImage(ImageError, LookupError):
    http_status = 400

    def __init__(self, prefix: str, count: int):
        super().__init__(f"ambiguous image ID prefix {prefix!r}: matches {count} images, give more characters")
        self.prefix = prefix


class ImageConflict(ImageError):
    """An image or reference cannot be removed (in use, children, several repos)."""

    http_status = 409


class InvalidImage(ImageError, ValueError):
    """A manifest, config or layer is malformed or does not match its digests."""

    http_status = 400


class InvalidArgument(ImageError, ValueError):
    """A bad reference, tag, filter or option given by the caller."""

    http_status = 400
