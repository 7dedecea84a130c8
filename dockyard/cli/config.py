"""The client config file (``$DOCKER_CONFIG/config.json``): only what the CLI reads at start-up."""
from __future__ import annotations

import json
import os


def load(config_dir: str) -> dict:
    path = os.path.join(config_dir, "config.json")
    try:
        with open(path, "rb") as f:
            doc = json.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}
