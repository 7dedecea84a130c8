"""resume: thaw a paused container."""
from ..args import Command


def command():
    c = Command('resume', 'resume a paused container', positionals=['id'])
    return c


def run(ctx, a):
    ctx.runtime.resume(a.id)
    return 0
