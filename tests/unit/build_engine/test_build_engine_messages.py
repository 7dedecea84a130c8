"""The classic builder's output stream, as dockerd writes it (see traces/t-build.txt)."""
from dockyard.build.engine.messages import Reporter
from dockyard.daemon.images import jsonmessage as jm


def run_steps(r: Reporter):
    r.step(1, 2, "FROM busybox")
    r.image("sha256:3f21d6db564e" + "0" * 52)
    r.step(2, 2, "RUN echo hi")
    r.running_in("45e795e67767" + "a" * 52)
    r.output(b"hi\n")
    r.removing("45e795e67767" + "a" * 52)
    r.image("sha256:1e39e6616704" + "1" * 52)
    r.success("sha256:1e39e6616704" + "1" * 52, ["research/built:1"])


def test_stream_lines_are_dockerds():
    out = []
    run_steps(Reporter(out.append))
    text = "".join(m.get("stream", "") for m in out)
    assert text == ("Step 1/2 : FROM busybox\n ---> 3f21d6db564e\nStep 2/2 : RUN echo hi\n"
                    " ---> Running in 45e795e67767\nhi\nRemoving intermediate container 45e795e67767\n"
                    " ---> 1e39e6616704\nSuccessfully built 1e39e6616704\nSuccessfully tagged research/built:1\n")
    aux = [m for m in out if "aux" in m]
    assert aux == [{"aux": {"ID": "sha256:1e39e6616704" + "1" * 52}}]
    assert jm.encode(aux[0]) == b'{"aux":{"ID":"sha256:1e39e6616704' + b"1" * 52 + b'"}}\r\n'
    assert out.index(aux[0]) < len(out) - 2   # the ID comes before "Successfully built"


def test_quiet_writes_only_the_id():
    out = []
    r = Reporter(out.append, quiet=True)
    run_steps(r)
    image = "sha256:1e39e6616704" + "1" * 52
    assert out == [{"aux": {"ID": image}}, {"stream": image + "\n"}]


def test_failure_sends_held_output_then_the_error_with_its_code():
    out = []
    r = Reporter(out.append, quiet=True)
    r.step(1, 1, "RUN false")
    assert r.holding and not r.started
    err = "The command '/bin/sh -c false' returned a non-zero code: 1"
    msgs = r.failure(err, 1)
    assert msgs[0] == {"stream": "Step 1/1 : RUN false\n"}
    assert msgs[-1] == {"errorDetail": {"code": 1, "message": err}, "error": err}
    assert not r.holding


def test_output_bytes_are_decoded_leniently():
    out = []
    Reporter(out.append).output(b"caf\xc3\xa9 \xff\n")
    assert out == [{"stream": "café \ufffd\n"}]
