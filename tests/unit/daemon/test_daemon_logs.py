"""json-file log reading: rotation order, filters, tail, follow across rotation."""
import asyncio
import json
import os

from dockyard.daemon.containers import logs


def line(t, stream, msg):
    return json.dumps({"log": msg, "stream": stream, "time": t}) + "\n"


def test_parse_time():
    assert logs.parse_time("1970-01-01T00:00:01.5Z") == 1_500_000_000
    assert logs.parse_time("1970-01-01T01:00:00+01:00") == 0
    assert logs.parse_time("2026-11-27T18:00:00.123456789Z") % 1_000_000_000 == 123456789
    assert logs.parse_api_time("10.25") == 10_250_000_000 and logs.parse_api_time("0") is None


def test_read_rotated_in_order_and_filters(tmp_path):
    p = str(tmp_path / "c-json.log")
    with open(p + ".2", "w") as f:
        f.write(line("1970-01-01T00:00:01Z", "stdout", "one\n"))
    with open(p + ".1", "w") as f:
        f.write(line("1970-01-01T00:00:02Z", "stderr", "two\n"))
    with open(p, "w") as f:
        f.write(line("1970-01-01T00:00:03Z", "stdout", "three\n"))
        f.write('{"log": "torn')
    es = list(logs.read_entries(p))
    assert [e[2] for e in es] == [b"one\n", b"two\n", b"three\n"]
    assert [e[2] for e in logs.select(es, stderr=False)] == [b"one\n", b"three\n"]
    assert [e[2] for e in logs.select(es, tail=2)] == [b"two\n", b"three\n"]
    assert logs.select(es, tail=0) == []
    assert [e[2] for e in logs.select(es, since=2_000_000_000, until=2_500_000_000)] == [b"two\n"]
    assert logs.render(es[1], timestamps=True, multiplexed=True) == \
        b"\x02\x00\x00\x00\x00\x00\x00\x19" + b"1970-01-01T00:00:02Z two\n"
    assert logs.render(es[0], timestamps=False, multiplexed=False) == b"one\n"


def test_follow_sees_appends_and_rotation(tmp_path):
    p = str(tmp_path / "c-json.log")
    with open(p, "w") as f:
        f.write(line("1970-01-01T00:00:01Z", "stdout", "old\n"))
    start = logs.current_size(p)
    state = {"running": True}

    async def writer():
        await asyncio.sleep(0.05)
        with open(p, "a") as f:
            f.write(line("1970-01-01T00:00:02Z", "stdout", "new1\n"))
        await asyncio.sleep(0.05)
        os.rename(p, p + ".1")  # rotation
        with open(p, "w") as f:
            f.write(line("1970-01-01T00:00:03Z", "stdout", "new2\n"))
        await asyncio.sleep(0.1)
        state["running"] = False

    async def main():
        w = asyncio.create_task(writer())
        got = [e[2] async for e in logs.follow(p, start, lambda: state["running"], interval=0.01)]
        await w
        return got

    assert asyncio.run(main()) == [b"new1\n", b"new2\n"]
