"""The shim's ops (docs/daemon.md, "The shim protocol"), over the container table.

Every op returns the fields of its ``ok`` answer or raises ShimError with a one-line message.
The streaming ops (attach, subscribe, exec with ``attach``) are driven by server.py; this module
gives them the process to attach to.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import time

from . import inproc, records, runner
from .container import SPEC_FIELDS, Container
from .events import EventBus
from .jsonlog import JsonFileLog
from .launch import LaunchError, launch
from .oom import oom_kill_count
from .process import Process
from .protocol import Request, one_line
from .reaper import Reaper
from .timefmt import rfc3339nano

OUTPUT_GRACE = 2.0  # after an exit, how long to wait for the output to end (dockerd waits 2 s too)
KEEP_FINISHED_EXECS = 64
EXEC_BACKLOG_KEEP = 60.0  # seconds a finished exec's unread output waits for an attach
UNKNOWN_EXIT = 255  # exit code of a process whose status the shim could not collect (Docker's value)

log = logging.getLogger("dockyard.shim")


class ShimError(Exception):
    def __init__(self, message: str):
        super().__init__(one_line(message))


class Service:
    def __init__(self, exec_root: str, reaper: Reaper, bus: EventBus | None = None):
        self.exec_root = exec_root
        self.reaper = reaper
        self.bus = bus or EventBus()
        self.containers: dict[str, Container] = {}
        self.execs: dict[str, tuple[Container, Process]] = {}
        self._tasks: set[asyncio.Task] = set()
        self._n = 0
        os.makedirs(records.shim_root(exec_root), mode=0o700, exist_ok=True)

    # ---- helpers -----------------------------------------------------------------
    def _bg(self, coro) -> None:
        t = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)

    def container(self, cid: str) -> Container:
        c = self.containers.get(cid)
        if c is None:
            raise ShimError(f"no such container: {cid}")
        return c

    def _still(self, c: Container) -> None:
        """After waiting for its lock: the container may have been deleted meanwhile."""
        if c.deleted or self.containers.get(c.id) is not c:
            raise ShimError(f"no such container: {c.id}")

    def target(self, r: Request) -> tuple[Container, Process]:
        if r.exec_id is not None:
            hit = self.execs.get(r.exec_id)
            if hit is None:
                raise ShimError(f"no such exec: {r.exec_id}")
            return hit
        c = self.container(r.id)
        if c.init is None:
            raise ShimError(f"container {c.id} is still being created")
        return c, c.init

    @staticmethod
    def _what(p: Process) -> str:
        return f"exec {p.exec_id}" if p.exec_id else f"container {p.cid}"

    async def _run(self, c: Container, *args: str, **kw) -> runner.Result:
        rt = c.runtime()
        if not kw and inproc.handles(rt.binary, rt.global_args, args):
            return await inproc.run(rt.root, c.runtime_log, args)
        return await runner.run(self.reaper, rt.argv(*args), log_path=c.runtime_log, **kw)

    async def call(self, r: Request) -> dict:
        return await getattr(self, "op_" + r.op)(r) or {}

    # ---- simple ops --------------------------------------------------------------
    async def op_ping(self, r: Request) -> dict:
        return {"pid": os.getpid(), "containers": len(self.containers)}

    async def op_state(self, r: Request) -> dict:
        return self.container(r.id).state()

    async def op_list(self, r: Request) -> dict:
        return {"containers": [c.state() for c in self.containers.values()]}

    async def op_wait(self, r: Request) -> dict:
        _c, p = self.target(r)
        await p.done.wait()
        if p.exit_code is None:
            raise ShimError(f"{self._what(p)} was deleted before it exited")
        return p.exit_info()

    async def op_resize(self, r: Request) -> dict:
        _c, p = self.target(r)
        try:
            p.resize(r.height, r.width)
        except (ValueError, OSError) as e:
            raise ShimError(f"resizing {self._what(p)}: {e}") from None
        return {}

    async def op_kill(self, r: Request) -> dict:
        c = self.container(r.id)
        res = await self._run(c, "kill", *(["--all"] if r.all else []), c.id, str(r.signal))
        if not res.ok:
            raise ShimError(res.error)
        return {}

    async def op_start(self, r: Request) -> dict:
        c = self.container(r.id)
        async with c.lock:
            self._still(c)
            started = rfc3339nano(time.time_ns())
            res = await self._run(c, "start", c.id)
            if not res.ok:
                raise ShimError(res.error)
            c.started_at = started
            if c.status == "created":
                c.status = "running"
            self._save(c)
        return {"started_at": started}

    async def op_pause(self, r: Request) -> dict:
        return await self._pause_resume(r, "pause", "paused")

    async def op_resume(self, r: Request) -> dict:
        return await self._pause_resume(r, "resume", "running")

    async def _pause_resume(self, r: Request, verb: str, status: str) -> dict:
        c = self.container(r.id)
        async with c.lock:
            self._still(c)
            res = await self._run(c, verb, c.id)
            if not res.ok:
                raise ShimError(res.error)
            if c.status != "stopped":
                c.status = status
            self._save(c)
        return {}

    async def op_update(self, r: Request) -> dict:
        c = self.container(r.id)
        path = c.path("update-resources.json")
        async with c.lock:
            self._still(c)
            with open(path, "w") as f:
                json.dump(r.resources, f)
            try:
                res = await self._run(c, "update", "--resources", path, c.id)
            finally:
                os.unlink(path)
            if not res.ok:
                raise ShimError(res.error)
        return {}

    def _save(self, c: Container) -> None:
        try:
            c.save()
        except OSError as e:
            log.error("container %s: saving its record: %s", c.id, e)

    # ---- create ------------------------------------------------------------------
    async def op_create(self, r: Request) -> dict:
        cid = r.id
        if cid in self.containers:
            raise ShimError(f"container {cid} already exists")
        spec = {k: r.fields[k] for k in SPEC_FIELDS}
        d = records.container_dir(self.exec_root, cid)
        records.remove_dir(d)  # leftovers of a container the shim no longer knows
        os.makedirs(d, mode=0o700)
        c = Container(cid, spec, d)
        self.containers[cid] = c
        try:
            async with c.lock:
                await self._create(c)
        except BaseException:
            if self.containers.get(cid) is c:
                del self.containers[cid]
            c.deleted = True
            if c.init is not None:
                c.init.release()
            records.remove_dir(d)
            raise
        return {"pid": c.init.pid}

    async def _create(self, c: Container) -> None:
        s = c.spec
        logw = None
        if s["log_path"]:
            try:
                logw = JsonFileLog(s["log_path"], s["log_max_size"], s["log_max_files"])
            except OSError as e:
                raise ShimError(f"container {c.id}: opening log {s['log_path']}: {e.strerror}") from None
        proc = Process(c.id, None, c.tty, stdin=s["stdin"], log=logw)
        c.init = proc
        try:
            outputs = await launch(self.reaper, c.runtime(), ["create", "--bundle", s["bundle"]], c.id, proc,
                                   pid_file=c.path("init.pid"), console_dir=c.dir, console_name="console.sock",
                                   console_size=s["console_size"], fifo_dir=c.dir, log_path=c.runtime_log)
        except LaunchError as e:
            if e.launched:  # made by the runtime, but the shim cannot supervise it: remove it again
                await self._run(c, "delete", "--force", c.id)
            raise ShimError(str(e) if not e.launched else f"container {c.id}: {e}") from None
        c.status = "created"
        self.reaper.watch(proc.pid, lambda code: self._on_exit(c, proc, code))
        proc.start_output(outputs)
        self._save(c)

    # ---- exec --------------------------------------------------------------------
    async def op_exec(self, r: Request) -> dict:
        p = await self.exec(r)
        return {"pid": p.pid}

    async def exec(self, r: Request) -> Process:
        c = self.container(r.id)
        eid = r.exec_id
        if eid in self.execs:
            raise ShimError(f"exec {eid} already exists")
        if c.status != "running":
            raise ShimError(f"container {c.id} is not running" + (f": it is {c.status}" if c.status != "stopped" else ""))
        proc = Process(c.id, eid, r.tty, stdin=r.stdin, backlog=True)
        self.execs[eid] = (c, proc)
        c.execs[eid] = proc
        process = dict(r.process)
        process["terminal"] = r.tty
        if r.console_size:
            process["consoleSize"] = {"height": r.console_size[0], "width": r.console_size[1]}
        self._n += 1  # exec ids are long (64 hex digits in Docker): name the files with a counter
        spec_file = c.path(f"exec{self._n}.json")
        try:
            with open(spec_file, "w") as f:
                json.dump(process, f)
            outputs = await launch(self.reaper, c.runtime(), ["exec", "--process", spec_file, "--detach"], c.id,
                                   proc, pid_file=c.path(f"exec{self._n}.pid"), console_dir=c.dir,
                                   console_name=f"exec{self._n}.sock", console_size=r.console_size, fifo_dir=None,
                                   log_path=c.runtime_log)
        except BaseException as e:
            self.execs.pop(eid, None)
            c.execs.pop(eid, None)
            proc.release()
            if isinstance(e, (OSError, LaunchError)):
                msg = e.strerror if isinstance(e, OSError) else str(e)
                raise ShimError(f"exec {eid} in container {c.id}: {msg}" if getattr(e, "launched", True) else msg
                                ) from None
            raise
        finally:
            try:
                os.unlink(spec_file)
            except FileNotFoundError:
                pass
        if c.deleted:  # deleted while the exec started: the runtime's delete killed it
            proc.release()
            raise ShimError(f"no such container: {c.id}")
        self.reaper.watch(proc.pid, lambda code: self._on_exit(c, proc, code))
        proc.start_output(outputs)
        return proc

    def _prune_execs(self, c: Container) -> None:
        finished = [e for e in c.execs.values() if e.done.is_set()]
        for e in finished[:max(0, len(finished) - KEEP_FINISHED_EXECS)]:
            c.execs.pop(e.exec_id, None)
            self.execs.pop(e.exec_id, None)
            e.release()

    # ---- exits -------------------------------------------------------------------
    def _on_exit(self, c: Container, proc: Process, code: int) -> None:
        oom = False
        if proc is c.init:
            self._unwatch_pidfd(c)
            try:
                oom = oom_kill_count(c.spec["runtime_root"], c.id) > 0
            except Exception:  # noqa: BLE001 -- never lose an exit over the OOM check
                log.exception("container %s: reading its OOM count", c.id)
        proc.exited(code, oom)
        self._bg(self._finish(c, proc))

    async def _finish(self, c: Container, proc: Process) -> None:
        await proc.wait_output(OUTPUT_GRACE)
        if proc is c.init:
            c.status = "stopped"
            try:
                c.save_exit()
            except OSError as e:
                log.error("container %s: writing its exit record: %s", c.id, e)
        proc.finish()
        self.bus.publish({"event": "exit", "id": c.id, "exec_id": proc.exec_id, "pid": proc.pid,
                          **proc.exit_info()})
        if proc.exec_id and not c.deleted:
            self._prune_execs(c)
            if not proc.ever_attached:  # kept for a late attach, but not for ever
                asyncio.get_running_loop().call_later(EXEC_BACKLOG_KEEP, proc.drop_backlog)

    def watch_pidfd(self, c: Container, pid: int) -> bool:
        """Follow an init that is not our child (the shim restarted): its exit code is unknown."""
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            return False
        c.pidfd = fd

        def gone():
            self._on_exit(c, c.init, UNKNOWN_EXIT)
        asyncio.get_running_loop().add_reader(fd, gone)
        return True

    def _unwatch_pidfd(self, c: Container) -> None:
        if c.pidfd >= 0:
            asyncio.get_running_loop().remove_reader(c.pidfd)
            os.close(c.pidfd)
            c.pidfd = -1

    # ---- delete ------------------------------------------------------------------
    async def op_delete(self, r: Request) -> dict:
        c = self.container(r.id)
        async with c.lock:
            self._still(c)
            res = await self._run(c, "delete", *(["--force"] if r.force else []), c.id)
            if not res.ok and os.path.exists(os.path.join(c.spec["runtime_root"], c.id)):
                raise ShimError(res.error)
            p = c.init
            if p is not None and p.running and p.pid:
                # killed by delete --force: let the exit be recorded and announced
                try:
                    await asyncio.wait_for(p.done.wait(), 5)
                except asyncio.TimeoutError:
                    pass
            self._forget(c)
        return {}

    def _forget(self, c: Container) -> None:
        c.deleted = True
        self._unwatch_pidfd(c)
        if c.init is not None:
            if c.init.running:
                self.reaper.unwatch(c.init.pid)
            c.init.release()
        for eid, e in c.execs.items():
            self.execs.pop(eid, None)
            e.release()
        c.execs.clear()
        self.containers.pop(c.id, None)
        records.remove_dir(c.dir)

