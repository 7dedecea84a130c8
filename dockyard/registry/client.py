"""Distribution API v2 client over http.client: transport, TLS, auth retries, redirects.

Scheme choice follows Docker: HTTPS with the default trust store (plus CA files
from ``certs_dir/<host>/*.crt``, Docker's certs.d layout); for insecure
registries (by default 127.0.0.0/8, ::1 and localhost, plus configured ones)
HTTPS without verification is tried first and plain HTTP after it.
``insecure=None`` means Docker's defaults; a list replaces them (pass
``DEFAULT_INSECURE + tuple(configured)`` to add registries, ``[]`` to verify all).

Every operation raises ``errors.RegistryError`` subclasses with one-line
messages; the high-level verbs (manifests, blobs, uploads) live at the end.
"""
from __future__ import annotations

import http.client
import ipaddress
import os
import socket
import ssl
import threading
import urllib.parse
from pathlib import Path
from typing import BinaryIO, Callable, Iterable

from dockyard.spec import image as spec

from . import auth as authmod
from . import errors

DOCKER_HUB_DOMAIN = "docker.io"
DOCKER_HUB_HOST = "registry-1.docker.io"
DEFAULT_INSECURE = ("127.0.0.0/8", "::1/128", "localhost")
USER_AGENT = "dockyard/0.1.0"
MAX_REDIRECTS = 5
MAX_SMALL_BODY = 1 << 20
_REDIRECTS = (301, 302, 303, 307, 308)

Body = bytes | Callable[[], BinaryIO] | None


def registry_host(domain: str) -> str:
    """Where the API of a reference's domain lives (docker.io → registry-1.docker.io)."""
    return DOCKER_HUB_HOST if domain in (DOCKER_HUB_DOMAIN, "index.docker.io") else domain


def _split_host(netloc: str) -> str:
    """Host part of host[:port] (IPv6 in brackets)."""
    if netloc.startswith("["):
        return netloc[1:netloc.find("]")] if "]" in netloc else netloc
    return netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc


def is_insecure(netloc: str, insecure: Iterable[str]) -> bool:
    """Whether ``netloc`` is listed (as host, host:port or CIDR) among insecure registries."""
    host = _split_host(netloc).lower()
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    for entry in insecure:
        entry = entry.strip().lower()
        if "://" in entry:
            entry = urllib.parse.urlsplit(entry).netloc
        if entry in (netloc.lower(), host):
            return True
        if ip is not None and "/" in entry:
            try:
                if ip in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
    return False


def _reason(e: BaseException) -> str:
    if isinstance(e, ssl.SSLCertVerificationError):
        return f"tls: failed to verify certificate: {e.verify_message or e.reason}"
    if isinstance(e, ssl.SSLError):
        if e.reason == "WRONG_VERSION_NUMBER":
            return "tls: server gave HTTP response to HTTPS client"
        if e.reason in ("SSLV3_ALERT_BAD_CERTIFICATE", "TLSV13_ALERT_CERTIFICATE_REQUIRED"):
            return f"tls: the server refused the client certificate ({e.reason.lower()})"
        return f"tls: {e.reason or e}"
    if isinstance(e, socket.timeout):
        return "i/o timeout"
    if isinstance(e, ConnectionRefusedError):
        return "connect: connection refused"
    if isinstance(e, ConnectionResetError):
        return "connection reset by peer"
    if isinstance(e, socket.gaierror):
        return f"dial tcp: lookup failed: {e.strerror or e}"
    if isinstance(e, http.client.IncompleteRead):
        return f"unexpected EOF after {len(e.partial)} bytes"
    if isinstance(e, http.client.HTTPException):
        return f"malformed HTTP response: {type(e).__name__} {e}".strip()
    return getattr(e, "strerror", None) or str(e) or type(e).__name__


