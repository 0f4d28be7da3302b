"""API keys that cannot be misconfigured open, a health check that tells strangers nothing, metrics behind
the key, and error messages without server paths (issue 16.5)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from vertical.core.errors import ConfigError

SYNTAX = "key1=domain1,domain2;key2=*"


@pytest.fixture(scope="module")
def rt(tiny_domain: Path, engine):
    """A real runtime on the session engine; these tests need no KB and no generation."""
    from serving.domains import load_runtime

    return load_runtime(tiny_domain, engine)


def _app(rt, **settings):
    from serving.api import create_app
    from serving.api.config import ServeSettings

    return create_app([], ServeSettings(**settings), runtimes={rt.name: rt})


@pytest.mark.parametrize(
    ("keys", "where"),
    [
        ("secret-ok-1=counseling;secret-empty-3=", "entry 2"),  # empty scope: was "every domain"
        ("secret-empty-3", "entry 1"),  # no "=" at all
        ("secret-ok-1=counseling,", "entry 1"),  # a trailing comma leaves an empty name
        ("=counseling", "entry 1"),  # empty key
        ("secret-dup-1=counseling;secret-dup-1=*", "entry 2"),  # one key, two scopes
    ],
)
def test_a_bad_key_table_stops_the_app_naming_the_entry_never_the_key(rt, keys, where):
    with pytest.raises(ConfigError) as err:
        _app(rt, api_keys=keys)
    text = str(err.value)
    assert where in err.value.message and "secret-" not in text
    assert SYNTAX in err.value.hint


def test_a_scope_naming_an_unserved_domain_is_logged_and_grants_nothing_here(rt, caplog):
    # a keys file shared by replicas names their domains too; a typo fails closed (403), so it is a warning
    from fastapi.testclient import TestClient

    with caplog.at_level("WARNING", logger="serving.api.config"):
        app = _app(rt, api_keys="secret-ok-1=counseling;secret-typo-2=counselling")
    assert "counselling" in caplog.text and "secret-typo-2" not in caplog.text
    client = TestClient(app)
    denied = client.get("/v1/domains/counseling/documents", headers={"Authorization": "Bearer secret-typo-2"})
    assert denied.status_code == 403, denied.text


def test_the_keys_file_follows_the_same_rules(rt, tmp_path):
    bad = tmp_path / "keys.json"
    for table in ({"secret-empty-9": []}, {"secret-num-9": [7]}, ["k"]):
        bad.write_text(json.dumps(table), encoding="utf-8")
        with pytest.raises(ConfigError) as err:
            _app(rt, api_keys_file=bad)
        assert "secret-" not in str(err.value)
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"secret-file-1": [rt.name], "secret-file-2": "*"}), encoding="utf-8")
    keys = _app(rt, api_keys_file=good).state.vertical.keys
    assert keys == {"secret-file-1": {rt.name}, "secret-file-2": {"*"}}


def test_vertical_serve_prints_the_error_on_one_line_and_exits_2(tiny_domain, monkeypatch, capsys):
    from vertical.cli import main

    monkeypatch.setenv("VERTICAL_API_KEYS", "secret-empty-3=")
    monkeypatch.setattr(sys, "argv", ["vertical", "serve", str(tiny_domain), "--port", "1"])
    with pytest.raises(SystemExit) as exit_:
        main()
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert "entry 1" in err and "empty domain scope" in err and "secret-empty-3" not in err


def test_star_key_works_and_unknown_key_is_401_in_openai_shape(rt):
    client = TestClient(_app(rt, api_keys=f"k-star=*;k-scoped={rt.name}"))
    ok = client.get("/v1/models", headers={"Authorization": "Bearer k-star"})
    assert ok.status_code == 200 and rt.name in [m["id"] for m in ok.json()["data"]]
    docs = client.get(f"/v1/domains/{rt.name}/documents", headers={"X-API-Key": "k-star"})
    assert docs.status_code == 200
    for headers in ({"Authorization": "Bearer k-sta"}, {"Authorization": "Bearer k-star-x"}, {}):
        denied = client.get("/v1/models", headers=headers)
        assert denied.status_code == 401
        error = denied.json()["error"]
        assert error["type"] == "authentication_error" and error["code"] == "auth"
        assert error["message"] and error["hint"] and "param" in error


def test_healthz_tells_strangers_only_the_status(rt):
    client = TestClient(_app(rt, api_keys=f"k-scoped={rt.name}"))
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        r = client.get("/healthz", headers=headers)
        assert r.status_code == 200 and r.json() == {"status": "ok"}
    detail = client.get("/healthz", headers={"Authorization": "Bearer k-scoped"}).json()
    assert detail["status"] == "ok" and detail["domains"] == [rt.name] and detail["inflight"] == 0
    assert detail["engines"] == [f"{rt.engine.kind}:{rt.engine.model}"]


def test_metrics_need_a_key_when_keys_are_configured(rt):
    client = TestClient(_app(rt, api_keys=f"k-scoped={rt.name}"))
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer k-scoped"})
    assert ok.status_code == 200 and "vertical_requests_total" in ok.text


def test_a_keyless_server_shows_metrics_and_detail_to_loopback_only(rt):
    app = _app(rt)
    local = TestClient(app)
    assert local.get("/metrics").status_code == 200
    assert local.get("/healthz").json()["domains"] == [rt.name]
    remote = TestClient(app, client=("203.0.113.7", 50000))
    assert remote.get("/metrics").status_code == 403
    assert remote.get("/healthz").json() == {"status": "ok"}


def test_an_error_about_a_missing_file_shows_no_server_path(rt, tmp_path, monkeypatch):
    from vertical.core.settings import reset_settings

    workspace = tmp_path / "private-workspace"  # nothing built here: the manifest file is missing
    monkeypatch.setenv("VERTICAL_WORKSPACE", str(workspace))
    reset_settings()
    r = TestClient(_app(rt)).get(f"/v1/domains/{rt.name}/manifest")
    assert r.status_code == 409
    error = r.json()["error"]
    text = error["message"] + (error["hint"] or "")
    assert str(workspace) not in text and str(tmp_path) not in text and str(Path.home()) not in text
    assert "<workspace>" in text  # the user still learns where to look, relative to the workspace


def test_scrub_paths_keeps_request_paths_and_relative_names():
    from serving.api.errors import REPO, scrub_paths

    assert scrub_paths(f"cannot read {REPO}/examples/x.md") == "cannot read <repo>/examples/x.md"
    assert scrub_paths("no route GET /v1/nope; file docs/a.md") == "no route GET /v1/nope; file docs/a.md"
