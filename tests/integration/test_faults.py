"""Fault injection: every endpoint the module talks to (discovery, JWKS, devicecode, token, IMDS,
ARM) down, stalled past http_timeout, answering 500/503, throttling (429 + Retry-After), sending
invalid JSON, an empty or a 10 MiB body, redirecting to http or to another host, and TLS listeners
with a certificate from another CA, for another name, or expired.

For each: pamtester (through pam_wrapper) ends within the bound (http_timeout per request,
login_timeout per device-code login, plus a margin), with PAM_AUTHINFO_UNAVAIL (or success when
the fault is transient and the client's retry honours it), with the "cannot be reached" message,
and the user database byte for byte unchanged. Also: local users are unaffected while the IdP is
down, and a pasted token still validates offline from the cached discovery document and JWKS.

The measured figures go to $EL_BUILD/reports/faults.txt (printed by `make bench`).
"""
import os
import pathlib
import shutil
import subprocess
import time

import pytest

from conftest import BUILD, CLI, PAM_MODULE, PAM_WRAPPER_CMD, PamStack, token_parts, write_config
from entra_fake import FakeEntra, USER_APP_ROLE, oid_for

# Short, so the suite stays quick; under valgrind (make valgrind) a TLS handshake alone takes ~1 s.
HTTP_TIMEOUT = 5 if PAM_WRAPPER_CMD else 1
LOGIN_TIMEOUT = 15 if PAM_WRAPPER_CMD else 3
# Slack on top of each bound: process start, TLS, pam_wrapper; more under ASan or valgrind.
MARGIN = 8.0 if PAM_WRAPPER_CMD else 4.0 if "build-san" in str(BUILD) else 1.5
USER = "alice@contoso.com"
SEED_USER = "bob@contoso.com"
UNREACHABLE = "Entra ID cannot be reached"

RESULTS = {
    "successfully authenticated": "PAM_SUCCESS",
    "Authentication service cannot retrieve authentication info": "PAM_AUTHINFO_UNAVAIL",
    "Authentication failure": "PAM_AUTH_ERR",
    "Permission denied": "PAM_PERM_DENIED",
    "User not known": "PAM_USER_UNKNOWN",
}

ROWS = []   # (scenario, expected, result, seconds, bound) for the report


def pam_result(res):
    out = res.stdout + res.stderr
    for text, code in RESULTS.items():
        if text in out:
            return code
    return "rc=%d" % res.returncode


def write_report():
    if not ROWS:
        return
    d = BUILD / "reports"
    d.mkdir(parents=True, exist_ok=True)
    lines = ["%-34s %-22s %-22s %8s %8s" % ("scenario", "expected", "result", "seconds", "bound")]
    for name, exp, got, secs, bound in ROWS:
        lines.append("%-34s %-22s %-22s %8.2f %8.1f" % (name, exp, got, secs, bound))
    lines.append(f"(http_timeout={HTTP_TIMEOUT}s login_timeout={LOGIN_TIMEOUT}s margin={MARGIN}s; "
                 f"bound = the configured limit that applies, before the margin)")
    text = "\n".join(lines) + "\n"
    # Only a full run under the plain or SAN build makes the table `make bench` prints; a subset
    # (-k, make valgrind) goes next to it.
    full = len(ROWS) >= len(CASES) + 2 * len(TLS_LISTENERS) and not PAM_WRAPPER_CMD
    (d / ("faults.txt" if full else "faults-partial.txt")).write_text(text)
    print("\n" + text)


@pytest.fixture(scope="module")
def shared_fake(tmp_path_factory, fake_material):
    """One fake for the whole module (reset before each test): ~60 scenarios, one start."""
    # interval=0 is a test override (Entra: 5 s): token-endpoint faults are polled through until
    # login_timeout, and the measured times in the report assume the 1 s floor of the module.
    fe = FakeEntra().start(tmp_path_factory.mktemp("fault-fake"), interval=0, material_from=fake_material)
    yield fe
    fe.stop()
    write_report()


