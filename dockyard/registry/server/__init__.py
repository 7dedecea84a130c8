"""Dockyard's registry server: the OCI Distribution API (v1.1) and Docker's registry API v2.

- ``main``: the ``serve`` and ``garbage-collect`` commands; ``config``: settings.
- ``server.RegistryServer``: storage + auth gate + routes on the daemon's HTTP layer.
- ``api/``: one module per resource (blobs, uploads, manifests, tags, catalog, referrers, token).
- ``storage/``: blobs stored once by digest, per-repository links/tags/referrers, upload
  sessions, garbage collection; every change is an atomic rename.
- ``auth/``: htpasswd (bcrypt), access rules, HMAC-signed bearer tokens, the request gate.
- ``errors``, ``names``, ``manifests``: the spec's error codes, name rules, manifest checks.
"""
