"""Self-test of the fake Entra ID (tests/fakeidp). Run with /usr/bin/python3 -m pytest."""
import base64
import hashlib
import hmac
import http.client
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.parse

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fakeidp"))
from entra_fake import (ADMIN_ROLE_ID, CLIENT_ID, GRAPH_AUD, OTHER_TENANT, TENANT,  # noqa: E402
                        USER_ROLE_ID, ControlError, FakeEntra, oid_for)

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
ERROR_KEYS = {"error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id"}


@pytest.fixture(scope="module")
def fe(tmp_path_factory):
    f = FakeEntra().start(str(tmp_path_factory.mktemp("fakeidp")))     # Entra's values
    yield f
    f.stop()


@pytest.fixture(autouse=True)
def _reset(fe):
    fe.reset()


def get_json(fe, url, **kw):
    st, h, b = fe.http("GET", url, **kw)
    return st, h, json.loads(b)


def devicecode(fe, tenant=TENANT, **form):
    form = dict({"client_id": CLIENT_ID, "scope": "openid profile"}, **form)
    st, _h, b = fe.http("POST", "%s/%s/oauth2/v2.0/devicecode" % (fe.authority, tenant), form=form)
    return st, json.loads(b)


def poll(fe, device_code, tenant=TENANT, **form):
    form = dict({"grant_type": DEVICE_GRANT, "client_id": CLIENT_ID, "device_code": device_code},
                **form)
    st, _h, b = fe.http("POST", "%s/%s/oauth2/v2.0/token" % (fe.authority, tenant), form=form)
    return st, json.loads(b)


def assert_aad_error(st, body, error, code, status=400):
    assert st == status, body
    assert ERROR_KEYS <= set(body), body
    assert body["error"] == error
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith("AADSTS%d: " % code)


def jwk_for(fe, kid, tenant=TENANT):
    _st, _h, doc = get_json(fe, "%s/%s/discovery/v2.0/keys" % (fe.authority, tenant))
    return next(k for k in doc["keys"] if k["kid"] == kid)


def verify(fe, token, aud=CLIENT_ID, iss=None, algs=("RS256",)):
    h = jwt.get_unverified_header(token)
    jwk = jwk_for(fe, h["kid"])
    key = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk))
    return jwt.decode(token, key, algorithms=list(algs), audience=aud,
                      issuer=iss or fe.issuer(TENANT))


def raw_request(fe, port, method, path, tls=True, ctx=None, headers=None, body=None):
    """No redirect following, no urllib: (status, headers, body)."""
    if tls:
        c = http.client.HTTPSConnection("127.0.0.1", port, timeout=10,
                                        context=ctx or ssl.create_default_context(cafile=fe.ca_file))
    else:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


# ---------------------------------------------------------------- discovery / JWKS
def test_discovery_document(fe):
    st, h, d = get_json(fe, "%s/%s/v2.0/.well-known/openid-configuration" % (fe.authority, TENANT))
    assert st == 200 and h["Content-Type"].startswith("application/json")
    base = "%s/%s" % (fe.authority, TENANT)
    assert d["issuer"] == base + "/v2.0" == fe.issuer()
    assert d["jwks_uri"] == base + "/discovery/v2.0/keys"
    assert d["token_endpoint"] == base + "/oauth2/v2.0/token"
    assert d["device_authorization_endpoint"] == base + "/oauth2/v2.0/devicecode"
    assert d["authorization_endpoint"] == base + "/oauth2/v2.0/authorize"
    assert d["id_token_signing_alg_values_supported"] == ["RS256"]
    assert "code" in d["response_types_supported"]
    st, _h, d2 = get_json(fe, "%s/%s/v2.0/.well-known/openid-configuration" % (fe.authority, OTHER_TENANT))
    assert st == 200 and d2["issuer"] == fe.issuer(OTHER_TENANT)
    st, _h, e = get_json(fe, "%s/%s/v2.0/.well-known/openid-configuration"
                         % (fe.authority, "11111111-2222-3333-4444-555555555555"))
    assert_aad_error(st, e, "invalid_tenant", 90002)
    fe.discovery_override(issuer="https://evil.example/x/v2.0", jwks_uri=None)
    _st, _h, d3 = get_json(fe, "%s/%s/v2.0/.well-known/openid-configuration" % (fe.authority, TENANT))
    assert d3["issuer"] == "https://evil.example/x/v2.0" and "jwks_uri" not in d3


