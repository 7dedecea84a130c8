import struct

import pytest

from dockyard.network import dnsmsg as M


def _query(name="web", qtype=M.A, qid=0x1234, edns=None):
    q = M.Message(id=qid, questions=[M.Question(name, qtype)])
    if edns:
        q.additional.append(M.Record("", M.OPT, edns, 0, b""))
    return q


def test_query_wire_format():
    data = M.encode(_query("web.net", M.A))
    assert data == (struct.pack("!6H", 0x1234, 0x0100, 1, 0, 0, 0) + b"\x03web\x03net\x00" + struct.pack("!HH", 1, 1))


def test_roundtrip_answers_with_compression():
    q = _query("web.net")
    r = M.reply_to(q, answers=[M.Record("web.net", M.A, M.IN, 600, "10.1.0.2"),
                               M.Record("web.net", M.AAAA, M.IN, 600, "fd00::2"),
                               M.Record("2.0.1.10.in-addr.arpa", M.PTR, M.IN, 60, "web.net")])
    data = M.encode(r)
    # the answers' names point back to the question's name
    assert data.count(b"\x03web\x03net\x00") == 1
    back = M.parse(data)
    assert back.id == 0x1234 and back.qr and back.aa and back.rd and back.ra and back.rcode == M.NOERROR
    assert [(a.name, a.rtype, a.ttl, a.data) for a in back.answers] == [
        ("web.net", M.A, 600, "10.1.0.2"), ("web.net", M.AAAA, 600, "fd00::2"),
        ("2.0.1.10.in-addr.arpa", M.PTR, 60, "web.net")]
    assert back.questions == [M.Question("web.net", M.A, M.IN)]


def test_flags():
    m = M.Message(id=1, qr=True, opcode=2, aa=True, tc=True, rd=False, ra=True, rcode=M.NXDOMAIN)
    assert m.flags == 0x8000 | (2 << 11) | 0x400 | 0x200 | 0x80 | 3
    back = M.parse(M.encode(m))
    got = (back.qr, back.opcode, back.aa, back.tc, back.rd, back.ra, back.rcode)
    assert got == (True, 2, True, True, False, True, 3)


def _hdr(qd=1, an=0):
    return struct.pack("!6H", 7, 0x0100, qd, an, 0, 0)


@pytest.mark.parametrize("data, msg", [
    (b"\x00\x01", "shorter than its header"),
    (_hdr() + b"\x03we", "past the end"),
    (_hdr() + b"\xc0\x0c" + b"\x00\x01\x00\x01", "point backwards"),          # points at itself
    (_hdr() + b"\x01a\xc0\x14\x00\x01\x00\x01\x01b\x00", "point backwards"),  # forward pointer
    (_hdr() + b"\x80abc", "unsupported label type"),
    (_hdr() + (b"\x3f" + b"a" * 63) * 5 + b"\x00\x00\x01\x00\x01", "longer than 255"),
    (_hdr() + b"\x01a\x00\x00\x01", "truncated"),
    (_hdr(qd=1, an=1) + b"\x01a\x00\x00\x01\x00\x01" + b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x10\x00\x09abc",
     "truncated"),
])
def test_hostile_messages_rejected(data, msg):
    with pytest.raises(M.DNSError, match=msg):
        M.parse(data)


def test_pointer_chain_limit():
    # "a" at offset 12, then pointers each pointing at the one before: a chain longer than allowed
    msg = bytearray(struct.pack("!6H", 7, 0, 0, 0, 0, 0) + b"\x01a\x00")
    prev = 12
    for _ in range(M.MAX_POINTERS + 1):
        here = len(msg)
        msg += struct.pack("!H", 0xC000 | prev)
        prev = here
    with pytest.raises(M.DNSError, match="too many compression pointers"):
        M._read_name(bytes(msg), prev)
    assert M._read_name(bytes(msg), 12 + 3 + 2 * 5) == ("a", 12 + 3 + 2 * 6)


def test_error_reply_keeps_id_and_opcode():
    out = M.error_reply(struct.pack("!6H", 0xBEEF, 0x0100, 9, 9, 9, 9) + b"garbage", M.FORMERR)
    m = M.parse(out)
    assert m.id == 0xBEEF and m.qr and m.rd and m.rcode == M.FORMERR and not m.questions
    assert M.error_reply(b"\x01", M.FORMERR) is None


def test_truncate_sets_tc_over_limit():
    q = _query("many")
    r = M.reply_to(q, answers=[M.Record("many", M.A, M.IN, 600, f"10.0.{i // 250}.{i % 250 + 1}") for i in range(60)])
    assert len(M.encode(r)) > 512
    short = M.parse(M.truncate(r, 512))
    assert short.tc and not short.answers and short.questions[0].name == "many"
    assert M.parse(M.truncate(r, 4096)).answers


def test_udp_limit_from_edns():
    assert M.udp_limit(_query()) == 512
    assert M.udp_limit(_query(edns=1232)) == 1232
    assert M.udp_limit(_query(edns=65000)) == 4096
    q = M.parse(M.encode(_query(edns=1232)))
    assert M.udp_limit(q) == 1232


def test_reverse_names():
    assert M.reverse_name("10.1.0.2") == "2.0.1.10.in-addr.arpa"
    assert M.from_reverse("2.0.1.10.in-addr.arpa.") == "10.1.0.2"
    assert M.from_reverse("2.0.1.in-addr.arpa") is None
    assert M.from_reverse("x.0.1.10.in-addr.arpa") is None
    assert M.from_reverse("example.com") is None


def test_bad_names_not_encoded():
    with pytest.raises(M.DNSError):
        M.encode(_query("a" * 64 + ".x"))
    with pytest.raises(M.DNSError):
        M.encode(_query("bad..name"))
    with pytest.raises(M.DNSError):
        M.encode(_query("é.x"))
