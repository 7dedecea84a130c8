"""The image config a build step produces: Docker's ``config`` section in Go's field order, the
change each metadata instruction makes, and history entries.

Nothing of the build host goes in (no hostname, container ID or daemon version); timestamps are
``SOURCE_DATE_EPOCH`` when it is set, so the same Dockerfile and context give the same image.
"""
from __future__ import annotations

import json
import posixpath
import signal
import time

from .errors import BuildError

DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_SHELL = ("/bin/sh", "-c")

# container.Config's fields in Go's order; ``None`` marks omitempty ones left out when empty.
_FIELDS = (
    ("Hostname", ""), ("Domainname", ""), ("User", ""), ("AttachStdin", False), ("AttachStdout", False),
    ("AttachStderr", False), ("ExposedPorts", None), ("Tty", False), ("OpenStdin", False), ("StdinOnce", False),
    ("Env", []), ("Cmd", []), ("Healthcheck", None), ("ArgsEscaped", None), ("Image", ""), ("Volumes", {}),
    ("WorkingDir", ""), ("Entrypoint", []), ("NetworkDisabled", None), ("MacAddress", None), ("OnBuild", []),
    ("Labels", {}), ("StopSignal", None), ("StopTimeout", None), ("Shell", None),
)
_NULL_WHEN_EMPTY = {"Env", "Cmd", "Volumes", "Entrypoint", "OnBuild", "Labels"}


def normalize(cfg: dict | None) -> dict:
    """A run config with every field in Go's order (empty lists/maps as null, omitempty ones dropped)."""
    cfg = dict(cfg or {})
    out: dict = {}
    for name, default in _FIELDS:
        value = cfg.pop(name, default)
        if default is None:
            if value not in (None, "", [], {}, False, 0):
                out[name] = value
            continue
        if name in _NULL_WHEN_EMPTY:
            out[name] = value if value not in (None, [], {}) else None
        else:
            out[name] = value if value is not None else default
    out.update((k, v) for k, v in cfg.items() if v is not None)
    return out


def rfc3339(secs: int | None) -> str:
    """``secs`` (or now, with nanoseconds) as Go prints a time."""
    if secs is None:
        t = time.time_ns()
        frac = f"{t % 10**9:09d}".rstrip("0")
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t // 10**9)) + (f".{frac}" if frac else "") + "Z"
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(secs))


# -- the changes of metadata instructions ------------------------------------------------------------

def set_env(cfg: dict, pairs: list[tuple[str, str]]) -> None:
    env = list(cfg.get("Env") or [])
    index = {e.split("=", 1)[0]: i for i, e in enumerate(env)}
    for k, v in pairs:
        item = f"{k}={v}"
        if k in index:
            env[index[k]] = item
        else:
            index[k] = len(env)
            env.append(item)
    cfg["Env"] = env


def set_labels(cfg: dict, pairs: list[tuple[str, str]]) -> None:
    labels = dict(cfg.get("Labels") or {})
    labels.update(pairs)
    cfg["Labels"] = labels


def _port(spec: str) -> list[str]:
    proto = "tcp"
    port = spec
    if "/" in spec:
        port, proto = spec.split("/", 1)
        proto = proto.lower()
    if proto not in ("tcp", "udp", "sctp"):
        raise BuildError(f"invalid proto: {proto}")
    lo, sep, hi = port.partition("-")
    if not lo.isdigit() or (sep and not hi.isdigit()):
        raise BuildError(f"invalid containerPort: {port}")
    a, b = int(lo), int(hi) if sep else int(lo)
    if not 0 < a <= 65535 or not 0 < b <= 65535 or b < a:
        raise BuildError(f"invalid containerPort: {port}")
    return [f"{p}/{proto}" for p in range(a, b + 1)]


def expose(cfg: dict, ports: list[str]) -> list[str]:
    """Add the EXPOSEd ports; returns them as ``80/tcp``."""
    added = [p for spec in ports for p in _port(spec)]
    exposed = dict(cfg.get("ExposedPorts") or {})
    for p in added:
        exposed[p] = {}
    cfg["ExposedPorts"] = exposed
    return added


def add_volumes(cfg: dict, volumes: list[str]) -> None:
    vols = dict(cfg.get("Volumes") or {})
    for v in volumes:
        if not v.strip():
            raise BuildError("VOLUME specified can not be an empty string")
        vols[v] = {}
    cfg["Volumes"] = vols


def workdir(current: str, path: str) -> str:
    """WORKDIR: relative to the one before, cleaned."""
    if not path.startswith("/"):
        path = posixpath.join(current or "/", path)
    return posixpath.normpath(path).replace("//", "/")


def stop_signal(name: str) -> str:
    """Validate a STOPSIGNAL (``SIGTERM``, ``TERM``, ``15``, ``SIGRTMIN+3``)."""
    text = name.strip()
    if text.isdigit():
        if 0 < int(text) < 65:
            return name
        raise BuildError(f"Invalid signal: {name}")
    sig = text.upper()
    if not sig.startswith("SIG"):
        sig = "SIG" + sig
    if sig in signal.Signals.__members__:
        return name
    for base in ("SIGRTMIN+", "SIGRTMAX-"):
        if sig.startswith(base) and sig[len(base):].isdigit() and int(sig[len(base):]) <= 15:
            return name
    raise BuildError(f"Invalid signal: {name}")


def healthcheck(ins) -> dict:
    """Docker's HealthConfig for a HEALTHCHECK instruction (durations in nanoseconds)."""
    hc: dict = {"Test": list(ins.test)}
    for key, value in (("Interval", ins.interval), ("Timeout", ins.timeout), ("StartPeriod", ins.start_period),
                       ("StartInterval", ins.start_interval), ("Retries", ins.retries)):
        if value:
            hc[key] = value
    return hc


# -- history ------------------------------------------------------------------------------------------

def go_list(items) -> str:
    """A string slice as Go's %q prints it: ["a" "b"]."""
    return "[" + " ".join(json.dumps(x, ensure_ascii=False) for x in items) + "]"


def nop(shell, comment: str) -> str:
    """created_by of a step that changes only the config: ``/bin/sh -c #(nop)  ENV A=1``."""
    return " ".join(list(shell or DEFAULT_SHELL) + ["#(nop) ", comment])


def history_entry(created: str, created_by: str, empty_layer: bool, comment: str = "") -> dict:
    entry = {"created": created, "created_by": created_by}
    if comment:
        entry["comment"] = comment
    if empty_layer:
        entry["empty_layer"] = True
    return entry
