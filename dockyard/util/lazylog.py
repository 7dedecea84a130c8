"""``getLogger`` without importing ``logging`` until a message is actually logged
(``logging`` costs several milliseconds, which the runtime's start-up cannot spare)."""
from __future__ import annotations


class _LazyLogger:
    def __init__(self, name: str):
        self._name = name
        self._logger = None

    def __getattr__(self, attr):
        if self._logger is None:
            import logging
            self._logger = logging.getLogger(self._name)
        return getattr(self._logger, attr)


def getLogger(name: str) -> _LazyLogger:  # noqa: N802 (logging's name)
    return _LazyLogger(name)
