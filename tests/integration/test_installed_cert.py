"""Issue 14 against the installed package: Entra SSH certificate logins through the sshd drop-in
exactly as `dpkg -i` put it (/etc/ssh/sshd_config.d/50-entra-login.conf: AuthorizedKeysCommand
/usr/sbin/entra-login authorized-keys %u %t %k, AuthorizedKeysCommandUser root), the PAM files
pam-auth-update wrote, sudo's shipped rule, and the stock OpenSSH client with a certificate the
fake Entra issued as `az ssh cert` requests it (tests/az_ssh_cert.py).

Roles come from token-free sources only (role_sources = static; one test arm through the fake's
IMDS and ARM): a certificate carries no token, so none of this depends on issue 11's account-stage
work. `dpkg -r` and `dpkg -P` run in a namespace nested in the host's, so the other tests keep
the package. Every syslog line of the namespace is
captured (installed_env.InstalledHost(syslog=True)), so the module's and the command's authpriv
lines are asserted, and no certificate or token text may appear in them.
"""
import re
import subprocess

import pytest

from az_ssh_cert import CertClient
from entra_fake import ADMIN_APP_ROLE
from installed_env import LOCAL_USER, module_fake, q, start_host
from installed_env import clean_queue  # noqa: F401 (autouse fixture)
from tokens import oid_for

ADMIN = "alice@contoso.com"
USER = "bob@contoso.com"
DORA = "dora@contoso.com"
NOROLE = "carol@contoso.com"
LOG_AUTHPRIV = 10
DROPIN = "/etc/ssh/sshd_config.d/50-entra-login.conf"
AK_LINE = "AuthorizedKeysCommand /usr/sbin/entra-login authorized-keys %u %t %k"


mfake = module_fake("installed-cert-fake")


@pytest.fixture(scope="module")
def host(mfake, tmp_path_factory):
    h = start_host(tmp_path_factory, mfake, "installed-cert-host", syslog=True,
                   config_keys={"role_sources": "static", "static_admins": ADMIN,
                                "static_users": f"{USER}, {DORA}"})
    yield h
    h.stop()


@pytest.fixture(scope="module")
def local_key(host, tmp_path_factory):
    """An ed25519 key in the local user's own ~/.ssh/authorized_keys (written as root, owned by them)."""
    d = tmp_path_factory.mktemp("installed-cert-localkey")
    key = d / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    pub = (d / "id_ed25519.pub").read_text()
    res = host.run(f"install -d -m 0700 -o {LOCAL_USER} -g {LOCAL_USER} ~{LOCAL_USER}/.ssh && "
                   f"printf '%s' {q(pub)} >~{LOCAL_USER}/.ssh/authorized_keys && "
                   f"chown {LOCAL_USER}: ~{LOCAL_USER}/.ssh/authorized_keys && "
                   f"chmod 0600 ~{LOCAL_USER}/.ssh/authorized_keys")
    assert res.returncode == 0, res.stdout + res.stderr
    return key


def groups_of(id_output):
    m = re.search(r"groups=(\S+)", id_output)
    return set(re.findall(r"\(([^)]+)\)", m.group(1))) if m else set()


def cert_for(mfake, host, upn, tag):
    c = CertClient(mfake, host.tmp / f"az-{tag}")
    return c, c.device_code(upn)


def syslog_lines(host, needle):
    """[(priority, facility, text)] of the captured lines containing needle."""
    return [m for m in host.syslog.messages() if needle in m[2]]


def assert_no_secret_logged(host, *texts):
    log = host.syslog.text() + host.sshd_log()
    for t in texts:
        body = t.split()[1] if " " in t else t
        for i in range(0, len(body) - 40, 40):     # no 40-byte piece of it anywhere
            assert body[i:i + 40] not in log, f"a piece of a certificate/token at offset {i} was logged"


# ---------------------------------------------------------------------------------------------


