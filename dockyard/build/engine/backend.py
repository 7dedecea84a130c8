"""What the builder needs from the daemon, in one place (the daemon's image service, snapshotter,
container runner, the cache table, and the builder's directories under the data root)."""
from __future__ import annotations

import os
from dataclasses import dataclass

from .cache import BuildCache
from .runner import ContainerRunner


@dataclass
class Backend:
    images: object            # daemon.images.service.ImageService
    snapshotter: object       # snapshots.snapshotter.Snapshotter
    runner: ContainerRunner
    cache: BuildCache
    root: str                 # <data-root>/builder

    @property
    def work_root(self) -> str:
        """Per-build work directories (context, mount points, downloads), removed after each build."""
        return os.path.join(self.root, "tmp")

    @property
    def cache_mounts(self) -> str:
        """``RUN --mount=type=cache`` directories, kept across builds."""
        return os.path.join(self.root, "cache-mounts")


def for_daemon(daemon, loop) -> Backend:
    """The backend of a running ``dockyardd`` (``loop``: its event loop)."""
    root = os.path.join(daemon.cfg.data_root, "builder")
    os.makedirs(root, mode=0o700, exist_ok=True)
    cache = BuildCache(daemon.db, daemon.images.store.exists)
    return Backend(daemon.images, daemon.snapshotter, ContainerRunner(daemon.containers, loop), cache, root)
