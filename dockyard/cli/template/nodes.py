"""Parse-tree nodes of a Go template; ``str(node)`` is Go's Node.String() (used in error messages)."""
from __future__ import annotations


class Node:
    __slots__ = ("pos",)


class ListNode(Node):
    __slots__ = ("nodes",)

    def __init__(self, pos: int):
        self.pos, self.nodes = pos, []

    def __str__(self) -> str:
        return "".join(str(n) for n in self.nodes)


class TextNode(Node):
    __slots__ = ("text",)

    def __init__(self, pos: int, text: str):
        self.pos, self.text = pos, text

    def __str__(self) -> str:
        return self.text


class PipeNode(Node):
    __slots__ = ("decl", "is_assign", "cmds")

    def __init__(self, pos: int, decl: list[str]):
        self.pos, self.decl, self.is_assign, self.cmds = pos, decl, False, []

    def __str__(self) -> str:
        s = ""
        if self.decl:
            s = ", ".join(self.decl) + (" = " if self.is_assign else " := ")
        return s + " | ".join(str(c) for c in self.cmds)


class ActionNode(Node):
    __slots__ = ("pipe",)

    def __init__(self, pos: int, pipe: PipeNode):
        self.pos, self.pipe = pos, pipe

    def __str__(self) -> str:
        return "{{" + str(self.pipe) + "}}"


class CommandNode(Node):
    __slots__ = ("args",)

    def __init__(self, pos: int):
        self.pos, self.args = pos, []

    def __str__(self) -> str:
        out = []
        for a in self.args:
            out.append(f"({a})" if isinstance(a, PipeNode) else str(a))
        return " ".join(out)


class FieldNode(Node):
    __slots__ = ("idents",)

    def __init__(self, pos: int, ident: str):
        self.pos, self.idents = pos, ident[1:].split(".")

    def __str__(self) -> str:
        return "." + ".".join(self.idents)


class ChainNode(Node):
    __slots__ = ("node", "fields")

    def __init__(self, pos: int, node: Node):
        self.pos, self.node, self.fields = pos, node, []

    def __str__(self) -> str:
        s = f"({self.node})" if isinstance(self.node, PipeNode) else str(self.node)
        return s + "".join("." + f for f in self.fields)


class VariableNode(Node):
    __slots__ = ("idents",)

    def __init__(self, pos: int, ident: str):
        self.pos, self.idents = pos, ident.split(".")

    def __str__(self) -> str:
        return ".".join(self.idents)


class DotNode(Node):
    __slots__ = ()

    def __init__(self, pos: int):
        self.pos = pos

    def __str__(self) -> str:
        return "."


class NilNode(Node):
    __slots__ = ()

    def __init__(self, pos: int):
        self.pos = pos

    def __str__(self) -> str:
        return "nil"


class BoolNode(Node):
    __slots__ = ("value",)

    def __init__(self, pos: int, value: bool):
        self.pos, self.value = pos, value

    def __str__(self) -> str:
        return "true" if self.value else "false"


class NumberNode(Node):
    __slots__ = ("value", "text")

    def __init__(self, pos: int, value, text: str):
        self.pos, self.value, self.text = pos, value, text

    def __str__(self) -> str:
        return self.text


class StringNode(Node):
    __slots__ = ("value", "quoted")

    def __init__(self, pos: int, value: str, quoted: str):
        self.pos, self.value, self.quoted = pos, value, quoted

    def __str__(self) -> str:
        return self.quoted


class IdentifierNode(Node):
    __slots__ = ("name",)

    def __init__(self, pos: int, name: str):
        self.pos, self.name = pos, name

    def __str__(self) -> str:
        return self.name


class BranchNode(Node):
    __slots__ = ("keyword", "pipe", "list", "else_list")

    def __init__(self, keyword: str, pos: int, pipe: PipeNode, list_: ListNode, else_list: ListNode | None):
        self.keyword, self.pos, self.pipe, self.list, self.else_list = keyword, pos, pipe, list_, else_list

    def __str__(self) -> str:
        s = "{{" + self.keyword + " " + str(self.pipe) + "}}" + str(self.list)
        if self.else_list is not None:
            s += "{{else}}" + str(self.else_list)
        return s + "{{end}}"


class BreakNode(Node):
    __slots__ = ()

    def __init__(self, pos: int):
        self.pos = pos

    def __str__(self) -> str:
        return "{{break}}"


class ContinueNode(Node):
    __slots__ = ()

    def __init__(self, pos: int):
        self.pos = pos

    def __str__(self) -> str:
        return "{{continue}}"
