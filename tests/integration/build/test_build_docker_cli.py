"""The real Docker CLI's classic builder (DOCKER_BUILDKIT=0 docker build) against dockyardd: the
sample project, the cache, reproducible images, and bad input (needs root)."""
import hashlib
import os
import re
import time

import pytest

from conftest import containers, docker_build, image_id

pytestmark = pytest.mark.root

EXPECTED_RUN = "user=app dir=/home/app files=200 version 2.5 sum={sum} arg={arg}\n"


def expected_sum(sample) -> str:
    data = b"".join(open(os.path.join(sample, "src", f"f{i:03d}.txt"), "rb").read() for i in range(200))
    return hashlib.md5(data).hexdigest()


def step_blocks(out: str) -> dict[str, str]:
    """instruction text -> what the builder printed for that step"""
    blocks = re.split(r"^Step \d+/\d+ : ", out, flags=re.M)[1:]
    return {b.split("\n", 1)[0]: b for b in blocks}


def test_sample_project_builds_runs_and_caches(d, sample):
    p = docker_build(d, "-t", "sample:1", "-t", "sample:latest", "--build-arg", "VERSION=2.5", sample)
    out = p.stdout
    steps = re.findall(r"^Step (\d+)/(\d+) : (.*)$", out, re.M)
    assert [s[0] for s in steps] == [str(i) for i in range(1, 18)] and steps[0][1] == "17"
    assert steps[0][2] == "ARG BASE=busybox" and steps[1][2] == "FROM ${BASE} AS build"
    assert re.search(r"^ ---> Running in [0-9a-f]{12}$", out, re.M)
    assert re.search(r"^Removing intermediate container [0-9a-f]{12}$", out, re.M)
    built = re.search(r"^Successfully built ([0-9a-f]{12})$", out, re.M).group(1)
    assert "Successfully tagged sample:1\nSuccessfully tagged sample:latest\n" in out
    full = image_id(d, "sample:1")
    assert full.startswith("sha256:" + built) and image_id(d, "sample:latest") == full
    sum_ = expected_sum(sample)
    assert d.docker("run", "--rm", "sample:1").stdout == EXPECTED_RUN.format(sum=sum_, arg="default-arg")
    assert d.docker("run", "--rm", "sample:1", "given").stdout == EXPECTED_RUN.format(sum=sum_, arg="given")
    cfg = d.docker("image", "inspect", "-f", "{{json .Config.Labels}} {{.Config.User}} {{.Config.WorkingDir}}",
                   "sample:1").stdout.strip()
    assert cfg == '{"org.example.name":"sample"} app /home/app'
    assert containers(d) == [], "build containers must be gone"

    # an unchanged rebuild: every step from the cache, no container, the same image
    before = sorted(d.docker("images", "-aq").stdout.split())
    again = docker_build(d, "-t", "sample:1", "--build-arg", "VERSION=2.5", sample).stdout
    for text, block in step_blocks(again).items():
        if not text.startswith(("FROM", "ARG BASE")):
            assert " ---> Using cache\n" in block, text
    assert "Running in" not in again and f"Successfully built {built}" in again
    assert sorted(d.docker("images", "-aq").stdout.split()) == before

    # one copied file changes: the steps before its COPY come from the cache, the rest are made again
    with open(os.path.join(sample, "src", "f100.txt"), "a") as f:
        f.write("changed\n")
    third = docker_build(d, "-t", "sample:2", "--build-arg", "VERSION=2.5", sample).stdout
    cached = {k: " ---> Using cache" in v for k, v in step_blocks(third).items()}
    assert cached["WORKDIR $APP_HOME"] and cached["ENV APP_HOME=/opt/app"]
    assert not cached["COPY src/ ./src/"] and not cached["RUN cat src/*.txt | md5sum | cut -c1-32 > sum.txt"]
    assert cached["LABEL org.example.name=sample"]
    assert cached["RUN echo app:x:1000:1000::/home/app:/bin/sh >> /etc/passwd && echo app:x:1000: >> /etc/group"]
    assert not cached["COPY --from=build /opt/app/count.txt /opt/app/version.txt /opt/app/sum.txt ./"]
    assert d.docker("run", "--rm", "sample:2").stdout == EXPECTED_RUN.format(sum=expected_sum(sample),
                                                                              arg="default-arg")


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def test_dockerignored_files_are_not_in_the_context(d, sample):
    write(os.path.join(sample, "Dockerfile"), "FROM busybox\nCOPY . /ctx/\nRUN ls -a /ctx | tr '\\n' ' '; echo\n")
    out = docker_build(d, "--no-cache", sample).stdout
    assert ". .. .dockerignore Dockerfile entry.sh src \n" in out
    write(os.path.join(sample, "Dockerfile"), "FROM busybox\nCOPY src/skip.tmp /\n")
    p = docker_build(d, sample, check=False)
    assert p.returncode == 1
    assert ("COPY failed: file not found in build context or excluded by .dockerignore: "
            "stat src/skip.tmp: file does not exist") in p.stderr


