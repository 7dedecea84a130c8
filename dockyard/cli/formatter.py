"""docker's list formatting: ``table``/``json``/custom Go templates, headers, tabwriter columns."""
from __future__ import annotations

from .errors import CLIError
from .tabwriter import align
from .template import Template, TemplateError

TABLE = "table"
JSON = "{{json .}}"


def is_table(fmt: str) -> bool:
    return fmt.startswith(TABLE)


def final_format(fmt: str) -> str:
    """Context.preFormat: drop "table", "json" → {{json .}}, trim, expand \\t and \\n."""
    if is_table(fmt):
        fmt = fmt[len(TABLE):]
    elif fmt == "json":
        fmt = JSON
    fmt = fmt.strip(" ")
    return fmt.replace("\\t", "\t").replace("\\n", "\n")


def parse(fmt: str, wrap: str = "template parsing error") -> Template:
    try:
        return Template(final_format(fmt))
    except TemplateError as e:
        raise CLIError(f"{wrap}: {e}") from None


def write(out, fmt: str, contexts, header: dict | None, wrap: str = "template parsing error") -> None:
    """Render ``contexts`` with ``fmt``; a table gets the header row and aligned columns."""
    from .template.funcs import HEADER_FUNCS
    tmpl = parse(fmt, wrap)
    rows = []
    for ctx in contexts:
        try:
            rows.append(tmpl.execute(ctx) + "\n")
        except TemplateError as e:
            raise CLIError(f"{wrap}: {e}") from None
    if is_table(fmt):
        try:
            head = tmpl.execute(header or {}, HEADER_FUNCS)
        except TemplateError:
            head = _partial_header(tmpl, header or {}, HEADER_FUNCS)
        out.write(align(head + "\n" + "".join(rows)))
    else:
        out.write("".join(rows))


def _partial_header(tmpl: Template, header: dict, funcs) -> str:
    """Go leaves what was written before an error in the header's buffer; emulate that."""
    from .template import execute as ex
    st = ex._State(tmpl.text, tmpl.name, funcs, header)
    try:
        st.walk(header, tmpl.tree)
    except TemplateError:
        pass
    return "".join(st.out)


def truncate_id(i: str) -> str:
    if ":" in i:
        i = i.split(":", 1)[1]
    return i[:12]


def ellipsis(s: str, width: int) -> str:
    """formatter.Ellipsis (display width counts East Asian wide characters as two)."""
    if width <= 0:
        return ""
    if width == 1:
        return s[:1]
    if all(ord(c) < 0x1100 for c in s):
        return s if len(s) <= width else s[:width - 1] + "…"
    import unicodedata
    widths = []
    total = 0
    for c in s:
        total += 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1
        widths.append(total)
    if total <= width:
        return s
    for i in range(len(widths)):
        if widths[i] <= width - 1 and (i + 1 == len(widths) or widths[i + 1] > width - 1):
            return s[:i + 1] + "…"
    return s
