"""Issue 11, "what it must show" 1: the product as the .deb installs it.

`dpkg -i` of the freshly built package inside a mount namespace (tests/installed_env.py), so the
PAM files are exactly what pam-auth-update wrote, nsswitch.conf is what nsswitch-edit wrote, and
sshd reads the stock sshd_config with the package's drop-in. Then real sshd, sudo (the shipped
NOPASSWD rule and a rule that re-authenticates), su (from root and from a local user), and the
account stage of cron's and login's PAM stacks, for an admin, a user, a directory user without a
role and local users. The default role_sources (claims, static) is kept, as the issue reproduced.
"""
import re
import time

import pytest

from conftest import token_parts
from entra_fake import ADMIN_APP_ROLE, USER_APP_ROLE, oid_for
from installed_env import LOCAL_SUDOER, LOCAL_USER, PASSWORD, UNPRIV, module_fake, q, start_host
from installed_env import clean_queue  # noqa: F401 (autouse fixture)

DEVICE_STEPS = [(r"Press Enter", ""), (r"Press Enter", "")]


mfake = module_fake("installed-fake")


@pytest.fixture(scope="module")
def host(mfake, tmp_path_factory):
    h = start_host(tmp_path_factory, mfake, "installed-host", syslog=True)
    yield h
    h.stop()


def ssh_device_login(host, fake, user, roles, command="id", tag="c"):
    fake.auto("approve", upn=user, roles=roles, count=1)
    return host.ssh(user, command, answers=["", ""], tag=tag)


def ok(res):
    return res.returncode == 0


def groups_of(id_output):
    m = re.search(r"groups=(\S+)", id_output)
    return set(re.findall(r"\(([^)]+)\)", m.group(1))) if m else set()


def pamtester(host, service, user, *ops):
    return host.run(f"pamtester {q(service)} {q(user)} {' '.join(ops)}")


# ---------------------------------------------------------------------------------------------


def test_package_installed_the_stacks(host):
    """The setup is what a user gets: pam-auth-update put the module in the common stacks, sshd
    reads the drop-in, nsswitch has entra."""
    res = host.run("dpkg-query -W -f '${Status}' entra-login; echo; "
                   "grep -l pam_entra /etc/pam.d/common-*; grep -c entra /etc/nsswitch.conf; "
                   "sshd -T -C user=x@contoso.com,host=localhost,addr=127.0.0.1 | grep -i '^authenticationmethods'")
    assert res.returncode == 0, res.stdout + res.stderr + host.dpkg_log()
    out = res.stdout
    assert "install ok installed" in out
    for f in ("common-auth", "common-account", "common-session"):
        assert f"/etc/pam.d/{f}" in out
    assert "authenticationmethods publickey keyboard-interactive" in out   # issue 14: certificates or k-i


def test_pam_hosts_load_no_network_library(host):
    """Issue 11 sec.1: the module that su, sudo, login and cron load through common-auth links
    neither libcurl nor OpenSSL nor jansson; the network code runs elsewhere (a helper it execs)."""
    res = host.run("f=$(dpkg -L entra-login | grep '/security/pam_entra.so$'); echo $f; ldd $f")
    assert res.returncode == 0 and "pam_entra.so" in res.stdout, res.stdout + res.stderr
    libs = res.stdout.splitlines()[1:]
    assert any("libpam.so" in ln for ln in libs), libs
    bad = [ln.strip() for ln in libs if re.search(r"libcurl|libssl|libcrypto|libjansson|libjwt", ln)]
    assert not bad, bad


def test_admin_ssh_device_code_then_nopasswd_sudo(host, mfake):
    user = "alice@contoso.com"
    res, prompts = ssh_device_login(host, mfake, user, [ADMIN_APP_ROLE],
                                    "id; sudo -n id -un && echo SUDO-OK; echo sudo-rc=$?")
    assert ok(res), res.stderr + host.sshd_log()[-3000:]
    assert re.search(rf"as {re.escape(user)}, open https://\S+ and enter the code", prompts)
    assert {"aad_admins", "aad_users"} <= groups_of(res.stdout), res.stdout
    # the shipped %aad_admins NOPASSWD rule: no PAM "account management error"
    assert "SUDO-OK" in res.stdout and "\nroot\n" in res.stdout, res.stdout + res.stderr
    assert "account management" not in res.stderr, res.stderr
    assert re.search(rf"Accepted keyboard-interactive/pam for {re.escape(user)} from 127\.0\.0\.1", host.sshd_log())