def test_jwks_keys_match_k1(fe):
    st, _h, doc = get_json(fe, "%s/%s/discovery/v2.0/keys" % (fe.authority, TENANT))
    assert st == 200
    assert [k["kid"] for k in doc["keys"]] == ["kid-1", "kid-2"]
    k = doc["keys"][0]
    assert k["kty"] == "RSA" and k["use"] == "sig"
    assert "=" not in k["n"] + k["e"]
    dec = lambda s: int.from_bytes(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)), "big")  # noqa: E731
    nums = fe.key("k1").public_key.public_numbers()
    assert (dec(k["n"]), dec(k["e"])) == (nums.n, nums.e)
    der = base64.b64decode(k["x5c"][0])
    cert = x509.load_der_x509_certificate(der)
    assert cert.public_key().public_numbers() == nums
    assert k["x5t"] == base64.urlsafe_b64encode(hashlib.sha1(der).digest()).rstrip(b"=").decode()


def test_key_rotation_and_weak_and_ec(fe):
    fe.rotate_keys()
    _st, _h, doc = get_json(fe, fe.authority + "/%s/discovery/v2.0/keys" % TENANT)
    assert [k["kid"] for k in doc["keys"]] == ["kid-2", "kid-3"]
    fe.publish_weak()
    _st, _h, doc = get_json(fe, fe.authority + "/%s/discovery/v2.0/keys" % TENANT)
    weak = next(k for k in doc["keys"] if k["kid"] == "kid-weak")
    assert len(base64.urlsafe_b64decode(weak["n"] + "==")) == 128
    fe.publish_keys(["ec"], tenant=OTHER_TENANT)
    _st, _h, doc = get_json(fe, fe.authority + "/%s/discovery/v2.0/keys" % OTHER_TENANT)
    assert doc["keys"][0]["kty"] == "EC" and doc["keys"][0]["crv"] == "P-256"
    fe.publish_keys(None, raw='{"keys": [{"kid": "kid-1", "kid": "x"}]}', set_raw=True)
    st, _h, b = fe.http("GET", fe.authority + "/%s/discovery/v2.0/keys" % TENANT)
    assert b == b'{"keys": [{"kid": "kid-1", "kid": "x"}]}'


# ---------------------------------------------------------------- device flow
def test_device_flow_pending_approve_tokens(fe):
    st, d = devicecode(fe)
    assert st == 200
    assert set(d) >= {"device_code", "user_code", "verification_uri", "expires_in", "interval", "message"}
    assert d["verification_uri"] == "https://microsoft.com/devicelogin"
    assert len(d["user_code"]) == 9 and d["user_code"].isalnum() and d["user_code"].isupper()
    assert d["message"] == ("To sign in, use a web browser to open the page https://microsoft.com/"
                            "devicelogin and enter the code %s to authenticate." % d["user_code"])
    assert (d["interval"], d["expires_in"]) == (5, 900)      # Entra's documented values
    st, e = poll(fe, d["device_code"])
    assert_aad_error(st, e, "authorization_pending", 70016)
    fe.approve(d["user_code"], upn="alice@contoso.com", roles=["VirtualMachineAdministratorLogin"],
               groups=["g1"], claims={"_claim_names": {"groups": "src1"}})
    st, t = poll(fe, d["device_code"])
    assert st == 200, t
    assert t["token_type"] == "Bearer" and isinstance(t["expires_in"], int)
    assert "openid" in t["scope"].split() and "refresh_token" not in t
    c = verify(fe, t["id_token"])
    assert c["aud"] == CLIENT_ID and c["tid"] == TENANT and c["ver"] == "2.0"
    assert c["preferred_username"] == "alice@contoso.com" and c["oid"] == oid_for("alice@contoso.com")
    assert c["roles"] == ["VirtualMachineAdministratorLogin"] and c["groups"] == ["g1"]
    assert c["_claim_names"] == {"groups": "src1"}
    for k in ("iat", "nbf", "exp"):
        assert type(c[k]) is int
    assert c["iat"] <= time.time() <= c["exp"] and c["sub"] and c["name"]
    ah, ap = fe.decode(t["access_token"])
    assert ap["aud"] == GRAPH_AUD and "nonce" in ah
    st, e = poll(fe, d["device_code"])   # redeemable once
    assert_aad_error(st, e, "invalid_grant", 54005)


