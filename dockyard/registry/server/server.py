"""The registry server: storage, auth gate and routes, listening on one address.

``RegistryServer(config)`` is started with ``await start()`` (returns the bound addresses, so a
port 0 is resolved) and stopped with ``await close()``. While it runs it holds the storage root's
shared lock (garbage collection waits for it) and removes uploads idle for longer than
``upload_max_age`` every ``upload_purge_interval`` seconds.
"""
from __future__ import annotations

import asyncio
import logging
import ssl

from dockyard.daemon.http import TCPListener

from .api import base, blobs, catalog, manifests, referrers, tags, token, uploads
from .api.app import RegistryApp
from .auth.access import Policy
from .auth.gate import Gate
from .auth.htpasswd import Htpasswd, HtpasswdError
from .auth.limiter import FailureLimiter
from .auth.tokens import Signer, load_or_create_key
from .config import ConfigError, ServerConfig
from .storage import Storage

log = logging.getLogger("dockyard.registry")


def tls_context(cfg: ServerConfig) -> ssl.SSLContext | None:
    tls = cfg.tls
    if not tls.cert:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(tls.cert, tls.key)
    except (OSError, ssl.SSLError) as e:
        raise ConfigError(f"cannot load TLS certificate {tls.cert} / key {tls.key}: {e}") from None
    if tls.client_ca:
        try:
            ctx.load_verify_locations(tls.client_ca)
        except (OSError, ssl.SSLError) as e:
            raise ConfigError(f"cannot load TLS client CA {tls.client_ca}: {e}") from None
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def make_gate(cfg: ServerConfig) -> Gate:
    a = cfg.auth
    policy = Policy(a.rules, frozenset(a.anonymous), open_access=a.mode == "none")
    htpasswd = signer = None
    if a.mode != "none":
        try:
            htpasswd = Htpasswd(a.htpasswd)
        except HtpasswdError as e:
            raise ConfigError(str(e)) from None
    if a.mode == "token":
        try:
            key = load_or_create_key(cfg.token_key_path)
        except (OSError, ValueError) as e:
            raise ConfigError(f"token signing key {cfg.token_key_path}: {e}") from None
        signer = Signer(key, a.issuer, a.service)
    return Gate(a.mode, policy, htpasswd, signer, a.realm, a.token_realm or None, tls=bool(cfg.tls.cert),
                limiter=FailureLimiter(a.max_login_failures))


class RegistryServer:
    def __init__(self, config: ServerConfig):
        self.config = config
        self.storage = Storage(config.root, sync=config.fsync)
        self.gate = make_gate(config)
        self.use_sendfile = not config.tls.cert
        self._tls = tls_context(config)
        self.app = RegistryApp(self)
        for module in (base, catalog, uploads, blobs, manifests, tags, referrers):
            module.routes(self.app)
        if config.auth.mode == "token":
            token.routes(self.app)
        self.addresses: list = []
        self._purger: asyncio.Task | None = None

    @property
    def url(self) -> str:
        host, port = self.addresses[0]
        host = f"[{host}]" if ":" in host else host
        return f"{'https' if self._tls else 'http'}://{host}:{port}"

    async def start(self) -> list:
        self.storage.lock(exclusive=False)
        try:
            self.storage.clean_tmp()
            removed = self.storage.uploads.purge(self.config.upload_max_age)
            if removed:
                log.info("removed %d stale uploads", len(removed))
            host, port = self.config.host_port
            self.addresses = await self.app.start([TCPListener(host, port, self._tls)])
        except BaseException:
            self.storage.unlock()
            raise
        self._purger = asyncio.get_running_loop().create_task(self._purge_loop())
        return self.addresses

    async def _purge_loop(self) -> None:
        interval, age = self.config.upload_purge_interval, self.config.upload_max_age
        while True:
            await asyncio.sleep(interval)
            try:
                removed = await asyncio.to_thread(self.storage.uploads.purge, age)
                await asyncio.to_thread(self.storage.clean_tmp)
            except Exception as e:   # keep purging later; the server goes on either way
                log.warning("purging stale uploads failed: %s", e)
                continue
            if removed:
                log.info("removed %d stale uploads", len(removed))

    async def close(self) -> None:
        if self._purger is not None:
            self._purger.cancel()
            self._purger = None
        await self.app.close()
        self.storage.unlock()

    async def serve(self, stop: asyncio.Event) -> None:
        """Start, serve until ``stop`` is set, close."""
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.close()