def test_admin_sudo_reauth_device_code_and_token(host, mfake):
    """A rule that makes sudo authenticate: the directory admin re-authenticates through
    common-auth (pam_entra, device code or pasted token) and the account stage."""
    user = "rita@contoso.com"
    res, _ = ssh_device_login(host, mfake, user, [ADMIN_APP_ROLE], tag="rita")
    assert ok(res), res.stderr
    uid = host.run(f"id -u {q(user)}").stdout.strip()
    assert uid.isdigit()
    host.run(f"printf '#{uid} ALL=(ALL) PASSWD: ALL\\n' >/etc/sudoers.d/zz-entra-test-reauth; "
             "chmod 0440 /etc/sudoers.d/zz-entra-test-reauth")
    try:
        # NOPASSWD no longer applies to her: without an answer sudo must refuse
        res = host.run(host.as_user(user, "sudo -n -k id -un"))
        assert res.returncode != 0 and "root" not in res.stdout, res.stdout + res.stderr

        mfake.clear_requests()
        mfake.auto("approve", upn=user, roles=[ADMIN_APP_ROLE], count=1)
        res = host.run(host.as_user(user, "sudo -S -k id -un"), input="\n\n")
        assert res.returncode == 0, res.stdout + res.stderr
        assert res.stdout.strip().splitlines()[-1] == "root"
        assert f"as {user}, open https://" in res.stderr
        assert len(mfake.requests("devicecode")) == 1

        # (sudo refuses a conversation reply of PAM_MAX_RESP_SIZE = 512 bytes or more)
        tok = mfake.mint("access_v2", upn=user, roles=[ADMIN_APP_ROLE])
        res = host.run(host.as_user(user, "sudo -S -k id -un"), input=token_parts(tok, 500))
        assert res.returncode == 0, res.stdout + res.stderr
        assert res.stdout.strip().splitlines()[-1] == "root"

        # someone else's token does not re-authenticate her
        tok = mfake.mint("access_v2", upn="mallory@contoso.com", roles=[ADMIN_APP_ROLE])
        res = host.run(host.as_user(user, "sudo -S -k id -un"), input=token_parts(tok, 500))
        assert res.returncode != 0 and "root" not in res.stdout, res.stdout + res.stderr
    finally:
        host.run("rm -f /etc/sudoers.d/zz-entra-test-reauth")


def test_user_role_ssh_works_sudo_refused(host, mfake):
    user = "bob@contoso.com"
    res, _ = ssh_device_login(host, mfake, user, [USER_APP_ROLE],
                              "id; sudo -n true && echo SUDO-OK; echo sudo-rc=$?")
    assert ok(res), res.stderr + host.sshd_log()[-3000:]
    g = groups_of(res.stdout)
    assert "aad_users" in g and "aad_admins" not in g, res.stdout
    assert "SUDO-OK" not in res.stdout and "sudo-rc=1" in res.stdout, res.stdout
    # and the same from a su session started by root
    res = host.run(host.as_user(user, "sudo -n true && echo SUDO-OK"))
    assert res.returncode != 0 and "SUDO-OK" not in res.stdout, res.stdout + res.stderr
    res = host.run(f"su - {q(user)} -c 'echo INSIDE; id'")
    assert res.returncode == 0 and "INSIDE" in res.stdout, res.stdout + res.stderr
    assert "aad_users" in groups_of(res.stdout) and "aad_admins" not in groups_of(res.stdout)
    for service in ("cron", "login"):
        res = pamtester(host, service, user, "acct_mgmt")
        assert res.returncode == 0, (service, res.stdout + res.stderr)


