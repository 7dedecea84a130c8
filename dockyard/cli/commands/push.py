"""dockyard push: upload an image to a registry."""
from __future__ import annotations

import sys

from .. import auth, jsonmessage, term
from ..api import quote
from .pull import target_ref

USAGE = "[OPTIONS] NAME[:TAG]"
SHORT = "Upload an image to a registry"
ARGS = (1, 1)


def flags(fs):
    fs.bool("all-tags", "a", help="Push all tags of an image to the repository")
    fs.bool("disable-content-trust", None, help="Skip image signing (default true)")
    fs.string("platform", None, help="Push a platform-specific manifest as a single-platform image")
    fs.bool("quiet", "q", help="Suppress verbose output")


def main(app, opts, args):
    ref = target_ref(app, opts, args[0])
    query = {"tag": ref.tag} if ref.tag and not opts.all_tags else None
    if opts.platform:
        query = dict(query or {}, platform=opts.platform)
    registry = auth.INDEX_SERVER if ref.domain == "docker.io" else ref.domain
    headers = {"X-Registry-Auth": auth.header_for(app.config_dir, registry)}
    name = quote(ref.familiar_name(), safe="/:")
    resp = app.api.request("POST", f"/images/{name}/push", query, body=b"", headers=headers)
    sys.stdout.flush()
    try:
        if opts.quiet:
            jsonmessage.display_stream(resp.iter_lines(), _Null(), False)
            app.out(ref.full())
            return 0
        tty = term.is_tty(1)
        width = (term.get_size(1) or (0, 200))[1] if tty else 200
        jsonmessage.display_stream(resp.iter_lines(), sys.stdout, tty, width)
    finally:
        resp.close()
    return 0


class _Null:
    def write(self, s):
        pass

    def flush(self):
        pass
