"""The HTTP client against the fake Entra ID, through build/tests/test_http's driver mode.

TLS trust and host name, redirects, body cap, Retry-After, deadlines, form encoding, headers.
"""
import os
import subprocess
import time

import pytest

from conftest import BUILD, write_config
from entra_fake import TENANT

DRIVER = BUILD / "tests" / "test_http"


def drive(conf, *args, deadline=None, timeout=60):
    env = dict(os.environ)
    env.pop("DEADLINE", None)
    if deadline is not None:
        env["DEADLINE"] = str(deadline)
    t0 = time.monotonic()
    p = subprocess.run([str(DRIVER), args[0], str(conf), *args[1:]], capture_output=True, text=True,
                       timeout=timeout, env=env)
    elapsed = time.monotonic() - t0
    assert p.returncode == 0, p.stdout + p.stderr
    first, _, body = p.stdout.partition("\n")
    res = dict(kv.split("=", 1) for kv in first.split())
    res["body"] = body
    res["elapsed"] = elapsed
    return res


def discovery_url(base):
    return "%s/%s/v2.0/.well-known/openid-configuration" % (base, TENANT)


def test_get_ok(fake, config):
    r = drive(config, "get", discovery_url(fake.authority), "Accept: application/json")
    assert r["status"] == "200"
    assert '"issuer"' in r["body"]
    log = fake.requests("discovery")
    assert len(log) == 1 and log[0]["headers"]["Accept"] == "application/json"


@pytest.mark.parametrize("listener", ["other_ca", "wrong_name", "expired"])
def test_tls_untrusted_refused(fake, config, listener):
    r = drive(config, "get", discovery_url(fake.authority_on(listener)))
    assert r.get("error") == "EL_ERR_HTTP_TLS", r
    assert fake.requests("discovery") == []	# no request got through


def test_tls_wrong_ca_file_refused(fake, tmp_path, state_dir):
    conf = write_config(tmp_path / "other.conf", fake, state_dir, ca_file=fake.other_ca_file)
    r = drive(conf, "get", discovery_url(fake.authority))
    assert r.get("error") == "EL_ERR_HTTP_TLS", r


def test_plain_http_refused_except_imds(fake, config, tmp_path, state_dir):
    conf = write_config(tmp_path / "imds-default.conf", fake, state_dir, imds_url="http://169.254.169.254")
    r = drive(conf, "get", discovery_url(fake.authority_on("http")))
    assert r.get("error") == "EL_ERR_HTTP_SCHEME", r
    # A prefix of imds_url is not enough: the next character must end the authority.
    r = drive(config, "get", fake.imds_url + "0/metadata/instance")
    assert r.get("error") == "EL_ERR_HTTP_SCHEME", r
    assert fake.requests() == []
    # imds_url is the fake's plain-http listener: allowed there, with the Metadata header.
    r = drive(config, "get", fake.imds_url + "/metadata/instance/compute/resourceId?api-version=2021-02-01&format=text",
              "Metadata: true")
    assert r["status"] == "200", r
    log = fake.requests("imds")
    assert log[-1]["headers"].get("Metadata") == "true" and log[-1]["listener"] == "http"


@pytest.mark.parametrize("mode", ["redirect_other", "redirect_http"])
def test_redirect_refused(fake, config, mode):
    fake.fault("discovery", mode)
    r = drive(config, "get", discovery_url(fake.authority))
    assert r.get("error") == "EL_ERR_HTTP_REDIRECT", r
    assert len(fake.requests()) == 1	# the Location was not followed


def test_huge_body_refused(fake, config):
    fake.fault("jwks", "huge", size=10 * 1024 * 1024)
    r = drive(config, "get", "%s/%s/discovery/v2.0/keys" % (fake.authority, TENANT))
    assert r.get("error") == "EL_ERR_HTTP_TOO_BIG", r
    assert r["elapsed"] < 5


def test_body_just_under_cap_accepted(fake, config):
    fake.fault("jwks", "huge", size=256 * 1024)	# EL_HTTP_BODY_MAX exactly
    r = drive(config, "get", "%s/%s/discovery/v2.0/keys" % (fake.authority, TENANT))
    assert r["status"] == "200" and r["len"] == str(256 * 1024)
    fake.fault("jwks", "huge", size=256 * 1024 + 1)
    r = drive(config, "get", "%s/%s/discovery/v2.0/keys" % (fake.authority, TENANT))
    assert r.get("error") == "EL_ERR_HTTP_TOO_BIG"


