"""``inspect`` for any object: raw daemon JSON re-indented as docker prints it, or a template per object."""
from __future__ import annotations

import json
import sys

from .api import quote
from .errors import CLIError, is_not_found
from .jsonindent import compact as compact_json, indent


def _getter(app, kind: str, size: bool = False):
    api = app.api
    paths = {"container": "/containers/{}/json", "image": "/images/{}/json", "volume": "/volumes/{}",
             "network": "/networks/{}"}
    query = {"size": 1} if (size and kind == "container") else None

    def get(name: str) -> bytes:
        return api.request("GET", paths[kind].format(quote(name)), query).read()
    return get


KINDS = ("container", "image", "volume", "network")
ALL_KINDS = ("config", "container", "image", "network", "node", "plugin", "secret", "service", "task", "volume")


def run(app, names: list[str], fmt: str, kinds: tuple[str, ...], size: bool = False, generic: bool = True) -> int:
    tmpl = None
    compact = fmt == "json"  # docker's JSON inspector: the raw objects, compacted, in one array
    if fmt and not compact:
        from .template import Template, TemplateError
        try:
            tmpl = Template(fmt)
        except TemplateError as e:
            raise CLIError(f"template parsing error: {e}", 64) from None
    getters = [_getter(app, k, size) for k in kinds]
    raws: list[bytes] = []
    errors: list[str] = []
    out = sys.stdout
    written: list[str] = []
    for name in names:
        raw = None
        for get in getters:
            try:
                raw = get(name)
                break
            except CLIError as e:
                if is_not_found(e) and generic:
                    continue
                errors.append(e.message)
                raw = None
                break
        else:
            errors.append(f"Error: No such object: {name}")
        if raw is None:
            continue
        if tmpl is None:
            raws.append(raw)
            continue
        from .gotypes import typed
        try:
            text = tmpl.execute(typed(json.loads(raw)))
        except TemplateError as e:
            errors.append(f"template parsing error: {e}")
            continue
        written.append(text + "\n")
    if tmpl is not None:
        out.write("".join(written) or "\n")  # docker's TemplateInspector.Flush
    else:
        if raws:
            joined = "[" + ",".join(r.decode(errors="replace").strip() for r in raws) + "]"
            out.write((compact_json(joined) if compact else indent(joined)) + "\n")
        else:
            out.write("[]\n")
    if errors:
        raise CLIError("\n".join(errors))
    return 0
