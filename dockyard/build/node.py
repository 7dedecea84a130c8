"""The low-level parse tree: one Node per instruction, its arguments chained through ``next``.

This is BuildKit's shape: an instruction node's ``value`` is the instruction keyword as written,
``flags`` its ``--flags``, and ``next`` the first argument node; each argument node's ``next`` is
the following argument. ONBUILD's argument is a node whose single child is the trigger
instruction. :func:`dump` prints the tree as BuildKit's golden files do, e.g.
``(copy ["--from=build"] "a" "/b")``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .gocompat import quote, quote_list, trim_space
from .heredoc import Heredoc


@dataclass
class Node:
    value: str = ""
    next: "Node | None" = None
    children: list["Node"] = field(default_factory=list)
    heredocs: list[Heredoc] = field(default_factory=list)
    attributes: dict[str, bool] = field(default_factory=dict)
    original: str = ""
    flags: list[str] = field(default_factory=list)
    start_line: int = 0
    end_line: int = 0
    prev_comment: list[str] = field(default_factory=list)

    @property
    def is_json(self) -> bool:
        """True when the arguments were written as a JSON array (exec form)."""
        return bool(self.attributes.get("json"))

    def args(self) -> list[str]:
        """The argument values in order; ONBUILD yields the trigger keyword then its arguments."""
        out: list[str] = []
        n = self
        while n.next is not None:
            arg = n.next
            if not arg.children:
                out.append(arg.value)
            elif len(arg.children) == 1:
                sub = arg.children[0]
                out.append(sub.value)
                out.extend(sub.args())
            n = arg
        return out

    def add_child(self, child: "Node", start_line: int, end_line: int) -> None:
        child.start_line = start_line
        child.end_line = end_line
        if self.start_line < 0:
            self.start_line = start_line
        self.end_line = end_line
        self.children.append(child)


def dump(node: Node) -> str:
    """The node as an s-expression, exactly as BuildKit's Node.Dump prints it."""
    parts = [node.value.lower()]
    if node.flags:
        parts.append(" " + quote_list(node.flags))
    for child in node.children:
        parts.append("(" + dump(child) + ")\n")
    n = node.next
    while n is not None:
        if n.children:
            parts.append(" " + dump(n))
        else:
            parts.append(" " + quote(n.value))
        n = n.next
    return trim_space("".join(parts))
