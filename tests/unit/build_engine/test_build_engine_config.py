"""What metadata instructions do to the image config, history entries, and cache keys."""
import pytest

from dockyard.build import args, parse_dockerfile
from dockyard.build.engine import imageconfig as ic
from dockyard.build.engine.cache import BuildCache, cache_key
from dockyard.build.engine.errors import BuildError
from dockyard.build.engine.stagestate import StageState
from dockyard.build.engine.steps_config import change, key_payload
from dockyard.build.engine.steps_run import history_command


def stage(text: str, base_env=("PATH=/bin",), cfg=None):
    df = parse_dockerfile("FROM busybox\n" + text)
    g = args.GlobalScope(df)
    st = StageState("", args.StageScope(g, list(base_env)))
    st.run_config = ic.normalize(cfg or {"Env": list(base_env), "Cmd": ["sh"]})
    return st, df.stages[0].commands


def apply_all(text: str, **kw):
    st, cmds = stage(text, **kw)
    comments = []
    for ins in cmds:
        ch = change(st, st.scope.step(ins))
        st.run_config, st.author, st.cmd_set = ch.run_config, ch.author, ch.cmd_set
        comments.append(ch.comment)
    return st, comments


def test_env_label_user_workdir_expose_volume():
    st, comments = apply_all("ENV A=1 B=x\nENV PATH=/usr/bin:$PATH A=2\nLABEL k=v \"with space\"=$A\nUSER nobody\n"
                             "WORKDIR /app\nWORKDIR sub/../src\nEXPOSE 80 53/udp 8000-8001\nVOLUME /data /cache\n")
    cfg = st.run_config
    assert cfg["Env"] == ["PATH=/usr/bin:/bin", "A=2", "B=x"]   # replaced in place, order kept
    assert cfg["Labels"] == {"k": "v", "with space": "2"}
    assert cfg["User"] == "nobody" and cfg["WorkingDir"] == "/app/src"
    assert cfg["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}, "8000/tcp": {}, "8001/tcp": {}}
    assert cfg["Volumes"] == {"/data": {}, "/cache": {}}
    assert comments[0] == "ENV A=1 B=x" and comments[5] == "WORKDIR /app/src"
    assert comments[6] == "EXPOSE 53/udp 80/tcp 8000/tcp 8001/tcp"   # sorted, as docker does


def test_cmd_entrypoint_shell_rules():
    st, _ = apply_all('SHELL ["/bin/bash", "-xc"]\nCMD echo hi\n')
    assert st.run_config["Cmd"] == ["/bin/bash", "-xc", "echo hi"] and st.run_config["Shell"] == ["/bin/bash", "-xc"]
    # ENTRYPOINT drops a CMD inherited from the base image...
    st, _ = apply_all('ENTRYPOINT ["/init"]\n')
    assert st.run_config["Entrypoint"] == ["/init"] and st.run_config["Cmd"] is None
    # ...but not one this stage set
    st, _ = apply_all('CMD ["a"]\nENTRYPOINT /init arg\n')
    assert st.run_config["Cmd"] == ["a"] and st.run_config["Entrypoint"] == ["/bin/sh", "-c", "/init arg"]


def test_healthcheck_stopsignal_onbuild_maintainer_arg():
    st, comments = apply_all("HEALTHCHECK --interval=5s --retries=3 CMD wget -q localhost\nSTOPSIGNAL SIGINT\n"
                             "ONBUILD RUN echo child\nMAINTAINER me <me@x>\nARG V=1\nARG W\n")
    hc = st.run_config["Healthcheck"]
    assert hc == {"Test": ["CMD-SHELL", "wget -q localhost"], "Interval": 5_000_000_000, "Retries": 3}
    assert st.run_config["StopSignal"] == "SIGINT" and st.run_config["OnBuild"] == ["RUN echo child"]
    assert st.author == "me <me@x>"
    assert comments[-2:] == ["ARG V=1", "ARG W"]
    st2, _ = apply_all("HEALTHCHECK NONE\n", cfg={"Healthcheck": {"Test": ["CMD", "x"]}})
    assert st2.run_config["Healthcheck"] == {"Test": ["NONE"]}


@pytest.mark.parametrize("text,needle", [
    ("EXPOSE 99999", "invalid containerPort: 99999"),
    ("EXPOSE 80/xyz", "invalid proto: xyz"),
    ("EXPOSE 90-80", "invalid containerPort: 90-80"),
    ("STOPSIGNAL SIGNOPE", "Invalid signal: SIGNOPE"),
    ("STOPSIGNAL 99", "Invalid signal: 99"),
])
def test_bad_values_name_themselves(text, needle):
    with pytest.raises(BuildError) as e:
        apply_all(text + "\n")
    assert needle in str(e.value)


def test_stop_signal_forms():
    for s in ("SIGTERM", "term", "9", "SIGRTMIN+3"):
        assert ic.stop_signal(s) == s


def test_normalize_uses_gos_field_order_and_omitempty():
    cfg = ic.normalize({"Cmd": ["sh"], "Env": [], "StopSignal": "", "User": None, "Extra": 1})
    keys = list(cfg)
    assert keys[:3] == ["Hostname", "Domainname", "User"] and keys[-1] == "Extra"
    assert cfg["Env"] is None and cfg["User"] == "" and "StopSignal" not in cfg and "ExposedPorts" not in cfg
    assert keys.index("Cmd") < keys.index("Image") < keys.index("WorkingDir") < keys.index("Labels")


def test_timestamps_and_history():
    assert ic.rfc3339(1700000000) == "2023-11-14T22:13:20Z"
    assert ic.rfc3339(None).endswith("Z") and ic.rfc3339(None) != ic.rfc3339(0)
    assert ic.nop(None, "ENV A=1") == "/bin/sh -c #(nop)  ENV A=1"
    assert ic.go_list(["cat", "/x"]) == '["cat" "/x"]'
    assert history_command(["/bin/sh", "-c", "echo $A"], [("A", "1")]) == "|1 A=1 /bin/sh -c echo $A"
    assert history_command(["echo", "x"], []) == "echo x"
    assert ic.history_entry("t", "c", True) == {"created": "t", "created_by": "c", "empty_layer": True}


def test_cache_keys_depend_on_parent_instruction_and_payload():
    st, cmds = stage("ENV A=1\n")
    ch = change(st, st.scope.step(cmds[0]))
    k = cache_key("sha256:p", "config", ["ENV", key_payload(ch), None])
    assert k == cache_key("sha256:p", "config", ["ENV", key_payload(ch), None])
    assert k != cache_key("sha256:q", "config", ["ENV", key_payload(ch), None])
    assert k != cache_key("sha256:p", "config", ["ENV", key_payload(ch), 1700000000])
    assert k != cache_key("sha256:p", "run", ["ENV", key_payload(ch), None])


def test_cache_table_drops_entries_of_removed_images(tmp_path):
    from dockyard.daemon.db import DB
    db = DB(str(tmp_path / "d.db"))
    present = {"sha256:a"}
    c = BuildCache(db, lambda i: i in present)
    c.put("k1", "sha256:a")
    c.put("k2", "sha256:b")
    assert c.get("k1") == "sha256:a" and c.get("k2") is None and c.get("nope") is None
    assert c.count() == 1   # k2 pointed at a removed image: dropped
    c.put("k1", "sha256:c")
    present.add("sha256:c")
    assert c.get("k1") == "sha256:c"
    db.close()
    again = BuildCache(DB(str(tmp_path / "d.db")), lambda i: True)   # survives a restart
    assert again.get("k1") == "sha256:c"