def test_dropin_as_installed(host):
    """The drop-in is the package's, root-owned, and sshd applies the certificate settings to
    directory names only."""
    res = host.run(f"dpkg -S {DROPIN}; stat -c '%a %U %G' {DROPIN}; cat {DROPIN}")
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.startswith(f"entra-login: {DROPIN}\n644 root root\n"), res.stdout
    assert AK_LINE in res.stdout and "AuthorizedKeysCommandUser root" in res.stdout
    res = host.run("sshd -T -C user=someone@contoso.com,host=localhost,addr=127.0.0.1; echo ===; "
                   f"sshd -T -C user={LOCAL_USER},host=localhost,addr=127.0.0.1")
    entra, local = (part.splitlines() for part in res.stdout.split("===\n"))
    assert "authorizedkeyscommand /usr/sbin/entra-login authorized-keys %u %t %k" in entra
    assert "authorizedkeyscommanduser root" in entra and "authorizedkeysfile none" in entra
    assert "authenticationmethods publickey keyboard-interactive" in entra
    assert "authorizedkeyscommand none" in local and "authenticationmethods any" in local
    assert "authorizedkeysfile .ssh/authorized_keys .ssh/authorized_keys2" in local
    # what sshd will run: the installed, root-owned binary
    res = host.run("dpkg -S /usr/sbin/entra-login; stat -c '%a %U %G' /usr/sbin/entra-login")
    assert res.stdout == "entra-login: /usr/sbin/entra-login\n755 root root\n", res.stdout


def test_admin_certificate_login_lands_in_aad_admins_with_sudo(host, mfake):
    c, cert = cert_for(mfake, host, ADMIN, "alice")
    res = host.ssh_key(ADMIN, "id; sudo -n true && echo SUDO-OK; echo sudo-rc=$?", c.key_path, cert, tag="alice")
    assert res.returncode == 0, res.stderr + host.sshd_log()[-3000:]
    assert {"aad_admins", "aad_users"} <= groups_of(res.stdout), res.stdout
    assert "SUDO-OK" in res.stdout and "sudo-rc=0" in res.stdout, res.stdout + res.stderr
    assert re.search(rf"Accepted publickey for {re.escape(ADMIN)} from 127\.0\.0\.1 port \d+ ssh2: "
                     r"RSA-CERT SHA256:\S+ ID " + re.escape(oid_for(ADMIN)), host.sshd_log()), host.sshd_log()[-2000:]
    # the command's authpriv line: who, which oid, which role from which source
    granted = syslog_lines(host, f"certificate for {ADMIN} oid {oid_for(ADMIN)} granted")
    assert granted, host.syslog.text()[-3000:]
    pri, fac, text = granted[-1]
    assert fac == LOG_AUTHPRIV and pri == 6 and "role admin (source static)" in text, granted
    assert "entra-login[" in text
    show = host.run(f"entra-login show {q(ADMIN)}").stdout
    assert "(the last login was by certificate)" in show, show
    assert_no_secret_logged(host, cert.read_text(), c.response["id_token"])


def test_user_certificate_login_without_sudo(host, mfake):
    c, cert = cert_for(mfake, host, USER, "bob")
    res = host.ssh_key(USER, "id; sudo -n true && echo SUDO-OK; echo sudo-rc=$?", c.key_path, cert, tag="bob")
    assert res.returncode == 0, res.stderr + host.sshd_log()[-3000:]
    g = groups_of(res.stdout)
    assert "aad_users" in g and "aad_admins" not in g, res.stdout
    assert "SUDO-OK" not in res.stdout and "sudo-rc=1" in res.stdout, res.stdout
    granted = syslog_lines(host, f"certificate for {USER} oid {oid_for(USER)} granted")
    assert granted and "role user (source static)" in granted[-1][2], host.syslog.text()[-3000:]


def test_no_role_certificate_refused(host, mfake):
    c, cert = cert_for(mfake, host, NOROLE, "carol")
    res = host.ssh_key(NOROLE, "id", c.key_path, cert, tag="carol")
    assert res.returncode != 0 and "uid=" not in res.stdout
    assert "Permission denied" in res.stderr
    refused = syslog_lines(host, f"certificate for {NOROLE} oid {oid_for(NOROLE)} refused")
    assert refused, host.syslog.text()[-3000:]
    assert all(m[1] == LOG_AUTHPRIV for m in refused)
    assert "(EL_ERR_ROLE_NONE)" in refused[-1][2], refused
    assert not syslog_lines(host, f"certificate for {NOROLE} oid {oid_for(NOROLE)} granted")
    res = host.run(f"id {q(NOROLE)}")
    assert "aad_users" not in groups_of(res.stdout) and "aad_admins" not in groups_of(res.stdout)


