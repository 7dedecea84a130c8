"""dockyard ps: list containers."""
from __future__ import annotations

import sys

from .. import config, filters, formatter
from ..fmt_container import HEADER, ContainerContext, container_format
from ..errors import CLIError
from ..template import Template, TemplateError

USAGE = "[OPTIONS]"
SHORT = "List containers"
ARGS = (0, 0)
ALIASES = ["container ls", "container list", "container ps", "ps"]


def flags(fs):
    fs.bool("all", "a", help="Show all containers (default shows just running)")
    filters.add_flag(fs)
    fs.string("format", None, help="Format output using a custom template")
    fs.int("last", "n", default=-1, help="Show n last created containers (includes all states)")
    fs.bool("latest", "l", help="Show the latest created container (includes all states)")
    fs.bool("no-trunc", None, help="Don't truncate output")
    fs.bool("quiet", "q", help="Only display container IDs")
    fs.bool("size", "s", help="Display total file sizes")


class _FieldsUsed(ContainerContext):
    """Runs the template once on an empty container to validate it and see whether it uses .Size."""

    def __init__(self):
        super().__init__({})
        self.used_size = False

    def Size(self) -> str:
        self.used_size = True
        return ""


def main(app, opts, args):
    size = opts.size
    limit = opts.last
    if opts.latest and limit == -1:
        limit = 1
    if opts.format:
        try:
            tmpl = Template(opts.format)
        except TemplateError as e:
            raise CLIError(f"failed to parse template: {e}") from None
        probe = _FieldsUsed()
        try:
            tmpl.execute(probe)
        except TemplateError as e:
            raise CLIError(f"failed to execute template: {e}") from None
        if not opts.quiet and not size and not opts.is_set("size") and probe.used_size:
            size = True
    query = {}
    if opts.all:
        query["all"] = 1
    if limit > 0:
        query["limit"] = limit
    if size:
        query["size"] = 1
    f = filters.to_json(opts.filter)
    if f:
        query["filters"] = f
    containers = app.api.get("/containers/json", query) or []
    fmt = opts.format
    if not fmt:
        ps_format = config.load(app.config_dir).get("psFormat") if not opts.quiet else ""
        fmt = ps_format or "table"
    final = container_format(fmt, opts.quiet, size)
    contexts = [ContainerContext(c, trunc=not opts.no_trunc) for c in containers]
    formatter.write(sys.stdout, final, contexts, HEADER)
    return 0