def test_approve_overrides_and_other_tenant(fe):
    _st, d = devicecode(fe, tenant=OTHER_TENANT)
    fe.approve(upn="carol@fabrikam.com", claims={"tid": TENANT, "nbf": None}, key="k2",
               headers={"x5u": "https://evil"})
    st, t = poll(fe, d["device_code"], tenant=OTHER_TENANT)
    h, p = fe.decode(t["id_token"])
    assert h["kid"] == "kid-2" and h["x5u"] == "https://evil"
    assert p["iss"] == fe.issuer(OTHER_TENANT) and p["tid"] == TENANT and "nbf" not in p
    _st, d = devicecode(fe)
    fe.approve(upn="x@contoso.com", id_token="not.a.jwt")
    assert poll(fe, d["device_code"])[1]["id_token"] == "not.a.jwt"
    with pytest.raises(ControlError):
        fe.approve(upn="y@contoso.com", wait=0)   # nothing pending


def test_devicecode_request_errors(fe):
    assert_aad_error(*devicecode(fe, client_id=""), "invalid_request", 900144)
    assert_aad_error(*devicecode(fe, client_id="00000000-0000-0000-0000-000000000001"),
                     "unauthorized_client", 700016)
    assert_aad_error(*devicecode(fe, scope="profile"), "invalid_scope", 70011)
    assert_aad_error(*devicecode(fe, tenant="nope"), "invalid_tenant", 90002)
    st, _h, b = fe.http("GET", "%s/%s/oauth2/v2.0/devicecode" % (fe.authority, TENANT))
    assert_aad_error(st, json.loads(b), "invalid_request", 900561)
    fe.config(public_client_flows=False)
    assert_aad_error(*devicecode(fe), "invalid_client", 7000218, status=401)


def test_token_request_errors(fe):
    assert_aad_error(*poll(fe, "bogus"), "bad_verification_code", 70018)
    _st, d = devicecode(fe)
    assert_aad_error(*poll(fe, d["device_code"], grant_type="password"), "unsupported_grant_type", 70003)
    assert_aad_error(*poll(fe, d["device_code"], tenant=OTHER_TENANT), "bad_verification_code", 70018)
    assert_aad_error(*poll(fe, ""), "invalid_request", 900144)


# Entra's device-code documentation lists exactly these errors for the token poll.
DOCUMENTED_POLL_ERRORS = {"authorization_pending": 70016, "authorization_declined": 70000,
                          "bad_verification_code": 70018, "expired_token": 70019}


def test_default_interval_is_entras(fe, fake):
    for f in (fe, fake):                      # this module's fake and the suite's fixture
        _st, d = devicecode(f)
        assert (d["interval"], d["expires_in"]) == (5, 900), d


def test_id_token_claims_follow_the_scope(fe):
    """Entra: oid, name and preferred_username need `profile`; sub, tid, iss, aud and the times
    come with `openid` alone."""
    always = {"sub", "tid", "iss", "aud", "exp", "iat", "nbf", "ver"}
    profile = {"oid", "name", "preferred_username"}
    for scope, want in (("openid", always), ("openid profile", always | profile),
                        ("openid offline_access", always), ("profile openid email", always | profile)):
        _st, d = devicecode(fe, scope=scope)
        fe.approve(d["user_code"], upn="alice@contoso.com")
        st, t = poll(fe, d["device_code"])
        assert st == 200, t
        c = verify(fe, t["id_token"])
        assert want <= set(c), (scope, sorted(c))
        if "profile" not in scope.split():
            assert not profile & set(c), (scope, sorted(c))
        else:
            assert c["oid"] == oid_for("alice@contoso.com")
            assert c["preferred_username"] == "alice@contoso.com"
        assert c["tid"] == TENANT and c["aud"] == CLIENT_ID


