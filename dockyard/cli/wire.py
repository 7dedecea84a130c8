"""A small HTTP/1.1 client on a unix or TCP (optionally TLS) socket.

Written for the CLI's start-up time: the standard ``http.client`` pulls in ``email`` and
``ssl`` (about 20 ms). Supports Content-Length, chunked and read-until-close bodies,
streaming request bodies (sent chunked), keep-alive reuse, and the connection hijack
of attach/exec (``Upgrade: tcp`` → ``101``, then the raw socket).
"""
from __future__ import annotations

import socket

from .errors import ConnectError

MAX_LINE = 65536
MAX_HEADERS = 200
RECV = 65536


class ProtocolError(ConnectError):
    pass


class Reader:
    """Buffered reads from a socket; ``buf`` keeps what was received but not consumed."""
    __slots__ = ("sock", "buf", "eof")

    def __init__(self, sock):
        self.sock, self.buf, self.eof = sock, bytearray(), False

    def fill(self) -> bool:
        if self.eof:
            return False
        data = self.sock.recv(RECV)
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def readline(self) -> bytes:
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                return line
            if len(self.buf) > MAX_LINE:
                raise ProtocolError("malformed HTTP response: line too long")
            if not self.fill():
                line = bytes(self.buf)
                self.buf.clear()
                return line

    def read_some(self, n: int) -> bytes:
        if not self.buf and not self.fill():
            return b""
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self.fill():
                raise ProtocolError("unexpected EOF from the daemon")
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out


class Response:
    def __init__(self, conn: "Conn", reader: Reader, method: str):
        self.conn, self.reader = conn, reader
        line = reader.readline()
        if not line:
            raise ProtocolError("the daemon closed the connection without answering")
        parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise ProtocolError(f"malformed HTTP response {line[:80]!r}")
        try:
            self.status = int(parts[1])
        except ValueError:
            raise ProtocolError(f"malformed HTTP status line {line[:80]!r}") from None
        self.reason = parts[2] if len(parts) > 2 else ""
        self.headers: dict[str, str] = {}
        for _ in range(MAX_HEADERS):
            h = reader.readline()
            if h in (b"\r\n", b"\n", b""):
                break
            k, _, v = h.decode("latin-1").partition(":")
            k = k.strip().lower()
            v = v.strip()
            self.headers[k] = f"{self.headers[k]}, {v}" if k in self.headers else v
        else:
            raise ProtocolError("too many HTTP headers in the daemon's response")
        self.chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        self.length: int | None = None
        self.chunk_left = 0
        self.done = False
        if method == "HEAD" or self.status in (204, 304) or 100 <= self.status < 200:
            self.done = self.status != 101
            self.length = 0
        elif not self.chunked and "content-length" in self.headers:
            try:
                self.length = int(self.headers["content-length"])
            except ValueError:
                raise ProtocolError("bad Content-Length from the daemon") from None
            self.done = self.length == 0
        self.keep_alive = "close" not in self.headers.get("connection", "").lower()
        if self.done:
            if self.keep_alive:
                conn.release(self)
            else:
                conn.close()

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def _finish(self) -> None:
        self.done = True
        if not self.keep_alive or (self.length is None and not self.chunked):
            self.conn.close()
        else:
            self.conn.release(self)

    def read1(self, n: int = RECV) -> bytes:
        """Some of the body (at most ``n`` bytes); b"" at its end."""
        if self.done:
            return b""
        r = self.reader
        if self.chunked:
            if self.chunk_left == 0:
                line = r.readline()
                if not line:
                    raise ProtocolError("unexpected EOF in a chunked response")
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise ProtocolError("malformed chunk size from the daemon") from None
                if size == 0:
                    while r.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    self._finish()
                    return b""
                self.chunk_left = size
            data = r.read_some(min(n, self.chunk_left))
            if not data:
                raise ProtocolError("unexpected EOF in a chunked response")
            self.chunk_left -= len(data)
            if self.chunk_left == 0:
                r.read_exact(2)
            return data
        if self.length is not None:
            data = r.read_some(min(n, self.length))
            if not data:
                raise ProtocolError("unexpected EOF from the daemon")
            self.length -= len(data)
            if self.length == 0:
                self._finish()
            return data
        data = r.read_some(n)
        if not data:
            self._finish()
        return data

    def read(self) -> bytes:
        out = bytearray()
        while True:
            d = self.read1()
            if not d:
                return bytes(out)
            out += d

    def iter_lines(self):
        """Newline-delimited lines of the body (JSON message streams)."""
        pending = bytearray()
        while True:
            d = self.read1()
            if not d:
                if pending.strip():
                    yield bytes(pending)
                return
            pending += d
            while True:
                i = pending.find(b"\n")
                if i < 0:
                    break
                line = bytes(pending[:i])
                del pending[:i + 1]
                if line.strip():
                    yield line

    def close(self) -> None:
        if not self.done:
            self.done = True
            self.conn.close()


