"""dockyard pull: download an image from a registry."""
from __future__ import annotations

import sys

from .. import pulling
from ..errors import CLIError
from ..reference import RefError, parse

USAGE = "[OPTIONS] NAME[:TAG|@DIGEST]"
SHORT = "Download an image from a registry"
ARGS = (1, 1)


def flags(fs):
    fs.bool("all-tags", "a", help="Download all tagged images in the repository")
    fs.bool("disable-content-trust", None, help="Skip image verification (default true)")
    fs.string("platform", None, help="Set platform if server is multi-platform capable")
    fs.bool("quiet", "q", help="Suppress verbose output")


def target_ref(app, opts, text: str):
    """The reference pull and push work on, with docker's --all-tags and default-tag rules."""
    try:
        ref = parse(text)
    except RefError as e:
        raise CLIError(str(e)) from None
    name_only = not ref.tag and not ref.digest
    if opts.all_tags and not name_only:
        raise CLIError("tag can't be used with --all-tags/-a")
    if not opts.all_tags and name_only:
        ref = ref.with_default_tag()
        if not opts.quiet:
            app.out(f"Using default tag: {ref.tag}")
    return ref


def main(app, opts, args):
    ref = target_ref(app, opts, args[0])
    sys.stdout.flush()
    pulling.pull(app, ref, opts.platform, out=sys.stdout, quiet=opts.quiet)
    app.out(ref.full())
    return 0
