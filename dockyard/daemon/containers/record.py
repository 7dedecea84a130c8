"""The Docker-shaped container record: what `inspect` returns, kept in the daemon's database.

The stored document is the ContainerInspectResponse itself (plus a few private keys under
``_dy``), so inspect is a copy and list/ps is a projection of it.
"""
from __future__ import annotations

import time

from ...util.humanize import human_duration

SHORT = 12


def now_rfc3339() -> str:
    t = time.time_ns()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t // 1_000_000_000)) + f".{t % 1_000_000_000:09d}Z"


ZERO_TIME = "0001-01-01T00:00:00Z"


def initial_state() -> dict:
    return {"Status": "created", "Running": False, "Paused": False, "Restarting": False, "OOMKilled": False,
            "Dead": False, "Pid": 0, "ExitCode": 0, "Error": "", "StartedAt": ZERO_TIME, "FinishedAt": ZERO_TIME}


def merge_config(body: dict, image_cfg: dict) -> dict:
    """Config as inspect shows it: the request's values, with the image's where the request left them out."""
    cfg = {k: body.get(k) for k in (
        "Hostname", "Domainname", "User", "AttachStdin", "AttachStdout", "AttachStderr", "ExposedPorts", "Tty",
        "OpenStdin", "StdinOnce", "Env", "Cmd", "Healthcheck", "ArgsEscaped", "Image", "Volumes", "WorkingDir",
        "Entrypoint", "NetworkDisabled", "MacAddress", "OnBuild", "Labels", "StopSignal", "StopTimeout", "Shell")}
    for k in ("Hostname", "Domainname", "User", "WorkingDir"):
        cfg[k] = cfg[k] or ""
    for k in ("AttachStdin", "AttachStdout", "AttachStderr", "Tty", "OpenStdin", "StdinOnce"):
        cfg[k] = bool(cfg[k])
    env = list(image_cfg.get("Env") or [])
    keys = {e.split("=", 1)[0]: i for i, e in enumerate(env)}
    for e in body.get("Env") or []:
        k = e.split("=", 1)[0]
        if k in keys:
            env[keys[k]] = e
        else:
            keys[k] = len(env)
            env.append(e)
    cfg["Env"] = env
    if body.get("Entrypoint") is None:
        cfg["Entrypoint"] = image_cfg.get("Entrypoint")
        if body.get("Cmd") is None:
            cfg["Cmd"] = image_cfg.get("Cmd")
    labels = dict(image_cfg.get("Labels") or {})
    labels.update(body.get("Labels") or {})
    cfg["Labels"] = labels
    if not cfg["User"]:
        cfg["User"] = image_cfg.get("User") or ""
    if not cfg["WorkingDir"]:
        cfg["WorkingDir"] = image_cfg.get("WorkingDir") or ""
    vols = dict(image_cfg.get("Volumes") or {})
    vols.update(body.get("Volumes") or {})
    cfg["Volumes"] = vols or None
    ports = dict(image_cfg.get("ExposedPorts") or {})
    ports.update(body.get("ExposedPorts") or {})
    cfg["ExposedPorts"] = ports or None
    if cfg["Healthcheck"] is None and image_cfg.get("Healthcheck"):
        cfg["Healthcheck"] = image_cfg["Healthcheck"]
    if not cfg["StopSignal"] and image_cfg.get("StopSignal"):
        cfg["StopSignal"] = image_cfg["StopSignal"]
    if cfg["OnBuild"] is None:
        cfg["OnBuild"] = image_cfg.get("OnBuild")
    for k in [k for k, v in cfg.items() if v is None and k in ("StopTimeout", "Shell", "MacAddress",
                                                                  "NetworkDisabled", "ArgsEscaped", "Healthcheck")]:
        del cfg[k]
    return cfg


def command_of(cfg: dict) -> tuple[str, list[str]]:
    argv = list(cfg.get("Entrypoint") or []) + list(cfg.get("Cmd") or [])
    return (argv[0], argv[1:]) if argv else ("", [])


def _quote(a: str) -> str:
    return a if a and all(c.isalnum() or c in "-_./=:,@%+" for c in a) else '"' + a.replace('"', '\\"') + '"'


def summary(doc: dict, size: dict | None = None) -> dict:
    """A ContainerSummary (GET /containers/json) from the record."""
    st = doc["State"]
    path, args = doc["Path"], doc["Args"]
    cmd = " ".join([path] + [_quote(a) for a in args]) if path else ""
    out = {
        "Id": doc["Id"], "Names": [doc["Name"]], "Image": doc["Config"].get("Image") or doc["Image"],
        "ImageID": doc["Image"], "Command": cmd, "Created": parse_created(doc["Created"]),
        "Ports": ports_of(doc), "Labels": doc["Config"].get("Labels") or {}, "State": st["Status"],
        "Status": human_status(st), "HostConfig": {"NetworkMode": doc["HostConfig"].get("NetworkMode") or "default"},
        "NetworkSettings": {"Networks": doc["NetworkSettings"].get("Networks") or {}},
        "Mounts": doc.get("Mounts") or [],
    }
    if size is not None:
        out.update(size)
    return out


def ports_of(doc: dict) -> list[dict]:
    out = []
    for port, binds in (doc["NetworkSettings"].get("Ports") or {}).items():
        num, _, proto = port.partition("/")
        if not binds:
            out.append({"PrivatePort": int(num), "Type": proto or "tcp"})
        for b in binds or []:
            out.append({"IP": b.get("HostIp") or "0.0.0.0", "PrivatePort": int(num),
                        "PublicPort": int(b.get("HostPort") or 0), "Type": proto or "tcp"})
    return out


def parse_created(s: str) -> int:
    from .logs import parse_time
    return parse_time(s) // 1_000_000_000


def human_status(st: dict) -> str:
    from .logs import parse_time
    now = time.time()
    status = st["Status"]
    if status in ("running", "paused", "restarting"):
        if status == "restarting":
            return f"Restarting ({st['ExitCode']}) {human_duration(now - parse_time(st['FinishedAt']) / 1e9)} ago"
        up = f"Up {human_duration(now - parse_time(st['StartedAt']) / 1e9)}"
        health = (st.get("Health") or {}).get("Status")
        if health and health != "none":
            up += f" ({'health: starting' if health == 'starting' else health})"
        return up + (" (Paused)" if status == "paused" else "")
    if status == "removing":
        return "Removal In Progress"
    if status == "dead":
        return "Dead"
    if status == "created":
        return "Created"
    if st["FinishedAt"] == ZERO_TIME:
        return ""
    return f"Exited ({st['ExitCode']}) {human_duration(now - parse_time(st['FinishedAt']) / 1e9)} ago"
