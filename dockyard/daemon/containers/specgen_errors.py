"""The one error type of spec generation."""
from __future__ import annotations


class SpecGenError(ValueError):
    """A container create request cannot be turned into a runtime config.

    Raised before anything is created; the message is one line, in dockerd's words where dockerd has
    them (the HTTP layer answers it as a 400).
    """
