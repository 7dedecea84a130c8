"""dockyard build: build an image from a Dockerfile (the daemon's classic builder, POST /build)."""
from __future__ import annotations

import json
import os
import sys

from .. import term
from ..errors import CLIError
from ..reference import RefError, parse

USAGE = "[OPTIONS] PATH | URL | -"
SHORT = "Build an image from a Dockerfile"
ARGS = (1, 1)
PROGRESS = ("auto", "plain", "tty")


def flags(fs):
    fs.list("add-host", None, help="Add a custom host-to-IP mapping (host:ip)")
    fs.list("build-arg", None, help="Set build-time variables")
    fs.list("cache-from", None, help="Images to consider as cache sources")
    fs.string("file", "f", help="Name of the Dockerfile (Default is 'PATH/Dockerfile')")
    fs.add("force-rm", None, "bool", help="Always remove intermediate containers")
    fs.string("iidfile", None, help="Write the image ID to the file")
    fs.list("label", None, help="Set metadata for an image")
    fs.string("network", None, "default", help="Set the networking mode for the RUN instructions during build")
    fs.add("no-cache", None, "bool", help="Do not use cache when building the image")
    fs.string("platform", None, help="Set platform if server is multi-platform capable")
    fs.string("progress", None, "auto", help="Set type of progress output (auto, plain, tty)")
    fs.add("pull", None, "bool", help="Always attempt to pull a newer version of the image")
    fs.add("quiet", "q", "bool", help="Suppress the build output and print image ID on success")
    fs.add("rm", None, "bool", True, help="Remove intermediate containers after a successful build")
    fs.list("tag", "t", help="Name and optionally a tag in the 'name:tag' format")
    fs.string("target", None, help="Set the target build stage to build.")


def _build_args(values: list[str], env) -> dict:
    out: dict = {}
    for v in values:
        k, eq, val = v.partition("=")
        if eq:
            out[k] = val
        else:
            out[k] = env.get(k)   # unset in the environment: sent as null (not given)
    return out


def _labels(values: list[str]) -> dict:
    out = {}
    for v in values:
        k, _, val = v.partition("=")
        out[k] = val
    return out


def _tags(values: list[str]) -> list[str]:
    for t in values:
        try:
            ref = parse(t)
        except RefError:
            raise CLIError(f'invalid argument "{t}" for "-t, --tag" flag: invalid reference format') from None
        if ref.digest:
            raise CLIError(f'invalid argument "{t}" for "-t, --tag" flag: invalid reference format')
    return values


def _context(app, opts, path: str):
    """(chunks of the context tar, the dockerfile name to send)."""
    from . import build_context as bc
    if path.startswith(("http://", "https://", "git://", "git@", "github.com/")):
        raise CLIError("unable to prepare context: remote build contexts are not supported; "
                       "pass a local directory or - (a tar or Dockerfile on stdin)")
    if path == "-":
        if opts.file == "-":
            raise CLIError("invalid argument: can't use stdin for both build context and dockerfile")
        head = sys.stdin.buffer.read(512)
        if bc.is_archive(head):
            return bc.stream_file(sys.stdin.buffer, head), opts.file or "Dockerfile"
        data = head + sys.stdin.buffer.read()
        return bc.stream_dockerfile_only(data), "Dockerfile"
    rel, outside = bc.dockerfile_in_context(path, opts.file or None)
    if opts.file == "-":
        outside = sys.stdin.buffer.read()
    if outside is not None:
        name = ".dockerfile." + os.urandom(10).hex()
        return bc.stream_dir(path, None, outside, name), name
    return bc.stream_dir(path, rel, None), rel


def main(app, opts, args):
    from . import build_context as bc
    from . import build_view as bv
    if opts.progress not in PROGRESS:
        raise CLIError(f'invalid argument "{opts.progress}" for "--progress" flag: use auto, plain or tty')
    tags = _tags(opts.tag)
    if opts.iidfile:
        try:
            os.remove(opts.iidfile)
        except FileNotFoundError:
            pass
        except OSError as e:
            raise CLIError(f"removing image ID file: {e.strerror}") from None
    build_args = _build_args(opts.build_arg, app.env)
    if "SOURCE_DATE_EPOCH" not in build_args and app.env.get("SOURCE_DATE_EPOCH"):
        build_args["SOURCE_DATE_EPOCH"] = app.env["SOURCE_DATE_EPOCH"]
    chunks, dockerfile = _context(app, opts, args[0])
    q: list = [("t", t) for t in tags]
    q += [("dockerfile", dockerfile), ("buildargs", json.dumps(build_args)),
          ("labels", json.dumps(_labels(opts.label))), ("networkmode", opts.network or "default"),
          ("rm", "1" if opts.rm else "0"), ("forcerm", "1" if opts.force_rm else "0"),
          ("cachefrom", json.dumps(opts.cache_from)), ("version", "1")]
    for flag, name in ((opts.no_cache, "nocache"), (opts.pull, "pull"), (opts.quiet, "q")):
        if flag:
            q.append((name, "1"))
    if opts.target:
        q.append(("target", opts.target))
    if opts.platform:
        q.append(("platform", opts.platform))
    q += [("extrahosts", h) for h in opts.add_host]
    counted = bc.Counted(iter(chunks))
    tty = opts.progress == "tty" or (opts.progress == "auto" and term.is_tty(1))
    resp = app.api.request("POST", "/build", q, body=counted,
                           headers={"Content-Type": "application/x-tar", "X-Registry-Config": "e30="})
    out = sys.stdout
    if opts.quiet:
        view = bv.PlainView(_Discard())
    elif tty:
        size = term.get_size(1)
        out.write(bv.sending(counted.total) + "\n")
        view = bv.TtyView(out, size[1] if size else 80)
    else:
        out.write(bv.sending(counted.total) + "\n")
        view = bv.PlainView(out)
    try:
        image_id = bv.parse(resp.iter_lines(), view)
    except bv.BuildFailed:
        if opts.quiet and isinstance(view.out, _Discard):
            sys.stderr.write(view.out.text())
        raise
    finally:
        resp.close()
    if opts.quiet and image_id:
        out.write(image_id + "\n")
    if opts.iidfile and image_id:
        try:
            with open(opts.iidfile, "w") as f:
                f.write(image_id)
        except OSError as e:
            raise CLIError(f"writing image ID file: {e.strerror}") from None
    return 0


class _Discard:
    """Quiet builds keep the output to show it only when the build fails."""

    def __init__(self):
        self.parts: list[str] = []

    def write(self, s: str) -> int:
        self.parts.append(s)
        return len(s)

    def flush(self) -> None:
        pass

    def text(self) -> str:
        return "".join(self.parts)
