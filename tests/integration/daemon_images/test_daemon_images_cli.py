"""The real Docker CLI against the image endpoints: what docker users see, and the exit codes."""
from __future__ import annotations

import io
import json
import tarfile


def out(p) -> str:
    return p.stdout.decode(errors="replace")


def err(p) -> str:
    return p.stderr.decode(errors="replace")


def test_pull_images_inspect_history(docker, remote, registry):
    ref, image_id = remote["busybox"]
    p = docker("pull", ref)
    assert p.returncode == 0, err(p)
    lines = out(p).splitlines()
    assert lines[0] == "latest: Pulling from lib/busybox"
    assert any(x.endswith(": Pull complete") for x in lines)
    assert lines[-3].startswith("Digest: sha256:")
    assert lines[-2:] == [f"Status: Downloaded newer image for {ref}", ref]
    p = docker("pull", ref)
    assert out(p).splitlines()[-2] == f"Status: Image is up to date for {ref}"
    p = docker("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}")
    listed = out(p).split()
    assert listed[:2] == [ref, image_id[7:19]] and listed[2].endswith("MB")
    p = docker("images", "--digests", "--format", "{{.Digest}}")
    assert out(p).strip().startswith("sha256:")
    p = docker("image", "inspect", "--format", "{{.Id}} {{index .RepoTags 0}} {{.Os}}", ref)
    assert out(p).split() == [image_id, ref, "linux"]
    p = docker("history", "--format", "{{.ID}}|{{.CreatedBy}}", ref)
    rows = out(p).splitlines()
    assert rows[0].startswith(image_id[7:19] + "|") and rows[-1].startswith("<missing>|")
    p = docker("pull", f"{registry.host}/nope/nothing:1")
    assert p.returncode == 1
    assert err(p).strip() == (f"Error response from daemon: manifest for {registry.host}/nope/nothing:1 "
                              "not found: manifest unknown: manifest unknown")
    p = docker("image", "inspect", "nope")
    assert p.returncode == 1 and "No such image: nope" in err(p)


def test_pull_all_tags(docker, remote, registry):
    ref, image_id = remote["busybox"]
    repo = f"{registry.host}/cli/alltags"
    for tag in ("x", "y"):
        docker("pull", ref)
        docker("tag", ref, f"{repo}:{tag}")
        assert docker("push", f"{repo}:{tag}").returncode == 0
    docker("rmi", f"{repo}:x", f"{repo}:y", ref)
    assert out(docker("images", "-q")) == ""
    p = docker("pull", "-a", repo)
    assert p.returncode == 0, err(p)
    lines = out(p).splitlines()
    assert lines[0] == "x: Pulling from cli/alltags" and "y: Pulling from cli/alltags" in lines
    assert lines[-2:] == [f"Status: Downloaded newer image for {repo}", repo]
    p = docker("images", "--format", "{{.Tag}}", repo)
    assert sorted(out(p).split()) == ["x", "y"]


def test_tag_rmi(docker, remote):
    ref, image_id = remote["busybox"]
    docker("pull", ref)
    assert docker("tag", ref, "mine:1").returncode == 0
    p = docker("rmi", "mine:1")
    assert (p.returncode, out(p)) == (0, "Untagged: mine:1\n")
    p = docker("rmi", "nope")
    assert p.returncode == 1 and err(p).strip() == "Error response from daemon: No such image: nope:latest"
    p = docker("rmi", ref)
    lines = out(p).splitlines()
    assert p.returncode == 0 and lines[0] == f"Untagged: {ref}" and f"Deleted: {image_id}" in lines
    assert out(docker("images", "-q")) == ""


def test_save_load_and_import(docker, remote, tmp_path):
    ref, image_id = remote["busybox"]
    docker("pull", ref)
    saved = docker("save", ref)
    assert saved.returncode == 0
    names = tarfile.open(fileobj=io.BytesIO(saved.stdout)).getnames()
    assert "manifest.json" in names
    docker("rmi", ref)
    p = docker("load", input=saved.stdout)
    assert (p.returncode, out(p)) == (0, f"Loaded image: {ref}\n"), err(p)
    p = docker("image", "inspect", "--format", "{{.Id}}", ref)
    assert out(p).strip() == image_id
    p = docker("load", input=b"not an archive" * 100)
    assert p.returncode == 1 and "invalid image archive" in err(p)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        ti = tarfile.TarInfo("hello")
        ti.size = 5
        tf.addfile(ti, io.BytesIO(b"world"))
    p = docker("import", "--change", "CMD [\"/hello\"]", "-", "imported:1", input=buf.getvalue())
    assert p.returncode == 0 and out(p).startswith("sha256:"), err(p)
    p = docker("image", "inspect", "--format", "{{json .Config.Cmd}}", "imported:1")
    assert json.loads(out(p)) == ["/hello"]


def test_push_login_prune_search(docker, remote, registry):
    ref, image_id = remote["busybox"]
    docker("pull", ref)
    target = f"{registry.host}/cli/pushed:3"
    docker("tag", ref, target)
    p = docker("push", target)
    assert p.returncode == 0, err(p)
    lines = out(p).splitlines()
    assert lines[0] == f"The push refers to repository [{registry.host}/cli/pushed]"
    assert lines[-1].startswith("3: digest: sha256:") and " size: " in lines[-1]
    p = docker("login", "-u", "anyone", "--password-stdin", registry.host, input=b"pw\n")
    assert p.returncode == 0 and "Login Succeeded" in out(p), err(p)
    p = docker("image", "prune", "-f")
    assert (p.returncode, out(p)) == (0, "Total reclaimed space: 0B\n")
    p = docker("search", "busybox")
    assert p.returncode == 1 and err(p).startswith("Error response from daemon: ")
