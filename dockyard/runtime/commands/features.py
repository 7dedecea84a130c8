"""features: what this runtime implements (runtime-spec features document)."""
import json

from ..args import Command
from ..defaults import features


def command():
    c = Command('features', 'show the enabled features')
    return c


def run(ctx, a):
    print(json.dumps(features(), indent=4))
    return 0
