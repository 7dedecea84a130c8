"""Server-side TLS over memory BIOs, so the connection owns half-close semantics.

asyncio's own SSL transport shuts the whole connection down when the peer stops sending
(close_notify or TCP FIN); a hijacked Docker stream must keep writing after that.
"""
from __future__ import annotations

import ssl


def server_tls_context(certfile: str, keyfile: str, cafile: str) -> ssl.SSLContext:
    """TLS server context that requires a client certificate signed by ``cafile``."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as e:
        raise ValueError(f"cannot load TLS certificate {certfile} / key {keyfile}: {e}") from None
    try:
        ctx.load_verify_locations(cafile)
    except (OSError, ssl.SSLError) as e:
        raise ValueError(f"cannot load TLS CA file {cafile}: {e}") from None
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


class TLSSession:
    """One server-side TLS connection: ciphertext in, plaintext out, and the reverse."""

    __slots__ = ("_in", "_out", "_obj", "_handshaken", "peer_closed")

    def __init__(self, context: ssl.SSLContext):
        self._in = ssl.MemoryBIO()
        self._out = ssl.MemoryBIO()
        self._obj = context.wrap_bio(self._in, self._out, server_side=True)
        self._handshaken = False
        self.peer_closed = False   # close_notify seen

    def receive(self, data: bytes) -> bytes:
        """Feed ciphertext; return the plaintext it completes.

        Raises ``ssl.SSLError`` when the handshake or a record fails (after that,
        ``outgoing()`` holds the alert to send)."""
        self._in.write(data)
        if not self._handshaken:
            try:
                self._obj.do_handshake()
            except ssl.SSLWantReadError:
                return b""
            self._handshaken = True
        chunks = []
        while True:
            try:
                chunk = self._obj.read(262144)
            except ssl.SSLWantReadError:
                break
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                self.peer_closed = True
                break
            if not chunk:
                self.peer_closed = True
                break
            chunks.append(chunk)
        return b"".join(chunks)

    def outgoing(self) -> bytes:
        """Ciphertext waiting to be sent (handshake messages, alerts, tickets)."""
        return self._out.read()

    def encrypt(self, data) -> bytes:
        view = memoryview(data)
        while view:
            n = self._obj.write(view)
            view = view[n:]
        return self._out.read()

    def close_notify(self) -> bytes:
        """The close_notify alert to send before closing."""
        try:
            self._obj.unwrap()
        except ssl.SSLError:
            pass
        return self._out.read()
