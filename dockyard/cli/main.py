"""``dockyard``: the Docker-compatible command-line client.

Only the standard library is imported, and only what the chosen verb needs: the verb's
module is loaded by name from ``dockyard.cli.commands``.
"""
from __future__ import annotations

import sys

from . import registry
from .errors import PROG, CLIError, FlagError, StatusError
from .flags import FlagSet, HelpRequested


def global_flags() -> FlagSet:
    fs = FlagSet(interspersed=False)
    fs.add("config", None, "string", help="Location of client config files", metavar="string")
    fs.add("context", "c", "string", help='Name of the context to use to connect to the daemon')
    fs.add("debug", "D", "bool", help="Enable debug mode")
    fs.add("host", "H", "list", help="Daemon socket to connect to")
    fs.add("log-level", "l", "string", "info", help='Set the logging level ("debug", "info", "warn", "error", "fatal")')
    fs.add("tls", None, "bool", help="Use TLS; implied by --tlsverify")
    fs.add("tlscacert", None, "string", help="Trust certs signed only by this CA")
    fs.add("tlscert", None, "string", help="Path to TLS certificate file")
    fs.add("tlskey", None, "string", help="Path to TLS key file")
    fs.add("tlsverify", None, "bool", help="Use TLS and verify the remote")
    fs.add("version", "v", "bool", help="Print version information and quit")
    return fs


def root_help() -> str:
    lines = [f"Usage:  {PROG} [OPTIONS] COMMAND", "", "A self-sufficient runtime for containers", "",
             "Common Commands:"]
    for name in registry.COMMON:
        if name in registry.COMMANDS:
            lines.append(f"  {name:<11} {registry.COMMANDS[name][1]}")
    lines += ["", "Management Commands:"]
    for name, (desc, _) in registry.MANAGEMENT.items():
        lines.append(f"  {name:<11} {desc}")
    lines += ["", "Commands:"]
    for name, (_, desc) in sorted(registry.COMMANDS.items()):
        if name not in registry.COMMON:
            lines.append(f"  {name:<11} {desc}")
    lines += ["", "Global Options:", global_flags().help_text(), "",
              f"Run '{PROG} COMMAND --help' for more information on a command."]
    return "\n".join(lines)


def group_help(group: str) -> str:
    desc, table = registry.MANAGEMENT[group]
    lines = [f"Usage:  {PROG} {group} COMMAND", "", desc, "", "Commands:"]
    for sub in registry.MANAGEMENT_LISTED[group]:
        mod = _load(table[sub])
        lines.append(f"  {sub:<11} {mod.SHORT}")
    lines += ["", f"Run '{PROG} {group} COMMAND --help' for more information on a command."]
    return "\n".join(lines)


def _load(name: str):
    import importlib
    return importlib.import_module(f"dockyard.cli.commands.{name}")


def usage_line(path: str, mod) -> str:
    return f"{PROG} {path} {mod.USAGE}".rstrip()


def command_help(path: str, mod, fs: FlagSet) -> str:
    lines = [f"Usage:  {usage_line(path, mod)}", "", mod.SHORT]
    aliases = getattr(mod, "ALIASES", None)
    if aliases:
        lines += ["", "Aliases:", "  " + ", ".join(f"{PROG} {a}" for a in aliases)]
    opts = fs.help_text()
    if opts:
        lines += ["", "Options:", opts]
    return "\n".join(lines) + "\n"


