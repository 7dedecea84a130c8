"""Exec instances: POST /containers/{id}/exec, /exec/{id}/start|resize|json.

An exec's process is the container's own OCI process (from its config.json) with the exec's
command, env, user, working dir and terminal; the shim runs it with `runtime exec` and the
start request's connection is attached to it from its first byte.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os

from ..http import ApiError

log = logging.getLogger("dockyard.execs")

ALL_CAPS_NOTE = "privileged exec gets every capability the host can give"


class ExecService:
    def __init__(self, daemon):
        self.d = daemon
        self.execs: dict[str, dict] = {}
        self.done: dict[str, asyncio.Future] = {}

    def get(self, exec_id: str) -> dict:
        e = self.execs.get(exec_id)
        if e is None:
            raise ApiError(404, f"No such exec instance: {exec_id}")
        return e

    def create(self, ref: str, body: dict) -> str:
        if not isinstance(body, dict):
            raise ApiError(400, "invalid JSON: the request body must be an object")
        svc = self.d.containers
        doc = svc.get(ref)
        if not doc["State"]["Running"]:
            raise ApiError(409, f"Container {doc['Id']} is not running")
        if doc["State"]["Paused"]:
            raise ApiError(409, f"Container {doc['Id']} is paused, unpause the container before exec")
        cmd = body.get("Cmd")
        if isinstance(cmd, str):
            cmd = [cmd]
        if not cmd or not isinstance(cmd, list) or not all(isinstance(c, str) for c in cmd):
            raise ApiError(400, "No exec command specified")
        exec_id = os.urandom(32).hex()
        self.execs[exec_id] = {
            "ID": exec_id, "Running": False, "ExitCode": None, "ContainerID": doc["Id"], "Pid": 0,
            "ProcessConfig": {"tty": bool(body.get("Tty")), "entrypoint": cmd[0], "arguments": cmd[1:],
                              "privileged": bool(body.get("Privileged")), "user": body.get("User") or ""},
            "OpenStdin": bool(body.get("AttachStdin")), "OpenStderr": bool(body.get("AttachStderr")),
            "OpenStdout": bool(body.get("AttachStdout")), "CanRemove": False,
            "DetachKeys": body.get("DetachKeys") or "",
            "_env": list(body.get("Env") or []), "_cwd": body.get("WorkingDir") or "",
        }
        doc.setdefault("ExecIDs", None)
        doc["ExecIDs"] = (doc["ExecIDs"] or []) + [exec_id]
        svc.save(doc)
        svc.emit(doc, f"exec_create: {' '.join(cmd)}", {"execID": exec_id})
        return exec_id

    def inspect(self, exec_id: str) -> dict:
        e = self.get(exec_id)
        return {k: v for k, v in e.items() if not k.startswith("_")}

    def process_for(self, e: dict, doc: dict) -> dict:
        """The OCI process of the exec, from the container's config.json process."""
        from .userlookup import resolve_user
        svc = self.d.containers
        with open(os.path.join(svc.bundle_dir(doc["Id"]), "config.json")) as f:
            base = json.load(f)["process"]
        pc = e["ProcessConfig"]
        proc = dict(base)
        proc["args"] = [pc["entrypoint"], *pc["arguments"]]
        env = list(base.get("env") or [])
        keys = {x.split("=", 1)[0]: i for i, x in enumerate(env)}
        for x in e["_env"]:
            k = x.split("=", 1)[0]
            if k in keys:
                env[keys[k]] = x
            else:
                env.append(x)
        proc["env"] = env
        proc["terminal"] = pc["tty"]
        proc.pop("consoleSize", None)
        if e["_cwd"]:
            proc["cwd"] = e["_cwd"]
        if pc["user"]:
            u = resolve_user(svc.rootfs_dir(doc["Id"]), pc["user"])
            proc["user"] = {"uid": u.uid, "gid": u.gid, "additionalGids": list(u.additional_gids)}
        if pc["privileged"]:
            from ...runtime.capabilities import CAP_NAMES
            caps = sorted(CAP_NAMES)
            proc["capabilities"] = {k: caps for k in ("bounding", "effective", "permitted")}
        return proc

    async def start(self, exec_id: str, body: dict, req) -> None:
        """Runs the exec; when not detached, ``req`` is hijacked and pumped until the process ends."""
        e = self.get(exec_id)
        if e["Running"] or e["ExitCode"] is not None:
            raise ApiError(409, f"Exec {exec_id} has already been started")
        svc = self.d.containers
        doc = svc.get(e["ContainerID"])
        if not doc["State"]["Running"]:
            raise ApiError(409, f"Container {doc['Id']} is not running")
        body = body or {}
        detach = bool(body.get("Detach"))
        tty = bool(body.get("Tty")) or e["ProcessConfig"]["tty"]
        e["ProcessConfig"]["tty"] = tty
        try:
            proc = await asyncio.to_thread(self.process_for, e, doc)
        except Exception as ex:
            raise ApiError(400 if "unable to find" in str(ex) else 500, str(ex)) from None
        size = body.get("ConsoleSize") or None
        self.done[exec_id] = asyncio.get_running_loop().create_future()
        e["Running"] = True
        if detach:
            try:
                e["Pid"] = await svc.shim.exec(doc["Id"], exec_id, proc, tty=tty, stdin=False,
                                              console_size=tuple(size) if size else None)
            except Exception as ex:
                e["Running"] = False
                e["ExitCode"] = 126
                raise ApiError(500, str(ex)) from None
            svc.emit(doc, f"exec_start: {' '.join(proc['args'])}", {"execID": exec_id})
            return
        from .logs import frame
        from .streams import pump
        # like dockerd: hijack first; a failure to start is written into the stream and the exec's
        # exit code (126, or 127 for a missing command) is what the client reads from /exec/{id}/json
        conn = await req.hijack("application/vnd.docker.raw-stream" if tty
                                else "application/vnd.docker.multiplexed-stream")
        try:
            pid, reader, writer = await svc.shim.exec_attach(
                doc["Id"], exec_id, proc, tty=tty, stdin=e["OpenStdin"], stdout=e["OpenStdout"],
                stderr=e["OpenStderr"], console_size=tuple(size) if size else None)
        except Exception as ex:
            msg = f"OCI runtime exec failed: {ex}: unknown"
            e["Running"] = False
            e["ExitCode"] = 127 if ("executable file not found" in msg or "no such file" in msg) else 126
            fut = self.done.get(exec_id)
            if fut is not None and not fut.done():
                fut.set_result(e["ExitCode"])
            data = (msg + "\r\n").encode()
            try:
                await conn.write(data if tty else frame("stdout", data))
            finally:
                await conn.close()
            return
        e["Pid"] = pid
        svc.emit(doc, f"exec_start: {' '.join(proc['args'])}", {"execID": exec_id})
        await pump(conn, reader, writer, stdin=e["OpenStdin"], detach_keys=e["DetachKeys"])
        # the output ended: the process has exited; its code arrives through the shim's events
        try:
            await asyncio.wait_for(asyncio.shield(self.done[exec_id]), 5)
        except asyncio.TimeoutError:
            pass

    def on_exit(self, ev: dict) -> None:
        e = self.execs.get(ev.get("exec_id") or "")
        if e is None:
            return
        e["Running"] = False
        e["ExitCode"] = int(ev.get("exit_code", 255))
        e["Pid"] = 0
        fut = self.done.get(e["ID"])
        if fut is not None and not fut.done():
            fut.set_result(e["ExitCode"])
        doc = self.d.db.get("containers", e["ContainerID"])
        if doc is not None:
            self.d.containers.emit(doc, "exec_die", {"execID": e["ID"], "exitCode": str(e["ExitCode"])})

    async def resize(self, exec_id: str, h: int, w: int) -> None:
        e = self.get(exec_id)
        if not e["Running"]:
            raise ApiError(409, f"Exec {exec_id} is not running")
        await self.d.containers.shim.resize(exec_id=exec_id, height=h, width=w)

    def forget_container(self, cid: str) -> None:
        for exec_id in [k for k, v in self.execs.items() if v["ContainerID"] == cid]:
            self.execs.pop(exec_id, None)
            self.done.pop(exec_id, None)