def test_no_role_refused_everywhere(host, mfake):
    user = "carol@contoso.com"
    res, prompts = ssh_device_login(host, mfake, user, [])
    assert res.returncode != 0 and "uid=" not in res.stdout
    assert "Virtual Machine Administrator Login" in prompts + res.stderr

    # su from an unprivileged local user, signing in as her (no role): refused
    mfake.auto("approve", upn=user, roles=[], count=1)
    rc, out = host.pty(f"su {q(user)} -c 'echo INSIDE; id'", DEVICE_STEPS, user=UNPRIV)
    assert rc != 0 and "INSIDE" not in out, out
    # su from root (no authentication: account stage only), cron, login, sudo
    res = host.run(f"su {q(user)} -c 'echo INSIDE'")
    assert res.returncode != 0 and "INSIDE" not in res.stdout, res.stdout + res.stderr
    res = host.run(f"su - {q(user)} -c 'echo INSIDE'")
    assert res.returncode != 0 and "INSIDE" not in res.stdout, res.stdout + res.stderr
    for service in ("cron", "login", "sudo", "sshd"):
        res = pamtester(host, service, user, "acct_mgmt")
        assert res.returncode != 0, (service, res.stdout + res.stderr)
    res = host.run(host.as_user(user, "sudo -n true && echo SUDO-OK"))
    assert res.returncode != 0 and "SUDO-OK" not in res.stdout, res.stdout + res.stderr
    res = host.run(f"id {q(user)}")
    assert "aad_users" not in groups_of(res.stdout) and "aad_admins" not in groups_of(res.stdout)


def test_never_seen_directory_user_refused_by_account(host):
    user = "nobody-yet@contoso.com"
    for service in ("cron", "login"):
        res = pamtester(host, service, user, "acct_mgmt")
        assert res.returncode != 0, (service, res.stdout + res.stderr)
    res = host.run(f"su {q(user)} -c 'echo INSIDE'")
    assert res.returncode != 0 and "INSIDE" not in res.stdout


@pytest.fixture(scope="module")
def dave(host, mfake):
    """An admin who signed in once over ssh (device code); later tests use no token of his."""
    user = "dave@contoso.com"
    mfake.auto("none")
    res, _ = ssh_device_login(host, mfake, user, [ADMIN_APP_ROLE], tag="dave")
    mfake.auto("none")
    assert ok(res) and "aad_admins" in groups_of(res.stdout), res.stdout + res.stderr
    return user


def test_su_from_root_to_directory_admin(host, dave):
    """su from root: no sign-in (pam_rootok), the account stage agrees with NSS."""
    res = host.run(f"su - {q(dave)} -c 'id; echo HOME=$HOME'")
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"({dave})" in res.stdout and "aad_admins" in groups_of(res.stdout), res.stdout
    assert f"HOME=/home/{dave}" in res.stdout


def test_sudo_inside_su_session_of_directory_admin(host, dave):
    """sudo's account stage for an admin who holds no token in this process tree."""
    res = host.run(host.as_user(dave, "sudo -n id -un"))
    assert res.returncode == 0 and res.stdout.strip() == "root", res.stdout + res.stderr


def test_sudo_u_directory_admin_from_root(host, dave):
    res = host.run(f"sudo -u {q(dave)} id")
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"({dave})" in res.stdout and "aad_admins" in groups_of(res.stdout), res.stdout


@pytest.mark.parametrize("service", ["cron", "login"])
def test_account_stage_of_cron_and_login_for_directory_admin(host, dave, service):
    res = pamtester(host, service, dave, "acct_mgmt")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "account management done" in res.stdout, res.stdout + res.stderr


def test_su_from_local_user_device_code(host, mfake):
    user = "erin@contoso.com"
    mfake.auto("approve", upn=user, roles=[ADMIN_APP_ROLE], count=1)
    rc, out = host.pty(f"su {q(user)} -c 'id; sudo -n id -un'", DEVICE_STEPS, user=UNPRIV)
    assert rc == 0, out
    assert re.search(rf"as {re.escape(user)}, open https://\S+ and enter the code", out), out
    assert f"({user})" in out and "aad_admins" in groups_of(out), out
    assert out.strip().splitlines()[-1] == "root", out


