"""``--change`` instructions of ``docker import`` / ``docker commit`` (a Dockerfile subset).

Supported: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER,
VOLUME, WORKDIR, HEALTHCHECK. Words follow Dockerfile quoting ('single',
"double" with $VAR expansion, backslash escapes); JSON arrays select exec form.
"""
from __future__ import annotations

import json
import posixpath
import re

from .errors import InvalidArgument

VALID = ("CMD", "ENTRYPOINT", "ENV", "EXPOSE", "HEALTHCHECK", "LABEL", "ONBUILD", "STOPSIGNAL", "USER",
         "VOLUME", "WORKDIR")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _expand_var(s: str, i: int, env: dict[str, str]) -> tuple[str, int]:
    """Expand the variable at s[i] == '$'; returns (text, next index)."""
    if i + 1 < len(s) and s[i + 1] == "{":
        end = s.find("}", i + 2)
        if end < 0:
            raise InvalidArgument(f"missing '}}' in {s!r}")
        body = s[i + 2:end]
        m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)(?::([-+])(.*))?", body, re.S)
        if not m:
            raise InvalidArgument(f"bad substitution ${{{body}}}")
        name, op, word = m.groups()
        val = env.get(name)
        if op == "-":
            val = val if val else word
        elif op == "+":
            val = word if val else ""
        return val or "", end + 1
    m = _NAME.match(s, i + 1)
    if not m:
        return "$", i + 1
    return env.get(m.group(0), ""), m.end()


def words(s: str, env: dict[str, str] | None = None) -> list[str]:
    """Split like Dockerfile's shell lexer (quotes removed, variables expanded)."""
    env = env or {}
    out: list[str] = []
    cur: list[str] = []
    have = False
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c in " \t\n":
            if have:
                out.append("".join(cur))
                cur, have = [], False
            i += 1
        elif c == "'":
            end = s.find("'", i + 1)
            if end < 0:
                raise InvalidArgument(f"unexpected end of statement while looking for matching single-quote in {s!r}")
            cur.append(s[i + 1:end])
            have, i = True, end + 1
        elif c == '"':
            i += 1
            have = True
            while True:
                if i >= n:
                    raise InvalidArgument(f"unexpected end of statement while looking for matching double-quote in {s!r}")
                ch = s[i]
                if ch == '"':
                    i += 1
                    break
                if ch == "\\" and i + 1 < n and s[i + 1] in '"\\$':
                    cur.append(s[i + 1])
                    i += 2
                elif ch == "$":
                    text, i = _expand_var(s, i, env)
                    cur.append(text)
                else:
                    cur.append(ch)
                    i += 1
        elif c == "\\":
            if i + 1 < n:
                cur.append(s[i + 1])
                i += 2
            else:
                i += 1
            have = True
        elif c == "$":
            text, i = _expand_var(s, i, env)
            cur.append(text)
            have = True
        else:
            cur.append(c)
            have = True
            i += 1
    if have:
        out.append("".join(cur))
    return out


def _json_array(rest: str) -> list[str] | None:
    if not rest.startswith("["):
        return None
    try:
        v = json.loads(rest)
    except ValueError:
        return None
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return v
    return None


def _command(rest: str, shell: list[str]) -> list[str]:
    arr = _json_array(rest)
    return arr if arr is not None else shell + [rest]


def _pairs(instr: str, rest: str, env: dict[str, str], legacy_ok: bool) -> list[tuple[str, str]]:
    ws = words(rest, env)
    if not ws:
        raise InvalidArgument(f"{instr} requires at least one argument")
    if "=" not in ws[0]:
        if not legacy_ok:
            raise InvalidArgument(f"{instr} names can not be blank; expected key=value")
        parts = rest.strip().split(None, 1)
        if len(parts) < 2:
            raise InvalidArgument(f"{instr} must have two arguments")
        return [(parts[0], " ".join(words(parts[1], env)))]
    out = []
    for w in ws:
        k, sep, v = w.partition("=")
        if not sep or not k:
            raise InvalidArgument(f"{instr}: expected key=value, got {w!r}")
        out.append((k, v))
    return out


_DURATION = re.compile(r"(\d+(?:\.\d*)?)(ns|us|ms|s|m|h)")
_NS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}


def _duration_ns(s: str) -> int:
    if not re.fullmatch(r"(?:\d+(?:\.\d*)?(?:ns|us|ms|s|m|h))+", s):
        raise InvalidArgument(f"invalid duration {s!r}")
    return int(sum(float(n) * _NS[u] for n, u in _DURATION.findall(s)))


