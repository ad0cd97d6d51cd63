"""Issue 19 through a real sshd (tests/sshd_env.py, device code via the fake): a session never runs
under a UID the helper did not check, and never in a home that is not the user's.

sshd resolves the user at the connection's first userauth request and keeps that passwd entry for
the session. A pam_exec gate in front of pam_entra.so holds a connection at a chosen stage (after
sshd's lookup) while the test renames the user, as an attacker holding a connection open would."""
import os
import pathlib
import signal
import threading
import time

import pytest

from conftest import BUILD, CLI
from entra_fake import USER_APP_ROLE, oid_for
from sshd_env import SshdEnv, host_config
from isolated import q
from syslog_capture import _SCRIPT, SyslogCapture

GATE = """#!/bin/sh
# Holds this PAM stage while {dir}/hold-$PAM_TYPE exists (at most 60 s); says it got here.
d={dir}
[ -e "$d/hold-$PAM_TYPE" ] || exit 0
touch "$d/at-$PAM_TYPE"
i=0
while [ -e "$d/hold-$PAM_TYPE" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
exit 0
"""


@pytest.fixture
def gated(tmp_path, fake, public_state_dir):
    tmp, state = tmp_path, public_state_dir
    env = SshdEnv(tmp, BUILD, host_config(fake, state))
    gate_dir = tmp / "gate"
    gate_dir.mkdir()
    gate = gate_dir / "gate.sh"
    gate.write_text(GATE.format(dir=gate_dir))
    gate.chmod(0o755)
    stack = (env.iso.etc / "pam.d" / "sshd-entra").read_text()
    out = []
    for line in stack.splitlines():
        for kind in ("auth", "session"):
            if line.startswith(kind) and "pam_entra.so" in line:
                out.append(f"{kind}\toptional\tpam_exec.so quiet {gate}")
        out.append(line)
    env.iso.add_etc("pam.d/sshd-entra", "\n".join(out) + "\n")
    env.gate = gate_dir
    env.state = state
    # pam_entra.so logs through syslog(3): sshd (and its PAM modules) log to this capture.
    cap = SyslogCapture(tmp)
    popen = env.iso.popen
    setup = f"sh -c {q(_SCRIPT)} syslog-capture {q(cap.path)} {q(cap.dir / 'realdev')} true\n"
    env.iso.popen = lambda script, **kw: popen(setup + script, **kw)
    env.syslog = cap
    env.start()
    yield env
    env.stop()
    cap.close()


def login(env, fake, user, command, tag, oid=None):
    fake.auto("approve", upn=user, roles=[USER_APP_ROLE], **({"oid": oid} if oid else {}))
    return env.ssh(user, command, answers=["", ""], tag=tag)


def held(env, stage, user, command, tag, while_held):
    """Log in as user with the connection held at `stage` (auth: before pam_entra.so's auth, after
    sshd looked the user up; session: before its open_session); run while_held() there."""
    hold, at = env.gate / f"hold-{stage}", env.gate / f"at-{stage}"
    at.unlink(missing_ok=True)
    hold.touch()
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("res", env.ssh(user, command, answers=["", ""], tag=tag)))
    t.start()
    try:
        deadline = time.monotonic() + 30
        while not at.exists():
            assert time.monotonic() < deadline, "the connection never reached the gate\n" + env.log()[-3000:]
            time.sleep(0.05)
        while_held()
    finally:
        hold.unlink(missing_ok=True)
        t.join(120)
    return box["res"]


def test_held_connection_across_rename_gets_no_session_as_the_renamed_uid(gated, fake):
    """alice (uid X) connects; while the connection is held after sshd's lookup, she is renamed
    (X goes with her), an administrator releases the old name (so the next holder may have it,
    with a fresh uid) and an attacker holding the reused UPN signs in on that connection: never a
    shell as X. Before the fix: 'uid=X' for the attacker (the helper checked a fresh lookup).
    Without the release the tombstone alone refuses the login (test_life / test_installed)."""
    env = gated
    out, _ = login(env, fake, "alice@contoso.com", "id -u", tag="a1")
    assert out.returncode == 0, out.stderr + env.log()[-3000:]
    uid = out.stdout.split()[0]

    def rename_and_reuse():
        res = env.iso.run(f"{CLI} rename alice@contoso.com alice.old@contoso.com")
        assert res.returncode == 0, res.stdout + res.stderr
        res = env.iso.run(f"{CLI} release alice@contoso.com")
        assert res.returncode == 0, res.stdout + res.stderr
        fake.auto("approve", upn="alice@contoso.com", roles=[USER_APP_ROLE],
                  oid="0badbad0-1111-4111-8111-111111111111")

    res, prompts = held(env, "auth", "alice@contoso.com", "echo uid=$(id -u)", "a2", rename_and_reuse)
    assert f"uid={uid}" not in res.stdout, res.stdout + env.log()[-3000:]
    assert res.returncode != 0
    assert f"the uid {uid} NSS announced to the host was taken by another user" in env.syslog.text(), env.syslog.text()[-3000:]
    listing = env.iso.run(f"{CLI} show alice.old@contoso.com").stdout
    assert uid in listing, listing


