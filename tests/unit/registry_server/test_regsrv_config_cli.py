"""Settings from defaults, files (TOML/JSON) and flags; the command line's errors."""
import json

import pytest

from dockyard.registry.server import config as cfgmod
from dockyard.registry.server.auth.access import Rule
from dockyard.registry.server.main import main

TOML = '''
addr = ":5001"
root = "/srv/reg"
delete_enabled = false
upload_max_age = 60
[tls]
cert = "/c.pem"
key = "/k.pem"
[auth]
mode = "token"
htpasswd = "/h"
anonymous = ["pull"]
token_ttl = 120
[[auth.rules]]
account = "alice"
repository = "alice/*"
actions = ["pull", "push"]
'''


def test_toml_file(tmp_path):
    f = tmp_path / "r.toml"
    f.write_text(TOML)
    c = cfgmod.build(str(f))
    assert c.host_port == ("0.0.0.0", 5001) and c.root == "/srv/reg" and not c.delete_enabled
    assert c.upload_max_age == 60.0 and c.tls.cert == "/c.pem" and c.auth.mode == "token"
    assert c.auth.anonymous == ["pull"] and c.auth.token_ttl == 120
    assert c.auth.rules == [Rule("alice", "alice/*", frozenset({"pull", "push"}))]
    assert c.token_key_path == "/srv/reg/token.key"
    c = cfgmod.build(str(f), addr="127.0.0.1:6000", root=str(tmp_path), auth_mode="htpasswd", htpasswd="/x")
    assert c.host_port == ("127.0.0.1", 6000) and c.root == str(tmp_path) and c.auth.mode == "htpasswd"


def test_json_file_and_ipv6(tmp_path):
    f = tmp_path / "r.json"
    f.write_text(json.dumps({"addr": "[::1]:5000", "root": "rel", "fsync": False}))
    c = cfgmod.build(str(f))
    assert c.host_port == ("::1", 5000) and c.root.endswith("/rel") and not c.fsync


@pytest.mark.parametrize("text, why", [
    ('root = "/r"\nlisten = ":1"', "unknown setting listen"),
    ('root = "/r"\n[tls]\ncertfile = "x"', "unknown setting tls.certfile"),
    ('root = "/r"\ndelete_enabled = "yes"', "delete_enabled: expected a boolean"),
    ('root = "/r"\nmax_manifest_size = 1.5', "expected an integer"),
    ('root = "/r"\nmax_manifest_size = 100', "between 1024"),
    ('root = "/r"\naddr = "nowhere"', "expected HOST:PORT"),
    ('root = "/r"\naddr = "h:99999"', "expected HOST:PORT"),
    ('root = "/r"\nlog_level = "loud"', "log_level"),
    ('root = "/r"\ntls = 1', "expected a table"),
    ('root = "/r"\n[tls]\ncert = "c"', "both a certificate and a key"),
    ('root = "/r"\n[auth]\nmode = "ldap"', "not none, htpasswd or token"),
    ('root = "/r"\n[auth]\nmode = "token"', "needs an htpasswd file"),
    ('root = "/r"\n[auth]\nanonymous = ["read"]', "unknown action 'read'"),
    ('root = "/r"\n[auth]\nrealm = \'a"b\'', "quotes"),
    ('root = "/r"\n[[auth.rules]]\nrepository = "x"\nactions = []', "account: expected a string"),
    ('root = "/r"\n[[auth.rules]]\naccount = "a"\nactions = ["pull"]\nextra = 1', "unknown key 'extra'"),
    ('root = "/r"\nupload_max_age = 0', "must be positive"),
    ("root = ", "config file"),
    ("", "no storage root"),
])
def test_bad_settings(tmp_path, text, why):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(cfgmod.ConfigError, match=why):
        cfgmod.build(str(f))


def test_missing_file():
    with pytest.raises(cfgmod.ConfigError, match="cannot read config file"):
        cfgmod.build("/nonexistent/registry.toml")


def test_main_reports_errors_in_one_line(capsys, tmp_path):
    assert main(["serve", "--addr", "127.0.0.1:0"]) == 1
    err = capsys.readouterr().err
    assert err == "dockyard registry: no storage root: pass --root DIR or set root in the config file\n"
    assert main(["serve", "--root", str(tmp_path), "--auth", "kerberos"]) == 1
    assert "invalid choice" in capsys.readouterr().err
    assert main([]) == 2
    assert "garbage-collect" in capsys.readouterr().err
    assert main(["garbage-collect"]) == 1
    assert "no storage root" in capsys.readouterr().err
