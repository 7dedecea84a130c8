"""pause: freeze every process of the container."""
from ..args import Command


def command():
    c = Command('pause', 'pause all processes of a container', positionals=['id'])
    return c


def run(ctx, a):
    ctx.runtime.pause(a.id)
    return 0
