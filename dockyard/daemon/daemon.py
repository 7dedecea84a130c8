"""The daemon object: stores, services, the shim connection and the API app, wired once."""
from __future__ import annotations

import asyncio
import logging
import os

from .config import Config, ConfigError
from .db import DB
from .events import EventBus

log = logging.getLogger("dockyard.daemon")


class Daemon:
    def __init__(self, cfg: Config):
        from ..shim.client import ShimClient
        from ..snapshots.detect import open_snapshotter
        from ..volumes.store import VolumeStore
        from .containers.execs import ExecService
        from .containers.service import ContainerService
        from .images.service import ImageService

        self.cfg = cfg
        for d in (cfg.data_root, cfg.exec_root):
            os.makedirs(d, mode=0o711, exist_ok=True)
        self.db = DB(os.path.join(cfg.data_root, "dockyard.db"))
        self.daemon_id = self._daemon_id()
        self.events = EventBus()
        self.snapshotter = open_snapshotter(os.path.join(cfg.data_root, "snapshots"), cfg.storage_driver)
        self.snapshotter_name = type(self.snapshotter).__name__.replace("Snapshotter", "").lower() or "overlay"
        if self.snapshotter_name == "overlay":
            self.snapshotter_name = "overlay2"
        if cfg.remap is not None:  # layers unpacked with owners shifted into the remapped range
            from ..security.remap_snapshots import RemappedSnapshotter
            self.snapshotter = RemappedSnapshotter(self.snapshotter, cfg.remap)
        self.shim = ShimClient(cfg.exec_root)
        self.containers = ContainerService(self)
        self.execs = ExecService(self)
        from .containers.networking import Networks
        self.networks = Networks(self)
        self.images = ImageService(cfg.data_root, cfg.insecure_registries, cfg.registry_mirrors,
                                   snapshotter=self.snapshotter, events=self.events.emit,
                                   in_use=self.containers.image_users)
        if cfg.push_compression:
            self.images.push_compression = cfg.push_compression
        self.volumes = VolumeStore(os.path.join(cfg.data_root, "volumes"), self.db, users=self.containers.volume_users)
        from .containers.health import HealthMonitor
        self.containers.health = HealthMonitor(self)
        self.app = self._app()
        self._tasks: list[asyncio.Task] = []

    def _daemon_id(self) -> str:
        rows = self.db.query("SELECT value FROM meta WHERE key = 'id'")
        if rows:
            return rows[0][0]
        new = os.urandom(16).hex()
        with self.db.write() as tx:
            tx.execute("INSERT INTO meta (key, value) VALUES ('id', ?)", (new,))
        return new

    def _app(self):
        from .http import App
        from .routes import containers, images, system, volumes
        app = App()
        system.register(app, self)
        containers.register(app, self)
        images.register(app, self.images)
        volumes.register(app, self.volumes, self.events.emit)
        from .routes import networks
        networks.register(app, self)
        from .routes import build
        build.register(app, self)
        return app

    def ensure_shim(self) -> None:
        from ..shim.client import ensure_running
        ensure_running(self.cfg.exec_root, log_file=os.path.join(self.cfg.exec_root, "shim.log"))

    async def start(self) -> None:
        self.events.loop = asyncio.get_running_loop()
        await asyncio.to_thread(self.ensure_shim)
        await self.networks.start()
        await self.containers.restore()
        self._tasks.append(asyncio.create_task(self.containers.watch_exits()))
        listeners = self._listeners()
        await self.app.start(listeners)
        log.info("Dockyard daemon ready (data root %s, exec root %s)", self.cfg.data_root, self.cfg.exec_root)

    def _listeners(self) -> list:
        from .http import parse_listener, server_tls_context
        out = []
        ctx = None
        if any(h.startswith("tcp://") for h in self.cfg.hosts) and self.cfg.tlsverify:
            try:
                ctx = server_tls_context(self.cfg.tlscert, self.cfg.tlskey, self.cfg.tlscacert)
            except ValueError as e:
                raise ConfigError(str(e)) from None
        for h in self.cfg.hosts:
            lst = parse_listener(h, ctx)
            if hasattr(lst, "group") and self.cfg.group != "dockyard":
                from .http.listeners import UnixListener
                lst = UnixListener(lst.path, group=self.cfg.group)
            out.append(lst)
        return out

    def disk_usage(self) -> dict:
        images = self.images.list(all=True)
        layers_size = sum(i.get("Size", 0) for i in images)
        containers = []
        for c in self.containers.list(all_=True, size=True):
            containers.append(c)
        vols = []
        for v in self.volumes.list():
            u = self.volumes.usage(v["Name"])
            vols.append(dict(v, UsageData=u))
        for img in images:
            img["Containers"] = sum(1 for c in containers if c["ImageID"] == img["Id"])
        return {"LayersSize": layers_size, "Images": images, "Containers": containers, "Volumes": vols,
                "BuildCache": []}

    async def close(self) -> None:
        for t in self._tasks:
            t.cancel()
        self.containers.health.stop_all()
        await self.app.close()
        await self.networks.close()
        self.images.close()
        self.db.close()
