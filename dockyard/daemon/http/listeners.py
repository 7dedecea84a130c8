"""Where the daemon listens: a unix socket, TCP, or TCP with TLS and client certificates."""
from __future__ import annotations

import grp
import os
import socket
import ssl
import stat
from dataclasses import dataclass


class ListenError(RuntimeError):
    pass


@dataclass(frozen=True)
class UnixListener:
    path: str
    mode: int = 0o660
    group: str | None = "dockyard"   # chgrp the socket to it when the group exists


@dataclass(frozen=True)
class TCPListener:
    host: str
    port: int
    ssl: ssl.SSLContext | None = None   # see tls.server_tls_context (client certs required)


def parse_listener(spec: str, tls_context: ssl.SSLContext | None = None):
    """``unix:///run/dockyard.sock``, ``/run/dockyard.sock``, ``tcp://127.0.0.1:2375``,
    ``tcp://[::1]:2376`` -> a listener. ``tls_context`` applies to tcp listeners."""
    if spec.startswith("/"):
        return UnixListener(spec)
    if spec.startswith("unix://"):
        path = spec[len("unix://"):]
        if not path.startswith("/"):
            raise ValueError(f"invalid listen address {spec!r}: the socket path must be absolute")
        return UnixListener(path)
    if spec.startswith("tcp://"):
        hostport = spec[len("tcp://"):].rstrip("/")
        host, sep, port = hostport.rpartition(":")
        if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError(f"invalid listen address {spec!r}: expected tcp://HOST:PORT")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        return TCPListener(host or "0.0.0.0", int(port), tls_context)
    raise ValueError(f"invalid listen address {spec!r}: expected unix://PATH or tcp://HOST:PORT")


def _remove_stale(path: str):
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise ListenError(f"cannot listen on {path}: it exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(path)
    except (ConnectionRefusedError, FileNotFoundError):
        os.unlink(path)   # nobody answers: a socket left by a process that died
        return
    except OSError as e:
        raise ListenError(f"cannot listen on {path}: probing the existing socket failed: {e}") from None
    finally:
        probe.close()
    raise ListenError(f"cannot listen on {path}: another process is answering on it")


def bind_unix(listener: UnixListener, backlog: int = 128) -> socket.socket:
    """A listening unix socket at ``listener.path`` with its mode and group set before any
    client can connect."""
    path = listener.path
    _remove_stale(path)
    os.makedirs(os.path.dirname(path) or "/", mode=0o755, exist_ok=True)
    gid = -1
    if listener.group:
        try:
            gid = grp.getgrnam(listener.group).gr_gid
        except KeyError:
            gid = -1
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        old = os.umask(0o777)   # no window where the socket is open to anyone
        try:
            sock.bind(path)
        finally:
            os.umask(old)
        try:
            os.chown(path, 0 if os.geteuid() == 0 else -1, gid)
            os.chmod(path, listener.mode)
            sock.listen(backlog)
        except BaseException:
            os.unlink(path)
            raise
        sock.setblocking(False)
    except OSError as e:
        sock.close()
        raise ListenError(f"cannot listen on {path}: {e.strerror or e}") from None
    except BaseException:
        sock.close()
        raise
    return sock
