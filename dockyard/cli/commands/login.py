"""dockyard login: check credentials with the daemon (POST /auth), then store them like docker."""
from __future__ import annotations

import os
import sys

from .. import term
from ..errors import CLIError

USAGE = "[OPTIONS] [SERVER]"
SHORT = "Authenticate to a registry"
ARGS = (0, 1)

INDEX_SERVER = "https://index.docker.io/v1/"


def flags(fs):
    fs.string("password", "p", help="Password or Personal Access Token (PAT)")
    fs.bool("password-stdin", None, help="Take the Password or Personal Access Token (PAT) from stdin")
    fs.string("username", "u", help="Username")


def _prompt(text: str) -> str:
    sys.stdout.write(text)
    sys.stdout.flush()
    line = sys.stdin.readline()
    if not line:
        raise CLIError("Error: Cannot perform an interactive login from a non TTY device")
    return line.rstrip("\n")


def main(app, opts, args):
    if opts.password:
        app.err("WARNING! Using --password via the CLI is insecure. Use --password-stdin.")
        if opts.password_stdin:
            raise CLIError("--password and --password-stdin are mutually exclusive")
    password = opts.password
    if opts.password_stdin:
        if not opts.username:
            raise CLIError("Must provide --username with --password-stdin")
        password = sys.stdin.read().rstrip("\r\n")
    server = args[0] if args else INDEX_SERVER
    username = opts.username
    if not username or not password:
        if not term.is_tty(0):
            raise CLIError("Error: Cannot perform an interactive login from a non TTY device")
        if not username:
            username = _prompt("Username: ").strip()
        if not username:
            raise CLIError("Error: Non-null Username Required")
        if not password:
            import getpass
            password = getpass.getpass("Password: ")
        if not password:
            raise CLIError("Error: Password Required")
    resp = app.api.post("/auth", json_body={"username": username, "password": password,
                                            "serveraddress": server}) or {}
    from dockyard.registry import credentials
    from dockyard.registry.auth import Credentials
    token = resp.get("IdentityToken") or ""
    creds = Credentials(username=username, identity_token=token) if token else \
        Credentials(username=username, password=password)
    cfg = os.path.join(app.config_dir, "config.json")
    try:
        credentials.store(server, creds, cfg)
    except (credentials.CredentialsError, OSError) as e:
        raise CLIError(f"Error saving credentials: {e}") from None
    doc = credentials.load_config(cfg)
    if not doc.get("credsStore") and not (doc.get("credHelpers") or {}):
        app.err(f"\nWARNING! Your credentials are stored unencrypted in '{cfg}'.\n"
                "Configure a credential helper to remove this warning. See\n"
                "https://docs.docker.com/go/credential-store/\n")
    app.out(resp.get("Status") or "Login Succeeded")
    return 0