@pytest.fixture(scope="module")
def seeded_db(shared_fake, tmp_path_factory):
    """A user database holding one user (bob), made by a real login."""
    fe = shared_fake
    fe.reset()
    st = tmp_path_factory.mktemp("seed-state")
    st.chmod(0o755)
    conf = write_config(st.parent / "seed.conf", fe, st, http_timeout=HTTP_TIMEOUT)
    stack = PamStack(st.parent / "seed-pam").write([f"auth required {PAM_MODULE} config={conf} mode=token"])
    res = stack.run(SEED_USER, stdin=token_parts(fe.mint("access_v2", upn=SEED_USER, roles=[USER_APP_ROLE])))
    assert res.returncode == 0, res.stdout + res.stderr
    return st / "users.db"


class Env:
    def __init__(self, fake, tmp, seeded_db):
        self.fake = fake
        self.tmp = pathlib.Path(tmp)
        self.state = self.tmp / "state"
        self.state.mkdir(mode=0o755)
        shutil.copy2(seeded_db, self.state / "users.db")     # users, no discovery/JWKS cache
        self.conf = None

    def configure(self, **keys):
        keys.setdefault("http_timeout", str(HTTP_TIMEOUT))
        keys.setdefault("login_timeout", str(LOGIN_TIMEOUT))
        self.conf = write_config(self.tmp / "entra-login.conf", self.fake, self.state, **keys)
        return self.conf

    def stack(self, mode):
        return PamStack(self.tmp / "pam.d").write([f"auth required {PAM_MODULE} config={self.conf} mode={mode}"])

    def db_bytes(self):
        return (self.state / "users.db").read_bytes()

    def users(self):
        res = subprocess.run([str(CLI), "--config", str(self.conf), "users"], capture_output=True, text=True,
                             timeout=30)
        assert res.returncode == 0, res.stderr
        return res.stdout

    def login(self, kind, user=USER, token_roles=(USER_APP_ROLE,)):
        """kind: token (pasted access token) or device (auto-approved). Returns (result, seconds, output)."""
        if kind == "device":
            self.fake.auto("approve", upn=user, roles=list(token_roles))
            stdin = "\n"
        else:
            stdin = token_parts(self.fake.mint("access_v2", upn=user, roles=list(token_roles)))
        stack = self.stack("device" if kind == "device" else "token")
        t0 = time.monotonic()
        res = stack.run(user, stdin=stdin, timeout=LOGIN_TIMEOUT * 4 + 30)
        took = time.monotonic() - t0
        return pam_result(res), took, res.stdout + res.stderr


@pytest.fixture
def env(shared_fake, tmp_path, seeded_db):
    shared_fake.reset()
    shared_fake.clear_requests()
    e = Env(shared_fake, tmp_path, seeded_db)
    e.configure()
    return e


# (mode, fake params, expect success?, how many http_timeouts the wait may take, http_timeout).
# Throttling runs with a longer http_timeout so that a Retry-After of 1 s fits the per-request
# deadline and the client's retry (at most two) shows.
MODES = [
    ("down", {}, False, 0, HTTP_TIMEOUT),
    ("stall", {"seconds": 30}, False, 1, HTTP_TIMEOUT),
    ("status", {"status": 500}, False, 0, HTTP_TIMEOUT),
    ("status", {"status": 503, "count": 100}, False, 1, 3),
    ("throttle", {"retry_after": 1, "count": 100}, False, 1, 3),
    ("throttle", {"retry_after": 1, "count": 1}, True, 1, 3),
    ("badjson", {}, False, 0, HTTP_TIMEOUT),
    ("empty", {}, False, 0, HTTP_TIMEOUT),
    ("huge", {}, False, 0, HTTP_TIMEOUT),
    ("redirect_http", {}, False, 0, HTTP_TIMEOUT),
    ("redirect_other", {}, False, 0, HTTP_TIMEOUT),
]
# endpoint -> (login kind, extra config). IMDS and ARM are reached with role_sources = arm.
ENDPOINTS = {
    "discovery": ("token", {}),
    "jwks": ("token", {}),
    "devicecode": ("device", {}),
    "token": ("device", {}),
    "imds": ("token", {"role_sources": "arm"}),
    "arm": ("token", {"role_sources": "arm"}),
}