def test_retry_after_honoured_then_success(fake, config):
    fake.fault("discovery", "throttle", retry_after=1, count=1)
    r = drive(config, "get", discovery_url(fake.authority))
    assert r["status"] == "200", r
    log = fake.requests("discovery")
    assert [e["status"] for e in log] == [429, 200]
    gap = log[1]["t_mono"] - log[0]["t_mono"]
    assert 0.9 <= gap < 2.5, gap


def test_throttled_after_two_retries(fake, config):
    fake.fault("discovery", "throttle", retry_after=1, count=10)
    r = drive(config, "get", discovery_url(fake.authority))
    assert r.get("error") == "EL_ERR_HTTP_THROTTLED", r
    assert len(fake.requests("discovery")) == 3


def test_retry_after_beyond_deadline_not_waited(fake, config):
    fake.fault("discovery", "throttle", retry_after=30, count=1)
    r = drive(config, "get", discovery_url(fake.authority))	# http_timeout = 5
    assert r.get("error") == "EL_ERR_HTTP_THROTTLED", r
    assert r["elapsed"] < 2
    assert len(fake.requests("discovery")) == 1


def test_503_retried(fake, config):
    fake.fault("discovery", "status", status=503, count=1)
    r = drive(config, "get", discovery_url(fake.authority))
    assert r["status"] == "200", r
    assert [e["status"] for e in fake.requests("discovery")] == [503, 200]


def test_error_status_returned_to_caller(fake, config):
    fake.fault("discovery", "status", status=400, body={"error": "invalid_tenant"})
    r = drive(config, "get", discovery_url(fake.authority))
    assert r["status"] == "400" and "invalid_tenant" in r["body"]


def test_stall_bounded_by_http_timeout(fake, tmp_path, state_dir):
    conf = write_config(tmp_path / "t2.conf", fake, state_dir, http_timeout="2")
    fake.fault("discovery", "stall", seconds=30)
    r = drive(conf, "get", discovery_url(fake.authority))
    assert r.get("error") == "EL_ERR_HTTP_TIMEOUT", r
    assert 1.8 <= r["elapsed"] <= 2.5, r["elapsed"]


def test_stall_bounded_by_caller_deadline(fake, config):
    fake.fault("discovery", "stall", seconds=30)
    r = drive(config, "get", discovery_url(fake.authority), deadline=1)	# http_timeout is 5
    assert r.get("error") == "EL_ERR_HTTP_TIMEOUT", r
    assert r["elapsed"] <= 1.5, r["elapsed"]


def test_connection_dropped(fake, config):
    fake.fault("discovery", "down")
    r = drive(config, "get", discovery_url(fake.authority))
    assert r.get("error") == "EL_ERR_HTTP_CONNECT", r


def test_post_form_encoding(fake, config):
    value = "a b&c=d+e/f%g\u00e9~"
    r = drive(config, "post", "%s/%s/oauth2/v2.0/devicecode" % (fake.authority, TENANT),
              "client_id=3f8a1c2e-5b6d-4e7f-9a0b-1c2d3e4f5a6b", "scope=openid profile", "odd=" + value)
    assert r["status"] == "200", r
    log = fake.requests("devicecode")
    assert log[0]["method"] == "POST"
    assert log[0]["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert log[0]["form"] == {"client_id": "3f8a1c2e-5b6d-4e7f-9a0b-1c2d3e4f5a6b", "scope": "openid profile",
                              "odd": value}


def test_discover_caches_and_checks(fake, config, state_dir):
    r = drive(config, "discover")
    assert r["from_cache"] == "0"
    r = drive(config, "discover")
    assert r["from_cache"] == "1"
    assert len(fake.requests("discovery")) == 1
    # A document naming another issuer, or endpoints elsewhere, is refused (cache removed first).
    os.unlink(state_dir / "openid-configuration.json")
    fake.discovery_override(jwks_uri="https://127.0.0.2:%d/%s/discovery/v2.0/keys" % (fake.https_port, TENANT))
    assert drive(config, "discover").get("error") == "EL_ERR_DISCOVERY"
    fake.discovery_override(reset=True, issuer="https://127.0.0.1:1/%s/v2.0" % TENANT)
    assert drive(config, "discover").get("error") == "EL_ERR_DISCOVERY"
    assert not (state_dir / "openid-configuration.json").exists()
