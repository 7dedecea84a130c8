"""Errors of the networking library; ``status`` is the HTTP status the Engine API answers with."""
from __future__ import annotations


class NetworkError(Exception):
    status = 500


class InvalidParameter(NetworkError):
    status = 400


class Forbidden(NetworkError):
    """An operation on a pre-defined network (bridge, host, none)."""
    status = 403


class NotFound(NetworkError):
    status = 404


class Conflict(NetworkError):
    status = 409


class PortInUse(Conflict):
    """A host port that another socket (or another published port) holds."""


class PoolExhausted(NetworkError):
    status = 503
