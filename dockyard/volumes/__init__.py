"""Volumes: named and anonymous volumes of the local driver, kept under <data-root>/volumes."""
