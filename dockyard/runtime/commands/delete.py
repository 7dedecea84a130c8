"""delete: remove a stopped container (--force: kill it first)."""


def add(sub):
    p = sub.add_parser("delete", help="delete a container")
    p.add_argument("--force", "-f", action="store_true")
    p.add_argument("id")


def run(ctx, a):
    ctx.runtime.delete(a.id, a.force)
    return 0
