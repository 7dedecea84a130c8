"""Command, environment, working directory, user, tty and stop signal of the generated process."""
from __future__ import annotations

import signal

import pytest

from dockyard.daemon.containers.specgen import ImageDefaults, generate
from dockyard.daemon.containers.specgen_errors import SpecGenError
from dockyard.daemon.containers.specgen_process import parse_signal, process_env
from specgen_helpers import CID, base_request

IMG = ImageDefaults(env=["PATH=/usr/bin:/bin", "A=1", "B=2"], entrypoint=["/bin/echo", "ep"], cmd=["c1"],
                    working_dir="/w", user="bob", volumes=[], stop_signal="SIGUSR2")


def run(make_inputs, image=IMG, **changes):
    return generate(base_request(**changes), make_inputs(image))


@pytest.mark.parametrize("entry, cmd, args", [
    (None, None, ["/bin/echo", "ep", "c1"]),              # image entrypoint + image cmd
    (None, ["x", "y"], ["/bin/echo", "ep", "x", "y"]),    # user cmd replaces the image's
    (["/bin/ls"], None, ["/bin/ls"]),                     # a new entrypoint drops the image's cmd
    (["/bin/ls"], ["-l"], ["/bin/ls", "-l"]),
    ([""], ["sleep", "1"], ["sleep", "1"]),               # --entrypoint "" clears the entrypoint
    ("/bin/sh -c", None, ["/bin/sh -c"]),                 # a bare string is one argument (strslice)
    ([], None, ["c1"]),                                   # [] (not null): no entrypoint, image cmd
])
def test_entrypoint_and_cmd(make_inputs, entry, cmd, args):
    assert run(make_inputs, Entrypoint=entry, Cmd=cmd).config["process"]["args"] == args


def test_no_command(make_inputs):
    with pytest.raises(SpecGenError, match="^No command specified$"):
        run(make_inputs, Entrypoint=[""], Cmd=None)
    with pytest.raises(SpecGenError, match="^No command specified$"):
        run(make_inputs, image=ImageDefaults(), Cmd=None)


def test_env_merge(make_inputs):
    g = run(make_inputs, Env=["B=3", "C=4", "A", "C=5"], Cmd=["true"])
    # user's first, then the image's the user did not name; "A" unsets A; the last C wins
    assert g.env == ["B=3", "C=4", "A", "C=5", "PATH=/usr/bin:/bin"]
    assert g.config["process"]["env"] == ["PATH=/usr/bin:/bin", f"HOSTNAME={CID[:12]}", "B=3", "C=5"]


def test_env_defaults_and_tty(make_inputs):
    env = run(make_inputs, image=ImageDefaults(cmd=["sh"]), Tty=True).config["process"]["env"]
    assert env == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", f"HOSTNAME={CID[:12]}",
                   "TERM=xterm"]
    assert process_env(["TERM=vt100", "HOSTNAME=x", "PATH"], "h", True) == ["HOSTNAME=x", "TERM=vt100"]


@pytest.mark.parametrize("env", [["=x"], [""], ["A=1", "=2"]])
def test_env_errors(make_inputs, env):
    with pytest.raises(SpecGenError, match="invalid environment variable"):
        run(make_inputs, Env=env)


def test_working_dir(make_inputs):
    assert run(make_inputs).config["process"]["cwd"] == "/w"
    assert run(make_inputs, WorkingDir="/tmp//work/../x/").config["process"]["cwd"] == "/tmp/x"
    assert run(make_inputs, image=ImageDefaults(cmd=["sh"])).config["process"]["cwd"] == "/"
    assert run(make_inputs, image=ImageDefaults(cmd=["sh"], working_dir="rel")).config["process"]["cwd"] == "/rel"
    with pytest.raises(SpecGenError, match="the working directory 'rel' is invalid, it needs to be an absolute path"):
        run(make_inputs, WorkingDir="rel")


def test_user_from_image_and_request(make_inputs):
    u = run(make_inputs).config["process"]["user"]
    assert u == {"uid": 1000, "gid": 100, "additionalGids": [100, 100]}
    u = run(make_inputs, User="root", HostConfig={"GroupAdd": ["tape"]}).config["process"]["user"]
    assert u == {"uid": 0, "gid": 0, "additionalGids": [0, 0, 1, 2, 3, 4, 6, 10, 11, 26, 27, 26]}
    with pytest.raises(SpecGenError, match="^unable to find user nosuch: no matching entries in passwd file$"):
        run(make_inputs, User="nosuch")


def test_terminal_and_console_size(make_inputs):
    p = run(make_inputs, Tty=True, HostConfig={"ConsoleSize": [40, 120]}).config["process"]
    assert p["terminal"] is True and p["consoleSize"] == {"height": 40, "width": 120}
    p = run(make_inputs, Tty=False, OpenStdin=True).config["process"]
    assert "terminal" not in p and "consoleSize" not in p


def test_stop_signal_and_labels_stay_out_of_the_spec(make_inputs):
    plain = run(make_inputs).config
    g = run(make_inputs, Labels={"a": "b"}, StopSignal="SIGKILL", StopTimeout=3)
    assert g.config == plain
    assert g.stop_signal == "SIGKILL"
    assert run(make_inputs).stop_signal == "SIGUSR2"  # the image's
    with pytest.raises(SpecGenError, match="Invalid signal: SIGNOPE"):
        run(make_inputs, StopSignal="SIGNOPE")


@pytest.mark.parametrize("text, num", [("SIGTERM", 15), ("term", 15), ("9", 9), ("SIGRTMIN+3", signal.SIGRTMIN + 3),
                                       ("RTMAX", signal.SIGRTMAX)])
def test_parse_signal(text, num):
    assert parse_signal(text) == num


@pytest.mark.parametrize("text", ["0", "999", "SIGRTMAX+1", "SIGFOO", "SIGRTMIN+x"])
def test_parse_signal_errors(text):
    with pytest.raises(SpecGenError, match="Invalid signal"):
        parse_signal(text)


def test_merged_config_for_inspect(make_inputs):
    g = run(make_inputs, Cmd=["x"])
    assert (g.entrypoint, g.cmd, g.working_dir, g.user, g.hostname) == \
        (["/bin/echo", "ep"], ["x"], "/w", "bob", CID[:12])


def test_image_config_from_the_image_store(make_inputs):
    """The daemon hands the image's configuration (spec.image.ImageConfig) as it is stored."""
    from dockyard.spec.image import ImageConfig
    ic = ImageConfig.from_json({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []},
                                "config": {"Env": ["PATH=/x", "LANG=C"], "Entrypoint": ["/ep"], "Cmd": ["arg"],
                                           "WorkingDir": "/srv", "User": "1000:1", "Volumes": {"/cache": {}},
                                           "StopSignal": "SIGQUIT"}})
    g = generate(base_request(Cmd=None), make_inputs(ic, volume_paths={"/cache": "/v/cache"}))
    p = g.config["process"]
    assert p["args"] == ["/ep", "arg"] and p["cwd"] == "/srv" and p["env"][-1] == "LANG=C"
    assert (p["user"]["uid"], p["user"]["gid"]) == (1000, 1)
    assert g.stop_signal == "SIGQUIT" and g.volumes == ["/cache"]
    bare = ImageConfig.from_json({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}})
    assert generate(base_request(), make_inputs(bare)).config["process"]["args"] == ["sleep", "30"]
