"""pause: freeze every process of the container."""


def add(sub):
    p = sub.add_parser("pause", help="pause all processes of a container")
    p.add_argument("id")


def run(ctx, a):
    ctx.runtime.pause(a.id)
    return 0
