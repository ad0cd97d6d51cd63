"""Rough edges of issue 16, one test each (every one failed before its fix):

- `--config PATH` works anywhere on the command line (`entra-login verify-token --config PATH`);
- a token endpoint answering 5xx or non-JSON is given up after DEVCODE_SERVER_ERRORS_MAX (3)
  consecutive answers with the "cannot be reached" message, not polled until login_timeout;
- an ID token with a 10 KB preferred_username is a refused sign-in, not "cannot be reached";
- a configuration error names an unknown key with its control bytes escaped (\\xNN).
"""
import subprocess
import time

import pytest

from conftest import CLI, PAM_MODULE, write_config
from entra_fake import ADMIN_APP_ROLE, USER_APP_ROLE

USER = "alice@contoso.com"
UNREACHABLE = "Entra ID cannot be reached"
REFUSED = "Sign-in refused"
SERVER_ERRORS_MAX = 3      # DEVCODE_SERVER_ERRORS_MAX in common/net/devcode.h


def cli(*args, stdin=None, timeout=30):
    return subprocess.run([str(CLI), *map(str, args)], input=stdin, capture_output=True, text=True,
                          timeout=timeout)


# ---------------------------------------------------------------- --config anywhere

def test_config_option_anywhere(config, fake):
    tok = fake.mint("access_v2", upn=USER, roles=[USER_APP_ROLE])
    for args in (("verify-token", "--config", config), ("verify-token", f"--config={config}"),
                 ("--config", config, "verify-token"), ("verify-token", "--user", USER, "--config", config)):
        p = cli(*args, stdin=tok + "\n")
        assert p.returncode == 0 and p.stdout.startswith("valid\n"), (args, p.stdout, p.stderr)
        assert f"name: {USER}" in p.stdout
    # The path really is the one used: a broken file named after the command is reported.
    bad = config.parent / "bad.conf"
    bad.write_text("tenant_id = nope\n")
    bad.chmod(0o644)
    p = cli("status", "--config", bad)
    assert p.returncode == 2 and f"{bad}:1: key 'tenant_id'" in p.stderr, p.stderr
    # Still a usage error: --config without a path, an unknown option, no command at all.
    assert cli("status", "--config").returncode == 2
    assert cli("--bogus", "status").returncode == 2
    assert cli("--config", config).returncode == 2


# ---------------------------------------------------------------- device flow: broken token endpoint

@pytest.fixture
def device_stack(pam_stack, tmp_path, fake, state_dir):
    conf = write_config(tmp_path / "dev.conf", fake, state_dir, login_timeout="30")
    return pam_stack.write([f"auth required {PAM_MODULE} config={conf} mode=device"])


@pytest.mark.parametrize("mode,params", [("status", {"status": 500}), ("badjson", {}),
                                         ("status", {"status": 502, "body": "<html>Bad gateway</html>",
                                                     "content_type": "text/html"})])
def test_token_endpoint_server_errors_end_the_wait(device_stack, fake, mode, params):
    fake.fault("token", mode, **params)
    t0 = time.monotonic()
    res = device_stack.run(USER, stdin="\n", timeout=90)
    took = time.monotonic() - t0
    out = res.stdout + res.stderr
    assert res.returncode != 0 and UNREACHABLE in out, out
    assert "cannot retrieve authentication info" in out, out       # PAM_AUTHINFO_UNAVAIL
    polls = fake.requests("token")
    assert len(polls) == SERVER_ERRORS_MAX, [e.get("status") for e in polls]
    assert took < 15, f"{took:.1f}s: polled on towards login_timeout (30 s)"


def test_token_endpoint_hiccup_is_survived(device_stack, fake):
    """Fewer consecutive server errors than the limit, then a normal answer: the login goes on."""
    fake.fault("token", "status", status=500, count=SERVER_ERRORS_MAX - 1)
    fake.auto("approve", upn=USER, after_polls=SERVER_ERRORS_MAX, roles=[USER_APP_ROLE])
    res = device_stack.run(USER, stdin="\n", timeout=90)
    assert res.returncode == 0, res.stdout + res.stderr
    assert len(fake.requests("token")) >= SERVER_ERRORS_MAX + 1


# ---------------------------------------------------------------- 10 KB preferred_username

def test_huge_preferred_username_is_a_refusal(device_stack, fake, state_dir):
    fake.auto("approve", upn="a" * 10240 + "@contoso.com", roles=[ADMIN_APP_ROLE])
    res = device_stack.run(USER, stdin="\n", timeout=90)
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert REFUSED in out and UNREACHABLE not in out, out
    assert "Authentication failure" in out, out                    # PAM_AUTH_ERR, not AUTHINFO_UNAVAIL
    assert not (state_dir / "users.db").exists()


# ---------------------------------------------------------------- escaped configuration errors

@pytest.mark.parametrize("key,shown", [
    ("fo\x1b[31mo", "fo\\x1b[31mo"),
    ("a\x7fb\x01c", "a\\x7fb\\x01c"),
    ("caf\u00e9", "caf\\xc3\\xa9"),
    ("back\\slash", "back\\x5cslash"),
])
def test_config_error_escapes_unknown_key(tmp_path, key, shown):
    conf = tmp_path / "e.conf"
    conf.write_bytes(("tenant_id = 6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a37\n" + key + " = 1\n").encode())
    conf.chmod(0o644)
    p = subprocess.run([str(CLI), "--config", str(conf), "status"], capture_output=True, timeout=30)
    err = p.stderr.decode("latin-1")
    assert p.returncode == 2
    assert f":2: key '{shown}': unknown key" in err, repr(err)
    assert all(0x20 <= b < 0x7f for b in p.stderr.rstrip(b"\n")), repr(p.stderr)