class Response:
    """A streamed HTTP response; closes its connection when done."""

    def __init__(self, conn: http.client.HTTPConnection, resp: http.client.HTTPResponse, method: str, url: str):
        self._conn, self._resp = conn, resp
        self.method, self.url = method, url
        self.status = resp.status
        self.headers = resp.headers
        cl = resp.getheader("Content-Length")
        self.length = int(cl) if cl and cl.isdigit() else None
        self.received = 0

    def header(self, name: str) -> str | None:
        return self._resp.getheader(name)

    def read(self, n: int = 1 << 16) -> bytes:
        """Up to ``n`` bytes; b"" at the end. Raises ConnectionFailed on a cut body."""
        try:
            b = self._resp.read(n)
        except (OSError, http.client.HTTPException) as e:
            raise errors.ConnectionFailed(f'{self.method} "{self.url}": {_reason(e)}') from None
        self.received += len(b)
        if not b and self.length is not None and self.received < self.length:
            raise errors.ConnectionFailed(
                f'{self.method} "{self.url}": unexpected EOF after {self.received} of {self.length} bytes')
        return b

    def read_all(self, limit: int) -> bytes:
        if self.length is not None and self.length > limit:
            raise errors.ProtocolError(f'{self.method} "{self.url}": response of {self.length} bytes exceeds {limit}')
        chunks, total = [], 0
        while True:
            b = self.read(min(1 << 16, limit + 1 - total))
            if not b:
                return b"".join(chunks)
            chunks.append(b)
            total += len(b)
            if total > limit:
                raise errors.ProtocolError(f'{self.method} "{self.url}": response exceeds {limit} bytes')

    def close(self) -> None:
        self._resp.close()
        self._conn.close()

    def __enter__(self) -> "Response":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def raise_for_status(self, ok: Iterable[int]) -> None:
        """Raise the registry's error (parsed from the body) unless the status is in ``ok``."""
        if self.status in ok:
            return
        try:
            body = self.read_all(errors.MAX_ERROR_BODY) if self.method != "HEAD" else b""
        except errors.RegistryError:
            body = b""
        finally:
            self.close()
        raise errors.from_response(self.status, body, f'{self.method} "{self.url}"')