def test_reproducible_with_source_date_epoch(d, tmp_path):
    (tmp_path / "src").mkdir()
    for i in range(5):
        write(tmp_path / "src" / f"{i}.txt", f"{i}\n")
    write(tmp_path / "Dockerfile", "FROM busybox\nARG V\nWORKDIR /app\nCOPY src/ ./\n"
                                   "RUN touch /app/made && mkdir -p /etc/x && echo $V > /etc/x/v\nENV V=$V\n")
    args = ["--no-cache", "-q", "--build-arg", "V=3", str(tmp_path)]
    epoch = ["--build-arg", "SOURCE_DATE_EPOCH=1700000000"]
    first = docker_build(d, *epoch, *args).stdout.strip()
    later = time.time() + 100
    os.utime(tmp_path / "src" / "1.txt", (later, later))   # newer than SOURCE_DATE_EPOCH: clamped
    second = docker_build(d, *epoch, *args).stdout.strip()
    assert first == second and first.startswith("sha256:")
    assert d.docker("image", "inspect", "-f", "{{.Created}}", first).stdout.strip() == "2023-11-14T22:13:20Z"
    assert docker_build(d, *args).stdout.strip() != first


def test_dockerfile_outside_the_context_and_from_stdin(d, tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    write(ctx / "a.txt", "in context\n")
    write(tmp_path / "Other.df", "FROM busybox\nCOPY a.txt /\nRUN cat /a.txt\n")
    assert "in context\n" in docker_build(d, "-f", str(tmp_path / "Other.df"), str(ctx)).stdout
    assert "from-stdin\n" in docker_build(d, "-", input="FROM busybox\nRUN echo from-stdin\n").stdout


def test_syntax_error_names_file_and_line(d, tmp_path):
    write(tmp_path / "Dockerfile", "FROM busybox\nRUN true\nFORM x\n")
    p = docker_build(d, str(tmp_path), check=False)
    assert p.returncode == 1
    assert ("Error response from daemon: dockerfile parse error on line 3 of Dockerfile: unknown instruction: FORM"
            in p.stderr)


def test_failing_run_reports_code_and_output_and_leaves_nothing(d, tmp_path):
    write(tmp_path / "Dockerfile", "FROM busybox\nENV X=1\nRUN echo to-out; echo to-err >&2; exit 3\n")
    images_before = set(d.docker("images", "-aq").stdout.split())
    p = docker_build(d, "-t", "broken:1", str(tmp_path), check=False)
    assert p.returncode == 3
    assert "to-out\n" in p.stdout and "to-err\n" in p.stdout
    assert "The command '/bin/sh -c echo to-out; echo to-err >&2; exit 3' returned a non-zero code: 3" in p.stderr
    assert d.docker("images", "-q", "broken:1").stdout.strip() == ""
    assert containers(d) == []
    new = set(d.docker("images", "-aq").stdout.split()) - images_before
    assert len(new) <= 1   # at most the ENV step's image (the cache); nothing of the failed step


@pytest.mark.parametrize("dockerfile,message", [
    ("FROM busybox\nCOPY missing.txt /\n", "COPY failed: file not found in build context or excluded by "
                                            ".dockerignore: stat missing.txt: file does not exist"),
    ("FROM busybox\nCOPY ../outside.txt /\n", "COPY failed: forbidden path outside the build context: ../outside.txt"),
    ("FROM busybox\nCOPY hostfile /\n", "stat hostfile: file does not exist"),
    ("FROM busybox\nCOPY linkdir/passwd /\n", "stat linkdir/passwd: file does not exist"),
    ("FROM busybox\nCOPY a.txt b.txt /dst\n", "When using COPY with more than one source file, the destination "
                                               "must be a directory and end with a /"),
])
def test_copy_refusals(d, tmp_path, dockerfile, message):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    write(tmp_path / "outside.txt", "outside")
    write(ctx / "a.txt", "a")
    write(ctx / "b.txt", "b")
    os.symlink("/etc/passwd", ctx / "hostfile")
    os.symlink("/etc", ctx / "linkdir")
    write(ctx / "Dockerfile", dockerfile)
    p = docker_build(d, str(ctx), check=False)
    assert p.returncode == 1 and message in p.stderr, p.stderr


def test_symlinks_in_the_context_are_copied_as_links(d, tmp_path):
    ctx = tmp_path / "ctx"
    (ctx / "dir").mkdir(parents=True)
    os.symlink("/etc/shadow", ctx / "dir" / "shadow-link")
    write(ctx / "Dockerfile", "FROM busybox\nCOPY dir /copied/\n")
    docker_build(d, "-t", "links:1", str(ctx))
    assert d.docker("run", "--rm", "links:1", "readlink", "/copied/shadow-link").stdout == "/etc/shadow\n"
    leaked = d.docker("run", "--rm", "links:1", "cat", "/copied/shadow-link", check=False).stdout
    assert leaked != open("/etc/shadow").read()
