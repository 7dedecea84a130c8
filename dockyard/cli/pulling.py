"""``POST /images/create`` with docker's progress display (used by pull, run and create)."""
from __future__ import annotations

import sys

from . import auth, jsonmessage, term
from .reference import Ref


def pull(app, ref: Ref, platform: str = "", out=None, quiet: bool = False) -> None:
    """Pull ``ref`` (tag or digest), rendering the progress stream to ``out`` (stderr for run)."""
    out = out or sys.stdout
    query = {"fromImage": ref.familiar_name(), "tag": ref.api_tag()}
    if platform:
        query["platform"] = platform
    registry = auth.INDEX_SERVER if ref.domain == "docker.io" else ref.domain
    headers = {"X-Registry-Auth": auth.header_for(app.config_dir, registry)}
    resp = app.api.request("POST", "/images/create", query, body=b"", headers=headers)
    try:
        if quiet:
            for line in resp.iter_lines():
                jsonmessage.display_stream([line], _Null(), False)
            return
        fd = out.fileno() if hasattr(out, "fileno") else -1
        tty = fd >= 0 and term.is_tty(fd)
        width = (term.get_size(fd) or (0, 200))[1] if tty else 200
        jsonmessage.display_stream(resp.iter_lines(), out, tty, width)
    finally:
        resp.close()


class _Null:
    def write(self, s):
        pass

    def flush(self):
        pass
