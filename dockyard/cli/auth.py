"""The ``X-Registry-Auth`` header for pull/push: credentials from docker's config file, if any."""
from __future__ import annotations

import base64
import json
import os

INDEX_SERVER = "https://index.docker.io/v1/"


def encode(cfg: dict) -> str:
    """base64url of the JSON auth config ("e30=" for none), as docker sends it."""
    return base64.urlsafe_b64encode(json.dumps(cfg, separators=(",", ":")).encode()).decode()


def registry_of(image: str) -> str:
    from .reference import parse
    try:
        domain = parse(image).domain
    except ValueError:
        return INDEX_SERVER
    return INDEX_SERVER if domain == "docker.io" else domain


def header_for(config_dir: str, registry: str) -> str:
    """The encoded credentials for ``registry`` (an image's domain or INDEX_SERVER)."""
    path = os.path.join(config_dir, "config.json")
    if not os.path.exists(path):
        return encode({})
    from dockyard.registry import credentials
    try:
        creds = credentials.get(registry, path)
    except (credentials.CredentialsError, OSError, ValueError):  # docker goes on without credentials
        creds = None
    if creds is None:
        return encode({})
    cfg: dict = {}
    if getattr(creds, "username", None):
        cfg["username"] = creds.username
    if getattr(creds, "password", None):
        cfg["password"] = creds.password
    cfg["serveraddress"] = registry
    if getattr(creds, "identity_token", None):
        cfg["identitytoken"] = creds.identity_token
    return encode(cfg)