class RegistryClient:
    """One registry endpoint (a domain, or an explicit base URL for mirrors)."""

    def __init__(self, domain: str, creds: authmod.Credentials | None = None,
                 insecure: Iterable[str] | None = None, certs_dir: str | os.PathLike | None = None,
                 endpoint: str | None = None, timeout: float = 60.0,
                 token_cache: authmod.TokenCache | None = None):
        self.domain = domain
        if endpoint:
            parts = urllib.parse.urlsplit(endpoint)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"invalid registry endpoint {endpoint!r}")
            self.netloc, self._forced_scheme = parts.netloc, parts.scheme
        else:
            self.netloc, self._forced_scheme = registry_host(domain), None
        self.insecure_list = tuple(DEFAULT_INSECURE if insecure is None else insecure)
        self.insecure = is_insecure(self.netloc, self.insecure_list)
        self.certs_dir = Path(certs_dir) if certs_dir else None
        self.timeout = timeout
        self.base: str | None = None
        self._verify = True
        self._lock = threading.Lock()
        self.auth = authmod.Authenticator(creds, self._fetch_small, token_cache, secure_transport=True)

    # --- transport ---------------------------------------------------------

    def _ssl_context(self, netloc: str, verify: bool) -> ssl.SSLContext:
        ctx = ssl.create_default_context()
        if not verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if self.certs_dir:
            d = self.certs_dir / netloc.replace("/", "_")
            if d.is_dir():
                for f in sorted(d.iterdir()):
                    if f.suffix == ".crt":
                        ctx.load_verify_locations(cafile=str(f))
                    elif f.suffix == ".cert":
                        key = f.with_suffix(".key")
                        if not key.exists():
                            raise errors.ConnectionFailed(f"missing key {key.name} for client certificate {f}")
                        ctx.load_cert_chain(str(f), str(key))
        return ctx

    def _connect(self, scheme: str, netloc: str, verify: bool) -> http.client.HTTPConnection:
        if scheme == "https":
            return http.client.HTTPSConnection(netloc, timeout=self.timeout, blocksize=1 << 16,
                                               context=self._ssl_context(netloc, verify))
        if scheme == "http":
            return http.client.HTTPConnection(netloc, timeout=self.timeout, blocksize=1 << 16)
        raise errors.ProtocolError(f"unsupported URL scheme {scheme!r}")

    def send(self, method: str, url: str, headers: dict | None = None, body: Body = None,
             follow: bool = True, verify: bool | None = None) -> Response:
        """One HTTP exchange (following redirects; Authorization is dropped on another host)."""
        headers = dict(headers or {})
        headers.setdefault("User-Agent", USER_AGENT)
        origin = urllib.parse.urlsplit(url).netloc
        for _ in range(MAX_REDIRECTS + 1):
            parts = urllib.parse.urlsplit(url)
            same = parts.netloc == origin
            if parts.netloc == self.netloc:
                v = self._verify if verify is None else verify
            else:
                v = not is_insecure(parts.netloc, self.insecure_list)
            conn = self._connect(parts.scheme, parts.netloc, v)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            payload = body() if callable(body) else body
            try:
                conn.request(method, target, body=payload, headers=headers if same else
                             {k: val for k, val in headers.items() if k.lower() != "authorization"})
                resp = conn.getresponse()
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                raise errors.ConnectionFailed(f'{method} "{url}": {_reason(e)}') from None
            finally:
                if callable(body) and payload is not None and hasattr(payload, "close"):
                    payload.close()
            if follow and resp.status in _REDIRECTS and resp.getheader("Location"):
                loc = resp.getheader("Location")
                resp.close()
                conn.close()
                url = urllib.parse.urljoin(url, loc)
                if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
                    raise errors.ProtocolError(f"{method} redirected to unsupported URL {url!r}")
                if resp.status == 303:
                    method, body = "GET", None
                if body is not None and not isinstance(body, (bytes, bytearray)) and not callable(body):
                    raise errors.ProtocolError(f"{method} redirected with a body that cannot be sent again")
                continue
            return Response(conn, resp, method, url)
        raise errors.ProtocolError(f'{method} "{url}": too many redirects')

    def _fetch_small(self, method: str, url: str, headers: dict, body: bytes | None) -> tuple[int, dict, bytes]:
        with self.send(method, url, headers, body) as r:
            return r.status, dict(r.headers), r.read_all(MAX_SMALL_BODY)

    # --- session -----------------------------------------------------------

    def ping(self) -> None:
        """GET /v2/ once: picks the scheme and records the auth challenge."""
        if self.base is not None:
            return
        with self._lock:
            if self.base is not None:
                return
            if self._forced_scheme:
                candidates = [(self._forced_scheme, not self.insecure)]
            elif self.insecure:
                candidates = [("https", False), ("http", False)]
            else:
                candidates = [("https", True)]
            last: errors.RegistryError | None = None
            for scheme, verify in candidates:
                url = f"{scheme}://{self.netloc}/v2/"
                try:
                    resp = self.send("GET", url, verify=verify)
                except errors.ConnectionFailed as e:
                    last = e
                    continue
                with resp:
                    if resp.status == 401:
                        self.auth.set_challenges(authmod.parse_www_authenticate(resp.headers.get_all("WWW-Authenticate")))
                    elif resp.status == 404:
                        raise errors.Unsupported(f'GET "{url}": the registry does not support the v2 API')
                    elif resp.status != 200:
                        resp.raise_for_status((200,))
                self.base, self._verify = f"{scheme}://{self.netloc}", verify
                self.auth.secure_transport = scheme == "https"
                return
            assert last is not None
            raise last

    def request(self, method: str, path: str, scopes: list[str], headers: dict | None = None,
                body: Body = None, follow: bool = True) -> Response:
        """An authenticated request to a path (``/v2/...``) or a full URL on this registry."""
        self.ping()
        url = path if path.startswith(("http://", "https://")) else self.base + path
        for attempt in (0, 1):
            h = dict(headers or {})
            value = self.auth.header(scopes)
            if value:
                h["Authorization"] = value
            resp = self.send(method, url, h, body, follow=follow)
            if resp.status == 401 and attempt == 0 and not (value or "").startswith("Basic"):
                challenges = authmod.parse_www_authenticate(resp.headers.get_all("WWW-Authenticate"))
                if challenges:
                    resp.close()
                    self.auth.set_challenges(challenges)
                    self.auth.invalidate(scopes)
                    continue
            return resp
        return resp

    def url(self, location: str) -> str:
        """Resolve a Location header against this registry."""
        self.ping()
        return urllib.parse.urljoin(self.base + "/", location)

    # --- manifests ---------------------------------------------------------

    def get_manifest(self, name: str, reference: str, scopes: list[str],
                     accept: Iterable[str] = spec.MANIFEST_ACCEPT) -> tuple[bytes, str, str | None]:
        """(body, content type, Docker-Content-Digest header) of a manifest."""
        resp = self.request("GET", f"/v2/{name}/manifests/{reference}", scopes,
                            headers={"Accept": ", ".join(accept)})
        resp.raise_for_status((200,))
        with resp:
            try:
                data = resp.read_all(spec.MAX_MANIFEST_SIZE)
            except errors.ProtocolError:
                raise spec.ManifestInvalid(
                    f"manifest {name}:{reference} exceeds the limit of {spec.MAX_MANIFEST_SIZE} bytes") from None
            ctype = (resp.header("Content-Type") or "").split(";")[0].strip()
            return data, ctype, resp.header("Docker-Content-Digest")

    def head_manifest(self, name: str, reference: str, scopes: list[str],
                      accept: Iterable[str] = spec.MANIFEST_ACCEPT) -> tuple[str | None, str, int | None] | None:
        resp = self.request("HEAD", f"/v2/{name}/manifests/{reference}", scopes, headers={"Accept": ", ".join(accept)})
        if resp.status == 404:
            resp.close()
            return None
        resp.raise_for_status((200,))
        with resp:
            return resp.header("Docker-Content-Digest"), resp.header("Content-Type") or "", resp.length

    def put_manifest(self, name: str, reference: str, data: bytes, media_type: str, scopes: list[str]) -> str | None:
        resp = self.request("PUT", f"/v2/{name}/manifests/{reference}", scopes,
                            headers={"Content-Type": media_type, "Content-Length": str(len(data))}, body=data)
        resp.raise_for_status((200, 201, 202))
        with resp:
            return resp.header("Docker-Content-Digest")

    # --- blobs -------------------------------------------------------------

    def blob_size(self, name: str, digest: str, scopes: list[str]) -> int | None:
        """Size of a blob if the repository has it, else None."""
        resp = self.request("HEAD", f"/v2/{name}/blobs/{digest}", scopes)
        if resp.status == 404:
            resp.close()
            return None
        resp.raise_for_status((200,))
        with resp:
            return resp.length

    def get_blob(self, name: str, digest: str, scopes: list[str], offset: int = 0) -> Response:
        """Open a blob for reading (status 200, or 206 when a range from ``offset`` was honoured)."""
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        resp = self.request("GET", f"/v2/{name}/blobs/{digest}", scopes, headers=headers)
        if resp.status == 416 and offset:
            resp.close()
            return self.get_blob(name, digest, scopes, 0)
        resp.raise_for_status((200, 206))
        return resp

    def start_upload(self, name: str, scopes: list[str], mount: str | None = None,
                     from_repo: str | None = None) -> tuple[bool, str | None]:
        """POST an upload; returns (mounted, upload location). A mount that fails starts an upload."""
        path = f"/v2/{name}/blobs/uploads/"
        if mount and from_repo:
            path += "?" + urllib.parse.urlencode({"mount": mount, "from": from_repo})
        resp = self.request("POST", path, scopes, headers={"Content-Length": "0"}, body=b"")
        resp.raise_for_status((201, 202))
        with resp:
            if resp.status == 201:
                return True, None
            loc = resp.header("Location")
            if not loc:
                raise errors.ProtocolError(f'POST "{resp.url}": upload started without a Location header')
            return False, self.url(loc)

    def patch_upload(self, location: str, start: int, length: int, body: Body, scopes: list[str]) -> str:
        """Send one chunk (``length`` bytes at ``start``) of a chunked upload; returns the next location."""
        end = start + length - 1
        resp = self.request("PATCH", location, scopes, body=body, headers={
            "Content-Type": "application/octet-stream", "Content-Length": str(length),
            "Content-Range": f"{start}-{end}"})
        resp.raise_for_status((202,))
        with resp:
            rng = resp.header("Range")
            if rng and rng.replace("bytes=", "") != f"0-{end}":
                raise errors.ProtocolError(f"upload {location}: registry has range {rng}, expected 0-{end}")
            loc = resp.header("Location")
            return self.url(loc) if loc else location

    def stream_upload(self, location: str, body: Body, scopes: list[str]) -> str:
        """PATCH a blob whose length is not known up front as one chunked-encoded stream (``body``:
        a factory of a file-like object); returns the location to finish the upload at."""
        resp = self.request("PATCH", location, scopes, body=body,
                            headers={"Content-Type": "application/octet-stream"})
        resp.raise_for_status((202,))
        with resp:
            loc = resp.header("Location")
            return self.url(loc) if loc else location

    def finish_upload(self, location: str, digest: str, scopes: list[str], body: Body = b"",
                      size: int = 0) -> str | None:
        """PUT <location>?digest=...; with the whole blob as ``body`` this is a monolithic upload."""
        parts = urllib.parse.urlsplit(location)
        query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True) + [("digest", digest)]
        url = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
        resp = self.request("PUT", url, scopes, body=body, headers={
            "Content-Type": "application/octet-stream", "Content-Length": str(size)})
        resp.raise_for_status((201, 204))
        with resp:
            return resp.header("Docker-Content-Digest")

    def cancel_upload(self, location: str, scopes: list[str]) -> None:
        try:
            self.request("DELETE", location, scopes).close()
        except errors.RegistryError:
            pass
