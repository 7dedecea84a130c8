"""start: let a created container's init exec the user's process."""


def add(sub):
    p = sub.add_parser("start", help="start a created container")
    p.add_argument("id")


def run(ctx, a):
    ctx.runtime.start(a.id)
    return 0
