"""A fast stand-in for @dataclass on the runtime's start-up path.

``dataclasses`` generates and compiles code for every class (about 1 ms each, plus the
``inspect`` import); the runtime's ~30 spec and state classes made that a third of its start
time. ``record`` builds ``__init__`` from the class annotations without compiling anything.
Supported: defaults, ``field(default_factory=...)``, ``field(repr=False)``, ``asdict``,
equality and a dataclass-like repr. Positional and keyword arguments work as with dataclasses.
"""
from __future__ import annotations

_MISSING = object()


class _Field:
    __slots__ = ("default", "default_factory", "repr")

    def __init__(self, default=_MISSING, default_factory=_MISSING, repr=True):
        self.default, self.default_factory, self.repr = default, default_factory, repr


def field(*, default=_MISSING, default_factory=_MISSING, repr=True):  # noqa: A002 (dataclasses' name)
    return _Field(default, default_factory, repr)


def record(cls=None, *, frozen: bool = False, **_ignored):
    if cls is None:
        return lambda c: record(c, frozen=frozen)
    names, specs = [], {}
    for klass in reversed(cls.__mro__[:-1]):
        for name in klass.__dict__.get("__annotations__", {}):
            if name.startswith("_") or name in specs:
                continue
            names.append(name)
            value = klass.__dict__.get(name, _MISSING)
            specs[name] = value if isinstance(value, _Field) else _Field(default=value)
    for name, spec in specs.items():
        if name in cls.__dict__ and isinstance(cls.__dict__[name], _Field):
            if spec.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, spec.default)
    fields = tuple(names)

    def __init__(self, *args, **kw):
        if len(args) > len(fields):
            raise TypeError(f"{cls.__name__}() takes {len(fields)} arguments, got {len(args)}")
        for name, value in zip(fields, args):
            setattr(self, name, value)
        for name in fields[len(args):]:
            if name in kw:
                setattr(self, name, kw.pop(name))
                continue
            s = specs[name]
            if s.default_factory is not _MISSING:
                setattr(self, name, s.default_factory())
            elif s.default is not _MISSING:
                setattr(self, name, s.default)
            else:
                raise TypeError(f"{cls.__name__}() missing argument: {name!r}")
        if kw:
            raise TypeError(f"{cls.__name__}() got unexpected arguments: {', '.join(kw)}")
        post = getattr(self, "__post_init__", None)
        if post is not None:
            post()

    def __repr__(self):
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in fields if specs[n].repr)
        return f"{cls.__name__}({inner})"

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in fields)

    cls.__init__ = __init__
    if "__repr__" not in cls.__dict__:
        cls.__repr__ = __repr__
    if "__eq__" not in cls.__dict__:
        cls.__eq__ = __eq__
        cls.__hash__ = (lambda self: hash(tuple(getattr(self, n) for n in fields))) if frozen else None
    cls.__record_fields__ = fields
    return cls


def fields_of(obj) -> tuple[str, ...]:
    return obj.__record_fields__


def asdict(obj):
    """Recursive conversion to plain dicts/lists, as dataclasses.asdict."""
    if hasattr(obj, "__record_fields__"):
        return {n: asdict(getattr(obj, n)) for n in obj.__record_fields__}
    if isinstance(obj, (list, tuple)):
        return type(obj)(asdict(x) for x in obj)
    if isinstance(obj, dict):
        return {k: asdict(v) for k, v in obj.items()}
    return obj
