"""delete: remove a stopped container (--force: kill it first)."""
from ..args import Command


def command():
    c = Command('delete', 'delete a container', positionals=['id'])
    c.flag('--force', '-f', kind="bool")
    return c


def run(ctx, a):
    ctx.runtime.delete(a.id, a.force)
    return 0
