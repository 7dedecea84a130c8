"""Command-line flags with docker's (pflag's) syntax and error messages.

``-it`` clusters short booleans, ``-eA=1`` / ``-e A=1`` / ``-e=A=1`` give a short flag its
value, ``--name=x`` / ``--name x`` a long one, repeated list flags accumulate, ``--``
ends the flags. Commands like ``run`` stop at the first positional (``interspersed=False``)
so the container's own arguments are left alone.
"""
from __future__ import annotations

from .errors import FlagError

_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def parse_bool(s: str) -> bool:
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ValueError(f'strconv.ParseBool: parsing "{s}": invalid syntax')


def parse_int(s: str) -> int:
    t = s.replace("_", "") if "_" in s and s[:2].lower() in ("0x", "0o", "0b") else s
    try:
        return int(t, 0)
    except ValueError:
        try:  # Go's base-0 parsing accepts leading zeros as octal, Python rejects them
            if t.lstrip("+-").startswith("0") and t.lstrip("+-").isdigit():
                return int(t, 8)
        except ValueError:
            pass
        raise ValueError(f'strconv.ParseInt: parsing "{s}": invalid syntax') from None


def parse_uint(s: str) -> int:
    v = parse_int(s) if not s.startswith("-") else None
    if v is None:
        raise ValueError(f'strconv.ParseUint: parsing "{s}": invalid syntax')
    return v


def parse_float(s: str) -> float:
    try:
        return float(s)
    except ValueError:
        raise ValueError(f'strconv.ParseFloat: parsing "{s}": invalid syntax') from None


def _bytes(s: str) -> int:
    from .units import ram_in_bytes
    return ram_in_bytes(s)


def _duration(s: str) -> float:
    from .units import parse_go_duration
    return parse_go_duration(s)


def _nanocpus(s: str) -> int:
    from .opts.resources import parse_nanocpus
    return parse_nanocpus(s)


CONVERTERS = {
    "bool": parse_bool, "string": str, "int": parse_int, "uint": parse_uint, "float": parse_float,
    "bytes": _bytes, "duration": _duration, "nanocpus": _nanocpus, "list": str,
}

TYPE_NAMES = {"bool": "", "string": "string", "int": "int", "uint": "uint", "float": "float", "bytes": "bytes",
              "duration": "duration", "nanocpus": "decimal", "list": "list"}


class Flag:
    __slots__ = ("name", "short", "kind", "default", "help", "hidden", "metavar", "dest", "conv")

    def __init__(self, name, short, kind, default, help, hidden, metavar, conv=None):
        self.name, self.short, self.kind, self.default = name, short, kind, default
        self.help, self.hidden, self.metavar, self.conv = help, hidden, metavar, conv
        self.dest = name.replace("-", "_")

    def display(self) -> str:
        return f"-{self.short}, --{self.name}" if self.short else f"--{self.name}"


class Options:
    """Parsed flag values as attributes (``--pids-limit`` → ``pids_limit``); ``changed`` lists set flags."""

    def __init__(self):
        self.changed: set[str] = set()

    def is_set(self, name: str) -> bool:
        return name in self.changed

    def __repr__(self) -> str:
        return "Options(" + ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k != "changed") + ")"


class HelpRequested(Exception):
    pass