def _healthcheck(rest: str) -> dict:
    opts: dict = {}
    parts = rest.strip().split()
    while parts and parts[0].startswith("--"):
        k, _, v = parts.pop(0)[2:].partition("=")
        key = {"interval": "Interval", "timeout": "Timeout", "start-period": "StartPeriod",
               "start-interval": "StartInterval", "retries": "Retries"}.get(k)
        if key is None:
            raise InvalidArgument(f"HEALTHCHECK: unknown flag --{k}")
        if key == "Retries":
            if not v.isdigit():
                raise InvalidArgument(f"HEALTHCHECK: --retries must be a number, got {v!r}")
            opts[key] = int(v)
        else:
            opts[key] = _duration_ns(v)
    rest = " ".join(parts) if parts else ""
    if not rest:
        raise InvalidArgument("HEALTHCHECK requires NONE or CMD")
    kind, _, cmd = rest.partition(" ")
    if kind.upper() == "NONE":
        if cmd.strip() or opts:
            raise InvalidArgument("HEALTHCHECK NONE takes no arguments")
        return {"Test": ["NONE"]}
    if kind.upper() != "CMD" or not cmd.strip():
        raise InvalidArgument("HEALTHCHECK requires NONE or CMD <command>")
    arr = _json_array(cmd.strip())
    test = ["CMD"] + arr if arr is not None else ["CMD-SHELL", cmd.strip()]
    return {"Test": test, **opts}


def apply(config: dict | None, changes: list[str]) -> dict:
    """A copy of a container config (``Cmd``, ``Env``, ...) with ``changes`` applied."""
    cfg = json.loads(json.dumps(config or {}))
    cmd_set = False
    for line in changes:
        line = line.strip()
        if not line:
            continue
        instr, _, rest = line.partition(" ") if " " in line else line.partition("\t")
        instr_u = instr.upper()
        rest = rest.strip()
        if instr_u not in VALID:
            raise InvalidArgument(f"{instr.lower()} is not a valid change command")
        env = dict(e.split("=", 1) for e in cfg.get("Env") or [] if "=" in e)
        if instr_u == "CMD":
            cfg["Cmd"] = _command(rest, ["/bin/sh", "-c"])
            cmd_set = True
        elif instr_u == "ENTRYPOINT":
            cfg["Entrypoint"] = _command(rest, ["/bin/sh", "-c"]) if rest else None
            if not cmd_set:  # as in a Dockerfile: ENTRYPOINT resets a CMD it did not follow
                cfg["Cmd"] = None
        elif instr_u == "ENV":
            envl = list(cfg.get("Env") or [])
            for k, v in _pairs("ENV", rest, env, legacy_ok=True):
                envl = [e for e in envl if e.split("=", 1)[0] != k] + [f"{k}={v}"]
                env[k] = v
            cfg["Env"] = envl
        elif instr_u == "LABEL":
            labels = dict(cfg.get("Labels") or {})
            for k, v in _pairs("LABEL", rest, env, legacy_ok=True):
                labels[k] = v
            cfg["Labels"] = labels
        elif instr_u == "EXPOSE":
            ports = dict(cfg.get("ExposedPorts") or {})
            for w in words(rest, env):
                port, _, proto = w.partition("/")
                proto = (proto or "tcp").lower()
                if proto not in ("tcp", "udp", "sctp"):
                    raise InvalidArgument(f"EXPOSE: invalid protocol {proto!r}")
                m = re.fullmatch(r"(\d+)(?:-(\d+))?", port)
                if not m:
                    raise InvalidArgument(f"EXPOSE: invalid port {w!r}")
                lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
                if not 0 < lo <= hi <= 65535:
                    raise InvalidArgument(f"EXPOSE: invalid port range {w!r}")
                for p in range(lo, hi + 1):
                    ports[f"{p}/{proto}"] = {}
            cfg["ExposedPorts"] = ports
        elif instr_u == "USER":
            ws = words(rest, env)
            if len(ws) != 1:
                raise InvalidArgument("USER requires exactly one argument")
            cfg["User"] = ws[0]
        elif instr_u == "WORKDIR":
            ws = words(rest, env)
            if len(ws) != 1:
                raise InvalidArgument("WORKDIR requires exactly one argument")
            cfg["WorkingDir"] = posixpath.normpath(posixpath.join("/", cfg.get("WorkingDir") or "/", ws[0]))
        elif instr_u == "VOLUME":
            arr = _json_array(rest)
            vols = dict(cfg.get("Volumes") or {})
            for v in (arr if arr is not None else words(rest, env)):
                if not v.strip():
                    raise InvalidArgument("VOLUME specified can not be an empty string")
                vols[v] = {}
            cfg["Volumes"] = vols
        elif instr_u == "STOPSIGNAL":
            ws = words(rest, env)
            if len(ws) != 1:
                raise InvalidArgument("STOPSIGNAL requires exactly one argument")
            cfg["StopSignal"] = ws[0]
        elif instr_u == "ONBUILD":
            if not rest:
                raise InvalidArgument("ONBUILD requires at least one argument")
            cfg["OnBuild"] = list(cfg.get("OnBuild") or []) + [rest]
        elif instr_u == "HEALTHCHECK":
            cfg["Healthcheck"] = _healthcheck(rest)
    return cfg
