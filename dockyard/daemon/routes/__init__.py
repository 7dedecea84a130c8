"""Engine API endpoints, one module per resource; each has register(app, ...)."""
