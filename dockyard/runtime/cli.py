"""dockyard-runtime: an OCI runtime with runc's command line."""
from __future__ import annotations

import argparse
import importlib
import sys

from .commands import VERBS
from .errors import RuntimeFailure
from .log import Log
from .state import DEFAULT_ROOT

VERSION = "0.1.0"


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise RuntimeFailure(message)


class Context:
    def __init__(self, args):
        self.args = args
        self.log = Log(args.log, args.log_format, args.debug)
        self._runtime = None

    @property
    def runtime(self):
        if self._runtime is None:
            from .container import Runtime
            self._runtime = Runtime(self.args.root, self.log)
        return self._runtime


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="dockyard-runtime", description="Dockyard's OCI runtime (runc-compatible command line)")
    p.add_argument("--root", default=DEFAULT_ROOT)
    p.add_argument("--log", default=None)
    p.add_argument("--log-format", dest="log_format", default="text", choices=["text", "json"])
    p.add_argument("--debug", action="store_true")
    p.add_argument("--systemd-cgroup", dest="systemd_cgroup", action="store_true")
    p.add_argument("--rootless", default="auto")
    p.add_argument("--criu", default="criu")
    p.add_argument("--version", "-v", action="version",
                   version=f"dockyard-runtime version {VERSION}\nspec: 1.2.0")
    sub = p.add_subparsers(dest="verb", parser_class=_Parser)
    return p, sub


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser, sub = build_parser()
    # only the named verb's module is imported: keeps start-up short
    verb = next((a for a in argv if not a.startswith("-") and (a in VERBS or a == "ls")), None)
    verb = "list" if verb == "ls" else verb
    modules = {}
    for name in ([verb] if verb else VERBS):
        modules[name] = importlib.import_module(f".commands.{name}", __package__)
        modules[name].add(sub)
    log = None
    try:
        args = parser.parse_args(argv)
        if not args.verb:
            parser.print_help()
            return 0
        ctx = Context(args)
        log = ctx.log
        return modules["list" if args.verb == "ls" else args.verb].run(ctx, args) or 0
    except RuntimeFailure as e:
        msg = str(e)
    except OSError as e:
        msg = f"{e.strerror or e}" + (f": {e.filename}" if e.filename else "")
    except KeyboardInterrupt:
        return 130
    if log is not None:
        log.error(msg)
    print(f"dockyard-runtime: {msg}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())

