"""state: the container's state as JSON (runtime-spec)."""
import json


def add(sub):
    p = sub.add_parser("state", help="output the state of a container")
    p.add_argument("id")


def run(ctx, a):
    print(json.dumps(ctx.runtime.state_json(a.id), indent=2))
    return 0
