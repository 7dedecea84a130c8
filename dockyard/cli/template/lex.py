"""Lexer for Go's text/template syntax (the subset docker's ``--format`` uses, and more).

Produces a flat token list. Inside actions it emits SPACE tokens, because Go
tells ``.A.B`` (one field chain) from ``.A .B`` (two arguments) by them.
"""
from __future__ import annotations

from .errors import TemplateError

TEXT, LEFT, RIGHT, SPACE, FIELD, VARIABLE, DOT, IDENT, STRING, RAWSTRING, CHAR, NUMBER, BOOL, NIL, \
    PIPE, LPAREN, RPAREN, DECLARE, ASSIGN, COMMA, KEYWORD, EOF = range(22)

KEYWORDS = {"if", "else", "end", "range", "with", "break", "continue", "define", "template", "block"}

NAMES = {TEXT: "text", LEFT: "{{", RIGHT: "}}", SPACE: "space", FIELD: "field", VARIABLE: "variable",
         DOT: ".", IDENT: "identifier", STRING: "string", RAWSTRING: "raw string", CHAR: "character",
         NUMBER: "number", BOOL: "bool", NIL: "nil", PIPE: "|", LPAREN: "(", RPAREN: ")", DECLARE: ":=",
         ASSIGN: "=", COMMA: ",", KEYWORD: "keyword", EOF: "EOF"}


class Token:
    __slots__ = ("typ", "val", "pos", "line")

    def __init__(self, typ: int, val: str, pos: int, line: int):
        self.typ, self.val, self.pos, self.line = typ, val, pos, line

    def __repr__(self) -> str:
        return f"<{NAMES[self.typ]} {self.val!r}>"

    def describe(self) -> str:
        if self.typ == EOF:
            return "EOF"
        if self.typ in (KEYWORD, LEFT, RIGHT, PIPE, LPAREN, RPAREN, DECLARE, ASSIGN, COMMA, DOT):
            return f"<{self.val}>"
        return repr(self.val) if self.typ != SPACE else "space"


def _is_alnum(c: str) -> bool:
    return c == "_" or c.isalnum()


def lex(text: str, name: str = "") -> list[Token]:
    toks: list[Token] = []
    pos, n = 0, len(text)
    line = 1

    def err(msg: str, ln: int) -> TemplateError:
        return TemplateError(f"template: {name}:{ln}: {msg}")

    while pos < n:
        start = text.find("{{", pos)
        if start < 0:
            toks.append(Token(TEXT, text[pos:], pos, line))
            line += text.count("\n", pos)
            pos = n
            break
        trim_left = text.startswith("{{- ", start) or text.startswith("{{-\t", start) or \
            text.startswith("{{-\n", start) or text.startswith("{{-\r", start)
        chunk = text[pos:start]
        if trim_left:
            chunk = chunk.rstrip(" \t\r\n")
        if chunk:
            toks.append(Token(TEXT, chunk, pos, line))
        line += text.count("\n", pos, start)
        pos = start + (3 if trim_left else 2)
        # comments
        after = pos
        while after < n and trim_left and text[after] in " \t\r\n":
            after += 1
        if text.startswith("/*", after):
            end = text.find("*/", after + 2)
            if end < 0:
                raise err("unclosed comment", line)
            line += text.count("\n", pos, end)
            pos = end + 2
            trim_right = text.startswith(" -}}", pos)
            if trim_right:
                pos += 4
            elif text.startswith("}}", pos):
                pos += 2
            else:
                raise err("comment ends before closing delimiter", line)
            if trim_right:
                while pos < n and text[pos] in " \t\r\n":
                    if text[pos] == "\n":
                        line += 1
                    pos += 1
            continue
        toks.append(Token(LEFT, "{{", start, line))
        pos, line = _lex_action(text, pos, line, toks, err)
        # the RIGHT token was appended; trim following text if it was " -}}"
        if toks[-1].val == "-}}":
            while pos < n and text[pos] in " \t\r\n":
                if text[pos] == "\n":
                    line += 1
                pos += 1
    toks.append(Token(EOF, "", n, line))
    return toks


