"""Container lifecycle in the daemon: records in the database, processes through the shim.

State lives in one place per concern: the Docker-shaped record (database) says what the user asked
for and what happened; the shim says what is running. Exits reach ``_on_exit`` through the shim's
event feed, and at start-up ``restore`` reconciles the two.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal as signal_mod

from ...snapshots import mount as snapmount
from ..http import ApiError
from . import names, record

log = logging.getLogger("dockyard.containers")

SIGNALS = {s.name: int(s) for s in signal_mod.Signals}


def parse_signal(value, default: int = signal_mod.SIGKILL) -> int:
    if value in (None, ""):
        return default
    if isinstance(value, int) or str(value).isdigit():
        n = int(value)
        if 0 < n < 65:
            return n
        raise ApiError(400, f"Invalid signal: {value}")
    name = str(value).upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    if name not in SIGNALS:
        raise ApiError(400, f"Invalid signal: {value}")
    return SIGNALS[name]


class ContainerService:
    def __init__(self, daemon):
        self.d = daemon
        self.cfg = daemon.cfg
        self.db = daemon.db
        self.shim = daemon.shim
        self.locks: dict[str, asyncio.Lock] = {}
        self.waiters: dict[str, list[tuple[str, asyncio.Future]]] = {}
        self.stopping: set[str] = set()  # stopped by the user: no restart policy
        self.restart_tasks: dict[str, asyncio.Task] = {}
        self.health = None  # set by the daemon (health.HealthMonitor)
        # attach requests made before start (docker run attaches first): connected by start
        self.pending_attaches: dict[str, list[tuple[asyncio.Future, dict]]] = {}

    # ---- paths ------------------------------------------------------------------------------
    def files_dir(self, cid: str) -> str:
        return os.path.join(self.cfg.data_root, "containers", cid)

    def bundle_dir(self, cid: str) -> str:
        return os.path.join(self.cfg.exec_root, "containers", cid)

    def rootfs_dir(self, cid: str) -> str:
        return os.path.join(self.bundle_dir(cid), "rootfs")

    def log_path(self, cid: str) -> str:
        return os.path.join(self.files_dir(cid), f"{cid}-json.log")

    @property
    def runtime_root(self) -> str:
        return os.path.join(self.cfg.exec_root, "runtime")

    def lock(self, cid: str) -> asyncio.Lock:
        return self.locks.setdefault(cid, asyncio.Lock())

    # ---- lookup -----------------------------------------------------------------------------
    def get(self, ref: str) -> dict:
        """By full id, name (with or without '/'), or unique id prefix; 404 as docker says it."""
        if not ref:
            raise ApiError(404, "No such container: ")
        doc = self.db.get("containers", ref)
        if doc is not None:
            return doc
        name = ref if ref.startswith("/") else "/" + ref
        rows = self.db.query("SELECT doc FROM containers WHERE name = ?", (name,))
        if rows:
            return json.loads(rows[0][0])
        if all(c in "0123456789abcdef" for c in ref):
            rows = self.db.query("SELECT doc FROM containers WHERE id LIKE ?", (ref + "%",))
            if len(rows) == 1:
                return json.loads(rows[0][0])
            if len(rows) > 1:
                raise ApiError(400, f"multiple IDs found with provided prefix: {ref}")
        raise ApiError(404, f"No such container: {ref}")

    def all(self) -> list[dict]:
        return self.db.all("containers")

    def save(self, doc: dict) -> None:
        with self.db.write() as tx:
            tx.put("containers", doc["Id"], doc, name=doc["Name"])

    def counts(self) -> dict:
        docs = self.all()
        st = [d["State"]["Status"] for d in docs]
        return {"total": len(docs), "running": st.count("running") + st.count("restarting"),
                "paused": st.count("paused"), "stopped": len(docs) - st.count("running") - st.count("paused")
                - st.count("restarting")}

    def image_users(self, image_id: str) -> list[tuple[str, bool]]:
        return [(d["Id"], d["State"]["Running"]) for d in self.all() if d["Image"] == image_id]

    def volume_users(self, name: str) -> list[str]:
        return [d["Id"] for d in self.all()
                if any(m.get("Type") == "volume" and m.get("Name") == name for m in d.get("Mounts") or [])]

    def emit(self, doc: dict, action: str, extra: dict | None = None) -> None:
        attrs = {"image": doc["Config"].get("Image") or "", "name": doc["Name"].lstrip("/")}
        attrs.update(doc["Config"].get("Labels") or {})
        attrs.update(extra or {})
        self.d.events.emit("container", action, doc["Id"], attrs)

    # ---- create -----------------------------------------------------------------------------
    async def create(self, body: dict, name: str | None, platform: str | None = None) -> dict:
        from .create import create_container
        return await create_container(self, body, name, platform)

    # ---- start ------------------------------------------------------------------------------
    async def start(self, ref: str) -> bool:
        """False when it was already running (the API answers 304)."""
        doc = self.get(ref)
        cid = doc["Id"]
        async with self.lock(cid):
            doc = self.get(cid)
            if doc["State"]["Running"]:
                return False
            if doc["State"]["Status"] == "removing":
                raise ApiError(409, f"cannot start container {cid[:12]}: it is being removed")
            try:
                await self._start(doc)
            except ApiError:
                if doc["HostConfig"].get("AutoRemove"):  # docker removes a --rm container that failed to start
                    await self._remove_now(self.get(cid), volumes=True)
                raise
        return True

    async def _start(self, doc: dict) -> None:
        from .start import start_container
        await start_container(self, doc)

    # ---- exits --------------------------------------------------------------------------------
    async def watch_exits(self) -> None:
        """Follow the shim's event feed for the daemon's lifetime (reconnecting if it restarts)."""
        from ...shim.client import ShimError, ShimUnavailable
        while True:
            try:
                async for ev in self.shim.subscribe():
                    if ev.get("event") != "exit":
                        continue
                    if ev.get("exec_id"):
                        self.d.execs.on_exit(ev)
                    elif ev.get("id"):
                        asyncio.create_task(self._on_exit_safe(ev["id"], ev))
            except (ShimUnavailable, ShimError, OSError) as e:
                log.warning("shim event feed lost (%s); reconnecting", e)
                await asyncio.sleep(0.5)
                try:
                    await asyncio.to_thread(self.d.ensure_shim)
                    await self.restore()
                except Exception as e2:  # keep trying: the daemon must keep serving
                    log.error("reconnecting to the shim: %s", e2)
            except asyncio.CancelledError:
                raise

    async def _on_exit_safe(self, cid: str, ev: dict) -> None:
        try:
            await self.on_exit(cid, ev)
        except Exception:
            log.exception("handling the exit of %s", cid)

    async def on_exit(self, cid: str, ev: dict) -> None:
        async with self.lock(cid):
            doc = self.db.get("containers", cid)
            if doc is None or not doc["State"]["Running"]:
                return
            st = doc["State"]
            st.update(Running=False, Paused=False, Restarting=False, Pid=0,
                      ExitCode=int(ev.get("exit_code", 255)), OOMKilled=bool(ev.get("oom_killed")),
                      FinishedAt=ev.get("finished_at") or record.now_rfc3339(), Status="exited")
            if st.get("Health"):
                st["Health"]["Status"] = "unhealthy" if st["Health"]["Status"] != "none" else "none"
            await self.d.networks.release(doc)
            self.save(doc)
            await self._teardown(cid)
            if self.health:
                self.health.stop(cid)
        if ev.get("oom_killed"):
            self.emit(doc, "oom")
        self.emit(doc, "die", {"exitCode": str(st["ExitCode"])})
        self._wake(cid, "exit", st["ExitCode"])
        if doc["HostConfig"].get("AutoRemove"):
            await self._remove_now(self.get(cid), volumes=True)
            return
        self._maybe_restart(doc)

    async def _teardown(self, cid: str) -> None:
        """After an exit: forget the process in the shim and unmount the rootfs."""
        try:
            await self.shim.delete(cid, force=True)
        except Exception as e:
            log.warning("shim delete %s: %s", cid[:12], e)
        await asyncio.to_thread(self.unmount_rootfs, cid)

    def unmount_rootfs(self, cid: str) -> None:
        target = self.rootfs_dir(cid)
        if os.path.ismount(target):
            try:
                snapmount.unmount(target)
            except Exception as e:
                log.warning("unmounting %s: %s", target, e)
                snapmount.unmount(target, detach=True)

    # ---- restart policies ---------------------------------------------------------------------
    def _maybe_restart(self, doc: dict) -> None:
        cid = doc["Id"]
        if cid in self.stopping:
            self.stopping.discard(cid)
            return
        pol = doc["HostConfig"].get("RestartPolicy") or {}
        name = pol.get("Name") or "no"
        code = doc["State"]["ExitCode"]
        if name in ("", "no"):
            return
        if name == "on-failure":
            if code == 0:
                return
            maxc = pol.get("MaximumRetryCount") or 0
            if maxc and doc.get("RestartCount", 0) >= maxc:
                return
        delay = min(0.1 * (2 ** min(doc.get("RestartCount", 0), 10)), 60.0)
        doc["State"].update(Restarting=True, Status="restarting")
        self.save(doc)
        self.restart_tasks[cid] = asyncio.create_task(self._restart_later(cid, delay))

    async def _restart_later(self, cid: str, delay: float) -> None:
        try:
            await asyncio.sleep(delay)
            async with self.lock(cid):
                doc = self.db.get("containers", cid)
                if doc is None or not doc["State"]["Restarting"]:
                    return
                doc["RestartCount"] = doc.get("RestartCount", 0) + 1
                doc["State"]["Restarting"] = False
                self.save(doc)
                await self._start(doc)
        except Exception as e:
            log.error("restarting %s: %s", cid[:12], e)
            doc = self.db.get("containers", cid)
            if doc is not None:
                doc["State"].update(Restarting=False, Status="exited", Error=str(e))
                self.save(doc)
        finally:
            self.restart_tasks.pop(cid, None)

    def _cancel_restart(self, doc: dict) -> None:
        task = self.restart_tasks.pop(doc["Id"], None)
        if task:
            task.cancel()
        if doc["State"].get("Restarting"):
            doc["State"].update(Restarting=False, Status="exited")
            self.save(doc)

    # ---- waiting ------------------------------------------------------------------------------
    def _wake(self, cid: str, what: str, code: int) -> None:
        keep = []
        for cond, fut in self.waiters.get(cid, []):
            if fut.done():
                continue
            if what == "removed" or (what == "exit" and cond in ("not-running", "next-exit")):
                fut.set_result(code)
            else:
                keep.append((cond, fut))
        if keep:
            self.waiters[cid] = keep
        else:
            self.waiters.pop(cid, None)

    async def wait(self, ref: str, condition: str = "not-running") -> int:
        if condition not in ("not-running", "next-exit", "removed", ""):
            raise ApiError(400, f"invalid condition: {condition!r}")
        condition = condition or "not-running"
        doc = self.get(ref)
        cid = doc["Id"]
        if condition == "not-running" and not doc["State"]["Running"] and not doc["State"].get("Restarting"):
            return doc["State"]["ExitCode"]
        fut = asyncio.get_running_loop().create_future()
        self.waiters.setdefault(cid, []).append((condition, fut))
        return await fut

    async def wait_exit(self, cid: str, timeout: float = 5.0) -> None:
        """Wait for the exit event; if it does not come (an event lost while the shim feed was
        reconnecting), ask the shim for the state and record the exit from it."""
        waiter = asyncio.ensure_future(self.wait(cid, "not-running"))
        try:
            await asyncio.wait_for(asyncio.shield(waiter), timeout)
            return
        except asyncio.TimeoutError:
            pass
        try:
            st = await self.shim.state(cid)
        except Exception:
            st = {"status": "stopped", "exit_code": 137}
        if st.get("status") == "stopped":
            await self.on_exit(cid, {"exit_code": st.get("exit_code", 137) if st.get("exit_code") is not None
                                     else 137, "finished_at": st.get("finished_at") or record.now_rfc3339(),
                                     "oom_killed": st.get("oom_killed", False)})
        await asyncio.wait_for(waiter, 30)

    # ---- stop / kill / restart / pause --------------------------------------------------------
    async def kill(self, ref: str, sig=None) -> None:
        doc = self.get(ref)
        signum = parse_signal(sig, signal_mod.SIGKILL)
        if not doc["State"]["Running"]:
            raise ApiError(409, f"Cannot kill container: {ref}: Container {doc['Id']} is not running")
        if signum == signal_mod.SIGKILL:
            self.stopping.add(doc["Id"])
        await self.shim.kill(doc["Id"], signum)
        self.emit(doc, "kill", {"signal": str(signum)})

    async def stop(self, ref: str, timeout: int | None = None, sig=None) -> bool:
        """False when it was not running (304)."""
        doc = self.get(ref)
        cid = doc["Id"]
        self._cancel_restart(doc)
        doc = self.get(cid)
        if not doc["State"]["Running"]:
            return False
        self.stopping.add(cid)
        if timeout is None or timeout < -1:
            timeout = doc["Config"].get("StopTimeout")
            timeout = 10 if timeout is None else timeout
        signum = parse_signal(sig or doc["Config"].get("StopSignal") or "SIGTERM", signal_mod.SIGTERM)
        waiter = asyncio.ensure_future(self.wait(cid, "not-running"))
        try:
            if doc["State"]["Paused"]:
                await self.shim.resume(cid)
            await self.shim.kill(cid, signum)
            self.emit(doc, "kill", {"signal": str(signum)})
            if timeout >= 0:
                await asyncio.wait_for(asyncio.shield(waiter), timeout)
            else:
                await waiter
        except asyncio.TimeoutError:
            await self.shim.kill(cid, signal_mod.SIGKILL, all=True)
            self.emit(doc, "kill", {"signal": "9"})
            await self.wait_exit(cid)
        except Exception as e:
            if self.get(cid)["State"]["Running"]:
                raise ApiError(500, f"cannot stop container: {ref}: {e}") from None
        finally:
            if not waiter.done():
                waiter.cancel()
        self.emit(self.get(cid), "stop")
        return True

    async def restart(self, ref: str, timeout: int | None = None) -> None:
        doc = self.get(ref)
        await self.stop(doc["Id"], timeout)
        self.stopping.discard(doc["Id"])
        await self.start(doc["Id"])
        self.emit(self.get(doc["Id"]), "restart")

    async def pause(self, ref: str) -> None:
        doc = self.get(ref)
        if not doc["State"]["Running"]:
            raise ApiError(409, f"Container {doc['Id']} is not running")
        if doc["State"]["Paused"]:
            raise ApiError(409, f"Container {doc['Id']} is already paused")
        await self.shim.pause(doc["Id"])
        async with self.lock(doc["Id"]):
            doc = self.get(doc["Id"])
            doc["State"].update(Paused=True, Status="paused")
            self.save(doc)
        self.emit(doc, "pause")

    async def unpause(self, ref: str) -> None:
        doc = self.get(ref)
        if not doc["State"]["Paused"]:
            raise ApiError(409, f"Container {doc['Id']} is not paused")
        await self.shim.resume(doc["Id"])
        async with self.lock(doc["Id"]):
            doc = self.get(doc["Id"])
            doc["State"].update(Paused=False, Status="running")
            self.save(doc)
        self.emit(doc, "unpause")

    # ---- remove / rename / prune --------------------------------------------------------------
    async def remove(self, ref: str, force: bool = False, volumes: bool = False) -> None:
        doc = self.get(ref)
        self._cancel_restart(doc)
        doc = self.get(doc["Id"])
        if doc["State"]["Running"]:
            if not force:
                if doc["State"]["Paused"]:
                    raise ApiError(409, f"cannot remove container \"{doc['Name']}\": container is paused and "
                                        "must be unpaused first")
                raise ApiError(409, f"cannot remove container \"{doc['Name']}\": container is running: "
                                    "stop the container before removing or force remove")
            self.stopping.add(doc["Id"])
            await self.kill(doc["Id"], signal_mod.SIGKILL)
            await self.wait_exit(doc["Id"])
        await self._remove_now(self.get(doc["Id"]), volumes)

    async def _remove_now(self, doc: dict, volumes: bool) -> None:
        cid = doc["Id"]
        doc["State"]["Status"] = "removing"
        self.save(doc)
        await self.d.networks.release(doc)
        try:
            await self.shim.delete(cid, force=True)
        except Exception:
            pass
        await asyncio.to_thread(self._remove_files, cid)
        with self.db.write() as tx:
            tx.delete("containers", cid)
            tx.execute("DELETE FROM execs WHERE container_id = ?", (cid,))
        if volumes:
            for m in doc.get("Mounts") or []:
                if m.get("Type") == "volume" and m.get("_anonymous"):
                    try:
                        self.d.volumes.remove(m["Name"])
                    except Exception as e:
                        log.warning("removing anonymous volume %s: %s", m["Name"], e)
        self.emit(doc, "destroy")
        self._wake(cid, "removed", doc["State"]["ExitCode"])
        self.locks.pop(cid, None)
        self.stopping.discard(cid)

    def _remove_files(self, cid: str) -> None:
        self.unmount_rootfs(cid)
        try:
            self.d.snapshotter.remove(cid)
        except Exception as e:
            if "not found" not in str(e).lower():
                log.warning("removing the snapshot of %s: %s", cid[:12], e)
        shutil.rmtree(self.bundle_dir(cid), ignore_errors=True)
        shutil.rmtree(self.files_dir(cid), ignore_errors=True)

    async def rename(self, ref: str, new: str) -> None:
        doc = self.get(ref)
        try:
            stored = names.validate(new)
        except names.InvalidName as e:
            raise ApiError(400, str(e)) from None
        if stored == doc["Name"]:
            raise ApiError(409, "Renaming a container with the same name as its current name")
        if self.db.query("SELECT 1 FROM containers WHERE name = ?", (stored,)):
            raise ApiError(409, f"Conflict. The container name \"{stored}\" is already in use by container "
                                f"\"{self.get(stored)['Id']}\". You have to remove (or rename) that container "
                                "to be able to reuse that name.")
        old = doc["Name"]
        async with self.lock(doc["Id"]):
            doc = self.get(doc["Id"])
            doc["Name"] = stored
            self.save(doc)
        self.emit(doc, "rename", {"oldName": old})

    async def prune(self, filters: dict) -> dict:
        from .logs import parse_time
        deleted, reclaimed = [], 0
        until = filters.get("until")
        for doc in self.all():
            if doc["State"]["Running"] or doc["State"]["Status"] not in ("exited", "created", "dead"):
                continue
            if "label" in filters and not _labels_match(doc, filters["label"]):
                continue
            if until and parse_time(doc["Created"]) / 1e9 > _until_seconds(until[-1]):
                continue
            reclaimed += self.size_rw(doc["Id"])
            await self._remove_now(doc, volumes=False)
            deleted.append(doc["Id"])
        return {"ContainersDeleted": deleted, "SpaceReclaimed": reclaimed}

    def size_rw(self, cid: str) -> int:
        """Docker's SizeRw: the apparent size of the files in the writable layer (not blocks)."""
        from ...volumes.store import dir_size
        try:
            return dir_size(str(self.d.snapshotter.layers(cid).upper))[0]
        except Exception:
            return 0

    # ---- update ---------------------------------------------------------------------------------
    async def update(self, ref: str, body: dict) -> list[str]:
        from .update import update_container
        return await update_container(self, ref, body)

    # ---- list / inspect -------------------------------------------------------------------------
    def inspect(self, ref: str, size: bool = False) -> dict:
        doc = dict(self.get(ref))
        doc = {k: v for k, v in doc.items() if not k.startswith("_")}
        doc["Mounts"] = [{k: v for k, v in m.items() if not k.startswith("_")} for m in doc.get("Mounts") or []]
        doc["GraphDriver"] = {"Name": self.d.snapshotter_name, "Data": self._graph_data(doc["Id"])}
        if size:
            doc["SizeRw"] = self.size_rw(doc["Id"])
            doc["SizeRootFs"] = doc["SizeRw"] + self._image_size(doc["Image"])
        return doc

    def _graph_data(self, cid: str) -> dict:
        try:
            layers = self.d.snapshotter.layers(cid)
        except Exception:
            return {}
        upper = str(layers.upper)
        return {"LowerDir": ":".join(str(x) for x in layers.lowers), "MergedDir": self.rootfs_dir(cid),
                "UpperDir": upper, "WorkDir": os.path.join(os.path.dirname(upper), "work")}

    def _image_size(self, image_id: str) -> int:
        try:
            return self.d.images.store.get(image_id).size
        except Exception:
            return 0

    def list(self, all_: bool = False, limit: int = -1, size: bool = False, filters: dict | None = None,
             latest: bool = False) -> list[dict]:
        from .filters import match
        docs = sorted(self.all(), key=lambda d: d["Created"], reverse=True)
        if not all_ and not limit > 0 and not latest:
            docs = [d for d in docs if d["State"]["Running"] or d["State"]["Status"] in ("paused", "restarting")]
        out = []
        for d in docs:
            if filters and not match(self, d, filters):
                continue
            sz = None
            if size:
                rw = self.size_rw(d["Id"])
                sz = {"SizeRw": rw, "SizeRootFs": rw + self._image_size(d["Image"])}
            out.append(record.summary(d, sz))
        if limit and limit > 0:
            out = out[:limit]
        return out

    # ---- restore after a daemon restart ---------------------------------------------------------
    async def restore(self) -> None:
        try:
            known = {c["id"]: c for c in await self.shim.list()}
        except Exception as e:
            log.error("cannot list the shim's containers: %s", e)
            known = {}
        for doc in self.all():
            cid = doc["Id"]
            st = doc["State"]
            if st["Status"] == "removing":
                await self._remove_now(doc, volumes=False)
                continue
            if not st["Running"] and not st.get("Restarting"):
                continue
            s = known.get(cid)
            if s and s.get("status") in ("running", "paused", "created"):
                st.update(Running=True, Paused=s["status"] == "paused",
                          Status="paused" if s["status"] == "paused" else "running", Pid=s.get("pid", st["Pid"]))
                self.save(doc)
                if self.health and doc["Config"].get("Healthcheck"):
                    self.health.start(cid)
                continue
            ev = {"exit_code": (s or {}).get("exit_code", 255) if s else 255,
                  "finished_at": (s or {}).get("finished_at") or record.now_rfc3339(),
                  "oom_killed": (s or {}).get("oom_killed", False)}
            if ev["exit_code"] is None:
                ev["exit_code"] = 255
            await self.on_exit(cid, ev)


def _labels_match(doc: dict, wanted: list[str]) -> bool:
    labels = doc["Config"].get("Labels") or {}
    for lab in wanted:
        neg = "!=" in lab
        k, _, v = lab.replace("!=", "=").partition("=")
        has = k in labels and (not v or labels[k] == v)
        if has == neg:
            return False
    return True


def _until_seconds(value: str) -> float:
    import time
    from .logs import parse_time
    if value.replace(".", "").isdigit():
        return float(value)
    units = {"s": 1, "m": 60, "h": 3600}
    if value[-1:] in units and value[:-1].isdigit():
        return time.time() - int(value[:-1]) * units[value[-1]]
    return parse_time(value) / 1e9
