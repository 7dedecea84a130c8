"""DNS messages (RFC 1035): parsing and serialisation of what the embedded server needs.

Parsing is defensive (every read is bounds-checked, compression pointers must point backwards
and are limited in number, names are at most 255 bytes): queries come from containers.
"""
from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, field

A, NS, CNAME, SOA, PTR, MX, TXT, AAAA, SRV, OPT, ANY = 1, 2, 5, 6, 12, 15, 16, 28, 33, 41, 255
IN = 1
NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED = 0, 1, 2, 3, 4, 5
QUERY = 0
MAX_NAME = 255
MAX_POINTERS = 64


class DNSError(ValueError):
    """A malformed message."""


@dataclass
class Question:
    name: str
    qtype: int
    qclass: int = IN


@dataclass
class Record:
    name: str
    rtype: int
    rclass: int = IN
    ttl: int = 600
    data: object = b""    # A/AAAA: address text; PTR/CNAME/NS: a name; otherwise raw bytes


@dataclass
class Message:
    id: int = 0
    qr: bool = False
    opcode: int = QUERY
    aa: bool = False
    tc: bool = False
    rd: bool = True
    ra: bool = False
    rcode: int = NOERROR
    questions: list = field(default_factory=list)
    answers: list = field(default_factory=list)
    authority: list = field(default_factory=list)
    additional: list = field(default_factory=list)

    @property
    def flags(self) -> int:
        return ((self.qr << 15) | ((self.opcode & 0xF) << 11) | (self.aa << 10) | (self.tc << 9)
                | (self.rd << 8) | (self.ra << 7) | (self.rcode & 0xF))


# --- parsing ---------------------------------------------------------------------------------

def _read_name(buf: bytes, off: int) -> tuple[str, int]:
    labels: list[str] = []
    total = 0
    end = None           # where parsing continues after the first pointer
    jumps = 0
    while True:
        if off >= len(buf):
            raise DNSError("name runs past the end of the message")
        n = buf[off]
        if n & 0xC0 == 0xC0:
            if off + 1 >= len(buf):
                raise DNSError("truncated compression pointer")
            ptr = ((n & 0x3F) << 8) | buf[off + 1]
            if ptr >= off:
                raise DNSError("compression pointer does not point backwards")
            jumps += 1
            if jumps > MAX_POINTERS:
                raise DNSError("too many compression pointers")
            if end is None:
                end = off + 2
            off = ptr
            continue
        if n & 0xC0:
            raise DNSError("unsupported label type")
        off += 1
        if n == 0:
            break
        if off + n > len(buf):
            raise DNSError("label runs past the end of the message")
        total += n + 1
        if total > MAX_NAME:
            raise DNSError("name longer than 255 bytes")
        labels.append(buf[off: off + n].decode("ascii", "replace"))
        off += n
    return ".".join(labels), (end if end is not None else off)


def _need(buf: bytes, off: int, n: int) -> None:
    if off + n > len(buf):
        raise DNSError("message truncated")


def _rdata(buf: bytes, rtype: int, off: int, length: int):
    raw = buf[off: off + length]
    if rtype == A and length == 4:
        return str(ipaddress.IPv4Address(raw))
    if rtype == AAAA and length == 16:
        return str(ipaddress.IPv6Address(raw))
    if rtype in (PTR, CNAME, NS):
        name, _ = _read_name(buf, off)
        return name
    return raw


def _read_record(buf: bytes, off: int) -> tuple[Record, int]:
    name, off = _read_name(buf, off)
    _need(buf, off, 10)
    rtype, rclass, ttl, length = struct.unpack_from("!HHIH", buf, off)
    off += 10
    _need(buf, off, length)
    return Record(name, rtype, rclass, ttl, _rdata(buf, rtype, off, length)), off + length


def parse(buf: bytes) -> Message:
    if len(buf) < 12:
        raise DNSError("message shorter than its header")
    mid, flags, qd, an, ns, ar = struct.unpack_from("!6H", buf, 0)
    m = Message(id=mid, qr=bool(flags >> 15), opcode=(flags >> 11) & 0xF, aa=bool(flags & 0x400),
                tc=bool(flags & 0x200), rd=bool(flags & 0x100), ra=bool(flags & 0x80), rcode=flags & 0xF)
    off = 12
    for _ in range(qd):
        name, off = _read_name(buf, off)
        _need(buf, off, 4)
        qtype, qclass = struct.unpack_from("!HH", buf, off)
        off += 4
        m.questions.append(Question(name, qtype, qclass))
    for count, section in ((an, m.answers), (ns, m.authority), (ar, m.additional)):
        for _ in range(count):
            rec, off = _read_record(buf, off)
            section.append(rec)
    return m