def test_su_from_local_user_pasted_token(host, mfake):
    user = "frank@contoso.com"
    tok = mfake.mint("access_v2", upn=user, roles=[USER_APP_ROLE])
    parts = [tok[i:i + 1000] for i in range(0, len(tok), 1000)]
    steps = [(r"\(part \d+, empty line to finish\): ", p) for p in parts + [""]]
    mfake.clear_requests()
    rc, out = host.pty(f"su {q(user)} -c id", steps, user=UNPRIV)
    assert rc == 0, out
    assert f"({user})" in out and "aad_users" in groups_of(out) and "aad_admins" not in groups_of(out), out
    assert mfake.requests("devicecode") == []


def test_local_users_unchanged(host):
    # ssh with a password
    res, _ = host.ssh(LOCAL_USER, "id -un", answers=[PASSWORD], methods="password", tag="local")
    assert res.returncode == 0 and res.stdout.strip() == LOCAL_USER, res.stderr + host.sshd_log()[-2000:]
    res, _ = host.ssh(LOCAL_USER, "id -un", answers=["wrong"], methods="password", tag="local-bad")
    assert res.returncode != 0 and LOCAL_USER not in res.stdout
    # su from one local user to another, with the password
    rc, out = host.pty(f"su {LOCAL_USER} -c 'id -un'", [(r"[Pp]assword:", PASSWORD)], user=UNPRIV)
    assert rc == 0 and out.strip().splitlines()[-1] == LOCAL_USER, out
    rc, out = host.pty(f"su {LOCAL_USER} -c 'id -un'", [(r"[Pp]assword:", "wrong")], user=UNPRIV)
    assert rc != 0 and "Authentication failure" in out, out
    # sudo of a local sudoer, with the password
    res = host.run(host.as_user(LOCAL_SUDOER, "sudo -S -k id -un"), input=PASSWORD + "\n")
    assert res.returncode == 0 and res.stdout.strip() == "root", res.stdout + res.stderr
    res = host.run(host.as_user(LOCAL_SUDOER, "sudo -S -k id -un"), input="wrong\n")
    assert res.returncode != 0 and "root" not in res.stdout
    # su from root, cron, login
    res = host.run(f"su - {LOCAL_USER} -c 'id -un'")
    assert res.returncode == 0 and res.stdout.strip() == LOCAL_USER, res.stdout + res.stderr
    for service in ("cron", "login"):
        res = pamtester(host, service, LOCAL_USER, "acct_mgmt")
        assert res.returncode == 0, (service, res.stdout + res.stderr)


def test_module_syslog_lines(host, mfake):
    """What the module tells the administrator (authpriv, every priority captured from the
    namespace's /dev/log): the role decision with the user, oid, service and source, the session,
    and never a token (no JWT text at any priority)."""
    from tokens import oid_for
    admin, nobody = "gina@contoso.com", "hank@contoso.com"
    n0 = len(host.syslog.messages())
    res, _ = ssh_device_login(host, mfake, admin, [ADMIN_APP_ROLE], tag="gina")
    assert ok(res), res.stderr
    res, _ = ssh_device_login(host, mfake, nobody, [], tag="hank")
    assert not ok(res)
    msgs = host.syslog.messages()[n0:]
    text = "\n".join(m[2] for m in msgs)
    granted = [m for m in msgs if f"role granted: user '{admin}' oid={oid_for(admin)}" in m[2]]
    assert granted, text[-3000:]
    assert all(m[1] == 10 and m[0] == 6 for m in granted), granted       # authpriv.info
    assert "service=sshd" in granted[-1][2] and "role admin from claims" in granted[-1][2], granted
    refused = [m for m in msgs if f"role refused: user '{nobody}' oid={oid_for(nobody)}" in m[2]]
    assert refused and all(m[1] == 10 and m[0] == 5 for m in refused), text[-3000:]   # authpriv.notice
    assert any(f"session opened for directory user '{admin}'" in m[2] for m in msgs), text[-3000:]
    assert not any(f"session opened for directory user '{nobody}'" in m[2] for m in msgs)
    assert not re.search(r"eyJ[A-Za-z0-9_-]{10,}", host.syslog.text()), "a JWT reached syslog"