def test_only_documented_poll_errors(fe):
    """Pending, early polls, declined, expired, an unknown code: every answer of the token
    endpoint to a device-code poll is a success or one of Entra's documented errors, with its
    AADSTS code; early polls are counted, never answered with an undocumented error."""
    seen = {}
    _st, d = devicecode(fe)
    for _ in range(3):                        # far faster than the 5 s interval
        st, e = poll(fe, d["device_code"])
        seen.setdefault(e["error"], []).append((st, e))
    assert set(seen) == {"authorization_pending"}
    code = next(c for c in fe.codes() if c["device_code"] == d["device_code"])
    assert code["early_polls"] == 2 and code["interval"] == 5
    _st, d = devicecode(fe)
    fe.decline()
    st, e = poll(fe, d["device_code"])
    seen.setdefault(e["error"], []).append((st, e))
    _st, d = devicecode(fe)
    fe.expire()
    st, e = poll(fe, d["device_code"])
    seen.setdefault(e["error"], []).append((st, e))
    st, e = poll(fe, "DAQABIQEAAAD-unknown")
    seen.setdefault(e["error"], []).append((st, e))
    assert set(seen) == set(DOCUMENTED_POLL_ERRORS), sorted(seen)
    for err, answers in seen.items():
        for st, e in answers:
            assert_aad_error(st, e, err, DOCUMENTED_POLL_ERRORS[err])


def test_expired_token_after_expires_in(fe):
    fe.set_interval(expires_in=2)             # test override (Entra: 900)
    _st, d = devicecode(fe)
    assert d["expires_in"] == 2
    assert poll(fe, d["device_code"])[1]["error"] == "authorization_pending"
    time.sleep(2.2)
    assert_aad_error(*poll(fe, d["device_code"]), "expired_token", 70019)
    with pytest.raises(ControlError):
        fe.approve(d["user_code"], upn="alice@contoso.com", wait=0)   # too late to approve


def test_slow_down_only_on_request_without_aadsts_code(fe):
    # Entra documents no slow_down for the device flow; the fault sends RFC 8628's bare form.
    _st, d = devicecode(fe)
    fe.fault("token", "slow_down", count=2)
    for _ in range(2):
        st, e = poll(fe, d["device_code"])
        assert st == 400 and e["error"] == "slow_down" and "error_codes" not in e, e
    assert poll(fe, d["device_code"])[1]["error"] == "authorization_pending"
    assert fe.codes()[-1]["interval"] == 15          # RFC 8628: +5 s per slow_down


def test_declined_expired(fe):
    _st, d = devicecode(fe)
    fe.decline()
    assert_aad_error(*poll(fe, d["device_code"]), "authorization_declined", 70000)
    _st, d = devicecode(fe)
    fe.expire(d["user_code"])
    assert_aad_error(*poll(fe, d["device_code"]), "expired_token", 70019)
    fe.set_interval(expires_in=1)
    _st, d = devicecode(fe)
    assert d["expires_in"] == 1
    time.sleep(1.1)
    assert_aad_error(*poll(fe, d["device_code"]), "expired_token", 70019)


def test_auto_approve(fe):
    fe.auto("approve", upn="dave@contoso.com", after_polls=2)
    _st, d = devicecode(fe)
    assert poll(fe, d["device_code"])[1]["error"] == "authorization_pending"
    assert poll(fe, d["device_code"])[1]["error"] == "authorization_pending"
    st, t = poll(fe, d["device_code"])
    assert st == 200 and verify(fe, t["id_token"])["preferred_username"] == "dave@contoso.com"
    fe.auto("decline")
    _st, d = devicecode(fe)
    assert poll(fe, d["device_code"])[1]["error"] == "authorization_declined"
    _st, d = devicecode(fe)   # queue used up: plain pending again
    assert poll(fe, d["device_code"])[1]["error"] == "authorization_pending"


def test_offline_access_gets_refresh_token(fe):
    _st, d = devicecode(fe, scope="openid profile offline_access")
    fe.approve(upn="alice@contoso.com")
    assert "refresh_token" in poll(fe, d["device_code"])[1]


# ---------------------------------------------------------------- IMDS / ARM
IMDS_TOKEN = "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/"


def imds_token(fe):
    st, _h, b = get_json(fe, fe.imds_url + IMDS_TOKEN, headers={"Metadata": "true"})
    assert st == 200, b
    return b


