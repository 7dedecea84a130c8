"""Executes a parsed Go template against JSON-shaped data or formatting contexts (Go's text/template/exec)."""
from __future__ import annotations

from . import nodes as N
from .errors import TemplateError
from .funcs import FuncError
from .values import GoNil, GoStruct, MISSING, sprint_value, truth, type_name

_NOFINAL = object()
MAX_DEPTH = 100000


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _State:
    def __init__(self, text: str, name: str, funcs: dict, data):
        self.text, self.name, self.funcs = text, name, funcs
        self.vars: list[list] = [["$", data]]
        self.node = None
        self.out: list[str] = []

    # --- errors ------------------------------------------------------------------------------
    def error(self, msg: str):
        node = self.node
        if node is None:
            raise TemplateError(f"template: {self.name}: executing \"{self.name}\": {msg}")
        pos = node.pos
        before = self.text[:pos]
        nl = before.rfind("\n")
        col = pos if nl < 0 else pos - (nl + 1)
        line = before.count("\n") + 1
        ctx = str(node)
        if len(ctx) > 20:
            ctx = ctx[:20] + "..."
        raise TemplateError(f"template: {self.name}:{line}:{col}: executing \"{self.name}\" at <{ctx}>: {msg}")

    # --- variables ---------------------------------------------------------------------------
    def mark(self) -> int:
        return len(self.vars)

    def pop(self, mark: int) -> None:
        del self.vars[mark:]

    def push(self, name: str, value) -> None:
        self.vars.append([name, value])

    def set_var(self, name: str, value) -> None:
        for v in reversed(self.vars):
            if v[0] == name:
                v[1] = value
                return
        self.error(f"undefined variable: {name}")

    def set_top(self, n: int, value) -> None:
        self.vars[-n][1] = value

    def var(self, name: str):
        for v in reversed(self.vars):
            if v[0] == name:
                return v[1]
        self.error(f"undefined variable: {name}")

    # --- walking -----------------------------------------------------------------------------
    def walk(self, dot, node) -> None:
        self.node = node
        if isinstance(node, N.ListNode):
            for n in node.nodes:
                self.walk(dot, n)
        elif isinstance(node, N.TextNode):
            self.out.append(node.text)
        elif isinstance(node, N.ActionNode):
            val = self.eval_pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.node = node
                self.out.append(self.print_value(val))
        elif isinstance(node, N.BranchNode):
            if node.keyword == "range":
                self.walk_range(dot, node)
            else:
                self.walk_if_or_with(dot, node)
        elif isinstance(node, N.BreakNode):
            raise _Break()
        elif isinstance(node, N.ContinueNode):
            raise _Continue()
        else:
            self.error(f"unknown node: {node}")

    def print_value(self, v) -> str:
        if callable(v) and not isinstance(v, type) and getattr(v, "__self__", None) is not None:
            self.error(f"can't print {self.node} of type func")
        return sprint_value(v, top=True)

    def walk_if_or_with(self, dot, node: N.BranchNode) -> None:
        mark = self.mark()
        val = self.eval_pipeline(dot, node.pipe)
        if truth(val):
            self.walk(val if node.keyword == "with" else dot, node.list)
        elif node.else_list is not None:
            self.walk(dot, node.else_list)
        self.pop(mark)

    def walk_range(self, dot, node: N.BranchNode) -> None:
        self.node = node
        mark = self.mark()
        val = self.eval_pipeline(dot, node.pipe)
        if isinstance(val, (list, tuple)):
            items = list(enumerate(val))
        elif isinstance(val, dict):
            items = sorted(val.items(), key=lambda kv: (str(type(kv[0])), kv[0]))
            if isinstance(val, GoStruct):
                self.error(f"range can't iterate over {sprint_value(val)}")
        elif isinstance(val, int) and not isinstance(val, bool):
            items = [(i, i) for i in range(val)]
        elif val is None or val is MISSING or isinstance(val, GoNil):
            items = []
        else:
            self.error(f"range can't iterate over {sprint_value(val)}")
        for key, elem in items:
            if node.pipe.decl:
                if node.pipe.is_assign:
                    if len(node.pipe.decl) > 1:
                        self.set_var(node.pipe.decl[0], key)
                        self.set_var(node.pipe.decl[1], elem)
                    else:
                        self.set_var(node.pipe.decl[0], elem)
                else:
                    if len(node.pipe.decl) > 1:
                        self.set_top(2, key)
                    self.set_top(1, elem)
            inner = self.mark()
            try:
                self.walk(elem, node.list)
            except _Continue:
                pass
            except _Break:
                self.pop(inner)
                break
            self.pop(inner)
        if not items and node.else_list is not None:
            self.walk(dot, node.else_list)
        self.pop(mark)

    # --- evaluation --------------------------------------------------------------------------
    def eval_pipeline(self, dot, pipe: N.PipeNode):
        self.node = pipe
        value = _NOFINAL
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
        if value is None:  # a nil interface from a map becomes an invalid value
            value = MISSING
        for name in pipe.decl:
            if pipe.is_assign:
                self.set_var(name, value)
            else:
                self.push(name, value)
        return value

    def not_a_function(self, args, final) -> None:
        if len(args) > 1 or final is not _NOFINAL:
            self.error(f"can't give argument to non-function {args[0]}")

    def eval_command(self, dot, cmd: N.CommandNode, final):
        first = cmd.args[0]
        self.node = first
        if isinstance(first, N.FieldNode):
            return self.eval_field_chain(dot, dot, first, first.idents, cmd.args, final)
        if isinstance(first, N.ChainNode):
            return self.eval_chain(dot, first, cmd.args, final)
        if isinstance(first, N.IdentifierNode):
            return self.eval_function(dot, first, cmd.args, final)
        if isinstance(first, N.PipeNode):
            self.not_a_function(cmd.args, final)
            return self.eval_pipeline(dot, first)
        if isinstance(first, N.VariableNode):
            return self.eval_variable(dot, first, cmd.args, final)
        self.not_a_function(cmd.args, final)
        if isinstance(first, N.BoolNode):
            return first.value
        if isinstance(first, N.DotNode):
            return dot
        if isinstance(first, N.NilNode):
            self.error("nil is not a command")
        if isinstance(first, (N.NumberNode, N.StringNode)):
            return first.value
        self.error(f"can't evaluate command {first}")

    def eval_chain(self, dot, chain: N.ChainNode, args, final):
        if not chain.fields:
            self.error("internal error: no fields in evalChainNode")
        if isinstance(chain.node, N.NilNode):
            self.error(f"indirection through explicit nil in {chain}")
        pipe = self.eval_arg(dot, chain.node)
        return self.eval_field_chain(dot, pipe, chain, chain.fields, args, final)

    def eval_variable(self, dot, v: N.VariableNode, args, final):
        value = self.var(v.idents[0])
        if len(v.idents) == 1:
            self.not_a_function(args, final)
            return value
        return self.eval_field_chain(dot, value, v, v.idents[1:], args, final)

    def eval_field_chain(self, dot, receiver, node, idents, args, final):
        for name in idents[:-1]:
            receiver = self.eval_field(dot, name, node, [], _NOFINAL, receiver)
        return self.eval_field(dot, idents[-1], node, args, final, receiver)

    def eval_field(self, dot, name: str, node, args, final, receiver):
        self.node = node
        if receiver is MISSING:
            return MISSING
        has_args = len(args) > 1 or final is not _NOFINAL
        if receiver is None:
            self.error(f"nil pointer evaluating interface {{}}.{name}")
        if isinstance(receiver, GoNil):
            if receiver.kind == "map":
                if has_args:
                    self.error(f"{name} is not a method but has arguments")
                return MISSING
            self.error(f"nil pointer evaluating {type_name(receiver)}.{name}")
        if isinstance(receiver, dict):
            if has_args:
                self.error(f"{name} is not a method but has arguments")
            if name in receiver:
                return receiver[name]
            if isinstance(receiver, GoStruct):
                self.error(f'map has no entry for key "{name}"')
            return MISSING
        if isinstance(receiver, (str, int, float, bool, list, tuple)):
            self.error(f"can't evaluate field {name} in type {type_name(receiver)}")
        # an object with Go-style exported methods
        attr = getattr(type(receiver), name, None) if name[:1].isupper() else None
        if attr is None:
            self.error(f"can't evaluate field {name} in type {type_name(receiver)}")
        value = getattr(receiver, name)
        if callable(value):
            call_args = [self.eval_arg(dot, a) for a in args[1:]]
            if final is not _NOFINAL:
                call_args.append(final)
            try:
                return value(*call_args)
            except TypeError as e:
                self.error(f"wrong number of args for {name}: {e}")
            except FuncError as e:
                self.error(f"error calling {name}: {e}")
        if has_args:
            self.error(f"{name} has arguments but cannot be invoked as function")
        return value

    def eval_function(self, dot, ident: N.IdentifierNode, args, final):
        name = ident.name
        fn = self.funcs.get(name)
        if name in ("and", "or") and fn is None:
            if len(args) < 2 and final is _NOFINAL:
                self.error(f"wrong number of args for {name}: want at least 1 got 0")
            val = None
            operands = list(args[1:])
            for i, a in enumerate(operands):
                val = self.eval_arg(dot, a)
                if truth(val) != (name == "and"):
                    return val
            if final is not _NOFINAL:
                val = final
            return val
        if fn is None:
            self.error(f'"{name}" is not a defined function')
        call_args = [self.eval_arg(dot, a) for a in args[1:]]
        if final is not _NOFINAL:
            call_args.append(final)
        self.node = ident
        try:
            return fn(*call_args)
        except FuncError as e:
            self.error(f"error calling {name}: {e}")
        except TypeError as e:
            msg = _arity(fn, len(call_args))
            if msg is None:
                self.error(f"error calling {name}: {e}")
            self.error(f"wrong number of args for {name}: {msg}")
        except (ValueError, IndexError, KeyError, AttributeError) as e:
            self.error(f"error calling {name}: {e}")

    def eval_arg(self, dot, node):
        self.node = node
        if isinstance(node, N.DotNode):
            return dot
        if isinstance(node, N.NilNode):
            return None
        if isinstance(node, N.FieldNode):
            return self.eval_field_chain(dot, dot, node, node.idents, [node], _NOFINAL)
        if isinstance(node, N.VariableNode):
            return self.eval_variable(dot, node, [node], _NOFINAL)
        if isinstance(node, N.PipeNode):
            return self.eval_pipeline(dot, node)
        if isinstance(node, N.IdentifierNode):
            return self.eval_function(dot, node, [node], _NOFINAL)
        if isinstance(node, N.ChainNode):
            return self.eval_chain(dot, node, [node], _NOFINAL)
        if isinstance(node, (N.BoolNode, N.NumberNode, N.StringNode)):
            return node.value
        self.error(f"can't handle {node} for arg")


def _arity(fn, got: int) -> str | None:
    """Go's wording for a call with the wrong number of arguments; None when the count was right."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    want = code.co_argcount - len(getattr(fn, "__defaults__", None) or ())
    if code.co_flags & 0x04:  # *args
        return None if got >= want else f"want at least {want} got {got}"
    return None if got == want else f"want {want} got {got}"


def execute(tree: N.ListNode, text: str, funcs: dict, data, name: str = "") -> str:
    st = _State(text, name, funcs, data)
    try:
        st.walk(data, tree)
    except RecursionError:
        raise TemplateError(f"template: {name}: exceeded maximum template depth") from None
    return "".join(st.out)