# ---------------------------------------------------------------- identity over time (issue 19)
def set_conf(host, **keys):
    """Rewrite /etc/entra-login.conf with keys added (None drops one); returns the old text."""
    old = host.run("cat /etc/entra-login.conf").stdout
    lines = [ln for ln in old.splitlines() if ln.split("=")[0].strip() not in keys]
    lines += [f"{k} = {v}" for k, v in keys.items() if v is not None]
    res = host.run("cat > /etc/entra-login.conf", input="\n".join(lines) + "\n")
    assert res.returncode == 0, res.stderr
    return old


@pytest.mark.parametrize("sources", ["claims, static", "claims, arm"])
def test_revocation_through_sshd_sudo_and_cron_at_one_refresh(host, mfake, sources):
    """The default `claims, static` and the README's / `make demo`'s `claims, arm`: an admin by the
    static list / the Azure assignment signs in over ssh (no app role in the token) and sudo works;
    the entry / assignment is removed; after ONE `entra-login refresh` the user is gone from
    aad_admins and `sudo -n` and cron's account stage refuse. Before issue 19 the token-free claims
    source re-affirmed whatever role was stored ("kept admin"), so nothing was ever revoked."""
    user = "rev-static@contoso.com" if "static" in sources else "rev-arm@contoso.com"
    grant = {"static_admins": user} if "static" in sources else {"imds_url": mfake.imds_url,
                                                                 "arm_url": mfake.arm_url}
    old = set_conf(host, role_sources=sources, **grant)
    try:
        mfake.set_roles((oid_for(user), "admin", "vm"))
        res, _ = ssh_device_login(host, mfake, user, [], "id; sudo -n id -un && echo SUDO-OK",
                                  tag="rev" + sources[-3:])
        assert ok(res), res.stderr + host.sshd_log()[-3000:]
        assert "aad_admins" in groups_of(res.stdout) and "SUDO-OK" in res.stdout, res.stdout + res.stderr
        # Revoke at the source.
        mfake.set_roles()
        if "static" in sources:
            set_conf(host, static_admins=None)
        res = host.run("entra-login refresh")
        assert res.returncode == 0, res.stdout + res.stderr
        assert f"{user}: admin -> none" in res.stdout, res.stdout
        res = host.run("getent group aad_admins")
        assert user not in res.stdout, res.stdout
        res = host.run(host.as_user(user, "sudo -n id -un && echo SUDO-OK"))
        assert res.returncode != 0 and "SUDO-OK" not in res.stdout, res.stdout + res.stderr
        res = pamtester(host, "cron", user, "acct_mgmt")
        assert res.returncode != 0, res.stdout + res.stderr
    finally:
        mfake.set_roles()
        host.run("cat > /etc/entra-login.conf", input=old)


