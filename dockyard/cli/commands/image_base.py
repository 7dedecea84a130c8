"""dockyard image base busybox|debian: make a base image offline and load it into the daemon.

Docker Hub is out of reach on some machines (and in tests), so Dockyard builds its base images
itself: busybox from the host's busybox-static, Debian with debootstrap (--variant=minbase). The
image is built in a temporary local store, saved as a docker-archive and sent to POST /images/load,
like `docker load` does, so the daemon needs nothing special.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile

from .. import jsonmessage, term
from ..errors import CLIError

USAGE = "busybox|debian [OPTIONS]"
SHORT = "Make an offline base image (busybox from busybox-static, debian with debootstrap) and load it"
ARGS = (1, 1)


def flags(fs):
    fs.string("tag", "t", help="Name and tag of the image (default busybox:latest / debian:bookworm)")
    fs.string("suite", None, help="Debian suite for debootstrap (default bookworm)")
    fs.string("mirror", None, help="Debian mirror for debootstrap")


def main(app, opts, args):
    kind = args[0]
    if kind not in ("busybox", "debian"):
        raise CLIError(f"unknown base image {kind!r}: use busybox or debian")
    from ...images import archive, base
    from ...images.content import ContentStore
    from ...images.store import ImageStore

    work = tempfile.mkdtemp(prefix="dockyard-base-")
    try:
        store = ImageStore(os.path.join(work, "images"), content=ContentStore(os.path.join(work, "content")))
        try:
            if kind == "busybox":
                tag = opts.tag or "busybox:latest"
                base.make_busybox(store, tag=tag)
            else:
                tag = opts.tag or f"debian:{opts.suite or 'bookworm'}"
                base.make_debian(store, tag=tag, suite=opts.suite or "bookworm", mirror=opts.mirror or None)
            path = os.path.join(work, "image.tar")
            with open(path, "wb") as f:
                archive.save(store, [tag], f)
        except (OSError, ValueError, RuntimeError) as e:
            raise CLIError(f"making the {kind} image: {e}") from None
        finally:
            store.close()
        with open(path, "rb") as src:
            resp = app.api.request("POST", "/images/load", {"quiet": 1}, body=src,
                                   headers={"Content-Type": "application/x-tar"})
            try:
                jsonmessage.display_stream(resp.iter_lines(), sys.stdout, term.is_tty(1))
            finally:
                resp.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0
