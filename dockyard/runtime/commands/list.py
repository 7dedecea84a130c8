"""list: the containers under --root."""
import json

from .. import state as st


def add(sub):
    p = sub.add_parser("list", aliases=["ls"], help="list containers")
    p.add_argument("--format", "-f", default="table", choices=["table", "json"])
    p.add_argument("--quiet", "-q", action="store_true")


def run(ctx, a):
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


