"""``n``/``last`` pagination of tag and repository lists, with an RFC 5988 ``Link`` to the next page."""
from __future__ import annotations

from urllib.parse import urlencode

from ..errors import RegistryError

MAX_PAGE = 10000


def page(items: list[str], req, path: str, default_n: int | None = None) -> tuple[list[str], list]:
    """The page of the sorted ``items`` the request asks for, and the response headers."""
    raw, last = req.q("n"), req.q("last")
    if raw is not None:
        if not raw.isdigit():
            raise RegistryError("UNSUPPORTED", f"invalid page size n={raw[:40]!r}: expected an integer",
                                status=400)
        n = int(raw)
    else:
        n = default_n
    if last:
        items = [i for i in items if i > last]
    if n == 0:
        return [], []
    limit = MAX_PAGE if n is None else min(n, MAX_PAGE)
    out = items[:limit]
    headers = []
    if len(items) > limit and out:
        query = urlencode({"n": limit, "last": out[-1]})
        headers.append(("Link", f'<{path}?{query}>; rel="next"'))
    return out, headers