def test_imds(fe):
    st, _h, b = get_json(fe, fe.imds_url + IMDS_TOKEN)
    assert st == 400 and b["error"] == "invalid_request" and "metadata header" in b["error_description"]
    t = imds_token(fe)
    assert isinstance(t["expires_in"], str) and t["token_type"] == "Bearer"
    assert t["resource"] == "https://management.azure.com/" and int(t["expires_on"]) > time.time()
    assert fe.decode(t["access_token"])[1]["aud"] == "https://management.azure.com/"
    st, h, b = fe.http("GET", fe.imds_url + "/metadata/instance/compute/resourceId?"
                       "api-version=2021-02-01&format=text", headers={"Metadata": "true"})
    assert st == 200 and b.decode() == fe.vm_id and h["Content-Type"].startswith("text/plain")
    assert fe.vm_id.startswith("/subscriptions/") and "/virtualMachines/" in fe.vm_id
    st, _h, b = fe.http("GET", fe.imds_url + "/metadata/instance/compute/resourceId?"
                        "api-version=2021-02-01&format=text")
    assert st == 400
    fe.set_vm(identity=False)
    st, _h, b = get_json(fe, fe.imds_url + IMDS_TOKEN, headers={"Metadata": "true"})
    assert st == 400 and b["error_description"] == "Identity not found"


def arm_list(fe, oid, token=None, scope=None, url=None, flt=None):
    if url is None:
        url = "%s%s/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&%s" % (
            fe.arm_url, scope or fe.vm_id, urllib.parse.urlencode({"$filter": flt or "assignedTo('%s')" % oid}))
    h = {"Authorization": "Bearer " + token} if token else {}
    st, hd, b = fe.http("GET", url, headers=h)
    return st, hd, json.loads(b)


def test_arm_role_assignments(fe):
    alice, bob, grp, outer = (oid_for("alice@contoso.com"), oid_for("bob@contoso.com"),
                              "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222")
    fe.set_groups({alice: [grp], grp: [outer]})
    fe.set_roles((alice, "user", "vm"), (grp, "admin", "rg"), (outer, "user", "subscription"),
                 (alice, "admin", "other_vm"), (bob, "admin", "vm"), (alice, "admin", "vm_child"))
    tok = imds_token(fe)["access_token"]
    st, _h, b = arm_list(fe, alice)
    assert st == 401 and b["error"]["code"] == "AuthenticationFailed"
    st, _h, b = arm_list(fe, alice, token="garbage")
    assert st == 401 and b["error"]["code"] == "InvalidAuthenticationToken"
    st, _h, b = arm_list(fe, alice, tok)
    assert st == 200, b
    got = {(a["properties"]["principalId"], a["properties"]["roleDefinitionId"].rsplit("/", 1)[1],
            a["properties"]["principalType"]) for a in b["value"]}
    # at, above and below the VM (ARM does not filter those out), never another VM's
    assert got == {(alice, USER_ROLE_ID, "User"), (grp, ADMIN_ROLE_ID, "Group"),
                   (outer, USER_ROLE_ID, "Group"), (alice, ADMIN_ROLE_ID, "User")}
    child = [a for a in b["value"] if a["properties"]["scope"].startswith(fe.vm_id + "/")]
    assert len(child) == 1
    st, _h, b2 = arm_list(fe, alice, tok, flt="atScope() and assignedTo('%s')" % alice)
    assert st == 200 and len(b2["value"]) == 3, b2     # atScope(): at or above only
    for a in b["value"]:
        assert a["type"] == "Microsoft.Authorization/roleAssignments"
        assert a["id"].endswith("/providers/Microsoft.Authorization/roleAssignments/" + a["name"])
        assert a["properties"]["roleDefinitionId"].startswith("/subscriptions/")
    assert "nextLink" not in b
    # paging
    fe.set_vm(page_size=1)
    seen, url = [], None
    for _ in range(5):
        st, _h, b = arm_list(fe, alice, tok, url=url)
        assert st == 200 and len(b["value"]) <= 1
        seen += b["value"]
        url = b.get("nextLink")
        if not url:
            break
        assert url.startswith(fe.arm_url + "/subscriptions/")
    assert len(seen) == 4 and url is None
    # the VM identity may read its own scope only
    st, _h, b = arm_list(fe, alice, tok, scope=fe.vm_id.rsplit("/", 1)[0] + "/vm-other-99")
    assert st == 403 and b["error"]["code"] == "AuthorizationFailed"
    fe.fault("arm", "forbidden")
    assert arm_list(fe, alice, tok)[0] == 403
    fe.fault("arm", "throttle", retry_after=7)
    st, h, b = arm_list(fe, alice, tok)
    assert st == 429 and h["Retry-After"] == "7"
    assert arm_list(fe, alice, tok)[0] == 200


