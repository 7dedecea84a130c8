"""Go text/template for ``--format``: ``Template(text).execute(data)``."""
from __future__ import annotations

from .errors import TemplateError


class Template:
    """A parsed template. ``funcs`` defaults to Go's builtins plus docker's functions."""

    def __init__(self, text: str, funcs: dict | None = None, name: str = ""):
        from . import funcs as F
        from .parse import parse
        self.text, self.name = text, name
        self.funcs = F.BASIC if funcs is None else funcs
        self.tree = parse(text, self.funcs, name)

    def execute(self, data, funcs: dict | None = None) -> str:
        from .execute import execute
        return execute(self.tree, self.text, self.funcs if funcs is None else funcs, data, self.name)


__all__ = ["Template", "TemplateError"]
