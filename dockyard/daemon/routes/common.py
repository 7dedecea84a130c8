"""Helpers every route module uses."""
from __future__ import annotations

import json

from ..http import ApiError


def parse_filters(req) -> dict[str, list[str]]:
    """The ``filters`` query parameter: JSON, in the list form or docker's older map form
    (``{"label": {"a=b": true}}``), normalized to ``{key: [values]}``."""
    raw = req.q("filters")
    if not raw:
        return {}
    try:
        f = json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError(400, f"invalid filter: {raw!r} is not JSON") from None
    if not isinstance(f, dict):
        raise ApiError(400, "invalid filter: must be a JSON object")
    out = {}
    for k, v in f.items():
        if isinstance(v, dict):
            out[k] = [x for x, on in v.items() if on]
        elif isinstance(v, list):
            out[k] = [str(x) for x in v]
        elif isinstance(v, str):
            out[k] = [v]
        else:
            raise ApiError(400, f"invalid filter {k!r}")
    return out