# ---------------------------------------------------------------- faults
def disco_path():
    return "/%s/v2.0/.well-known/openid-configuration" % TENANT


def test_fault_down_stall_status(fe):
    fe.fault("discovery", "down", count=1)
    with pytest.raises((urllib.error.URLError, http.client.HTTPException, ConnectionError)):
        fe.http("GET", fe.url(disco_path()))
    assert fe.http("GET", fe.url(disco_path()))[0] == 200
    fe.fault("jwks", "stall", seconds=1, count=1)
    t0 = time.monotonic()
    assert fe.http("GET", fe.url("/%s/discovery/v2.0/keys" % TENANT))[0] == 200
    assert time.monotonic() - t0 >= 1.0
    fe.fault("devicecode", "status", status=500)
    st, d = devicecode(fe)
    assert st == 500 and d["error"] == "temporarily_unavailable"
    fe.fault("devicecode", "ok")
    assert devicecode(fe)[0] == 200
    fe.fault("token", "status", status=503, body="<html>busy</html>", content_type="text/html")
    st, _h, b = fe.http("POST", fe.url("/%s/oauth2/v2.0/token" % TENANT), form={})
    assert st == 503 and b == b"<html>busy</html>"


def test_fault_throttle_badjson_huge_empty(fe):
    fe.fault("discovery", "throttle", retry_after=3, count=2)
    for _ in range(2):
        st, h, b = fe.http("GET", fe.url(disco_path()))
        assert st == 429 and h["Retry-After"] == "3" and ERROR_KEYS <= set(json.loads(b))
    assert fe.http("GET", fe.url(disco_path()))[0] == 200
    fe.fault("jwks", "badjson", count=1)
    st, _h, b = fe.http("GET", fe.url("/%s/discovery/v2.0/keys" % TENANT))
    with pytest.raises(ValueError):
        json.loads(b)
    fe.fault("jwks", "huge", count=1)
    st, _h, b = fe.http("GET", fe.url("/%s/discovery/v2.0/keys" % TENANT), timeout=30)
    assert st == 200 and len(b) == 10 * 1024 * 1024
    fe.fault("imds", "empty", count=1)
    st, _h, b = fe.http("GET", fe.imds_url + IMDS_TOKEN, headers={"Metadata": "true"})
    assert st == 200 and b == b""
    fe.fault("imds", "throttle")
    st, h, _b = fe.http("GET", fe.imds_url + IMDS_TOKEN, headers={"Metadata": "true"})
    assert st == 429 and h["Retry-After"] == "1"


def test_fault_redirects(fe):
    fe.fault("discovery", "redirect_http")
    st, h, _b = raw_request(fe, fe.https_port, "GET", disco_path())
    assert st == 302 and h["Location"] == "http://127.0.0.1:%d%s" % (fe.http_port, disco_path())
    fe.fault("token", "redirect_other")
    st, h, _b = raw_request(fe, fe.https_port, "POST", "/%s/oauth2/v2.0/token" % TENANT)
    assert st == 302 and h["Location"].startswith("https://127.0.0.2:")
    fe.fault("*", "ok")
    assert raw_request(fe, fe.https_port, "GET", disco_path())[0] == 200


def test_tls_listeners(fe):
    for port in (fe.other_ca_port, fe.wrong_name_port, fe.expired_port):
        with pytest.raises(ssl.SSLError):
            raw_request(fe, port, "GET", disco_path())
    other = ssl.create_default_context(cafile=fe.other_ca_file)
    assert raw_request(fe, fe.other_ca_port, "GET", disco_path(), ctx=other)[0] == 200
    assert raw_request(fe, fe.http_port, "GET", disco_path(), tls=False)[0] == 200
    assert raw_request(fe, fe.other_ca_port, "GET", "/_test/state", ctx=other)[0] == 404
    assert fe.authority_on("wrong_name").endswith(":%d" % fe.wrong_name_port)


