"""Device-code sign-in through pam_entra.so (pamtester + pam_wrapper), against the fake Entra ID."""
import re
import socket
import time

import pytest

from conftest import PAM_MODULE, PAM_WRAPPER_CMD, write_config
from entra_fake import OTHER_TENANT, USER_APP_ROLE

# The bounds below say "ends at the answer, never waits for login_timeout"; under valgrind
# (make valgrind) every process starts several times slower, so they stretch, still well
# below the login_timeout each test sets.
SLOW = 2.0 if PAM_WRAPPER_CMD else 1.0

USER = "alice@contoso.com"


@pytest.fixture
def device_stack(pam_stack, config):
    return pam_stack.write([f"auth required {PAM_MODULE} config={config} mode=device"])


def login(stack, user=USER, stdin="\n", timeout=60):
    return stack.run(user, stdin=stdin, timeout=timeout)


def test_approved_device_login(device_stack, fake):
    # Entra's values (interval 5 s): one pending answer, then the approval at the next poll.
    fake.auto("approve", upn=USER, after_polls=1, roles=[USER_APP_ROLE])
    res = login(device_stack)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    assert "successfully authenticated" in out
    (dc,) = fake.requests("devicecode")
    assert dc["form"]["scope"] == "openid profile"     # design 3: exactly that, nothing more
    polls = [e["t_mono"] for e in fake.requests("token")]
    assert len(polls) == 2 and polls[1] - polls[0] >= 4.9, polls
    code = fake.codes()[-1]
    assert (code["interval"], code["polls"], code["early_polls"]) == (5, 2, 0), code
    code = code["user_code"]
    msg = re.search(r"To sign in to (\S+) as (\S+), open (\S+) and enter the code (\S+)", out)
    assert msg, out
    assert msg.group(1) == socket.gethostname()
    assert msg.group(2) == USER
    assert msg.group(3) == "https://microsoft.com/devicelogin"
    assert msg.group(4) == code
    assert "Press Enter after signing in" in out


def test_device_flow_logs_no_secret_at_any_priority(pam_stack, config, fake, syslog):
    stack = pam_stack.write([f"auth required {PAM_MODULE} config={config} mode=device debug"])
    fake.auto("approve", upn=USER, roles=[USER_APP_ROLE])
    res = login(stack)
    assert res.returncode == 0, res.stdout + res.stderr
    logged = syslog.messages()
    # LOG_DEBUG and LOG_INFO lines are seen (pam_wrapper alone shows only LOG_ERR and above)
    assert any(p == 7 and "device flow: 1 token requests" in t for p, _f, t in logged), logged
    assert any(p == 6 and "authenticated" in t for p, _f, t in logged), logged
    text = res.stdout + res.stderr + "\n".join(t for _p, _f, t in logged)
    secret = fake.codes()[-1]["device_code"]
    for i in range(0, len(secret) - 15):
        assert secret[i:i + 16] not in text, "a piece of the device code was logged"


def test_auto_mode_empty_answer_starts_device_flow(pam_stack, config, fake):
    pam_stack.write([f"auth required {PAM_MODULE} config={config}"])
    fake.auto("approve", upn=USER, roles=[USER_APP_ROLE])
    res = pam_stack.run(USER, stdin="\n\n")
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    assert "paste an Entra ID token" in out and "enter the code" in out


@pytest.mark.parametrize("action,message", [
    ("decline", "declined"),
    ("expire", "expired"),
])
def test_declined_or_expired_is_refused(device_stack, fake, action, message):
    # Both end the flow at the answer: no further poll, no waiting for login_timeout (20 s).
    fake.auto(action)
    start = time.monotonic()
    res = login(device_stack)
    took = time.monotonic() - start
    assert res.returncode != 0
    assert "Authentication failure" in res.stderr, res.stderr
    assert message in (res.stdout + res.stderr)
    assert len(fake.requests("token")) == 1, fake.requests("token")
    assert took < 4 * SLOW, took


def test_code_expiring_while_pending_ends_the_flow(tmp_path, pam_stack, fake, state_dir):
    # expires_in 3 s (test override; Entra's is 900): the module stops at its own deadline for
    # the code, or at expired_token, whichever comes first, long before login_timeout.
    fake.set_interval(1, expires_in=3)
    conf = write_config(tmp_path / "c.conf", fake, state_dir, login_timeout="30")
    pam_stack.write([f"auth required {PAM_MODULE} config={conf} mode=device"])
    start = time.monotonic()
    res = pam_stack.run(USER, stdin="\n")
    took = time.monotonic() - start
    assert res.returncode != 0
    assert "expired" in res.stdout + res.stderr
    assert took < 8 * SLOW, took
    assert 1 <= len(fake.requests("token")) <= 4


