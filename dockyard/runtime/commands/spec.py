"""spec: write a default config.json into the bundle directory."""
import json
import os

from ..defaults import default_spec
from ..errors import RuntimeFailure


def add(sub):
    p = sub.add_parser("spec", help="create a new specification file")
    p.add_argument("--bundle", "-b", default="")
    p.add_argument("--rootless", action="store_true")


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
