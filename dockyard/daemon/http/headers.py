"""Case-insensitive request headers."""
from __future__ import annotations


class Headers(dict):
    """Header name (any case) -> value; repeated headers are joined with ", "."""

    __slots__ = ()

    @classmethod
    def from_h11(cls, raw) -> "Headers":
        h = cls()
        for name, value in raw:  # h11 gives lower-cased names
            key = name.decode("latin-1")
            val = value.decode("latin-1")
            prev = dict.get(h, key)
            dict.__setitem__(h, key, val if prev is None else f"{prev}, {val}")
        return h

    def __getitem__(self, name: str) -> str:
        return dict.__getitem__(self, name.lower())

    def __contains__(self, name) -> bool:
        return isinstance(name, str) and dict.__contains__(self, name.lower())

    def get(self, name: str, default=None):
        return dict.get(self, name.lower(), default)

    def tokens(self, name: str) -> set[str]:
        """Comma-separated, lower-cased tokens of a header (``Connection: keep-alive, Upgrade``)."""
        value = self.get(name)
        if not value:
            return set()
        return {t.strip().lower() for t in value.split(",") if t.strip()}
