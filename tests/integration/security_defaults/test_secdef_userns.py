"""userns-remap through a real daemon: `--userns-remap default` creates the `dockyard` user and its
subordinate ranges when missing, containers run as that range (root inside is an unprivileged
host uid), image layers and volumes are owned by the range, and the modes a remapped container
cannot have are refused."""
import json
import os
import pwd
import subprocess
import tarfile

import pytest

from dockyard.security import remap, subids
from dockyardd_support import Dockyardd
from secdef_images import archive, base_layer, entry, layer

pytestmark = pytest.mark.root


@pytest.fixture(scope="module")
def rd():
    """A daemon started with --userns-remap default; the user and ranges it made are removed after."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    try:
        pwd.getpwnam(remap.DEFAULT_USER)
        existed = True
    except KeyError:
        existed = False
    had = {p: bool(subids.ranges_for(p, remap.DEFAULT_USER)) for p in (subids.SUBUID, subids.SUBGID)}
    daemon = Dockyardd(extra_args=["--userns-remap", "default"])
    try:
        daemon.start()
        daemon.load_busybox()
        yield daemon
    finally:
        daemon.cleanup()
        if not existed:
            subprocess.run(["userdel", remap.DEFAULT_USER], capture_output=True)
        for p, present in had.items():
            if not present:
                subids.remove(p, remap.DEFAULT_USER)
        for p in (subids.SUBUID, subids.SUBGID):
            assert not os.path.exists(p + ".lock"), "a lock file left behind would break shadow-utils"


@pytest.fixture(scope="module")
def idmap(rd):
    return remap.resolve("default", create=False)


def test_default_user_and_ranges_exist(rd, idmap):
    pw = pwd.getpwnam("dockyard")
    assert pw.pw_shell.endswith("nologin")
    assert subids.ranges_for(subids.SUBUID, "dockyard") and subids.ranges_for(subids.SUBGID, "dockyard")
    uid, gid = idmap.root()
    assert uid >= 65536 and gid >= 65536
    # the remapped daemon's own data area, and nothing else beside it
    assert os.listdir(rd.data_root) == [f"{uid}.{gid}"]


def test_container_root_is_an_unprivileged_host_uid(rd, idmap):
    uid, gid = idmap.root()
    out = rd.docker("run", "--rm", "busybox", "sh", "-c",
                    "cat /proc/self/uid_map /proc/self/gid_map; id -u; ls -ln / | sed 1d").stdout.splitlines()
    assert out[0].split() == ["0", str(uid), str(idmap.uids[0].size)]
    assert out[1].split() == ["0", str(gid), str(idmap.gids[0].size)]
    assert out[2] == "0"
    # the image's files belong to root inside (proc and sysfs belong to the host's root: nobody here)
    owners = {(ln.split()[2], ln.split()[3]) for ln in out[3:] if ln.split()[-1] not in ("proc", "sys")}
    assert owners == {("0", "0")}, out[3:]
    cid = rd.docker("run", "-d", "busybox", "sleep", "60").stdout.strip()
    try:
        pid = json.loads(rd.docker("inspect", cid).stdout)[0]["State"]["Pid"]
        with open(f"/proc/{pid}/status") as f:
            uids = next(ln.split()[1:] for ln in f if ln.startswith("Uid:"))
        assert uids == [str(uid)] * 4          # seen from the host: the subordinate uid
        ps = subprocess.run(["ps", "-o", "uid=", "-p", str(pid)], capture_output=True, text=True).stdout.strip()
        assert ps == str(uid)
        assert rd.docker("exec", cid, "id", "-u").stdout.strip() == "0"
        assert rd.docker("exec", cid, "cat", "/proc/self/uid_map").stdout.split()[1] == str(uid)
    finally:
        rd.docker("rm", "-f", cid, check=False)


def test_root_inside_writes_its_files_and_volumes(rd, idmap):
    uid, gid = idmap.root()
    out = rd.docker("run", "--rm", "-v", "remapvol:/data", "-w", "/new/dir", "busybox", "sh", "-c",
                    "touch /rootfile /data/f . && echo ok; echo '1.2.3.4 x' >> /etc/hosts && echo hosts-ok; "
                    "ls -lnd /data /new/dir /etc/hosts")
    assert "ok\nhosts-ok" in out.stdout, out.stderr
    assert all(ln.split()[2:4] == ["0", "0"] for ln in out.stdout.splitlines()[2:])
    src = json.loads(rd.docker("volume", "inspect", "remapvol").stdout)[0]["Mountpoint"]
    st = os.stat(os.path.join(src, "f"))
    assert (st.st_uid, st.st_gid) == (uid, gid)
    rd.docker("volume", "rm", "remapvol")


def test_layers_unpacked_with_shifted_owners(rd, idmap, tmp_path):
    uid, gid = idmap.root()
    with open("/bin/busybox", "rb") as f:
        bb = f.read()
    extra = layer(entry("home/", type=tarfile.DIRTYPE, mode=0o755),
                  entry("home/user1000", data=b"mine\n", uid=1000, gid=1001, mode=0o640),
                  entry("bin/suid", data=bb, mode=0o4755))
    p = tmp_path / "img.tar"
    p.write_bytes(archive([base_layer(), extra], tag="remapped:1"))
    rd.docker("load", "-i", str(p))
    out = rd.docker("run", "--rm", "remapped:1", "ls", "-ln", "/home/user1000", "/bin/suid").stdout.splitlines()
    assert out[0].split()[:4] == ["-rwsr-xr-x", "1", "0", "0"], out
    assert out[1].split()[:4] == ["-rw-r-----", "1", "1000", "1001"], out
    # on the host, the unpacked layer belongs to the range, setuid bit kept
    found = subprocess.run(["find", rd.data_root, "-name", "user1000", "-path", "*snapshots*"], capture_output=True,
                           text=True).stdout.split()
    assert found
    st = os.stat(found[0])
    assert (st.st_uid, st.st_gid) == (uid + 1000, gid + 1001)
    suid = [p for p in subprocess.run(["find", rd.data_root, "-name", "suid", "-path", "*snapshots*"],
                                      capture_output=True, text=True).stdout.split()]
    st = os.stat(suid[0])
    assert (st.st_uid, st.st_mode & 0o7777) == (uid, 0o4755)


def test_ids_outside_the_range_refused(rd, tmp_path):
    big = layer(entry("etc/far", data=b"x", uid=70000))
    p = tmp_path / "far.tar"
    p.write_bytes(archive([base_layer(), big], tag="remapped-far:1"))
    rd.docker("load", "-i", str(p))
    out = rd.docker("run", "--rm", "remapped-far:1", "true", check=False)
    assert out.returncode != 0 and "container uid 70000 cannot be mapped" in out.stderr, out.stderr
    assert rd.ping()


def test_modes_a_remapped_container_cannot_have(rd):
    for args, msg in ((["--privileged"], "privileged mode is incompatible with user namespaces"),
                      (["--network", "host"], "cannot share the host's network namespace"),
                      (["--pid", "host"], "cannot share the host PID namespace")):
        out = rd.docker("run", "--rm", *args, "busybox", "true", check=False)
        assert out.returncode != 0 and msg in out.stderr, (args, out.stderr)
    out = rd.docker("run", "--rm", "--userns", "host", "--privileged", "busybox", "cat", "/proc/self/uid_map").stdout
    assert out.split() == ["0", "0", "4294967295"]


def test_escape_battery_in_a_remapped_container(rd, probe):
    from secdef_support import parse_probe
    res = parse_probe(rd.docker("run", "--rm", "-v", f"{probe}:/probe:ro", "busybox", "/probe", "battery").stdout)
    for attack in ("mount-tmpfs", "open_by_handle_at", "init_module", "unshare-user", "keyctl", "settimeofday"):
        assert res[attack] == "EPERM", (attack, res[attack])
    assert res["open-dev-mem"] in ("EPERM", "ENOENT")  # in a user namespace even mknod is refused


def test_config_file_form(rd, tmp_path):
    """daemon.json's "userns-remap" is read like the flag (the user exists now)."""
    from dockyard.daemon import config
    f = tmp_path / "daemon.json"
    f.write_text(json.dumps({"userns-remap": "dockyard"}))
    cfg, _ = config.load(["--config-file", str(f), "--data-root", str(tmp_path / "data")])
    uid, gid = cfg.remap.root()
    assert cfg.data_root == str(tmp_path / "data" / f"{uid}.{gid}")
    f.write_text(json.dumps({"userns-remap": "no-such-user-dockyard"}))
    with pytest.raises(config.ConfigError, match="user 'no-such-user-dockyard' not found"):
        config.load(["--config-file", str(f)])
