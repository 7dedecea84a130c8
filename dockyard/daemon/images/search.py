"""``docker search``: the registry's v1 search endpoint, as dockerd queries it.

The term's first component names the index when it looks like a host (``127.0.0.1:5000/foo``),
else Docker Hub's index (``index.docker.io``). Results are filtered by ``is-official``,
``is-automated`` and ``stars`` and cut to ``limit`` (1..100, default 25). An unreachable index
is an error naming the URL, as dockerd reports it.
"""
from __future__ import annotations

import json
import urllib.parse

from dockyard.images.errors import InvalidArgument
from dockyard.images.filters import normalize
from dockyard.registry import errors as regerrors
from dockyard.registry.client import RegistryClient, is_insecure

INDEX_HOST = "index.docker.io"
DEFAULT_LIMIT = 25
MAX_RESULTS_BODY = 8 << 20
FILTER_KEYS = ("is-automated", "is-official", "stars")


def split_term(term: str) -> tuple[str, str]:
    """(index host, remote term)."""
    first, sep, rest = term.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return INDEX_HOST, term


def _bool_filter(f: dict, key: str) -> bool | None:
    vals = f.get(key)
    if not vals:
        return None
    v = vals[-1].lower()
    if v in ("true", "1"):
        return True
    if v in ("false", "0"):
        return False
    raise InvalidArgument(f"invalid filter '{key}={vals[-1]}'")


def search(term: str, limit: int | None = None, filters: dict | None = None, insecure=None,
           timeout: float = 15.0) -> list[dict]:
    if not term:
        raise InvalidArgument("search: a term is required")
    limit = DEFAULT_LIMIT if limit in (None, 0) else limit
    if not 1 <= limit <= 100:
        raise InvalidArgument(f"Limit {limit} is outside the range of [1, 100]")
    f = normalize(filters, FILTER_KEYS)
    official, automated = _bool_filter(f, "is-official"), _bool_filter(f, "is-automated")
    stars = 0
    for v in f.get("stars", []):
        if not v.isdigit():
            raise InvalidArgument(f"invalid filter 'stars={v}'")
        stars = max(stars, int(v))
    host, remote = split_term(term)
    client = RegistryClient(host, insecure=insecure, timeout=timeout)
    insecure_host = host != INDEX_HOST and is_insecure(host, client.insecure_list)
    schemes = ["https", "http"] if insecure_host else ["https"]
    query = urllib.parse.urlencode({"q": remote, "n": limit})
    last = None
    for scheme in schemes:
        url = f"{scheme}://{host}/v1/search?{query}"
        try:
            with client.send("GET", url, verify=not insecure_host) as resp:
                if resp.status != 200:
                    resp.raise_for_status((200,))
                body = resp.read_all(MAX_RESULTS_BODY)
            break
        except regerrors.ConnectionFailed as e:
            last = e
    else:
        raise last
    try:
        doc = json.loads(body)
        results = doc["results"]
        if not isinstance(results, list):
            raise TypeError
    except (ValueError, KeyError, TypeError, RecursionError):
        raise regerrors.ProtocolError(f"search on {host}: the answer is not a search result") from None
    out = []
    for r in results:
        if not isinstance(r, dict):
            continue
        item = {"star_count": int(r.get("star_count") or 0), "is_official": bool(r.get("is_official")),
                "name": str(r.get("name") or ""), "is_automated": bool(r.get("is_automated")),
                "description": str(r.get("description") or "")}
        if official is not None and item["is_official"] != official:
            continue
        if automated is not None and item["is_automated"] != automated:
            continue
        if item["star_count"] < stars:
            continue
        out.append(item)
    return out[:limit]
