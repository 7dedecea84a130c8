"""Running nftables scripts: in-process through libnftables (ctypes), or the ``nft`` command.

libnftables is what ``nft`` itself is built on; calling it directly avoids a process per change
(about 1 ms instead of 5-10). Both take the same text and apply it as one atomic transaction.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import shutil
import subprocess
import threading

from .errors import NetworkError

NFT_CTX_DEFAULT = 0


class LibNftables:
    def __init__(self, path: str | None = None):
        name = path or ctypes.util.find_library("nftables") or "libnftables.so.1"
        try:
            lib = ctypes.CDLL(name, use_errno=True)
        except OSError as e:
            raise NetworkError(f"cannot load libnftables ({name}): {e}") from None
        lib.nft_ctx_new.restype = ctypes.c_void_p
        lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
        lib.nft_ctx_free.argtypes = [ctypes.c_void_p]
        lib.nft_ctx_buffer_output.argtypes = [ctypes.c_void_p]
        lib.nft_ctx_buffer_error.argtypes = [ctypes.c_void_p]
        lib.nft_ctx_get_output_buffer.restype = ctypes.c_char_p
        lib.nft_ctx_get_output_buffer.argtypes = [ctypes.c_void_p]
        lib.nft_ctx_get_error_buffer.restype = ctypes.c_char_p
        lib.nft_ctx_get_error_buffer.argtypes = [ctypes.c_void_p]
        lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.nft_run_cmd_from_buffer.restype = ctypes.c_int
        self.lib = lib
        self._lock = threading.Lock()

    def run(self, script: str) -> str:
        with self._lock:
            ctx = self.lib.nft_ctx_new(NFT_CTX_DEFAULT)
            if not ctx:
                raise NetworkError("nft_ctx_new failed")
            try:
                self.lib.nft_ctx_buffer_output(ctx)
                self.lib.nft_ctx_buffer_error(ctx)
                rc = self.lib.nft_run_cmd_from_buffer(ctx, script.encode())
                out = (self.lib.nft_ctx_get_output_buffer(ctx) or b"").decode("utf-8", "replace")
                err = (self.lib.nft_ctx_get_error_buffer(ctx) or b"").decode("utf-8", "replace")
            finally:
                self.lib.nft_ctx_free(ctx)
        if rc != 0:
            raise NetworkError(f"nftables: {_first_error(err)}")
        return out


class NftCommand:
    def __init__(self, binary: str | None = None):
        self.binary = binary or shutil.which("nft") or "/usr/sbin/nft"

    def run(self, script: str) -> str:
        try:
            p = subprocess.run([self.binary, "-f", "-"], input=script, capture_output=True, text=True, timeout=30)
        except FileNotFoundError:
            raise NetworkError(f"nftables: {self.binary} not found") from None
        if p.returncode != 0:
            raise NetworkError(f"nftables: {_first_error(p.stderr)}")
        return p.stdout


def _first_error(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return "failed"


def default() -> "LibNftables | NftCommand":
    try:
        return LibNftables()
    except NetworkError:
        return NftCommand()