def test_certificate_for_another_name_refused(host, mfake):
    """bob's certificate offered for alice's name: the principal is not the login name."""
    c, cert = cert_for(mfake, host, USER, "bob-as-alice")
    res = host.ssh_key(ADMIN, "id", c.key_path, cert, tag="bob-as-alice")
    assert res.returncode != 0 and "uid=" not in res.stdout
    assert syslog_lines(host, f"certificate for {ADMIN} oid {oid_for(USER)} refused"), host.syslog.text()[-2000:]


def test_certificate_then_device_code_keeps_one_uid(host, mfake):
    c, cert = cert_for(mfake, host, DORA, "dora")
    res = host.ssh_key(DORA, "id -u", c.key_path, cert, tag="dora")
    assert res.returncode == 0, res.stderr + host.sshd_log()[-3000:]
    uid = int(res.stdout.strip())
    mfake.auto("approve", upn=DORA, roles=[ADMIN_APP_ROLE], count=1)   # the token's role is not used
    res, _ = host.ssh(DORA, "id", answers=["", ""], tag="dora-dc")
    assert res.returncode == 0, res.stderr + host.sshd_log()[-3000:]
    assert f"uid={uid}(" in res.stdout, res.stdout
    g = groups_of(res.stdout)
    assert "aad_users" in g and "aad_admins" not in g, res.stdout     # static says user
    assert host.run("entra-login users").stdout.count(DORA) == 1


WRAPPER = r"""#!/bin/sh
# counts every run of sshd's AuthorizedKeysCommand: user and key type, then the real command
printf '%s %s\n' "$2" "$3" >>/run/entra-test/ak-calls
exec /run/entra-test/entra-login.real "$@"
"""


@pytest.fixture
def ak_counter(host):
    """/usr/sbin/entra-login replaced (bind mount, this test only) by a root-owned wrapper that
    logs each call, then runs the installed binary."""
    (host.tmp / "ak-wrapper").write_text(WRAPPER)
    res = host.run("install -m 0755 -o root -g root /run/entra-test/r/ak-wrapper /run/entra-test/ak-wrapper && "
                   "install -m 0755 -o root -g root /usr/sbin/entra-login /run/entra-test/entra-login.real && "
                   ": >/run/entra-test/ak-calls && "
                   "mount --bind /run/entra-test/ak-wrapper /usr/sbin/entra-login")
    assert res.returncode == 0, res.stdout + res.stderr

    def calls():
        return host.path("/run/entra-test/ak-calls").read_text().splitlines()
    yield calls
    res = host.run("umount /usr/sbin/entra-login")
    assert res.returncode == 0, res.stderr


def test_local_user_authorized_keys_and_command_never_run(host, mfake, local_key, ak_counter):
    # positive control: a directory user's certificate login runs the command (as installed)
    c, cert = cert_for(mfake, host, ADMIN, "alice-ctl")
    res = host.ssh_key(ADMIN, "id -un", c.key_path, cert, tag="alice-ctl")
    assert res.returncode == 0 and res.stdout.strip() == ADMIN, res.stderr + host.sshd_log()[-3000:]
    assert f"{ADMIN} ssh-rsa-cert-v01@openssh.com" in ak_counter(), ak_counter()
    before = len(ak_counter())

    # the local user's own authorized_keys, publickey, as before the package
    res = host.ssh_key(LOCAL_USER, "id -un", local_key, tag="local-key")
    assert res.returncode == 0 and res.stdout.strip() == LOCAL_USER, res.stderr + host.sshd_log()[-3000:]
    assert re.search(rf"Accepted publickey for {LOCAL_USER} from 127\.0\.0\.1 port \d+ ssh2: ED25519",
                     host.sshd_log())
    # an Entra certificate offered for the local name is not ours to accept: refused by sshd
    res = host.ssh_key(LOCAL_USER, "id -un", c.key_path, cert, tag="local-cert")
    assert res.returncode != 0 and LOCAL_USER not in res.stdout
    assert f"Failed publickey for {LOCAL_USER}" in host.sshd_log()
    calls = ak_counter()[before:]
    assert calls == [], calls
    assert not any(f" {LOCAL_USER} " in m[2] or f"for {LOCAL_USER}" in m[2]
                   for m in host.syslog.messages() if "entra-login[" in m[2]), host.syslog.text()[-2000:]


def read(prefix, suffix):
    return open(f"{prefix}{suffix}", errors="replace").read()


