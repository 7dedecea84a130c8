"""htpasswd files with bcrypt hashes (what ``htpasswd -B`` writes, and docker-registry reads).

bcrypt is checked with libcrypt through the standard ``crypt`` module ($2a$, $2b$ and $2y$).
It is slow on purpose, so a successful check is remembered (keyed by the account, its hash and a
salted hash of the password) until the file changes; the file is re-read when its mtime changes.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import threading
import warnings
from collections import OrderedDict

BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
MAX_FILE = 4 << 20
_CACHE_SIZE = 1024


class HtpasswdError(ValueError):
    """The htpasswd file cannot be used (unreadable, malformed, not bcrypt)."""


def _crypt():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
    return crypt


def parse(text: str, path: str = "htpasswd") -> dict[str, str]:
    """``user:hash`` lines -> {user: hash}; blank lines and ``#`` comments are skipped."""
    users: dict[str, str] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, hashed = line.partition(":")
        if not sep or not user:
            raise HtpasswdError(f"{path} line {lineno}: expected user:hash")
        if not hashed.startswith(BCRYPT_PREFIXES):
            raise HtpasswdError(f"{path} line {lineno}: user {user!r}: only bcrypt hashes are supported "
                                "(htpasswd -B)")
        if user in users:
            raise HtpasswdError(f"{path} line {lineno}: user {user!r} appears twice")
        users[user] = hashed
    return users


def hash_password(password: str, rounds: int = 10) -> str:
    """A bcrypt hash of ``password`` ($2b$), as ``htpasswd -B -C rounds`` makes."""
    crypt = _crypt()
    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << rounds))


def check_bcrypt(password: str, hashed: str) -> bool:
    if not hashed.startswith(BCRYPT_PREFIXES):
        return False
    try:
        got = _crypt().crypt(password, hashed)
    except (ValueError, OSError):
        return False
    return got is not None and hmac.compare_digest(got.encode(), hashed.encode())


class Htpasswd:
    def __init__(self, path: str):
        self.path = path
        self._users: dict[str, str] = {}
        self._stamp: tuple | None = None
        self._lock = threading.Lock()
        self._ok: OrderedDict[tuple, bool] = OrderedDict()
        self._salt = os.urandom(16)
        self.reload()

    def reload(self) -> None:
        """Read the file again if it changed (raises HtpasswdError)."""
        try:
            st = os.stat(self.path)
        except OSError as e:
            raise HtpasswdError(f"cannot read htpasswd file {self.path}: {e.strerror}") from None
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        if stamp == self._stamp:
            return
        if st.st_size > MAX_FILE:
            raise HtpasswdError(f"htpasswd file {self.path} is larger than {MAX_FILE} bytes")
        try:
            with open(self.path, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as e:
            raise HtpasswdError(f"cannot read htpasswd file {self.path}: {e}") from None
        users = parse(text, self.path)
        with self._lock:
            self._users, self._stamp = users, stamp
            self._ok.clear()

    def has_user(self, user: str) -> bool:
        return user in self._users

    def verify(self, user: str, password: str) -> bool:
        """Whether the password is right (slow the first time: call it from a thread)."""
        try:
            self.reload()
        except HtpasswdError:
            pass   # keep the accounts last read
        hashed = self._users.get(user)
        if hashed is None:
            check_bcrypt(password, "$2b$10$" + "." * 53)   # same cost for unknown users
            return False
        key = (user, hashed, hashlib.sha256(self._salt + password.encode()).digest())
        with self._lock:
            if key in self._ok:
                self._ok.move_to_end(key)
                return True
        if not check_bcrypt(password, hashed):
            return False
        with self._lock:
            self._ok[key] = True
            while len(self._ok) > _CACHE_SIZE:
                self._ok.popitem(last=False)
        return True
