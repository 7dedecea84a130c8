"""The build engine's errors: one line naming what failed, and the code the client exits with."""
from __future__ import annotations


class BuildError(Exception):
    """A build cannot go on. ``code`` is what ``docker build`` exits with (a failing RUN's exit
    code, else 1); ``status`` the HTTP status when the error comes before any output."""

    status = 400

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.message = message
        self.code = code or 1

    def __str__(self) -> str:
        return self.message


class ContextError(BuildError):
    """The build context (the tar the client sent) is unusable."""


class CopyError(BuildError):
    """A COPY or ADD source or destination is refused; the message names it."""


class RunError(BuildError):
    """A RUN step failed; ``code`` is its exit code."""

    status = 500


class Cancelled(BuildError):
    """The client went away."""

    status = 499
