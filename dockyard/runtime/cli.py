"""dockyard-runtime: an OCI runtime with runc's command line."""
from __future__ import annotations

import importlib
import os
import sys

from .args import Command
from .commands import VERBS
from .errors import RuntimeFailure
from .log import Log
from .state import DEFAULT_ROOT

VERSION = "0.1.0"


class Context:
    def __init__(self, g):
        self.globals = g
        self.log = Log(g.log, g.log_format, g.debug)
        self._runtime = None

    @property
    def runtime(self):
        if self._runtime is None:
            from .container import Runtime
            self._runtime = Runtime(self.globals.root, self.log)
        return self._runtime


def global_command() -> Command:
    c = Command("dockyard-runtime", "Dockyard's OCI runtime (runc-compatible command line)",
                optional={"verb": None}, rest="argv")
    c.flag("--root", default=DEFAULT_ROOT)
    c.flag("--log", default=None)
    c.flag("--log-format", dest="log_format", default="text")
    c.flag("--debug", kind="bool")
    c.flag("--systemd-cgroup", dest="systemd_cgroup", kind="bool")
    c.flag("--rootless", default="auto")
    c.flag("--criu", default="criu")
    c.flag("--version", "-v", dest="version", kind="bool")
    c.flag("--help", "-h", dest="help", kind="bool")
    return c


def usage() -> str:
    lines = ["usage: dockyard-runtime [--root DIR] [--log FILE] [--log-format text|json] [--debug] COMMAND [options]",
             "", "commands:"]
    for v in VERBS:
        lines.append(f"  {v}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    log = None
    try:
        g = global_command().parse(argv)
        if g.version:
            print(f"dockyard-runtime version {VERSION}\nspec: 1.2.0")
            return 0
        if g.help or not g.verb:
            print(usage())
            return 0
        if g.log_format not in ("text", "json"):
            raise RuntimeFailure(f"invalid log-format {g.log_format!r}: use text or json")
        verb = "list" if g.verb == "ls" else g.verb
        if verb not in VERBS:
            raise RuntimeFailure(f"no such command: {g.verb}")
        ctx = Context(g)
        log = ctx.log
        module = importlib.import_module(f".commands.{verb}", __package__)
        cmd = module.command()
        if "-h" in g.argv[:1] or "--help" in g.argv[:1]:
            print(cmd.usage())
            return 0
        return module.run(ctx, cmd.parse(g.argv)) or 0
    except RuntimeFailure as e:
        msg = str(e)
    except OSError as e:
        msg = f"{e.strerror or e}" + (f": {e.filename}" if e.filename else "")
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # spec, cgroup, seccomp and capability errors carry their own one-line message
        known = type(e).__name__ in ("SpecError", "CgroupError", "SeccompError", "CapabilityError", "JSONError")
        msg = str(e) if known else f"{type(e).__name__}: {e}"
        if log is not None and log.min <= 10:
            import traceback
            log.debug(traceback.format_exc())
    if log is not None:
        log.error(msg)
    print(f"dockyard-runtime: {msg}", file=sys.stderr)
    return 1


def entry() -> None:
    """Console-script entry: skip the interpreter's teardown (it costs milliseconds per call)."""
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        pass
    os._exit(code)


if __name__ == "__main__":
    entry()
