"""The cgroup v2 device filter: an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE)
built from the emulated v1 device state (see devices.emulate).

The kernel calls the program with struct bpf_cgroup_dev_ctx
{u32 access_type; u32 major; u32 minor}, access_type holding the device type
in its low 16 bits and the requested access in its high 16 bits; returning 1
allows, 0 denies. In deny-by-default mode an exception allows a request whose
access is a subset of the exception's; in allow-by-default mode an exception
denies a request that asks for any of its access bits.
"""
from __future__ import annotations

import struct

from .devices import Effective

# struct bpf_cgroup_dev_ctx values (include/uapi/linux/bpf.h)
DEV_BLOCK, DEV_CHAR = 1, 2
ACC_MKNOD, ACC_READ, ACC_WRITE = 1, 2, 4
_ACCESS_BITS = {"m": ACC_MKNOD, "r": ACC_READ, "w": ACC_WRITE}
_TYPE = {"b": DEV_BLOCK, "c": DEV_CHAR}

# opcodes
LDXW = 0x61       # BPF_LDX | BPF_MEM | BPF_W
AND32_K = 0x54    # BPF_ALU | BPF_AND | BPF_K
RSH32_K = 0x74    # BPF_ALU | BPF_RSH | BPF_K
MOV32_K = 0xB4    # BPF_ALU | BPF_MOV | BPF_K
MOV32_X = 0xBC    # BPF_ALU | BPF_MOV | BPF_X
JEQ_K = 0x15      # BPF_JMP | BPF_JEQ | BPF_K
JNE_K = 0x55      # BPF_JMP | BPF_JNE | BPF_K
JNE_X = 0x5D      # BPF_JMP | BPF_JNE | BPF_X
EXIT = 0x95       # BPF_JMP | BPF_EXIT

LICENSE = "Apache"


def insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> tuple[int, int, int, int, int]:
    return (code, dst, src, off, imm)


def access_bits(access: str) -> int:
    v = 0
    for c in access:
        v |= _ACCESS_BITS[c]
    return v


def build(eff: Effective) -> list[tuple[int, int, int, int, int]]:
    """The program as (code, dst, src, off, imm) tuples."""
    prog = [
        insn(LDXW, 2, 1, 0), insn(AND32_K, 2, imm=0xFFFF),  # r2 = type
        insn(LDXW, 3, 1, 0), insn(RSH32_K, 3, imm=16),      # r3 = requested access
        insn(LDXW, 4, 1, 4),                                 # r4 = major
        insn(LDXW, 5, 1, 8),                                 # r5 = minor
    ]
    verdict = 0 if eff.default_allow else 1
    all_bits = ACC_MKNOD | ACC_READ | ACC_WRITE
    for (typ, major, minor), access in sorted(eff.exceptions.items(), key=str):
        bits = access_bits(access)
        # jumps are patched to the end of the block (marked by off=None)
        block: list[list] = [[JNE_K, 2, 0, None, _TYPE[typ]]]
        if not eff.default_allow and bits != all_bits:
            # allow only if requested access is a subset: (r3 & bits) == r3
            block += [[MOV32_X, 1, 3, 0, 0], [AND32_K, 1, 0, 0, bits], [JNE_X, 1, 3, None, 0]]
        elif eff.default_allow and bits != all_bits:
            # deny if any requested bit is denied: (r3 & bits) != 0
            block += [[MOV32_X, 1, 3, 0, 0], [AND32_K, 1, 0, 0, bits], [JEQ_K, 1, 0, None, 0]]
        if major is not None:
            block.append([JNE_K, 4, 0, None, major])
        if minor is not None:
            block.append([JNE_K, 5, 0, None, minor])
        block += [[MOV32_K, 0, 0, 0, verdict], [EXIT, 0, 0, 0, 0]]
        for i, b in enumerate(block):
            if b[3] is None:
                b[3] = len(block) - i - 1
        prog += [tuple(b) for b in block]
    prog += [insn(MOV32_K, 0, imm=1 if eff.default_allow else 0), insn(EXIT)]
    return prog


def encode(prog) -> bytes:
    """struct bpf_insn array: u8 code, u8 dst:4|src:4, s16 off, s32 imm."""
    return b"".join(struct.pack("<BBhi", c, (s << 4) | d, o, i) for c, d, s, o, i in prog)
