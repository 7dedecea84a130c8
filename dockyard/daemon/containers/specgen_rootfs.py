"""What the daemon does to a container's rootfs before start, for Docker compatibility.

dockerd creates a missing working directory (owned by root, mode 0755) before starting the container;
runc and dockyard-runtime refuse a cwd that does not exist. Paths are resolved inside the rootfs,
never following a symlink out of it.
"""
from __future__ import annotations

import os

from ...runtime.paths import mkdir_all_in_root
from .specgen_errors import SpecGenError


def prepare_rootfs(rootfs: str, working_dir: str) -> None:
    """Create ``working_dir`` inside ``rootfs`` when it is missing."""
    if not working_dir or working_dir == "/":
        return
    try:
        mkdir_all_in_root(rootfs, working_dir, 0o755)
    except NotADirectoryError:
        raise SpecGenError(f"Cannot mkdir: {working_dir} is not a directory") from None
    except OSError as e:
        raise SpecGenError(f"cannot create the working directory {working_dir}: {e.strerror or e}") from None


def host_dirs(paths: list[str]) -> None:
    """Create the missing sources of ``-v`` binds (Docker makes them directories, mode 0755)."""
    for p in paths:
        try:
            os.makedirs(p, 0o755, exist_ok=True)
        except OSError as e:
            raise SpecGenError(f"error while creating mount source path '{p}': {e.strerror or e}") from None
