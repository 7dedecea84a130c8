"""The Distribution API over the daemon's HTTP layer: one module per resource (base, blobs,
uploads, manifests, tags, catalog, referrers, token), wired by ``app.build_app``."""
