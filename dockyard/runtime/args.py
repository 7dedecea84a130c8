"""A small command-line parser with runc's (urfave/cli) rules, instead of argparse.

argparse and the ``re`` module it pulls in cost ~7 ms of every runtime call; the runtime is
benchmarked against runc, so its command line is parsed by this instead. Rules: flags come
before positional arguments (``--flag value``, ``--flag=value``, ``-f value``, single-dash long
names as Go accepts them, ``--bool`` or ``--bool=true``); the first positional argument ends the
flags; a command with ``rest`` collects everything after its positionals unparsed.
"""
from __future__ import annotations

from .errors import RuntimeFailure


class Namespace:
    def __init__(self, **kw):
        self.__dict__.update(kw)

    def __repr__(self):
        return f"Namespace({self.__dict__})"


class Command:
    """Flags are declared as ``names -> (dest, kind, default)`` with kind bool|str|int|list."""

    def __init__(self, name: str, help: str = "", positionals=(), optional=(), rest: str | None = None):
        self.name, self.help = name, help
        self.positionals, self.optional, self.rest = list(positionals), dict(optional), rest
        self.flags: dict[str, tuple[str, str]] = {}
        self.defaults: dict[str, object] = {}

    def flag(self, *names: str, dest: str | None = None, kind: str = "str", default=None):
        dest = dest or names[0].lstrip("-").replace("-", "_")
        for n in names:
            self.flags[n.lstrip("-")] = (dest, kind)
        self.defaults[dest] = [] if kind == "list" else (False if kind == "bool" and default is None else default)
        return self

    def usage(self) -> str:
        pos = " ".join(f"<{p}>" for p in self.positionals)
        opt = " ".join(f"[{p}]" for p in self.optional)
        return f"dockyard-runtime {self.name} [options] {pos} {opt}".rstrip() + (" ..." if self.rest else "")

    def parse(self, argv: list[str]) -> Namespace:
        ns = Namespace(**{k: (list(v) if isinstance(v, list) else v) for k, v in self.defaults.items()})
        i, args = 0, []
        while i < len(argv):
            a = argv[i]
            if a == "--":
                args.extend(argv[i + 1:])
                break
            if a.startswith("-") and len(a) > 1 and not args:
                name, eq, value = a.lstrip("-").partition("=")
                if name not in self.flags:
                    raise RuntimeFailure(f"flag provided but not defined: -{name}")
                dest, kind = self.flags[name]
                if kind == "bool":
                    if eq and value.lower() not in ("true", "false", "1", "0"):
                        raise RuntimeFailure(f"invalid boolean value {value!r} for -{name}")
                    setattr(ns, dest, (value.lower() in ("true", "1")) if eq else True)
                else:
                    if not eq:
                        i += 1
                        if i >= len(argv):
                            raise RuntimeFailure(f"flag needs an argument: -{name}")
                        value = argv[i]
                    if kind == "int":
                        try:
                            value = int(value)
                        except ValueError:
                            raise RuntimeFailure(f"invalid value {value!r} for flag -{name}: not a number") from None
                    if kind == "list":
                        getattr(ns, dest).append(value)
                    else:
                        setattr(ns, dest, value)
                i += 1
                continue
            args.append(a)
            if self.rest is not None and len(args) == len(self.positionals):
                args.extend(argv[i + 1:])
                break
            i += 1
        n = len(self.positionals)
        if len(args) < n:
            missing = self.positionals[len(args)]
            raise RuntimeFailure(f"{self.name}: missing argument <{missing}>; usage: {self.usage()}")
        for name, value in zip(self.positionals, args):
            setattr(ns, name, value)
        extra = args[n:]
        for name, default in self.optional.items():
            setattr(ns, name, extra.pop(0) if extra else default)
        if self.rest is not None:
            setattr(ns, self.rest, extra)
        elif extra:
            raise RuntimeFailure(f"{self.name}: unexpected arguments {' '.join(extra)}; usage: {self.usage()}")
        return ns