# ---------------------------------------------------------------- request log
def test_request_log(fe):
    t0 = time.monotonic()
    devicecode(fe)
    fe.fault("jwks", "throttle")
    fe.http("GET", fe.url("/%s/discovery/v2.0/keys" % TENANT))
    log = fe.requests()
    assert [e["endpoint"] for e in log] == ["devicecode", "jwks"]
    assert log[0]["form"] == {"client_id": CLIENT_ID, "scope": "openid profile"}
    assert log[0]["status"] == 200 and log[1]["status"] == 429 and log[1]["fault"] == "throttle"
    assert t0 <= log[0]["t_mono"] <= log[1]["t_mono"] <= time.monotonic()
    assert abs(log[0]["t_wall"] - time.time()) < 5 and log[0]["listener"] == "https"
    assert fe.requests(endpoint="jwks", since=log[0]["seq"]) == [log[1]]
    fe.clear_requests()
    assert fe.requests() == []


# ---------------------------------------------------------------- minting
def test_mint_kinds_verify(fe):
    c = verify(fe, fe.mint("id_token", upn="eve@contoso.com", roles=["VirtualMachineUserLogin"]))
    assert c["preferred_username"] == "eve@contoso.com" and c["roles"] == ["VirtualMachineUserLogin"]
    c = verify(fe, fe.mint("access_v2"))
    assert c["ver"] == "2.0" and c["scp"] and c["preferred_username"]
    c = verify(fe, fe.mint("access_v1"), aud="api://" + CLIENT_ID,
               iss="https://sts.windows.net/%s/" % TENANT)
    assert c["ver"] == "1.0" and c["upn"] == c["unique_name"] == "alice@contoso.com"
    c = verify(fe, fe.mint("app_only"), aud="api://" + CLIENT_ID,
               iss="https://sts.windows.net/%s/" % TENANT)
    assert c["idtyp"] == "app" and c["appid"] and c["roles"] and c["oid"] == c["sub"]
    assert not {"upn", "preferred_username", "scp"} & set(c)
    t = fe.mint(claims={"exp": "9999999999", "extra": 1}, drop=["nbf"], headers={"kid": None, "jku": "x"})
    h, p = fe.decode(t)
    assert "kid" not in h and h["jku"] == "x" and p["exp"] == "9999999999" and "nbf" not in p
    with pytest.raises(jwt.InvalidSignatureError):
        verify(fe, fe.mint(key="rogue", headers={"kid": "kid-1"}))


def test_mint_other_algs(fe):
    pub = fe.key("k1").public_key
    for alg in ("RS384", "PS256"):
        jwt.decode(fe.mint(alg=alg), pub, algorithms=[alg], audience=CLIENT_ID)
    t = fe.mint(key="ec")
    assert jwt.get_unverified_header(t)["alg"] == "ES256"
    jwt.decode(t, fe.key("ec").public_key, algorithms=["ES256"], audience=CLIENT_ID)
    pem = fe.key("k1").public_pem()
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    for alg, hf in (("HS256", hashlib.sha256), ("HS512", hashlib.sha512)):
        t = fe.hs_confusion(alg)
        h64, p64, s64 = t.split(".")
        assert jwt.get_unverified_header(t) == {"typ": "JWT", "alg": alg, "kid": "kid-1"}
        mac = hmac.new(pem, (h64 + "." + p64).encode(), hf).digest()
        assert base64.urlsafe_b64encode(mac).rstrip(b"=").decode() == s64
    t = fe.alg_none("nOnE")
    assert t.endswith(".") and fe.decode(t)[0]["alg"] == "nOnE"
    assert not fe.alg_none(with_signature=True).endswith(".")
    t = fe.mint_raw(b'{"alg":"RS256","alg":"none"}', b'{"oid":"a","oid":"b"}', b"sig")
    assert base64.urlsafe_b64decode(t.split(".")[0] + "==") == b'{"alg":"RS256","alg":"none"}'
    t = fe.sign_raw(b'{"typ":"JWT","alg":"RS256","kid":"kid-1"}',
                    json.dumps(fe.claims()).encode())
    verify(fe, t)
    der = fe.key("k1").public_key.public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    assert fe.hs_confusion(secret="der") != fe.hs_confusion(secret="spki") and der


def test_stop_is_clean(tmp_path, fe):
    f = FakeEntra().start(str(tmp_path), material_from=fe.scratch)
    sj = os.path.join(str(tmp_path), "server.json")
    assert os.path.exists(sj) and f.state()["config"]["interval"] == 5
    proc = f.proc
    f.stop()
    assert proc.returncode == 0 and not os.path.exists(sj)