def test_rename_between_account_and_session_refuses_the_session(gated, fake):
    """The name's UID changes after auth and account passed (renamed, the old name released to
    the next holder): open_session refuses (PAM_SESSION_ERR)."""
    env = gated
    out, _ = login(env, fake, "bob@contoso.com", "id -u", tag="b1")
    assert out.returncode == 0, out.stderr + env.log()[-3000:]
    uid = out.stdout.split()[0]
    fake.auto("approve", upn="bob@contoso.com", roles=[USER_APP_ROLE])

    def rename():
        res = env.iso.run(f"{CLI} rename bob@contoso.com bob.old@contoso.com")
        assert res.returncode == 0, res.stdout + res.stderr
        # released: the name resolves again, to a new uid (without it the tombstone has none)
        res = env.iso.run(f"{CLI} release bob@contoso.com")
        assert res.returncode == 0, res.stdout + res.stderr

    res, _ = held(env, "open_session", "bob@contoso.com", "echo uid=$(id -u)", "b2", rename)
    assert f"uid={uid}" not in res.stdout and res.returncode != 0, res.stdout + env.log()[-3000:]
    assert f"session refused for directory user 'bob@contoso.com'" in env.syslog.text()
    assert f"the session would run as uid {uid}, but the name now has uid" in env.syslog.text(), env.syslog.text()[-3000:]


def test_home_owned_by_someone_else_is_refused(gated, fake):
    """A home that exists and is another's (a renamed user's kept home, a local account's):
    no session. Before the fix: a shell in the other person's files."""
    env = gated
    home = env.iso.home / "carol@contoso.com"
    home.mkdir(mode=0o700)
    (home / "theirs.txt").write_text("not carol's\n")
    os.chown(home, 4242, 4242)
    out, _ = login(env, fake, "carol@contoso.com", "cat ~/theirs.txt", tag="c1")
    assert out.returncode != 0 and "not carol's" not in out.stdout, out.stdout + env.log()[-3000:]
    assert "belongs to someone else or is writable by others" in out.stdout + out.stderr, out.stdout + out.stderr
    assert "home directory /home/carol@contoso.com is not owned by the user (owner uid 4242" in env.syslog.text()


def test_group_writable_home_is_refused(gated, fake):
    env = gated
    out, _ = login(env, fake, "dave@contoso.com", "id -u", tag="d1")
    assert out.returncode == 0, out.stderr + env.log()[-3000:]
    home = env.iso.home / "dave@contoso.com"
    home.chmod(0o770)
    out, _ = login(env, fake, "dave@contoso.com", "echo IN", tag="d2")
    assert out.returncode != 0 and "IN" not in out.stdout, out.stdout
    assert "is writable by group or others (owner uid" in env.syslog.text()
    home.chmod(0o700)
    out, _ = login(env, fake, "dave@contoso.com", "echo IN", tag="d3")
    assert out.returncode == 0 and "IN" in out.stdout, out.stderr + env.log()[-3000:]


def test_a_stopped_writer_holding_the_lock_blocks_nobody_for_long(gated, fake):
    """Issue 19 item 7: a helper stopped while it holds users.lock must not block every other login:
    a writer gives up after UDB_LOCK_TIMEOUT_MS (15 s) with a message that says what is wrong."""
    env = gated
    out, _ = login(env, fake, "erin@contoso.com", "id -u", tag="e1")
    assert out.returncode == 0, out.stderr + env.log()[-3000:]
    ready = env.gate / "locked"
    holder = env.iso.popen(f"exec flock -x {q(env.state / 'users.lock')} sh -c 'touch {q(ready)}; exec sleep 60'",
                           start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while not ready.exists():
            assert time.monotonic() < deadline and holder.poll() is None, "flock never held the lock"
            time.sleep(0.05)
        # Meanwhile a first sign-in (it must record its binding) waits as long, then is told the
        # database stayed busy: not "get a new token", which was what it said before.
        box = {}
        first = threading.Thread(target=lambda: box.setdefault(
            "res", login(env, fake, "fay@contoso.com", "id -u", tag="f1")[0]))
        first.start()
        t0 = time.monotonic()
        res = env.iso.run(f"{CLI} rename erin@contoso.com erin.old@contoso.com", timeout=40)
        waited = time.monotonic() - t0
        first.join(60)
        assert res.returncode != 0 and 14 < waited < 25, (waited, res.stdout, res.stderr)
        assert "the user database is locked by another process" in res.stderr, res.stderr
        out = box["res"]
        assert out.returncode != 0 and "the user database stayed busy" in out.stderr, out.stdout + out.stderr
    finally:
        os.killpg(holder.pid, signal.SIGKILL)      # flock and the sleep that inherited the lock
        holder.wait()
    res = env.iso.run(f"{CLI} rename erin@contoso.com erin.old@contoso.com")
    assert res.returncode == 0, res.stdout + res.stderr