def mode_id(m):
    mode, params, ok, _, _ = m
    if mode == "status":
        return "status%d" % params["status"]
    if mode == "throttle":
        return "throttle-once" if ok else "throttle-always"
    return mode


CASES = [pytest.param(ep, m, id=f"{ep}-{mode_id(m)}") for ep in ENDPOINTS for m in MODES]


@pytest.mark.parametrize("endpoint,mode", CASES)
def test_endpoint_fault(env, endpoint, mode):
    name, params, expect_ok, timeouts, http_timeout = mode
    kind, extra = ENDPOINTS[endpoint]
    fake = env.fake
    login_timeout = LOGIN_TIMEOUT
    env.configure(http_timeout=str(http_timeout), login_timeout=str(login_timeout), **extra)
    if extra.get("role_sources") == "arm":
        fake.set_roles((oid_for(USER), "user", "vm"))
    before, users_before = env.db_bytes(), env.users()
    params = dict(params)
    fake.fault(endpoint, name, **params)
    result, took, out = env.login(kind, token_roles=() if extra else (USER_APP_ROLE,))
    # The wait: a device-code login polls until login_timeout whatever the token endpoint does;
    # everything else is bounded by the http_timeouts the fault may cost (0: no waiting at all).
    bound = login_timeout if endpoint == "token" and not expect_ok else timeouts * http_timeout
    expected = "PAM_SUCCESS" if expect_ok else "PAM_AUTHINFO_UNAVAIL"
    ROWS.append((f"{endpoint} {mode_id(mode)}", expected, result, took, bound))
    assert result == expected, out
    assert took <= bound + MARGIN, f"{took:.2f}s > {bound}s + {MARGIN}s"
    if expect_ok:
        assert took >= params.get("retry_after", 0) - 0.1, "Retry-After was honoured"
        return
    assert UNREACHABLE in out, out
    assert env.db_bytes() == before, "a failed login changed the user database"
    assert env.users() == users_before
    if name == "redirect_http" and endpoint != "imds":      # IMDS is plain http already
        follow = [e for e in fake.requests() if e["listener"] == "http" and e["endpoint"] == endpoint]
        assert not follow, "the redirect to http was followed"
    if name == "stall":
        hits = fake.requests(endpoint)
        assert len(hits) <= LOGIN_TIMEOUT // HTTP_TIMEOUT + 1, "a stalled endpoint is not hammered"


TLS_LISTENERS = ["other_ca", "wrong_name", "expired"]


@pytest.mark.parametrize("where", ["authority", "arm_url"])
@pytest.mark.parametrize("listener", TLS_LISTENERS)
def test_tls_failures(env, listener, where):
    fake = env.fake
    if where == "authority":
        # Discovery over a listener whose certificate must not be trusted.
        env.configure(authority=fake.authority_on(listener))
    else:
        env.configure(role_sources="arm", arm_url=fake.authority_on(listener))
        fake.set_roles((oid_for(USER), "user", "vm"))
    before = env.db_bytes()
    result, took, out = env.login("token", token_roles=() if where == "arm_url" else (USER_APP_ROLE,))
    ROWS.append((f"tls {where} {listener}", "PAM_AUTHINFO_UNAVAIL", result, took, 0))
    assert result == "PAM_AUTHINFO_UNAVAIL", out
    assert took <= MARGIN, took
    assert UNREACHABLE in out
    assert env.db_bytes() == before
    assert not [e for e in fake.requests() if e["listener"] == listener], "no request got past TLS"


def test_http_authority_refused(env):
    env.fake.clear_requests()
    conf = env.tmp / "http.conf"
    conf.write_text(env.conf.read_text().replace(env.fake.authority, env.fake.authority_on("http")))
    conf.chmod(0o644)
    res = subprocess.run([str(CLI), "--config", str(conf), "status"], capture_output=True, text=True, timeout=30)
    assert res.returncode != 0
    assert "authority" in res.stderr, res.stderr
    assert env.fake.requests() == []


