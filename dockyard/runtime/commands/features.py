"""features: what this runtime implements (runtime-spec features document)."""
import json

from ..defaults import features


def add(sub):
    sub.add_parser("features", help="show the enabled features")


def run(ctx, a):
    print(json.dumps(features(), indent=4))
    return 0
