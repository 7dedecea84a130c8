"""RUN steps in real containers, through the daemon's ordinary container path.

A RUN is ``POST /containers/create`` with the step's image, command, environment, user, working
directory, network and mounts, then attach + start + wait, as ``docker run`` does, so it runs with
``dockyard-runtime`` under the shim like any container (the image's VOLUMEs become anonymous volumes,
so what a RUN writes under them is not kept, as with Docker). The builder runs in a thread of its
own; ``ContainerRunner`` hands each call to the daemon's event loop and waits for it.

After the exit the container's writable snapshot is still there (unmounted): the builder turns it
into the step's layer, then removes the container.
"""
from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Callable

from .errors import Cancelled, RunError

OnOutput = Callable[[bytes], None]


@dataclass
class RunSpec:
    image_id: str
    argv: list[str]
    env: list[str]
    user: str = ""
    workdir: str = ""
    network: str = "default"
    mounts: list[dict] = field(default_factory=list)
    extra_hosts: list[str] = field(default_factory=list)

    def create_body(self) -> dict:
        """The ``POST /containers/create`` body."""
        hc: dict = {"NetworkMode": self.network, "AutoRemove": False}
        if self.mounts:
            hc["Mounts"] = list(self.mounts)
        if self.extra_hosts:
            hc["ExtraHosts"] = list(self.extra_hosts)
        return {"Image": self.image_id, "Cmd": list(self.argv), "Entrypoint": [], "Env": list(self.env),
                "User": self.user, "WorkingDir": self.workdir, "AttachStdout": True, "AttachStderr": True,
                "Healthcheck": {"Test": ["NONE"]}, "HostConfig": hc}


class ContainerRunner:
    """Over the daemon's ``ContainerService`` and its event loop."""

    def __init__(self, containers, loop: asyncio.AbstractEventLoop):
        self.svc = containers
        self.loop = loop

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    # -- the three calls the builder makes (from its own thread) -----------------------------------------
    def create(self, spec: RunSpec) -> str:
        return self._call(self._create(spec))

    def run(self, cid: str, on_output: OnOutput, cancel: threading.Event | None = None) -> int:
        """Start the container, pass its output on until it ends, and return its exit code."""
        return self._call(self._run(cid, on_output, cancel))

    def remove(self, cid: str) -> None:
        self._call(self.svc.remove(cid, force=True, volumes=True))

    def snapshot_key(self, cid: str) -> str:
        """The container's writable snapshot (its key in the snapshotter)."""
        return cid

    # -- on the loop ------------------------------------------------------------------------------------------
    async def _create(self, spec: RunSpec) -> str:
        from ...daemon.http import ApiError
        try:
            res = await self.svc.create(spec.create_body(), None)
        except ApiError as e:
            raise RunError(e.message) from None
        return res["Id"]

    async def _run(self, cid: str, on_output: OnOutput, cancel: threading.Event | None) -> int:
        from ...daemon.containers.start import _exit_code_for
        from ...daemon.http import ApiError
        from ...shim import frames
        fut = self.loop.create_future()
        self.svc.pending_attaches.setdefault(cid, []).append((fut, {"stdin": False, "stdout": True, "stderr": True}))
        try:
            await self.svc.start(cid)
        except ApiError as e:
            if fut.done() and not fut.cancelled():
                fut.exception()   # retrieved: the start failure says it all
            else:
                fut.cancel()
            raise RunError(e.message, _exit_code_for(e.message)[0]) from None
        reader, writer = await fut
        watcher = asyncio.ensure_future(self._watch(cid, cancel)) if cancel is not None else None
        try:
            while True:
                try:
                    frame = await frames.read_frame(reader)
                except ValueError:
                    break
                if frame is None:
                    break
                on_output(frame[1])
        finally:
            writer.close()
        code = await self.svc.wait(cid, "not-running")
        async with self.svc.lock(cid):
            pass   # the exit is recorded and the rootfs unmounted (on_exit holds the lock meanwhile)
        if watcher is not None:
            watcher.cancel()
        if cancel is not None and cancel.is_set():
            raise Cancelled("the build was cancelled: the client went away")
        return code

    async def _watch(self, cid: str, cancel: threading.Event) -> None:
        while not cancel.is_set():
            await asyncio.sleep(0.2)
        try:
            await self.svc.kill(cid, 9)
        except Exception:
            pass
