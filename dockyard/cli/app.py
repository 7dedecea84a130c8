"""What every command gets: the global options, the API client (made on first use) and the streams."""
from __future__ import annotations

import os
import sys

from .errors import PROG


class App:
    def __init__(self, gopts, command_path: str = "", env=None):
        self.gopts = gopts
        self.command_path = command_path  # "run", "container ls"…
        self.env = os.environ if env is None else env
        self._api = None
        self.stdout = sys.stdout
        self.stderr = sys.stderr

    @property
    def prog(self) -> str:
        return PROG

    @property
    def api(self):
        if self._api is None:
            from .api import Client
            from .hosts import resolve
            self._api = Client(resolve(list(getattr(self.gopts, "host", []) or []), self.gopts, self.env))
        return self._api

    @property
    def config_dir(self) -> str:
        c = getattr(self.gopts, "config", "") or self.env.get("DOCKER_CONFIG") or ""
        return c or os.path.join(os.path.expanduser("~"), ".docker")

    def out(self, text: str = "", end: str = "\n") -> None:
        self.stdout.write(text + end)

    def err(self, text: str = "", end: str = "\n") -> None:
        self.stdout.flush()
        self.stderr.write(text + end)
        self.stderr.flush()
