"""The two exceptions handlers see: an API error to answer, and a client that went away."""
from __future__ import annotations


class ApiError(Exception):
    """Raise from a handler to answer ``{"message": message}`` with ``status``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class ClientGone(ConnectionError):
    """The client closed its connection: raised by writes of streams and hijacked connections."""
