"""state: the container's state as JSON (runtime-spec)."""
import json

from ..args import Command


def command():
    c = Command('state', 'output the state of a container', positionals=['id'])
    return c


def run(ctx, a):
    print(json.dumps(ctx.runtime.state_json(a.id), indent=2))
    return 0
