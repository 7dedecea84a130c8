"""resume: thaw a paused container."""


def add(sub):
    p = sub.add_parser("resume", help="resume a paused container")
    p.add_argument("id")


def run(ctx, a):
    ctx.runtime.resume(a.id)
    return 0