def test_device_flow_asks_for_profile_scope(device_stack, fake):
    # Entra puts oid and preferred_username in the ID token only with `profile`: without it
    # the token names nobody, and the login must fail (the fake follows Entra here).
    fake.auto("approve", upn=USER, roles=[USER_APP_ROLE])
    res = login(device_stack)
    assert res.returncode == 0, res.stdout + res.stderr
    scopes = fake.requests("devicecode")[0]["form"]["scope"].split()
    assert sorted(scopes) == ["openid", "profile"]


def test_wrong_user_approving_is_refused(device_stack, fake):
    fake.auto("approve", upn="bob@contoso.com")
    res = login(device_stack)
    assert res.returncode != 0
    assert "belongs to another user" in res.stdout + res.stderr


def test_other_tenant_is_refused(device_stack, fake):
    fake.auto("approve", upn=USER, tid=OTHER_TENANT)
    res = login(device_stack)
    assert res.returncode != 0
    assert "Sign-in refused" in res.stdout + res.stderr


def test_closed_conversation_ends_at_once(device_stack, fake):
    # No answer to "Press Enter": pamtester's conversation fails, and we must not poll.
    start = time.monotonic()
    res = login(device_stack, stdin="")
    assert res.returncode != 0
    assert time.monotonic() - start < 5
    assert fake.requests("token") == []


def test_slow_down_grows_the_interval(device_stack, fake):
    # Entra documents no slow_down for this flow; RFC 8628's is still honoured. Interval 1 s
    # (test override) keeps the 6 s steps inside login_timeout.
    fake.set_interval(1)
    fake.fault("token", "slow_down", count=1)
    fake.auto("approve", upn=USER, after_polls=1, roles=[USER_APP_ROLE])
    res = login(device_stack)
    assert res.returncode == 0, res.stdout + res.stderr
    polls = [e["t_mono"] for e in fake.requests("token")]
    assert len(polls) >= 3
    gaps = [b - a for a, b in zip(polls, polls[1:])]
    assert gaps[0] >= 5.5, gaps       # interval 1 s + 5 s after slow_down
    assert all(g >= 0.9 for g in gaps), gaps


def test_polls_no_faster_than_interval_and_request_counts(tmp_path, pam_stack, fake, state_dir):
    fake.set_interval(2)     # test override: two pending answers in 4 s instead of 10 s
    conf = write_config(tmp_path / "c.conf", fake, state_dir)
    pam_stack.write([f"auth required {PAM_MODULE} config={conf} mode=device"])
    fake.auto("approve", upn=USER, after_polls=2, roles=[USER_APP_ROLE])
    res = pam_stack.run(USER, stdin="\n")
    assert res.returncode == 0, res.stdout + res.stderr
    first = fake.requests()
    counts = {}
    for e in first:
        counts[e["endpoint"]] = counts.get(e["endpoint"], 0) + 1
    print("requests for the first login:", counts)
    assert counts.get("discovery") == 1 and counts.get("devicecode") == 1 and counts.get("jwks") == 1
    assert counts.get("token") == 3
    polls = [e["t_mono"] for e in first if e["endpoint"] == "token"]
    assert all(b - a >= 1.9 for a, b in zip(polls, polls[1:])), polls
    assert fake.codes()[-1]["early_polls"] == 0
    fake.clear_requests()
    fake.auto("approve", upn=USER, roles=[USER_APP_ROLE])
    res = pam_stack.run(USER, stdin="\n")
    assert res.returncode == 0
    counts = {}
    for e in fake.requests():
        counts[e["endpoint"]] = counts.get(e["endpoint"], 0) + 1
    print("requests for a second login (caches warm):", counts)
    assert counts.get("discovery", 0) == 0 and counts.get("jwks", 0) == 0
    assert counts.get("devicecode") == 1 and counts.get("token") == 1


def test_stalled_token_endpoint_ends_at_deadline(tmp_path, pam_stack, fake, state_dir):
    conf = write_config(tmp_path / "c.conf", fake, state_dir, login_timeout="6", http_timeout="2")
    pam_stack.write([f"auth required {PAM_MODULE} config={conf} mode=device"])
    fake.fault("token", "stall", seconds=30)
    start = time.monotonic()
    res = pam_stack.run(USER, stdin="\n")
    took = time.monotonic() - start
    assert res.returncode != 0
    assert took < 9, took
    assert "cannot be reached" in res.stdout + res.stderr


def test_devicecode_endpoint_down_says_unreachable(device_stack, fake):
    fake.fault("devicecode", "down")
    res = login(device_stack)
    assert res.returncode != 0
    assert "cannot be reached" in res.stdout + res.stderr
