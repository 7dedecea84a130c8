"""spec: write a default config.json into the bundle directory."""
import json
import os

from ..args import Command
from ..defaults import default_spec
from ..errors import RuntimeFailure


def command():
    c = Command('spec', 'create a new specification file')
    c.flag('--bundle', '-b', default='')
    c.flag('--rootless', kind="bool")
    return c


def run(ctx, a):
    path = os.path.join(a.bundle or ".", "config.json")
    if os.path.exists(path):
        raise RuntimeFailure("File config.json exists. Remove it first")
    try:
        with open(path, "x") as f:
            json.dump(default_spec(a.rootless), f, indent="\t")
    except OSError as e:
        raise RuntimeFailure(f"writing {path}: {e.strerror}") from None
    return 0
