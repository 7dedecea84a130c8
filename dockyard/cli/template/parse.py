"""Recursive-descent parser for Go templates (Go's text/template/parse, the parts docker users need).

Supported: text, ``{{pipeline}}`` with ``|`` chains, variables (``$x := …``, ``$x = …``,
``range $i, $e := …``), ``if``/``else if``/``else``/``end``, ``range`` (with ``else``,
``break``, ``continue``), ``with`` (with ``else``), parenthesised pipelines, field
chains on any operand, comments and ``{{-``/``-}}`` trimming. ``define``/``template``/``block``
are rejected with a clear message.
"""
from __future__ import annotations

from . import lex as L
from . import nodes as N
from .errors import TemplateError


class _Parser:
    def __init__(self, text: str, funcs, name: str):
        self.text, self.funcs, self.name = text, funcs, name
        self.toks = L.lex(text, name)
        self.i = 0
        self.vars: list[str] = ["$"]
        self.range_depth = 0

    # --- tokens -----------------------------------------------------------------------------
    def next(self) -> L.Token:
        t = self.toks[self.i]
        if t.typ != L.EOF:
            self.i += 1
        return t

    def backup(self) -> None:
        self.i -= 1

    def peek(self) -> L.Token:
        return self.toks[self.i]

    def next_non_space(self) -> L.Token:
        t = self.next()
        while t.typ == L.SPACE:
            t = self.next()
        return t

    def peek_non_space(self) -> L.Token:
        t = self.next_non_space()
        self.backup()
        return t

    def error(self, msg: str, tok: L.Token | None = None):
        line = (tok or self.toks[max(self.i - 1, 0)]).line
        raise TemplateError(f"template: {self.name}:{line}: {msg}")

    def unexpected(self, tok: L.Token, context: str):
        if tok.typ == L.EOF:
            self.error(f"unexpected EOF in {context}", tok)
        self.error(f"unexpected {tok.describe()} in {context}", tok)

    def expect(self, typ: int, context: str) -> L.Token:
        t = self.next_non_space()
        if t.typ != typ:
            self.unexpected(t, context)
        return t

    # --- structure ----------------------------------------------------------------------------
    def parse(self) -> N.ListNode:
        root = N.ListNode(0)
        while self.peek().typ != L.EOF:
            node = self.text_or_action()
            if isinstance(node, _End):
                self.error("unexpected {{end}}", node.tok)
            if isinstance(node, _Else):
                self.error("unexpected {{else}}", node.tok)
            root.nodes.append(node)
        return root

    def text_or_action(self):
        t = self.next()
        if t.typ == L.TEXT:
            return N.TextNode(t.pos, t.val)
        if t.typ == L.LEFT:
            return self.action()
        self.unexpected(t, "input")

    def item_list(self, context: str) -> tuple[N.ListNode, object]:
        lst = N.ListNode(self.peek().pos)
        while True:
            if self.peek().typ == L.EOF:
                self.error("unexpected EOF", self.peek())
            node = self.text_or_action()
            if isinstance(node, (_End, _Else)):
                return lst, node
            lst.nodes.append(node)

    def action(self):
        t = self.next_non_space()
        if t.typ == L.KEYWORD:
            kw = t.val
            if kw == "end":
                self.expect(L.RIGHT, "end")
                return _End(t)
            if kw == "else":
                return self.else_control(t)
            if kw in ("if", "with", "range"):
                return self.branch(kw, t)
            if kw in ("break", "continue"):
                if not self.range_depth:
                    self.error(f"{{{{{kw}}}}} outside {{{{range}}}}", t)
                self.expect(L.RIGHT, kw)
                return N.BreakNode(t.pos) if kw == "break" else N.ContinueNode(t.pos)
            self.error(f"{{{{{kw}}}}} is not supported by this template engine", t)
        self.backup()
        return N.ActionNode(t.pos, self.pipeline("command", L.RIGHT))

    def else_control(self, t: L.Token):
        p = self.peek_non_space()
        if p.typ == L.KEYWORD and p.val in ("if", "with"):
            # "{{else if ...}}" is "{{else}}{{if ...}}…{{end}}{{end}}": the nested branch owns the end.
            return _Else(t, chained=p.val)
        self.expect(L.RIGHT, "else")
        return _Else(t)

    def branch(self, kw: str, t: L.Token) -> N.BranchNode:
        saved = len(self.vars)
        pipe = self.pipeline(kw, L.RIGHT)
        if kw == "range":
            self.range_depth += 1
        lst, stop = self.item_list(kw)
        if kw == "range":
            self.range_depth -= 1
        else_list = None
        if isinstance(stop, _Else):
            if stop.chained:
                # consume the "if"/"with" keyword and parse the nested branch up to its {{end}}
                kw_tok = self.next_non_space()
                else_list = N.ListNode(kw_tok.pos)
                else_list.nodes.append(self.branch(stop.chained, kw_tok))
            else:
                else_list, stop2 = self.item_list(kw)
                if not isinstance(stop2, _End):
                    self.error("expected end; found {{else}}", stop2.tok)
        del self.vars[saved:]
        return N.BranchNode(kw, t.pos, pipe, lst, else_list)

    # --- pipelines --------------------------------------------------------------------------
    def pipeline(self, context: str, end: int) -> N.PipeNode:
        tok = self.peek_non_space()
        pipe = N.PipeNode(tok.pos, [])
        # declarations
        if tok.typ == L.VARIABLE:
            start = self.i
            v = self.next_non_space()
            nxt = self.next()  # no space allowed? Go allows spaces: check next non-space
            if nxt.typ == L.SPACE:
                nxt = self.next_non_space()
            if nxt.typ in (L.DECLARE, L.ASSIGN):
                pipe.is_assign = nxt.typ == L.ASSIGN
                pipe.decl.append(v.val)
                if not pipe.is_assign:
                    self.vars.append(v.val)
                elif v.val not in self.vars:
                    self.error(f"undefined variable {v.val!r}".replace("'", '"'), v)
            elif nxt.typ == L.COMMA and context == "range":
                v2 = self.next_non_space()
                if v2.typ != L.VARIABLE:
                    self.error("range can only initialize variables", v2)
                op = self.next_non_space()
                if op.typ not in (L.DECLARE, L.ASSIGN):
                    self.error("range can only initialize variables", op)
                pipe.is_assign = op.typ == L.ASSIGN
                pipe.decl += [v.val, v2.val]
                if not pipe.is_assign:
                    self.vars += [v.val, v2.val]
            else:
                self.i = start
        while True:
            t = self.next_non_space()
            if t.typ == end:
                if not pipe.cmds:
                    self.error(f"missing value for {context}", t)
                return pipe
            if t.typ in (L.BOOL, L.CHAR, L.DOT, L.FIELD, L.IDENT, L.NUMBER, L.NIL, L.RAWSTRING, L.STRING,
                         L.VARIABLE, L.LPAREN):
                self.backup()
                pipe.cmds.append(self.command())
            else:
                self.unexpected(t, context)

    def command(self) -> N.CommandNode:
        cmd = N.CommandNode(self.peek_non_space().pos)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            t = self.next()
            if t.typ == L.SPACE:
                continue
            if t.typ in (L.RIGHT, L.RPAREN):
                self.backup()
            elif t.typ == L.PIPE:
                pass
            else:
                self.unexpected(t, "operand")
            break
        if not cmd.args:
            self.error("empty command")
        return cmd

    def operand(self):
        node = self.term()
        if node is None:
            return None
        if self.peek().typ == L.FIELD:
            chain = N.ChainNode(self.peek().pos, node)
            while self.peek().typ == L.FIELD:
                chain.fields.append(self.next().val[1:])
            if isinstance(node, N.FieldNode):
                return N.FieldNode(chain.pos, str(chain))
            if isinstance(node, N.VariableNode):
                v = N.VariableNode(chain.pos, str(chain))
                return v
            if isinstance(node, (N.BoolNode, N.StringNode, N.NumberNode, N.NilNode, N.DotNode)):
                self.error(f"unexpected . after term {str(node)!r}".replace("'", '"'))
            return chain
        return node

    def term(self):
        t = self.next_non_space()
        if t.typ == L.IDENT:
            if t.val not in self.funcs:
                self.error(f'function "{t.val}" not defined', t)
            return N.IdentifierNode(t.pos, t.val)
        if t.typ == L.DOT:
            return N.DotNode(t.pos)
        if t.typ == L.NIL:
            return N.NilNode(t.pos)
        if t.typ == L.VARIABLE:
            if t.val not in self.vars:
                self.error(f'undefined variable "{t.val}"', t)
            return N.VariableNode(t.pos, t.val)
        if t.typ == L.FIELD:
            return N.FieldNode(t.pos, t.val)
        if t.typ == L.BOOL:
            return N.BoolNode(t.pos, t.val == "true")
        if t.typ == L.NUMBER:
            return N.NumberNode(t.pos, L.parse_number(t.val), t.val)
        if t.typ == L.CHAR:
            try:
                return N.NumberNode(t.pos, ord(L.unquote(t.val)), t.val)
            except (ValueError, TypeError):
                self.error(f"malformed character constant: {t.val}", t)
        if t.typ == L.LPAREN:
            pipe = self.pipeline("parenthesized pipeline", L.RPAREN)
            return pipe
        if t.typ in (L.STRING, L.RAWSTRING):
            try:
                return N.StringNode(t.pos, L.unquote(t.val), t.val)
            except ValueError:
                self.error(f"invalid syntax: {t.val}", t)
        self.backup()
        return None


class _End:
    def __init__(self, tok):
        self.tok = tok


class _Else:
    def __init__(self, tok, chained: str | None = None):
        self.tok, self.chained = tok, chained


def parse(text: str, funcs, name: str = "") -> N.ListNode:
    return _Parser(text, funcs, name).parse()
