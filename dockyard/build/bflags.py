"""Instruction flags (``COPY --from=build --chown=1:1``) checked against what each instruction accepts."""
from __future__ import annotations

from .errors import DockerfileError

BOOL, STRING, STRINGS = "bool", "string", "strings"


class Flag:
    """One declared flag; ``value`` for bool/string flags, ``values`` for repeatable ones."""

    __slots__ = ("name", "kind", "value", "values", "used")

    def __init__(self, name: str, kind: str, default: str = ""):
        self.name = name
        self.kind = kind
        self.value = default
        self.values: list[str] = []
        self.used = False

    @property
    def is_true(self) -> bool:
        return self.value == "true"


class BFlags:
    """Declare the flags an instruction accepts, then :meth:`parse` the ones given."""

    def __init__(self, args: list[str]):
        self.args = list(args)
        self.flags: dict[str, Flag] = {}

    def _add(self, name: str, kind: str, default: str = "") -> Flag:
        if name in self.flags:
            raise ValueError(f"duplicate flag defined: {name}")
        flag = Flag(name, kind, default)
        self.flags[name] = flag
        return flag

    def add_bool(self, name: str, default: bool = False) -> Flag:
        return self._add(name, BOOL, "true" if default else "false")

    def add_string(self, name: str, default: str = "") -> Flag:
        return self._add(name, STRING, default)

    def add_strings(self, name: str) -> Flag:
        return self._add(name, STRINGS)

    def used(self) -> list[str]:
        return [name for name, f in self.flags.items() if f.used]

    def parse(self) -> None:
        """Assign the given flags; raises DockerfileError with BuildKit's wording on bad input."""
        for arg in self.args:
            if not arg.startswith("--"):
                raise DockerfileError(f"Arg should start with -- : {arg}")
            if arg == "--":
                return
            body = arg[2:]
            name, eq, value = body.partition("=")
            flag = self.flags.get(name)
            if flag is None:
                raise DockerfileError(f"Unknown flag: {name}")
            if flag.used and flag.kind != STRINGS:
                raise DockerfileError(f"Duplicate flag specified: {name}")
            flag.used = True
            if flag.kind == BOOL:
                if eq and value == "":
                    raise DockerfileError(f"Missing a value on flag: {name}")
                lower = value.lower()
                if lower == "":
                    flag.value = "true"
                elif lower in ("true", "false"):
                    flag.value = lower
                else:
                    raise DockerfileError(f"Expecting boolean value for flag {name}, not: {value}")
            elif flag.kind == STRING:
                if not eq:
                    raise DockerfileError(f"Missing a value on flag: {name}")
                flag.value = value
            else:
                if not eq:
                    raise DockerfileError(f"Missing a value on flag: {name}")
                flag.values.append(value)
