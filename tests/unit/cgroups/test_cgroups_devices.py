"""Device rules: validation, v1 lines, v1-semantics emulation, and the v2 eBPF
program, run here through a small interpreter of the instructions it uses."""
import struct

import pytest

from dockyard.cgroups import CgroupError
from dockyard.cgroups import devicefilter as df
from dockyard.cgroups.devices import Rule, emulate, v1_writes, validate
from dockyard.spec.runtime import DeviceRule as D


def run(prog, typ, access, major, minor):
    """Execute the program for one request; returns R0 (1 allow, 0 deny)."""
    ctx = struct.pack("<III", ({"c": df.DEV_CHAR, "b": df.DEV_BLOCK}[typ]) | (df.access_bits(access) << 16),
                      major, minor)
    r = [0] * 11
    pc, steps = 0, 0
    m32 = 0xFFFFFFFF
    while True:
        steps += 1
        assert steps < 10000
        code, dst, src, off, imm = prog[pc]
        pc += 1
        if code == df.LDXW:
            assert src == 1 and off in (0, 4, 8)
            r[dst] = struct.unpack_from("<I", ctx, off)[0]
        elif code == df.AND32_K:
            r[dst] = (r[dst] & imm) & m32
        elif code == df.RSH32_K:
            r[dst] = (r[dst] & m32) >> imm
        elif code == df.MOV32_K:
            r[dst] = imm & m32
        elif code == df.MOV32_X:
            r[dst] = r[src] & m32
        elif code == df.JNE_K:
            pc += off if r[dst] != imm else 0
        elif code == df.JEQ_K:
            pc += off if r[dst] == imm else 0
        elif code == df.JNE_X:
            pc += off if r[dst] != r[src] else 0
        elif code == df.EXIT:
            return r[0]
        else:
            raise AssertionError(f"unexpected opcode {code:#x}")


def prog_for(*rules):
    return df.build(emulate(validate(list(rules))))


def test_validate_normalises():
    assert validate([D(True, "c", 1, 3, "wr"), D(False, "c", -1, None, "m"), D(False, "a", 5, 2, "r")]) == [
        Rule(True, "c", 1, 3, "rw"), Rule(False, "c", None, None, "m"), Rule(False, "a", None, None, "rwm")]


@pytest.mark.parametrize("rule,msg", [
    (D(True, "a", None, None, "r"), "must not restrict"),
    (D(True, "a", 1, None, "rwm"), "must not restrict"),
    (D(True, "x"), "invalid type"),
    (D(True, "c", 1, 3, "rx"), "invalid access"),
    (D(True, "c", 1, 3, "rr"), "invalid access"),
    (D(True, "c", -2, 3), "invalid major"),
    (D(True, "c", 1, 2**31), "invalid minor"),
])
def test_validate_refuses(rule, msg):
    with pytest.raises(CgroupError, match=msg):
        validate([rule])


def test_v1_lines():
    assert v1_writes(validate([D(True, "c", 1, 3, "rwm"), D(False, "b", 8, None, "w"), D(True, "a")])) == [
        ("devices.deny", "a"), ("devices.allow", "c 1:3 rwm"), ("devices.deny", "b 8:* w"), ("devices.allow", "a")]


def test_emulate_like_the_v1_kernel():
    e = emulate(validate([D(False), D(True, "c", 1, 3, "rw"), D(True, "c", 1, 3, "m"), D(False, "c", 1, 3, "w"),
                          D(True, "c", 1, 5, "r"), D(False, "c", 1, 5, "r"), D(False, "c", None, None, "rwm")]))
    # a deny only takes access from the exception with the same type/major/minor
    assert not e.default_allow and e.exceptions == {("c", 1, 3): "rm"}
    e = emulate(validate([D(True), D(False, "b", 8, 0, "w"), D(True, "b", 8, 0, "w")]))
    assert e.default_allow and e.exceptions == {}
    e = emulate(validate([D(True, "c", 1, 3), D(True)]))
    assert e.default_allow and e.exceptions == {}


def test_deny_by_default_program():
    p = prog_for(D(False), D(True, "c", 1, 3, "rwm"), D(True, "c", 1, 5, "r"), D(True, "c", 136, None, "rw"),
                 D(True, "b", None, None, "m"))
    assert run(p, "c", "r", 1, 3) == 1 and run(p, "c", "rwm", 1, 3) == 1
    assert run(p, "c", "r", 1, 5) == 1
    assert run(p, "c", "w", 1, 5) == 0 and run(p, "c", "rw", 1, 5) == 0
    assert run(p, "c", "rw", 136, 7) == 1 and run(p, "c", "m", 136, 7) == 0
    assert run(p, "b", "m", 8, 0) == 1 and run(p, "b", "r", 8, 0) == 0
    assert run(p, "c", "r", 1, 8) == 0 and run(p, "b", "r", 1, 3) == 0


def test_allow_by_default_program():
    p = prog_for(D(True), D(False, "c", 1, 3, "w"), D(False, "b", 8, None, "rwm"))
    assert run(p, "c", "r", 1, 3) == 1
    assert run(p, "c", "w", 1, 3) == 0
    assert run(p, "c", "rw", 1, 3) == 0  # any denied bit denies the request
    assert run(p, "b", "r", 8, 4) == 0 and run(p, "b", "r", 9, 4) == 1
    assert run(p, "c", "rwm", 5, 1) == 1


def test_deny_all_and_allow_all():
    deny = prog_for(D(False))
    assert run(deny, "c", "r", 1, 3) == 0
    allow = prog_for(D(True, "c", 1, 3), D(True))
    assert run(allow, "b", "rwm", 8, 0) == 1
    assert run(prog_for(), "c", "r", 1, 3) == 0  # implicit deny all


def test_encoding():
    code = df.encode([df.insn(df.LDXW, 2, 1, 4), df.insn(df.JNE_K, 4, 0, -3, 136), df.insn(df.EXIT)])
    assert code == bytes([0x61, 0x12, 4, 0, 0, 0, 0, 0,
                          0x55, 0x04, 0xFD, 0xFF, 136, 0, 0, 0,
                          0x95, 0, 0, 0, 0, 0, 0, 0])
    p = prog_for(D(False), D(True, "c", 1, 3))
    assert len(df.encode(p)) == 8 * len(p)
    assert p[-2:] == [df.insn(df.MOV32_K, 0, imm=0), df.insn(df.EXIT)]
