"""Containers: records, lifecycle through the shim, logs, archives."""
