"""dockyard logout: forget stored credentials for a registry."""
from __future__ import annotations

import os

USAGE = "[SERVER]"
SHORT = "Log out from a registry"
ARGS = (0, 1)

INDEX_SERVER = "https://index.docker.io/v1/"


def flags(fs):
    pass


def main(app, opts, args):
    server = args[0] if args else INDEX_SERVER
    cfg = os.path.join(app.config_dir, "config.json")
    from dockyard.registry import credentials
    key = credentials.server_key(server)
    app.out(f"Removing login credentials for {key if key == INDEX_SERVER else credentials.hostname(server)}")
    if not os.path.exists(cfg):
        return 0
    try:
        credentials.erase(server, cfg)
    except (credentials.CredentialsError, OSError) as e:
        app.err(f"WARNING: could not erase credentials:\n{server}: {e}")
    return 0