def _check_args(path: str, mod, args: list[str]) -> None:
    """Docker's cobra argument checks, with its exact wording ("See" only for "at least")."""
    lo, hi = getattr(mod, "ARGS", (0, None))
    cmd = f"{PROG} {path}"
    tail = f"\n\nUsage:  {usage_line(path, mod)}\n\n"

    def noun(n: int) -> str:
        return "argument" if n == 1 else "arguments"

    if hi == 0:
        if args:
            raise CLIError(f"{PROG}: '{cmd}' accepts no arguments{tail}Run '{cmd} --help' for more information")
    elif lo == hi:
        if len(args) != lo:
            raise CLIError(f"{PROG}: '{cmd}' requires {lo} {noun(lo)}{tail}Run '{cmd} --help' for more information")
    elif hi is not None and lo > 0:
        if not lo <= len(args) <= hi:
            raise CLIError(f"{PROG}: '{cmd}' requires at least {lo} and at most {hi} {noun(hi)}{tail}"
                           f"Run '{cmd} --help' for more information")
    elif hi is not None:
        if len(args) > hi:
            raise CLIError(f"{PROG}: '{cmd}' requires at most {hi} {noun(hi)}{tail}Run '{cmd} --help' for more information")
    elif len(args) < lo:
        raise CLIError(f"{PROG}: '{cmd}' requires at least {lo} {noun(lo)}{tail}See '{cmd} --help' for more information")


def run(argv: list[str]) -> int:
    gfs = global_flags()
    try:
        gopts, rest = gfs.parse(argv)
    except HelpRequested:
        sys.stdout.write(root_help() + "\n")
        return 0
    except FlagError as e:
        sys.stderr.write(f"{e.message}\n\nUsage:  {PROG} [OPTIONS] COMMAND\n\nRun '{PROG} --help' for more information\n")
        return 125
    if gopts.version:
        from .api import CLIENT_VERSION
        sys.stdout.write(f"{PROG} version {CLIENT_VERSION}\n")
        return 0
    if gopts.context and gopts.context != "default":
        sys.stderr.write(f"context \"{gopts.context}\" does not exist\n")
        return 1
    if not rest:
        sys.stdout.write(root_help() + "\n")
        return 0
    name = rest[0]
    if name == "registry":  # Dockyard's own registry server: its own flags, loaded only for this verb
        from ..registry.server.main import main as registry_main
        return registry_main(rest[1:])
    if name == "help":
        sys.stdout.write(root_help() + "\n")
        return 0
    if name in registry.MANAGEMENT:
        if len(rest) == 1 or rest[1] in ("-h", "--help"):
            sys.stderr.write(group_help(name) + "\n") if len(rest) == 1 else sys.stdout.write(group_help(name) + "\n")
            return 0
        sub = rest[1]
        modname = registry.module_for([name, sub])
        if modname is None:
            sys.stderr.write(f"{PROG}: unknown command: {PROG} {name} {sub}\n\nUsage:  {PROG} {name}\n\n"
                             f"Run '{PROG} {name} --help' for more information\n")
            return 1
        path, args = f"{name} {sub}", rest[2:]
    else:
        modname = registry.module_for([name])
        if modname is None:
            sys.stderr.write(f"{PROG}: unknown command: {PROG} {name}\n\nRun '{PROG} --help' for more information\n")
            return 1
        path, args = name, rest[1:]
    mod = _load(modname)
    fs = FlagSet(interspersed=getattr(mod, "INTERSPERSED", True))
    mod.flags(fs)
    try:
        opts, args = fs.parse(args)
    except HelpRequested:
        sys.stdout.write(command_help(path, mod, fs))
        return 0
    except FlagError as e:
        sys.stderr.write(f"{e.message}\n\nUsage:  {usage_line(path, mod)}\n\n"
                         f"Run '{PROG} {path} --help' for more information\n")
        return 125
    from .app import App
    app = App(gopts, path)
    try:
        _check_args(path, mod, args)
        rc = mod.main(app, opts, args)
        sys.stdout.flush()
        return rc or 0
    except StatusError as e:
        if e.message:
            app.err(e.message)
        return e.status
    except CLIError as e:
        app.err(e.message)
        return e.status
    except (ConnectionResetError, ConnectionAbortedError) as e:  # the daemon went away mid-call
        app.err(f"error during connect: {e.strerror or e}")
        return 1


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    try:
        rc = run(argv)
    except KeyboardInterrupt:
        rc = 130
    except BrokenPipeError:
        import os
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        rc = 0
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    sys.exit(rc)


if __name__ == "__main__":
    main()
