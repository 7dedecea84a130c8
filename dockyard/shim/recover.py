"""Rebuilding the shim's view after it restarted (a crash, an upgrade; not a reboot: the exec
root is on tmpfs and goes away with everything else).

For each ``<exec-root>/shim/<id>/container.json``: with an ``exit.json`` the container is
stopped. Otherwise the runtime's ``state`` tells whether its init still runs; if it does, the
shim follows it through a pidfd -- it is no longer the shim's child, so its exit code will be
unknown (255, as Docker reports it) -- and reopens the output fifos to go on logging. The pty
master of a tty container and the stdin pipe die with the old shim: no attach stdin, no resize.
Execs are not rebuilt.
"""
from __future__ import annotations

import json
import logging

from . import records, runner, stdio
from .container import SPEC_FIELDS, Container
from .jsonlog import JsonFileLog
from .oom import oom_kill_count
from .process import Process
from .service import UNKNOWN_EXIT, Service

log = logging.getLogger("dockyard.shim")


def _spec(rec: dict) -> dict | None:
    spec = rec.get("spec")
    if not isinstance(spec, dict) or any(k not in spec for k in SPEC_FIELDS):
        return None
    spec = dict(spec)
    spec["runtime_args"] = tuple(spec["runtime_args"] or ())
    spec["console_size"] = tuple(spec["console_size"]) if spec["console_size"] else None
    return spec


async def recover(service: Service) -> None:
    for cid in records.list_ids(service.exec_root):
        try:
            await recover_one(service, cid)
        except Exception:
            log.exception("container %s: rebuilding its state", cid)


async def recover_one(service: Service, cid: str) -> None:
    d = records.container_dir(service.exec_root, cid)
    rec = records.read_json(f"{d}/{records.CONTAINER_FILE}")
    spec = _spec(rec) if rec else None
    if rec is None or rec.get("id") != cid or spec is None:
        log.warning("container %s: %s is damaged; skipped", cid, records.CONTAINER_FILE)
        return
    c = Container(cid, spec, d)
    c.started_at = str(rec.get("started_at") or "")
    p = Process(cid, None, c.tty)
    p.pid = int(rec.get("pid") or 0)
    p.recovered = True
    c.init = p
    service.containers[cid] = c

    exited = records.read_json(f"{d}/{records.EXIT_FILE}")
    if exited is not None:
        p.exit_code = exited.get("exit_code")
        p.oom_killed = bool(exited.get("oom_killed"))
        p.finished_at = str(exited.get("finished_at") or "")
        p.recovered = bool(exited.get("recovered"))
        c.status = "stopped"
        p.release()
        return

    res = await runner.run(service.reaper, c.runtime().argv("state", cid))
    status, pid = "stopped", 0
    if res.ok:
        try:
            st = json.loads(res.stdout)
            status, pid = st.get("status"), int(st.get("pid") or 0)
        except (ValueError, TypeError, AttributeError):
            log.warning("container %s: unreadable runtime state: %r", cid, res.stdout[:200])
    if status in ("created", "running", "paused") and pid > 0 and service.watch_pidfd(c, pid):
        p.pid = pid
        c.status = status
        outputs = []
        if not c.tty:
            if spec["log_path"]:
                try:
                    p.log = JsonFileLog(spec["log_path"], spec["log_max_size"], spec["log_max_files"])
                except OSError as e:
                    log.error("container %s: reopening log %s: %s", cid, spec["log_path"], e.strerror)
            for stream in ("stdout", "stderr"):
                fd = stdio.reopen_fifo(c.path(stream))
                if fd is not None:
                    outputs.append((fd, stream))
        p.start_output(outputs)
        log.info("container %s: %s again (pid %d)", cid, status, pid)
        return
    # it ended while no shim was watching
    p.exited(UNKNOWN_EXIT, oom_kill_count(spec["runtime_root"], cid) > 0)
    c.status = "stopped"
    c.save_exit()
    p.release()
    log.info("container %s: stopped while the shim was away", cid)
