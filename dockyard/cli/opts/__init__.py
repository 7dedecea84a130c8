"""Parsers for container options (env, labels, mounts, ports, resources) into Engine API shapes."""