def test_remove_keeps_local_logins_and_refuses_certificates(host, mfake, local_key):
    """`dpkg -r`: the drop-in is a conffile and stays (dpkg's rule) while /usr/sbin/entra-login
    is gone: sshd must still start, local keys still work, certificates fail closed."""
    c, cert = cert_for(mfake, host, ADMIN, "alice-rm")
    sshd, port, out = host.package_action("-r", "removed")
    try:
        assert read(out, ".dpkg.rc").strip() == "0", read(out, ".dpkg")
        assert read(out, ".status") == "deinstall ok config-files"
        assert read(out, ".t.rc").strip() == "0", read(out, ".t")
        res = host.ssh_key(LOCAL_USER, "id -un", local_key, tag="rm-local", port=port)
        assert res.returncode == 0 and res.stdout.strip() == LOCAL_USER, res.stderr + read(out, ".sshd")[-2000:]
        res = host.ssh_key(ADMIN, "id", c.key_path, cert, tag="rm-alice", port=port)
        assert res.returncode != 0 and "uid=" not in res.stdout
    finally:
        host.stop_proc(sshd)
    # the package that stays installed for the other tests is untouched by the nested removal
    assert host.run("dpkg-query -W -f '${Status}' entra-login").stdout == "install ok installed"


def test_purge_gives_back_sshd_config_as_before(host, local_key):
    sshd, port, out = host.package_action("-P", "purged")
    try:
        assert read(out, ".dpkg.rc").strip() == "0", read(out, ".dpkg")
        assert "no packages found" in read(out, ".status")
        assert read(out, ".t.rc").strip() == "0", read(out, ".t")
        pre = host.tmp / "ssh.pre"
        # /etc/ssh: the same files, modes and contents as before dpkg -i (the drop-in gone)
        assert host.path(DROPIN).exists()     # (the namespace the other tests use keeps it)
        assert "50-entra-login.conf" not in read(out, ".files"), read(out, ".files")
        assert read(out, ".files") == read(pre, ".files")
        for u in ("someone@contoso.com", LOCAL_USER):
            after, before = read(out, f".T.{u}"), read(pre, f".T.{u}")
            assert "authorizedkeyscommand none" in after, after
            assert after == before, u
        res = host.ssh_key(LOCAL_USER, "id -un", local_key, tag="purge-local", port=port)
        assert res.returncode == 0 and res.stdout.strip() == LOCAL_USER, res.stderr + read(out, ".sshd")[-2000:]
    finally:
        host.stop_proc(sshd)


@pytest.fixture
def arm_config(host, mfake):
    """role_sources = arm for this test: the fake's IMDS (the VM's managed identity) and ARM
    role assignments; the installed config is given back afterwards."""
    conf = host.path("/etc/entra-login.conf")
    saved = conf.read_text()
    conf.write_text(saved.replace("role_sources = static\n", "role_sources = arm\n")
                    + f"imds_url = {mfake.imds_url}\narm_url = {mfake.arm_url}\n")
    yield
    conf.write_text(saved)
    mfake.set_roles()


def test_arm_role_certificate_login_and_revocation(host, mfake, arm_config):
    """role_sources = arm (the README's RBAC setup): the role comes from Azure role assignments
    read with the VM's identity; removing the assignment refuses the next certificate."""
    user = "erin@contoso.com"
    mfake.set_roles((oid_for(user), "admin", "rg"))
    c, cert = cert_for(mfake, host, user, "erin")
    res = host.ssh_key(user, "id; sudo -n true && echo SUDO-OK; echo sudo-rc=$?", c.key_path, cert, tag="erin")
    assert res.returncode == 0, res.stderr + host.sshd_log()[-3000:]
    assert {"aad_admins", "aad_users"} <= groups_of(res.stdout), res.stdout
    assert "SUDO-OK" in res.stdout, res.stdout + res.stderr
    granted = syslog_lines(host, f"certificate for {user} oid {oid_for(user)} granted")
    assert granted and "role admin (source arm)" in granted[-1][2], host.syslog.text()[-3000:]
    assert mfake.requests("arm"), "ARM was not asked"

    # the assignment is removed in Azure: the next certificate (az ssh vm fetches a new one) is refused
    mfake.set_roles()
    res = host.ssh_key(user, "id", c.key_path, c.refresh(), tag="erin-revoked")
    assert res.returncode != 0 and "uid=" not in res.stdout, res.stdout
    refused = syslog_lines(host, f"certificate for {user} oid {oid_for(user)} refused")
    assert refused and "(EL_ERR_ROLE_NONE)" in refused[-1][2], host.syslog.text()[-3000:]