def _lex_action(text: str, pos: int, line: int, toks: list[Token], err) -> tuple[int, int]:
    n = len(text)
    depth = 0
    while True:
        if pos >= n:
            raise err("unclosed action", line)
        if text.startswith(" -}}", pos) or text.startswith("\t-}}", pos) or text.startswith("\n-}}", pos):
            if depth:
                raise err("unclosed left paren", line)
            toks.append(Token(RIGHT, "-}}", pos, line))
            return pos + 4, line + (text[pos] == "\n")
        if text.startswith("}}", pos):
            if depth:
                raise err("unclosed left paren", line)
            toks.append(Token(RIGHT, "}}", pos, line))
            return pos + 2, line
        c = text[pos]
        if c in " \t\r\n":
            end = pos
            while end < n and text[end] in " \t\r\n" and not text.startswith(" -}}", end) \
                    and not text.startswith("\t-}}", end) and not text.startswith("\n-}}", end):
                end += 1
            if end == pos:  # a trim marker follows right away
                continue
            line += text.count("\n", pos, end)
            toks.append(Token(SPACE, text[pos:end], pos, line))
            pos = end
        elif c == "|":
            toks.append(Token(PIPE, c, pos, line))
            pos += 1
        elif c == "(":
            depth += 1
            toks.append(Token(LPAREN, c, pos, line))
            pos += 1
        elif c == ")":
            if not depth:
                raise err("unexpected right paren", line)
            depth -= 1
            toks.append(Token(RPAREN, c, pos, line))
            pos += 1
        elif c == ",":
            toks.append(Token(COMMA, c, pos, line))
            pos += 1
        elif c == ":":
            if text.startswith(":=", pos):
                toks.append(Token(DECLARE, ":=", pos, line))
                pos += 2
            else:
                raise err("expected :=", line)
        elif c == "=":
            toks.append(Token(ASSIGN, c, pos, line))
            pos += 1
        elif c == '"':
            end = pos + 1
            while True:
                if end >= n or text[end] == "\n":
                    raise err("unterminated quoted string", line)
                if text[end] == "\\":
                    end += 2
                    continue
                if text[end] == '"':
                    break
                end += 1
            toks.append(Token(STRING, text[pos:end + 1], pos, line))
            pos = end + 1
        elif c == "`":
            end = text.find("`", pos + 1)
            if end < 0:
                raise err("unterminated raw quoted string", line)
            toks.append(Token(RAWSTRING, text[pos:end + 1], pos, line))
            line += text.count("\n", pos, end)
            pos = end + 1
        elif c == "'":
            end = pos + 1
            while True:
                if end >= n or text[end] == "\n":
                    raise err("unterminated character constant", line)
                if text[end] == "\\":
                    end += 2
                    continue
                if text[end] == "'":
                    break
                end += 1
            toks.append(Token(CHAR, text[pos:end + 1], pos, line))
            pos = end + 1
        elif c == "$":
            end = pos + 1
            while end < n and _is_alnum(text[end]):
                end += 1
            toks.append(Token(VARIABLE, text[pos:end], pos, line))
            pos = end
        elif c == ".":
            if pos + 1 < n and text[pos + 1].isdigit():
                pos = _lex_number(text, pos, line, toks, err)
                continue
            end = pos + 1
            while end < n and _is_alnum(text[end]):
                end += 1
            if end == pos + 1:
                toks.append(Token(DOT, ".", pos, line))
            else:
                toks.append(Token(FIELD, text[pos:end], pos, line))
            pos = end
        elif c.isdigit() or (c in "+-" and pos + 1 < n and (text[pos + 1].isdigit() or text[pos + 1] == ".")):
            pos = _lex_number(text, pos, line, toks, err)
        elif _is_alnum(c):
            end = pos
            while end < n and _is_alnum(text[end]):
                end += 1
            word = text[pos:end]
            if word in KEYWORDS:
                typ = KEYWORD
            elif word in ("true", "false"):
                typ = BOOL
            elif word == "nil":
                typ = NIL
            else:
                typ = IDENT
            toks.append(Token(typ, word, pos, line))
            pos = end
        else:
            raise err(f"unexpected {c!r} in command", line)


def _lex_number(text: str, pos: int, line: int, toks: list[Token], err) -> int:
    n = len(text)
    end = pos
    if text[end] in "+-":
        end += 1
    while end < n and (text[end].isalnum() or text[end] in "._" or
                       (text[end] in "+-" and text[end - 1] in "eEpP" and not text[pos:end].lower().startswith(("0x", "-0x", "+0x")))):
        end += 1
    word = text[pos:end]
    try:
        parse_number(word)
    except ValueError:
        raise err(f"bad number syntax: {word!r}", line) from None
    toks.append(Token(NUMBER, word, pos, line))
    return end


def parse_number(word: str) -> int | float:
    w = word.replace("_", "")
    try:
        return int(w, 0)
    except ValueError:
        pass
    if w.lower().lstrip("+-").startswith("0x"):
        return float.fromhex(w)
    return float(w)


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\",
            "'": "'", '"': '"'}


def unquote(tok: str) -> str:
    """Go's strconv.Unquote for "..." and `...` (and '.' character constants)."""
    if tok[0] == "`":
        return tok[1:-1]
    body = tok[1:-1]
    out = []
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        i += 1
        if i >= n:
            raise ValueError("invalid syntax")
        e = body[i]
        if e in _ESCAPES:
            out.append(_ESCAPES[e])
            i += 1
        elif e in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[e]
            digits = body[i + 1:i + 1 + width]
            if len(digits) != width:
                raise ValueError("invalid syntax")
            out.append(chr(int(digits, 16)))
            i += 1 + width
        elif e in "01234567":
            digits = body[i:i + 3]
            out.append(chr(int(digits, 8)))
            i += 3
        else:
            raise ValueError("invalid syntax")
    return "".join(out)
