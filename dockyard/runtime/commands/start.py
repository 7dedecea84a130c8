"""start: let a created container's init exec the user's process."""
from ..args import Command


def command():
    c = Command('start', 'start a created container', positionals=['id'])
    return c


def run(ctx, a):
    ctx.runtime.start(a.id)
    return 0
