"""list: the containers under --root."""
import json

from .. import state as st
from ..args import Command
from ..errors import RuntimeFailure


def command():
    c = Command('list', 'list containers')
    c.flag('--format', '-f', default='table')
    c.flag('--quiet', '-q', kind="bool")
    return c


def run(ctx, a):
    if a.format not in ("table", "json"):
        raise RuntimeFailure(f"invalid format option {a.format!r}: use table or json")
    rt = ctx.runtime
    rows = []
    for cid in st.list_ids(rt.root):
        try:
            rows.append(rt.state_json(cid))
        except Exception:
            continue
    if a.quiet:
        for r in rows:
            print(r["id"])
        return 0
    if a.format == "json":
        print(json.dumps(rows))
        return 0
    table = [("ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER")]
    for r in rows:
        table.append((r["id"], str(r["pid"]), r["status"], r["bundle"], r["created"], r["owner"]))
    widths = [max(len(row[i]) for row in table) for i in range(6)]
    for row in table:
        print("   ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    return 0


