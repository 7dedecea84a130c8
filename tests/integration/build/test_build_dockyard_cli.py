"""`dockyard build` against dockyardd: the sample project and the CLI's options (needs root)."""
import json
import os
import re

import pytest

from conftest import containers, dy, image_id

pytestmark = pytest.mark.root


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def test_sample_project_and_options(d, sample, tmp_path):
    iid = tmp_path / "iid"
    p = dy(d, "build", "-t", "dy:1", "-t", "dy:2", "--build-arg", "VERSION=2.5", "--label", "built.by=test",
           "--label", "org.example.name=overridden", "--iidfile", str(iid), sample)
    assert p.stdout.startswith("Sending build context to Docker daemon  ")
    assert "Step 1/17 : ARG BASE=busybox\n" in p.stdout and "Successfully tagged dy:2\n" in p.stdout
    full = image_id(d, "dy:1")
    assert iid.read_text() == full and image_id(d, "dy:2") == full
    labels = json.loads(d.docker("image", "inspect", "-f", "{{json .Config.Labels}}", "dy:1").stdout)
    assert labels == {"org.example.name": "overridden", "built.by": "test"}
    out = d.docker("run", "--rm", "dy:1").stdout
    assert out.startswith("user=app dir=/home/app files=200 version 2.5 sum=")
    # quiet: just the ID; the same one, from the cache
    q = dy(d, "build", "-q", "--build-arg", "VERSION=2.5", "--label", "built.by=test",
           "--label", "org.example.name=overridden", sample)
    assert q.stdout == full + "\n" and q.stderr == ""
    assert containers(d) == []


def test_dockerfile_outside_the_context_and_from_stdin(d, tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    write(ctx / "data.txt", "data\n")
    write(tmp_path / "Other.Dockerfile", "FROM busybox\nCOPY . /c/\nRUN ls -A /c; cat /c/data.txt\n")
    out = dy(d, "build", "--no-cache", "-f", str(tmp_path / "Other.Dockerfile"), str(ctx)).stdout
    assert "data.txt\ndata\n" in out and ".dockerfile." not in out   # the added Dockerfile is not in the context
    out = dy(d, "build", "--no-cache", "-f", "-", str(ctx),
             input="FROM busybox\nCOPY data.txt /\nRUN cat /data.txt\n").stdout
    assert "data\n" in out
    out = dy(d, "build", "--no-cache", "-", input="FROM busybox\nRUN echo from-stdin\n").stdout
    assert "from-stdin\n" in out


def test_target_builds_only_the_stages_it_needs(d, tmp_path):
    write(tmp_path / "Dockerfile", "FROM busybox AS base\nRUN echo base > /base\n"
                                   "FROM busybox AS broken\nRUN exit 9\n"
                                   "FROM base AS app\nRUN cat /base\n"
                                   "FROM broken\n")
    p = dy(d, "build", "--target", "app", "-t", "tgt:1", str(tmp_path))
    assert "exit 9" not in p.stdout and "Step 4/4 : RUN cat /base\n" in p.stdout
    assert d.docker("run", "--rm", "tgt:1", "cat", "/base").stdout == "base\n"
    p = dy(d, "build", str(tmp_path), check=False)
    assert p.returncode == 9 and "returned a non-zero code: 9" in p.stderr
    p = dy(d, "build", "--target", "nope", str(tmp_path), check=False)
    assert p.returncode == 1 and "failed to reach build target nope in Dockerfile" in p.stderr


def test_network_modes(d, tmp_path):
    write(tmp_path / "Dockerfile", "FROM busybox\nRUN ls /sys/class/net | tr '\\n' ' '; echo\n")
    none = dy(d, "build", "--no-cache", "--network", "none", str(tmp_path)).stdout
    assert re.search(r"^lo $", none, re.M)
    host = dy(d, "build", "--no-cache", "--network", "host", str(tmp_path)).stdout
    host_ifaces = " ".join(sorted(os.listdir("/sys/class/net"))) + " "
    assert host_ifaces in host
    p = dy(d, "build", "--network", "container:x", str(tmp_path), check=False)
    assert p.returncode == 1 and "network mode 'container:x'" in p.stderr


def test_bad_input_from_the_cli(d, tmp_path):
    write(tmp_path / "Dockerfile", "FROM busybox\n")
    p = dy(d, "build", "-t", "Not:Valid", str(tmp_path), check=False)
    assert p.returncode != 0 and 'invalid argument "Not:Valid" for "-t, --tag" flag' in p.stderr
    p = dy(d, "build", str(tmp_path / "missing"), check=False)
    assert p.returncode != 0 and "unable to prepare context" in p.stderr
    write(tmp_path / "Dockerfile", "FROM busybox\nCOPY <<EOF\n")
    p = dy(d, "build", str(tmp_path), check=False)
    assert p.returncode == 1 and "line 2 of Dockerfile" in p.stderr
