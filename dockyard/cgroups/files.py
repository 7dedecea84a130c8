"""Reading and writing cgroup control files, with errors that name them.

Managers go through a ``CgroupFiles`` object so tests can wrap it (e.g. to
record the order of writes) while still writing real files in a temporary
tree. Files are never created: a missing control file means the kernel does
not support that knob, exactly as on the real cgroup filesystem.
"""
from __future__ import annotations

import errno as _errno
import os

from .errors import CgroupError


class CgroupFiles:
    def write(self, directory: str, name: str, value: str, controller: str) -> None:
        path = os.path.join(directory, name)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC)
        except OSError as e:
            raise CgroupError(f"cgroup {controller}: writing '{value}' to {name}: {e.strerror}", e.errno) from None
        try:
            os.write(fd, value.encode())
        except OSError as e:
            raise CgroupError(f"cgroup {controller}: writing '{value}' to {name}: {e.strerror}", e.errno) from None
        finally:
            os.close(fd)

    def read(self, directory: str, name: str, controller: str) -> str:
        try:
            with open(os.path.join(directory, name), "rb") as f:
                return f.read().decode(errors="replace")
        except OSError as e:
            raise CgroupError(f"cgroup {controller}: reading {name}: {e.strerror}", e.errno) from None

    def exists(self, directory: str, name: str) -> bool:
        return os.path.exists(os.path.join(directory, name))

    def mkdir(self, path: str, controller: str) -> bool:
        """Create one directory; True if made, False if it already existed."""
        try:
            os.mkdir(path, 0o755)
            return True
        except FileExistsError:
            if not os.path.isdir(path):
                raise CgroupError(f"cgroup {controller}: {path} exists and is not a directory") from None
            return False
        except OSError as e:
            raise CgroupError(f"cgroup {controller}: creating {path}: {e.strerror}", e.errno) from None

    def rmdir(self, path: str) -> None:
        """rmdir; ENOENT is success. Raises OSError otherwise."""
        try:
            os.rmdir(path)
        except FileNotFoundError:
            pass


def parse_int(text: str, what: str) -> int:
    t = text.strip()
    try:
        return int(t)
    except ValueError:
        raise CgroupError(f"cgroup: {what}: not a number: {t!r}") from None


def parse_kv(text: str) -> dict[str, int]:
    """Lines of "key value" (memory.stat, cpu.stat, memory.events...)."""
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            try:
                out[parts[0]] = int(parts[1])
            except ValueError:
                pass
    return out


EBUSY = _errno.EBUSY
EINVAL = _errno.EINVAL
EOPNOTSUPP = _errno.EOPNOTSUPP
