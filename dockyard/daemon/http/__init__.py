"""The daemon's HTTP/1.1 layer (asyncio + h11): Docker's API conventions, streams, hijack.

See docs/daemon.md, "The HTTP layer".
"""
from .app import DEFAULT_API_VERSION, MIN_API_VERSION, App
from .errors import ApiError, ClientGone
from .headers import Headers
from .listeners import ListenError, TCPListener, UnixListener, parse_listener
from .request import Request
from .response import (JSON, MULTIPLEXED_STREAM, RAW_STREAM, Response, encode_json,
                       json_response, no_content)
from .streams import HijackedConn, StreamResponse
from .tls import server_tls_context

__all__ = [
    "App", "ApiError", "ClientGone", "Headers", "HijackedConn", "JSON", "ListenError",
    "MULTIPLEXED_STREAM", "RAW_STREAM", "Request", "Response", "StreamResponse", "TCPListener",
    "UnixListener", "DEFAULT_API_VERSION", "MIN_API_VERSION", "encode_json", "json_response",
    "no_content", "parse_listener", "server_tls_context",
]