def test_cached_keys_validate_offline(env):
    """One login fills the discovery and JWKS caches; with every endpoint down, a pasted token still
    validates (claims roles: no network needed), with no request at all."""
    fake = env.fake
    result, _, out = env.login("token")
    assert result == "PAM_SUCCESS", out
    assert (env.state / "jwks.json").exists()
    fake.fault("*", "down")
    fake.clear_requests()
    result, took, out = env.login("token", user="carol@contoso.com")
    ROWS.append(("offline pasted token (cached JWKS)", "PAM_SUCCESS", result, took, 0))
    assert result == "PAM_SUCCESS", out
    assert took <= MARGIN
    assert fake.requests() == [], "validated from the caches, no request"
    assert "carol@contoso.com" in env.users()


def test_offline_unknown_kid_and_device_flow_are_bounded(env):
    """Caches warm, IdP down: a token signed with a key the cache lacks needs a JWKS refresh (which
    fails: refused, quickly); a device-code login needs the IdP (unavailable, quickly)."""
    fake = env.fake
    assert env.login("token")[0] == "PAM_SUCCESS"
    before = env.db_bytes()
    fake.fault("*", "down")
    stack = env.stack("token")
    t0 = time.monotonic()
    res = stack.run("dave@contoso.com",
                    stdin=token_parts(fake.mint("access_v2", upn="dave@contoso.com", key="k3",
                                                roles=[USER_APP_ROLE])))
    took = time.monotonic() - t0
    result = pam_result(res)
    ROWS.append(("offline token, unknown kid", "not PAM_SUCCESS", result, took, HTTP_TIMEOUT))
    assert result in ("PAM_AUTHINFO_UNAVAIL", "PAM_AUTH_ERR"), res.stdout + res.stderr
    assert took <= HTTP_TIMEOUT + MARGIN
    result, took, out = env.login("device", user="dave@contoso.com")
    ROWS.append(("offline device code", "PAM_AUTHINFO_UNAVAIL", result, took, HTTP_TIMEOUT))
    assert result == "PAM_AUTHINFO_UNAVAIL", out
    assert UNREACHABLE in out
    assert took <= HTTP_TIMEOUT + MARGIN
    assert env.db_bytes() == before


MATRIX_MODULE = "/usr/lib/%s/pam_wrapper/pam_matrix.so" % (
    subprocess.run(["gcc", "-print-multiarch"], capture_output=True, text=True).stdout.strip() or "x86_64-linux-gnu")


@pytest.mark.parametrize("fault", ["down", "stall"])
def test_local_user_unaffected_while_idp_down(env, tmp_path, fault):
    """auth sufficient pam_entra.so, then a password module (pam_wrapper's pam_matrix, a pam_unix
    stand-in): a local user signs in with the password while the IdP is down or stalling, without
    a single request to it; a directory user is refused (not let through)."""
    fake = env.fake
    passdb = tmp_path / "passdb"
    passdb.write_text("localadmin:s3cret:fault-local\n")
    stack = PamStack(tmp_path / "pam-local", service="fault-local").write([
        f"auth sufficient {PAM_MODULE} config={env.conf}",
        f"auth required {MATRIX_MODULE} passdb={passdb}",
        f"account sufficient {PAM_MODULE} config={env.conf}",
        "account required pam_permit.so",
    ])
    fake.fault("*", fault, seconds=30)
    fake.clear_requests()
    t0 = time.monotonic()
    res = stack.run("localadmin", ops=("authenticate", "acct_mgmt"), stdin="s3cret\n")
    took = time.monotonic() - t0
    ROWS.append((f"local user, IdP {fault}", "PAM_SUCCESS", pam_result(res), took, 0))
    assert res.returncode == 0, res.stdout + res.stderr
    assert took <= MARGIN
    assert fake.requests() == []
    res = stack.run("localadmin", stdin="wrong\n")
    assert res.returncode != 0, "the password module still decides"
    # A directory user on the same stack: our module cannot ask the IdP, pam_matrix does not know
    # the name: refused, with our message, within the bound.
    before = env.db_bytes()
    t0 = time.monotonic()
    res = stack.run(USER, stdin="\n\n")
    took = time.monotonic() - t0
    assert res.returncode != 0
    assert took <= (LOGIN_TIMEOUT if fault == "stall" else 0) + MARGIN
    assert UNREACHABLE in res.stdout + res.stderr
    assert env.db_bytes() == before
