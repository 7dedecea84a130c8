"""POST /build's query parameters become BuildOptions; bad ones are refused by name."""
import base64
import json

import pytest

from dockyard.build.engine.errors import BuildError
from dockyard.build.engine.options import BuildOptions, decode_registry_config, from_query


def q(**kw):
    return {k: v if isinstance(v, list) else [v] for k, v in kw.items()}


def test_defaults_match_dockerd():
    o = from_query({})
    assert o.dockerfile == "Dockerfile" and o.tags == [] and o.rm and not o.force_rm
    assert o.network == "default" and not o.no_cache and not o.pull and not o.quiet
    assert o.source_date_epoch is None


def test_everything_the_docker_cli_sends():
    o = from_query(q(t=["a/b:1", "c", "c"], dockerfile="sub/Dockerfile.dev", buildargs='{"A":"1","B":null}',
                     labels='{"l":"v"}', networkmode="host", nocache="1", pull="true", q="1", rm="0",
                     forcerm="1", target="build", platform="linux/amd64", extrahosts=["h:1.2.3.4", "g:5.6.7.8"],
                     version="1"))
    assert o.tags == ["a/b:1", "c:latest"]   # canonical, duplicates once
    assert o.dockerfile == "sub/Dockerfile.dev" and o.build_args == {"A": "1", "B": None}
    assert o.labels == {"l": "v"} and o.network == "host" and o.no_cache and o.pull and o.quiet
    assert not o.rm and o.force_rm and o.target == "build" and o.platform == "linux/amd64"
    assert o.extra_hosts == ["h:1.2.3.4", "g:5.6.7.8"]


@pytest.mark.parametrize("query,needle", [
    (q(t="Bad:Tag"), "invalid reference format: Bad:Tag"),
    (q(t="a@sha256:" + "0" * 64), "cannot have a digest"),
    (q(buildargs="[1]"), "invalid buildargs"),
    (q(buildargs="{not json"), "invalid buildargs"),
    (q(labels='{"a": null}'), "invalid labels: the value of 'a'"),
    (q(networkmode="container:x"), "network mode 'container:x'"),
    (q(version="2"), "DOCKER_BUILDKIT=0"),
    (q(remote="https://example.com/x.tar"), "remote build contexts"),
    (q(buildargs='{"SOURCE_DATE_EPOCH":"yesterday"}'), "invalid SOURCE_DATE_EPOCH"),
])
def test_bad_parameters_are_refused_by_name(query, needle):
    with pytest.raises(BuildError) as e:
        from_query(query)
    assert needle in str(e.value)
    assert e.value.status == 400


def test_source_date_epoch_comes_from_the_build_args():
    o = from_query(q(buildargs='{"SOURCE_DATE_EPOCH":"1700000000"}'))
    assert o.source_date_epoch == 1700000000
    assert BuildOptions(build_args={"SOURCE_DATE_EPOCH": " 5 "}).source_date_epoch == 5


def test_registry_config_header():
    doc = {"localhost:5000": {"username": "u", "password": "p"}}
    header = base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")
    assert decode_registry_config(header) == doc
    assert decode_registry_config("e30=") == {}
    assert decode_registry_config("!!!") == {} and decode_registry_config(None) == {}