class Conn:
    """One HTTP/1.1 connection to the daemon, reused while responses are read to their end."""

    def __init__(self, endpoint, timeout: float | None = None):
        self.endpoint, self.timeout = endpoint, timeout
        self.sock = None
        self.reader: Reader | None = None
        self.busy = False

    def connect(self):
        ep = self.endpoint
        try:
            if ep.scheme == "unix":
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(self.timeout)
                try:
                    s.connect(ep.path)
                except BaseException:
                    s.close()
                    raise
            else:
                s = socket.create_connection((ep.host, ep.port), timeout=self.timeout)
                if ep.tls is not None:
                    s = _wrap_tls(s, ep)
        except PermissionError as e:
            raise ConnectError(f"permission denied while trying to connect to the daemon socket at {ep.url}: "
                               f"connect: {e.strerror.lower() if e.strerror else 'permission denied'}") from None
        except OSError as e:
            if ep.tls is not None:
                import ssl
                if isinstance(e, ssl.SSLError):
                    raise ConnectError(f"error during connect: {ep.url}: {e}") from None
            raise ConnectError(f"Cannot connect to the dockyard daemon at {ep.url}. Is the daemon running?") from None
        self.sock = s
        self.reader = Reader(s)
        return s

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock, self.reader, self.busy = None, None, False

    def release(self, resp: Response) -> None:
        self.busy = False

    def _head(self, method: str, target: str, headers: list[tuple[str, str]]) -> bytes:
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.endpoint.http_host}"]
        lines += [f"{k}: {v}" for k, v in headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def send(self, method: str, target: str, headers: list[tuple[str, str]], body=None) -> None:
        if self.busy or self.sock is None:
            self.close()
            self.connect()
        self.busy = True
        headers = list(headers)
        stream = body is not None and not isinstance(body, (bytes, bytearray))
        if stream:
            headers.append(("Transfer-Encoding", "chunked"))
        elif body is not None or method in ("POST", "PUT"):
            headers.append(("Content-Length", str(len(body or b""))))
        head = self._head(method, target, headers)
        sock = self.sock
        try:
            if not stream:
                sock.sendall(head + bytes(body or b""))
                return
            sock.sendall(head)
            for chunk in _chunks(body):
                if chunk:
                    sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            # the daemon may have answered early (an error); the answer is still readable
            pass

    def request(self, method: str, target: str, headers: list[tuple[str, str]], body=None) -> Response:
        fresh = self.sock is None or self.busy
        try:
            self.send(method, target, headers, body)
            return Response(self, self.reader, method)
        except ProtocolError:
            # a kept-alive connection the daemon had closed: retry once on a new one
            if fresh or (body is not None and not isinstance(body, (bytes, bytearray))):
                raise
            self.close()
            self.send(method, target, headers, body)
            return Response(self, self.reader, method)
        except (ConnectionResetError, BrokenPipeError):
            if fresh:
                raise ConnectError("the daemon closed the connection") from None
            self.close()
            self.send(method, target, headers, body)
            return Response(self, self.reader, method)


def _chunks(body):
    read = getattr(body, "read", None)
    if read is not None:
        while True:
            d = read(RECV)
            if not d:
                return
            yield d
    else:
        yield from body


def _wrap_tls(sock, ep):
    import ssl
    t = ep.tls
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if t.verify:
        ctx.check_hostname = True
        ctx.verify_mode = ssl.CERT_REQUIRED
        if t.ca:
            ctx.load_verify_locations(t.ca)
        else:
            ctx.load_default_certs()
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if t.cert and t.key:
        ctx.load_cert_chain(t.cert, t.key)
    try:
        return ctx.wrap_socket(sock, server_hostname=ep.host)
    except BaseException:
        sock.close()
        raise