def test_reused_upn_after_purge_gets_neither_the_uid_nor_the_files(host, mfake):
    """A UPN handed to another person (another object id) after `forget --purge`: refused until an
    administrator runs `entra-login release`, then a fresh uid and another home; the old uid and
    files never pass. Before issue 19 purge freed the name and the uid, and forget let any object
    bind the name with the old uid."""
    user = "reused@contoso.com"
    res, _ = ssh_device_login(host, mfake, user, [USER_APP_ROLE], "id -u; echo HOME=$HOME; "
                              "mkdir -p $HOME && echo secret > $HOME/secret && echo MADE", tag="r1")
    assert ok(res) and "MADE" in res.stdout, res.stdout + res.stderr + host.sshd_log()[-3000:]
    uid1 = res.stdout.split()[0]
    res = host.run(f"entra-login forget {q(user)} --purge")
    assert res.returncode == 0 and "retired" in res.stdout, res.stdout + res.stderr
    assert host.run(f"getent passwd {q(user)}").returncode == 2     # a tombstone: no entry at all
    other = {"oid": "0badc0de-1111-4222-8333-444444444444"}
    mfake.auto("approve", upn=user, roles=[USER_APP_ROLE], count=1, **other)
    res, prompts = host.ssh(user, "id -u", answers=["", ""], tag="r2")
    assert res.returncode != 0 and "uid=" not in res.stdout, res.stdout
    assert "retired or blocked" in prompts + res.stderr, prompts + res.stderr
    assert host.run("pamtester cron reused@contoso.com acct_mgmt").returncode != 0
    res = host.run(f"entra-login release {q(user)}")
    assert res.returncode == 0 and f"uid {uid1} stays reserved" in res.stdout, res.stdout + res.stderr
    mfake.auto("approve", upn=user, roles=[USER_APP_ROLE], count=1, **other)
    res, _ = host.ssh(user, "id -u; echo HOME=$HOME; cat /home/reused@contoso.com/secret || echo NOSECRET",
                      answers=["", ""], tag="r3")
    assert ok(res), res.stdout + res.stderr + host.sshd_log()[-3000:]
    uid2 = res.stdout.split()[0]
    assert uid2 != uid1
    assert f"HOME=/home/{user}.{uid2}" in res.stdout and "NOSECRET" in res.stdout, res.stdout
    assert host.run(f"stat -c %u /home/{q(user)}/secret").stdout.strip() == uid1


def test_caller_of_setuid_su_cannot_stop_or_slow_the_helper(host, mfake):
    """Issue 19 item 7: the unprivileged caller of setuid su sets nice 19, ionice idle and
    oom_score_adj 1000 on the process that becomes su, and stops su's process group (as a
    terminal's Ctrl-Z does, whatever the permissions). The root helper su starts must have its own
    session, cwd /, and the default nice, scheduling policy, I/O class and OOM score, and keep
    running. Before the fix: it inherited all of them and stopped with su."""
    user = "bob@contoso.com"
    mfake.auto("approve", upn=user, roles=[USER_APP_ROLE], count=1)
    seen = {}

    def inspect(_):
        if seen:
            return
        helper = host.run("pgrep -x pam-helper").stdout.split()
        su = host.run("pgrep -x su").stdout.split()
        assert len(helper) == 1 and len(su) == 1, (helper, su)
        h, s = helper[0], su[0]
        seen["helper"] = host.run(f"ps -o pgid=,sid=,ni=,cls= -p {h}; ionice -p {h}; cat /proc/{h}/oom_score_adj; "
                                  f"readlink /proc/{h}/cwd").stdout.split("\n")
        seen["su"] = host.run(f"ps -o pgid=,sid=,ni=,cls= -p {s}; ionice -p {s}; cat /proc/{s}/oom_score_adj").stdout
        pgid = seen["su"].split()[0]
        host.run(f"kill -STOP -- -{pgid}")
        try:
            time.sleep(0.3)
            seen["state"] = host.run(f"ps -o stat= -p {h}").stdout.strip()
        finally:
            host.run(f"kill -CONT -- -{pgid}")

    rc, out = host.pty(f"echo 1000 > /proc/self/oom_score_adj; exec nice -n 19 ionice -c 3 su {q(user)} -c 'echo INSIDE'",
                       DEVICE_STEPS, user=UNPRIV, before_answer=inspect)
    assert rc == 0 and "INSIDE" in out, out
    su_pgid, su_sid, su_ni, su_cls = seen["su"].split()[:4]
    assert su_ni == "19" and "idle" in seen["su"] and seen["su"].split()[-1] == "1000", seen   # the caller's settings
    h_pgid, h_sid, h_ni, h_cls = seen["helper"][0].split()
    assert h_sid != su_sid and h_pgid != su_pgid, seen
    assert h_ni == "0" and h_cls == "TS", seen
    assert "idle" not in seen["helper"][1], seen
    assert seen["helper"][2] == "0" and seen["helper"][3] == "/", seen
    assert "T" not in seen["state"], seen
