"""Docker's JSON message streams (pull, push, load, import): plain lines when the output is not
a terminal; per-layer lines updated in place (ANSI cursor moves) when it is."""
from __future__ import annotations

import json
import time

from .errors import CLIError
from .units import format_go_duration, human_size


class StreamError(CLIError):
    """An ``error`` message in the stream; docker exits 1 with its text."""


def progress_string(p: dict, width: int = 200) -> str:
    """JSONProgress.String: "[=====>     ]  36.41kB/1.123MB"."""
    current = int(p.get("current") or 0)
    total = int(p.get("total") or 0)
    units_ = p.get("units") or ""
    if current <= 0 and total <= 0:
        return ""
    if total <= 0:
        return f"{human_size(current):>8}" if not units_ else f"{current} {units_}"
    pct = int(current / total * 100) // 2
    pct = min(pct, 50)
    bar = ""
    if width > 110:
        bar = "[" + "=" * pct + ">" + " " * max(50 - pct, 0) + "] "
    if p.get("hidecounts"):
        nums = ""
    elif not units_:
        cur, tot = human_size(current), human_size(total)
        nums = f"{cur:>8}/{tot}" if current <= total else f"{cur:>8}"
    else:
        nums = f"{current}/{total} {units_}" if current <= total else f"{current} {units_}"
    left = ""
    start = int(p.get("start") or 0)
    if current > 0 and start > 0 and pct < 50:
        elapsed = max(time.time() - start, 0.0)
        remaining = int((total - current) * (elapsed / current))
        if width > 50:
            left = " " + format_go_duration(float(remaining))
    return bar + nums + left


def _display(msg: dict, out, tty: bool, width: int) -> None:
    err = msg.get("errorDetail") or ({"message": msg["error"]} if msg.get("error") else None)
    if err:
        if err.get("code") == 401:
            raise StreamError("authentication is required")
        raise StreamError(err.get("message") or msg.get("error") or "unknown error")
    detail = msg.get("progressDetail")
    endl = ""
    stream = msg.get("stream") or ""
    if tty and not stream and detail is not None:
        out.write("\x1b[2K\r")
        endl = "\r"
    elif detail is not None and progress_string(detail, width):
        return
    ts = msg.get("timeNano") or 0
    if ts:
        out.write(_rfc3339(ts / 1e9) + " ")
    elif msg.get("time"):
        out.write(_rfc3339(float(msg["time"])) + " ")
    if msg.get("id"):
        out.write(f"{msg['id']}: ")
    if msg.get("from"):
        out.write(f"(from {msg['from']}) ")
    status = msg.get("status") or ""
    if detail is not None and tty:
        out.write(f"{status} {progress_string(detail, width)}{endl}")
    elif msg.get("progress"):
        out.write(f"{status} {msg['progress']}{endl}")
    elif stream:
        out.write(f"{stream}{endl}")
    else:
        out.write(f"{status}{endl}\n")


def _rfc3339(t: float) -> str:
    whole = int(t)
    frac = f"{t - whole:.9f}"[2:]
    return time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(whole)) + frac + "Z"


def display_stream(lines, out, tty: bool, width: int = 200, aux=None) -> None:
    """Render every message of ``lines`` (an iterable of JSON byte strings) to ``out``."""
    ids: dict[str, int] = {}
    for raw in lines:
        try:
            msg = json.loads(raw)
        except ValueError:
            raise CLIError(f"invalid character in the daemon's message stream: {raw[:80]!r}") from None
        if not isinstance(msg, dict):
            continue
        if msg.get("aux") is not None:
            if aux is not None:
                aux(msg["aux"])
            continue
        diff = 0
        mid = msg.get("id") or ""
        if mid and (msg.get("progressDetail") is not None or msg.get("progress")):
            line = ids.get(mid)
            if line is None:
                line = len(ids)
                ids[mid] = line
                if tty:
                    out.write("\n")
            diff = len(ids) - line
            if tty and diff:
                out.write(f"\x1b[{diff}A")
        else:
            ids = {}
        try:
            _display(msg, out, tty, width)
        finally:
            if mid and tty and diff:
                out.write(f"\x1b[{diff}B")
            out.flush()
