"""HEALTHCHECK and --health-*: periodic checks run as execs, results in State.Health."""
from __future__ import annotations

import asyncio
import logging
import os

from . import record

log = logging.getLogger("dockyard.health")

DEFAULT_INTERVAL = 30.0
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
MAX_LOG = 5
MAX_OUTPUT = 4096


def _seconds(ns, default: float) -> float:
    return ns / 1e9 if ns else default


def test_argv(test: list[str]) -> list[str] | None:
    """["CMD", a, b] -> [a, b]; ["CMD-SHELL", s] -> sh -c s; ["NONE"] or empty -> None."""
    if not test or test[0] == "NONE":
        return None
    if test[0] == "CMD":
        return list(test[1:]) or None
    if test[0] == "CMD-SHELL":
        return ["/bin/sh", "-c", " ".join(test[1:])]
    return list(test)


class HealthMonitor:
    def __init__(self, daemon):
        self.d = daemon
        self.tasks: dict[str, asyncio.Task] = {}

    def start(self, cid: str) -> None:
        if cid not in self.tasks:
            self.tasks[cid] = asyncio.create_task(self._run(cid))

    def stop(self, cid: str) -> None:
        t = self.tasks.pop(cid, None)
        if t:
            t.cancel()

    def stop_all(self) -> None:
        for cid in list(self.tasks):
            self.stop(cid)

    async def _run(self, cid: str) -> None:
        svc = self.d.containers
        started = asyncio.get_running_loop().time()
        try:
            while True:
                doc = svc.db.get("containers", cid)
                if doc is None or not doc["State"]["Running"]:
                    return
                hc = doc["Config"].get("Healthcheck") or {}
                argv = test_argv(hc.get("Test") or [])
                if argv is None:
                    return
                interval = _seconds(hc.get("Interval"), DEFAULT_INTERVAL)
                start_period = _seconds(hc.get("StartPeriod"), 0.0)
                in_start = asyncio.get_running_loop().time() - started < start_period
                if in_start and hc.get("StartInterval"):
                    interval = _seconds(hc.get("StartInterval"), interval)
                await asyncio.sleep(interval)
                code, output, t0, t1 = await self._check(doc, argv, _seconds(hc.get("Timeout"), DEFAULT_TIMEOUT))
                await self._record(cid, code, output, t0, t1, hc, in_start)
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("health check of %s", cid[:12])
        finally:
            self.tasks.pop(cid, None)

    async def _check(self, doc: dict, argv: list[str], timeout: float):
        from .execs import ExecService
        svc = self.d.containers
        t0 = record.now_rfc3339()
        exec_id = os.urandom(32).hex()
        e = {"ProcessConfig": {"tty": False, "entrypoint": argv[0], "arguments": argv[1:], "privileged": False,
                               "user": ""}, "_env": [], "_cwd": ""}
        try:
            proc = await asyncio.to_thread(ExecService.process_for, self.d.execs, e, doc)
            _pid, reader, writer = await svc.shim.exec_attach(doc["Id"], exec_id, proc, stdout=True, stderr=True)
        except Exception as ex:
            return -1, f"health check could not start: {ex}", t0, record.now_rfc3339()
        out = bytearray()

        async def collect():
            while True:
                head = await reader.readexactly(8)
                n = int.from_bytes(head[4:8], "big")
                data = await reader.readexactly(n)
                if len(out) < MAX_OUTPUT:
                    out.extend(data[:MAX_OUTPUT - len(out)])
        try:
            await asyncio.wait_for(collect(), timeout)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except asyncio.TimeoutError:
            writer.close()
            return -1, f"Health check exceeded timeout ({timeout:g}s)", t0, record.now_rfc3339()
        writer.close()
        try:
            res = await asyncio.wait_for(svc.shim.wait(exec_id=exec_id), timeout)
            code = int(res.get("exit_code", -1))
        except Exception:
            code = -1
        return code, out.decode(errors="replace"), t0, record.now_rfc3339()

    async def _record(self, cid: str, code: int, output: str, t0: str, t1: str, hc: dict, in_start: bool) -> None:
        svc = self.d.containers
        async with svc.lock(cid):
            doc = svc.db.get("containers", cid)
            if doc is None or not doc["State"]["Running"]:
                return
            h = doc["State"].setdefault("Health", {"Status": "starting", "FailingStreak": 0, "Log": []})
            old = h["Status"]
            h["Log"] = (h.get("Log") or [])[-(MAX_LOG - 1):] + [
                {"Start": t0, "End": t1, "ExitCode": code, "Output": output}]
            retries = hc.get("Retries") or DEFAULT_RETRIES
            if code == 0:
                h["Status"], h["FailingStreak"] = "healthy", 0
            elif not in_start:
                h["FailingStreak"] = h.get("FailingStreak", 0) + 1
                if h["FailingStreak"] >= retries:
                    h["Status"] = "unhealthy"
            svc.save(doc)
        if h["Status"] != old:
            svc.emit(doc, f"health_status: {h['Status']}")
