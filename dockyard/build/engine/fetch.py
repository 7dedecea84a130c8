"""``ADD https://…``: download a URL into the build's work directory.

As dockerd: the file gets mode 0600 and the time of the response's ``Last-Modified`` (the epoch
when there is none); with a destination ending in ``/`` its name is the last component of the URL
path. ``--checksum=sha256:…`` is verified. The content digest goes into the step's cache key.
"""
from __future__ import annotations

import email.utils
import hashlib
import os
import posixpath
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from .errors import CopyError

TIMEOUT = 60.0


@dataclass(frozen=True)
class Download:
    url: str
    path: str          # the downloaded file on the host
    filename: str      # name from the URL path ("" when it has none)
    digest: str        # sha256:<hex>
    mtime_ns: int


def is_url(src: str) -> bool:
    return src.startswith(("http://", "https://"))


def filename_of(url: str) -> str:
    path = urllib.parse.urlsplit(url).path.rstrip("/")
    return urllib.parse.unquote(posixpath.basename(path))


def download(url: str, directory: str, checksum: str = "") -> Download:
    if checksum and not checksum.startswith("sha256:"):
        raise CopyError(f"unsupported checksum {checksum!r}: use sha256:<hex>")
    os.makedirs(directory, exist_ok=True)
    fd, path = _new_file(directory)
    h = hashlib.sha256()
    try:
        req = urllib.request.Request(url, headers={"User-Agent": "dockyard-builder"})
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as resp, os.fdopen(fd, "wb") as out:
                fd = -1
                while True:
                    chunk = resp.read(1 << 20)
                    if not chunk:
                        break
                    h.update(chunk)
                    out.write(chunk)
                modified = resp.headers.get("Last-Modified")
        except urllib.error.HTTPError as e:
            raise CopyError(f"failed to GET {url} with status {e.code} {e.reason}") from None
        except (urllib.error.URLError, OSError, ValueError) as e:
            reason = getattr(e, "reason", None) or e
            raise CopyError(f"failed to GET {url}: {reason}") from None
        digest = "sha256:" + h.hexdigest()
        if checksum and checksum != digest:
            raise CopyError(f"digest mismatch for {url}: {digest} (expected {checksum})")
        mtime = 0
        if modified:
            try:
                mtime = int(email.utils.parsedate_to_datetime(modified).timestamp())
            except (TypeError, ValueError):
                mtime = 0
        os.chmod(path, 0o600)
        os.utime(path, ns=(mtime * 10**9, mtime * 10**9))
        return Download(url, path, filename_of(url), digest, mtime * 10**9)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        raise


def _new_file(directory: str) -> tuple[int, str]:
    path = os.path.join(directory, "download-" + os.urandom(8).hex())
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600), path