def peek_header(buf: bytes) -> tuple[int, int] | None:
    """(id, flags) of something that may not parse further; None if even the header is missing."""
    if len(buf) < 12:
        return None
    return struct.unpack_from("!HH", buf, 0)


# --- serialisation ---------------------------------------------------------------------------

class _Writer:
    def __init__(self):
        self.buf = bytearray()
        self.names: dict[str, int] = {}

    def name(self, name: str, compress: bool = True) -> None:
        name = name.rstrip(".")
        labels = name.split(".") if name else []
        for i in range(len(labels)):
            suffix = ".".join(labels[i:]).lower()
            if compress and suffix in self.names:
                self.buf += struct.pack("!H", 0xC000 | self.names[suffix])
                return
            if compress and len(self.buf) < 0x3FFF:
                self.names[suffix] = len(self.buf)
            try:
                raw = labels[i].encode("ascii")
            except UnicodeEncodeError:
                raise DNSError(f"non-ASCII name {name!r}") from None
            if not 1 <= len(raw) <= 63:
                raise DNSError(f"bad label in name {name!r}")
            self.buf.append(len(raw))
            self.buf += raw
        self.buf.append(0)

    def record(self, r: Record) -> None:
        self.name(r.name)
        self.buf += struct.pack("!HHI", r.rtype, r.rclass, r.ttl)
        at = len(self.buf)
        self.buf += b"\0\0"
        if r.rtype == A and isinstance(r.data, str):
            self.buf += ipaddress.IPv4Address(r.data).packed
        elif r.rtype == AAAA and isinstance(r.data, str):
            self.buf += ipaddress.IPv6Address(r.data).packed
        elif r.rtype in (PTR, CNAME, NS) and isinstance(r.data, str):
            self.name(r.data)
        else:
            self.buf += bytes(r.data)
        struct.pack_into("!H", self.buf, at, len(self.buf) - at - 2)


def encode(m: Message) -> bytes:
    w = _Writer()
    w.buf += struct.pack("!6H", m.id, m.flags, len(m.questions), len(m.answers), len(m.authority),
                         len(m.additional))
    for q in m.questions:
        w.name(q.name)
        w.buf += struct.pack("!HH", q.qtype, q.qclass)
    for section in (m.answers, m.authority, m.additional):
        for r in section:
            w.record(r)
    total = len(m.answers) + len(m.authority) + len(m.additional)
    if total and len(w.buf) > 0xFFFF:
        raise DNSError("message too long")
    return bytes(w.buf)


def reply_to(q: Message, rcode: int = NOERROR, answers=(), aa: bool = True) -> Message:
    """A response to query ``q`` (its id, question and RD bit)."""
    return Message(id=q.id, qr=True, opcode=q.opcode, aa=aa, rd=q.rd, ra=True, rcode=rcode,
                   questions=list(q.questions[:1]), answers=list(answers))


def error_reply(buf: bytes, rcode: int) -> bytes | None:
    """A bare error answer for a query that could not be parsed (None: not even a header)."""
    head = peek_header(buf)
    if head is None:
        return None
    mid, flags = head
    return struct.pack("!6H", mid, 0x8000 | (flags & 0x7900) | 0x80 | rcode, 0, 0, 0, 0)


def truncate(m: Message, limit: int) -> bytes:
    """``m`` encoded; if longer than ``limit`` (UDP), without records and with TC set."""
    data = encode(m)
    if len(data) <= limit:
        return data
    short = Message(id=m.id, qr=True, opcode=m.opcode, aa=m.aa, tc=True, rd=m.rd, ra=m.ra,
                    rcode=m.rcode, questions=m.questions)
    return encode(short)


def udp_limit(q: Message) -> int:
    """The UDP size the client accepts: 512, or its EDNS(0) OPT record's payload size."""
    for r in q.additional:
        if r.rtype == OPT:
            return max(512, min(r.rclass, 4096))
    return 512


def reverse_name(ip: str) -> str:
    return ipaddress.ip_address(ip).reverse_pointer


def from_reverse(name: str) -> str | None:
    """The IPv4 address of ``d.c.b.a.in-addr.arpa`` (None for other names)."""
    labels = name.rstrip(".").lower().split(".")
    if len(labels) != 6 or labels[-2:] != ["in-addr", "arpa"]:
        return None
    try:
        return str(ipaddress.IPv4Address(".".join(reversed(labels[:4]))))
    except ValueError:
        return None
