"""A private dockyardd (with the offline busybox image) per test module, the sample project, and
helpers that run `docker build` (classic builder) and `dockyard build` against it."""
import os
import shutil
import subprocess
import sys

import pytest

from dockyardd_support import Dockyardd

DOCKYARD = os.path.join(os.path.dirname(sys.executable), "dockyard")

SAMPLE_DOCKERFILE = """\
# the sample project: two stages, ARG/ENV, a heredoc, USER and WORKDIR, 200 copied files
ARG BASE=busybox
FROM ${BASE} AS build
ARG VERSION=1.0
ENV APP_HOME=/opt/app
WORKDIR $APP_HOME
COPY src/ ./src/
RUN <<EOF
set -e
ls src | wc -l > count.txt
echo "version $VERSION" > version.txt
EOF
RUN cat src/*.txt | md5sum | cut -c1-32 > sum.txt

FROM busybox
LABEL org.example.name=sample
RUN echo app:x:1000:1000::/home/app:/bin/sh >> /etc/passwd && echo app:x:1000: >> /etc/group
USER app
WORKDIR /home/app
COPY --from=build /opt/app/count.txt /opt/app/version.txt /opt/app/sum.txt ./
COPY --chown=app:app entry.sh /usr/local/bin/entry.sh
ENTRYPOINT ["/usr/local/bin/entry.sh"]
CMD ["default-arg"]
"""

ENTRY = """#!/bin/sh
echo "user=$(whoami) dir=$(pwd) files=$(cat count.txt) $(cat version.txt) sum=$(cat sum.txt) arg=$1"
"""


def write_sample(path, files: int = 200):
    os.makedirs(os.path.join(path, "src"), exist_ok=True)
    for i in range(files):
        with open(os.path.join(path, "src", f"f{i:03d}.txt"), "w") as f:
            f.write(f"file {i}\n")
    with open(os.path.join(path, "src", "skip.tmp"), "w") as f:
        f.write("ignored by .dockerignore\n")
    with open(os.path.join(path, "Dockerfile"), "w") as f:
        f.write(SAMPLE_DOCKERFILE)
    with open(os.path.join(path, "entry.sh"), "w") as f:
        f.write(ENTRY)
    os.chmod(os.path.join(path, "entry.sh"), 0o755)
    with open(os.path.join(path, ".dockerignore"), "w") as f:
        f.write("**/*.tmp\nsecret.txt\n")
    with open(os.path.join(path, "secret.txt"), "w") as f:
        f.write("never sent\n")
    return path


@pytest.fixture(scope="module")
def d():
    if os.geteuid() != 0:
        pytest.skip("needs root: dockyardd runs real containers")
    daemon = Dockyardd()
    try:
        daemon.start()
        daemon.load_busybox()
        yield daemon
    finally:
        daemon.cleanup()


@pytest.fixture
def sample(tmp_path):
    return write_sample(str(tmp_path / "sample"))


def docker_build(d, *args, env=None, check=True, cwd=None, input=None, timeout=120):
    """The real Docker CLI with the classic builder."""
    if shutil.which("docker") is None:
        pytest.skip("the docker CLI is not on PATH")
    e = dict(d.env, DOCKER_BUILDKIT="0")
    e.update(env or {})
    p = subprocess.run(["docker", "build", *args], env=e, capture_output=True, text=True, cwd=cwd, input=input,
                       timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"docker build {' '.join(args)} exited {p.returncode}\n{p.stdout}\n{p.stderr}\n"
                             f"--- daemon log ---\n{d.log()[-3000:]}")
    return p


def dy(d, *args, env=None, check=True, cwd=None, input=None, timeout=120):
    """Our CLI."""
    e = dict(d.env)
    e.update(env or {})
    p = subprocess.run([DOCKYARD, *args], env=e, capture_output=True, text=True, cwd=cwd, input=input,
                       timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"dockyard {' '.join(args)} exited {p.returncode}\n{p.stdout}\n{p.stderr}\n"
                             f"--- daemon log ---\n{d.log()[-3000:]}")
    return p


def image_id(d, ref: str) -> str:
    return d.docker("image", "inspect", "-f", "{{.Id}}", ref).stdout.strip()


def containers(d) -> list[str]:
    return d.docker("ps", "-aq").stdout.split()
