"""dockyard commit: a new image from a container's changes."""
from __future__ import annotations

from ..errors import CLIError
from ..reference import RefError, parse

USAGE = "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]"
SHORT = "Create a new image from a container's changes"
ARGS = (1, 2)


def flags(fs):
    fs.string("author", "a", help='Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
    fs.list("change", "c", help="Apply Dockerfile instruction to the created image")
    fs.string("message", "m", help="Commit message")
    fs.add("pause", "p", "bool", True, help="Pause container during commit")


def main(app, opts, args):
    q: list = [("container", args[0])]
    if len(args) > 1:
        try:
            ref = parse(args[1])
        except RefError as e:
            raise CLIError(str(e)) from None
        if ref.digest:
            raise CLIError("refusing to create a tag with a digest reference")
        q.append(("repo", ref.familiar_name()))
        if ref.tag:
            q.append(("tag", ref.tag))
    q += [("comment", opts.message), ("author", opts.author), ("pause", "1" if opts.pause else "0")]
    q += [("changes", c) for c in opts.change]
    resp = app.api.post("/commit", q, json_body={}) or {}
    app.out(resp.get("Id", ""))
    return 0
