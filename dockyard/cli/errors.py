"""Errors the CLI reports, each with the exit status docker uses for it."""
from __future__ import annotations

PROG = "dockyard"


class CLIError(Exception):
    """Printed to stderr as is; the process exits with ``status``."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.message, self.status = message, status

    def __str__(self) -> str:
        return self.message


class StatusError(CLIError):
    """Exit with a status without printing anything more (``run`` passing the container's code)."""

    def __init__(self, status: int, message: str = ""):
        super().__init__(message, status)


class FlagError(CLIError):
    """Bad flags: docker prints the message, the usage line and a hint, and exits 125."""

    def __init__(self, message: str):
        super().__init__(message, 125)


class UsageError(CLIError):
    """Wrong number of arguments (status 1)."""


class APIError(CLIError):
    """The daemon answered with an error status."""

    def __init__(self, status_code: int, message: str):
        super().__init__(f"Error response from daemon: {message}", 1)
        self.status_code, self.daemon_message = status_code, message


class ConnectError(CLIError):
    """The daemon could not be reached."""


def is_not_found(e: BaseException) -> bool:
    return isinstance(e, APIError) and e.status_code == 404
