"""Docker's JSON progress messages (pkg/jsonmessage) as dockerd writes them.

A message is a dict with any of ``stream``, ``status``, ``progressDetail``, ``id``, ``aux``,
``errorDetail``, ``error``; ``encode`` writes its fields in Go's struct order, adds the
``progress`` bar text dockerd derives from ``progressDetail`` (its terminal width is 200
columns when it has none), escapes like Go's encoding/json and ends the line with "\\r\\n",
as dockerd's streamformatter does.
"""
from __future__ import annotations

from dockyard.images import gojson

NEWLINE = b"\r\n"
_ORDER = ("stream", "status", "progressDetail", "progress", "id", "from", "time", "timeNano",
          "errorDetail", "error", "aux")
_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")


def human_size(size: float) -> str:
    """go-units HumanSize: decimal units, 4 significant digits (``36.41kB``, ``1.123MB``, ``512B``)."""
    i = 0
    while size >= 1000 and i < len(_UNITS) - 1:
        size /= 1000.0
        i += 1
    return "%.4g%s" % (size, _UNITS[i])


def progress_bar(current: int, total: int | None) -> str:
    """JSONProgress.String() at 200 columns (no time-left box: dockerd sends no start time)."""
    total = total or 0
    if current <= 0 and total <= 0:
        return ""
    if total <= 0:
        return "%8s" % human_size(current)
    pct = min(int(current / total * 100) // 2, 50)
    bar = "[" + "=" * pct + ">" + " " * max(50 - pct, 0) + "] "
    if current > total:
        return bar + "%8s" % human_size(current)
    return bar + "%8s/%s" % (human_size(current), human_size(total))


def normalize(msg: dict) -> dict:
    """The message with Go's field order and the ``progress`` text filled in."""
    m = dict(msg)
    detail = m.get("progressDetail")
    if detail and "progress" not in m and "current" in detail:
        text = progress_bar(int(detail.get("current") or 0), detail.get("total"))
        if text:
            m["progress"] = text
    out = {k: m[k] for k in _ORDER if k in m and m[k] is not None}
    out.update((k, v) for k, v in m.items() if k not in out and v is not None)
    return out


def encode(msg: dict) -> bytes:
    return gojson.dumps(normalize(msg)) + NEWLINE


def status(text: str, id: str | None = None) -> dict:
    return {"status": text, "id": id} if id else {"status": text}


def stream(text: str) -> dict:
    return {"stream": text}


def error(message: str, code: int | None = None) -> dict:
    """The message that ends a stream with an error (``docker`` prints ``message`` and exits 1)."""
    detail = {"code": code, "message": message} if code else {"message": message}
    return {"errorDetail": detail, "error": message}


def aux(obj: dict) -> dict:
    return {"progressDetail": {}, "aux": obj}
