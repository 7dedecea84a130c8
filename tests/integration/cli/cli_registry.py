"""A private docker-registry (distribution) on 127.0.0.1 for pull/push/login tests."""
from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import time
import warnings

REGISTRY_BIN = "/usr/bin/docker-registry"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def htpasswd_line(user: str, password: str) -> str:
    """A bcrypt entry as ``htpasswd -nbB`` writes it (libcrypt through the crypt module)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
        return f"{user}:{crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 5))}"


class Registry:
    def __init__(self, base: str, users: dict[str, str] | None = None):
        self.base = base
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.users = users or {}

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        os.makedirs(self.base, exist_ok=True)
        auth = ""
        if self.users:
            pw = os.path.join(self.base, "htpasswd")
            with open(pw, "w") as f:
                f.writelines(htpasswd_line(u, p) + "\n" for u, p in self.users.items())
            auth = f"auth:\n  htpasswd:\n    realm: cli-test\n    path: {json.dumps(pw)}\n"
        cfg = os.path.join(self.base, "config.yml")
        with open(cfg, "w") as f:
            f.write(f"version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n"
                    f"storage:\n  filesystem:\n    rootdirectory: {json.dumps(os.path.join(self.base, 'data'))}\n"
                    f"  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{self.port}\n  secret: cli\n{auth}")
        log = open(os.path.join(self.base, "registry.log"), "wb")
        self.proc = subprocess.Popen([REGISTRY_BIN, "serve", cfg], stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.time() + 15
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/v2/")
                c.getresponse().read()
                c.close()
                return
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    self.stop()
                    raise RuntimeError("docker-registry did not start")
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