class FlagSet:
    def __init__(self, interspersed: bool = True):
        self.interspersed = interspersed
        self.flags: list[Flag] = []
        self.long: dict[str, Flag] = {}
        self.short: dict[str, Flag] = {}
        self.add("help", "h", "bool", help="Print usage", hidden=True)

    def add(self, name: str, short: str | None = None, kind: str = "bool", default=None, help: str = "",
            hidden: bool = False, metavar: str | None = None, conv=None) -> Flag:
        """``conv`` validates/converts each value (raising ValueError with docker's message)."""
        if default is None:
            default = {"bool": False, "list": [], "int": 0, "uint": 0, "float": 0.0, "bytes": 0,
                       "duration": 0.0, "nanocpus": 0}.get(kind, "")
        f = Flag(name, short, kind, default, help, hidden, metavar, conv)
        self.flags.append(f)
        self.long[name] = f
        if short:
            self.short[short] = f
        return f

    # shorthands for readability in command modules
    def bool(self, name, short=None, help="", **kw):
        return self.add(name, short, "bool", help=help, **kw)

    def string(self, name, short=None, default="", help="", **kw):
        return self.add(name, short, "string", default, help, **kw)

    def int(self, name, short=None, default=0, help="", **kw):
        return self.add(name, short, "int", default, help, **kw)

    def list(self, name, short=None, help="", **kw):
        return self.add(name, short, "list", [], help, **kw)

    def alias(self, name: str, target: str) -> None:
        """Another long name for a flag (``--net`` for ``--network``), hidden from help."""
        self.long[name] = self.long[target]

    def parse(self, args: list[str]) -> tuple[Options, list[str]]:
        opts = Options()
        for f in self.flags:
            setattr(opts, f.dest, list(f.default) if f.kind == "list" else f.default)
        positionals: list[str] = []
        args = list(args)
        i = 0
        while i < len(args):
            s = args[i]
            i += 1
            if len(s) < 2 or s[0] != "-":
                if not self.interspersed:
                    positionals.append(s)
                    positionals.extend(args[i:])
                    break
                positionals.append(s)
                continue
            if s == "--":
                positionals.extend(args[i:])
                break
            if s[1] == "-":
                name, eq, value = s[2:].partition("=")
                f = self.long.get(name)
                if f is None or not name:
                    raise FlagError(f"unknown flag: --{name}")
                if eq:
                    self._set(opts, f, value)
                elif f.kind == "bool":
                    self._set(opts, f, "true")
                elif i < len(args):
                    self._set(opts, f, args[i])
                    i += 1
                else:
                    raise FlagError(f"flag needs an argument: --{name}")
                continue
            shorts = s[1:]
            while shorts:
                c = shorts[0]
                f = self.short.get(c)
                if f is None:
                    raise FlagError(f"unknown shorthand flag: '{c}' in {s}")
                if len(shorts) > 2 and shorts[1] == "=":
                    self._set(opts, f, shorts[2:])
                    shorts = ""
                elif f.kind == "bool":
                    self._set(opts, f, "true")
                    shorts = shorts[1:]
                elif len(shorts) > 1:
                    self._set(opts, f, shorts[1:])
                    shorts = ""
                elif i < len(args):
                    self._set(opts, f, args[i])
                    i += 1
                    shorts = ""
                else:
                    raise FlagError(f"flag needs an argument: '{c}' in -{c}")
        if getattr(opts, "help", False):
            raise HelpRequested()
        return opts, positionals

    def _set(self, opts: Options, f: Flag, value: str) -> None:
        try:
            v = (f.conv or CONVERTERS[f.kind])(value)
        except ValueError as e:
            raise FlagError(f'invalid argument "{value}" for "{f.display()}" flag: {e}') from None
        if f.kind == "list":
            getattr(opts, f.dest).append(v)
        else:
            setattr(opts, f.dest, v)
        opts.changed.add(f.name)

    def help_text(self) -> str:
        rows = []
        for f in self.flags:
            if f.hidden:
                continue
            left = (f"  -{f.short}, " if f.short else "      ") + f"--{f.name}"
            t = f.metavar or TYPE_NAMES.get(f.kind, "")
            if t:
                left += " " + t
            default = ""
            if f.kind in ("string", "int", "duration") and f.default not in ("", 0, 0.0):
                default = f' (default "{f.default}")' if f.kind == "string" else f" (default {f.default})"
            rows.append((left, f.help + default))
        width = max((len(r[0]) for r in rows), default=0) + 3
        return "\n".join(f"{l.ljust(width)}{h}" for l, h in rows)
