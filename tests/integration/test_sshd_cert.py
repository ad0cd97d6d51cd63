"""Entra SSH certificates against a real sshd with the drop-in and the stock OpenSSH client
(issue 14, "what it must show" 1): certificates from the fake, requested as `az ssh cert` does."""
import os
import subprocess

import pytest

from az_ssh_cert import CertClient
from conftest import BUILD, CLI
from entra_fake import ADMIN_APP_ROLE, TENANT
from tokens import SP_CLIENT_ID, guid_for, oid_for
from sshd_env import LOCAL_USER, SshdEnv, host_config

ADMIN = "alice@contoso.com"
USER = "bob@contoso.com"


def cert_config(fake, state_dir, **extra):
    text = host_config(fake, state_dir).replace("role_sources = claims\n", "role_sources = claims, static\n")
    text += f"static_admins = {ADMIN}\nstatic_users = {USER}, dora@contoso.com\n"
    return text + "".join(f"{k} = {v}\n" for k, v in extra.items())


def prime_jwks(env):
    """`entra-login status` fetches discovery + JWKS into the state dir (as the timer does)."""
    res = env.iso.run(f"{CLI} status")
    assert "kid-1" in res.stdout or res.returncode == 0, res.stdout + res.stderr


@pytest.fixture
def sshd(tmp_path, fake, public_state_dir):
    env = SshdEnv(tmp_path, BUILD, cert_config(fake, public_state_dir)).start()
    prime_jwks(env)
    yield env
    env.stop()


def test_admin_certificate_login_gets_sudo(sshd, fake, tmp_path):
    c = CertClient(fake, tmp_path / "az-alice")
    cert = c.device_code(ADMIN)
    assert c.response.get("id_token")
    res = sshd.ssh_key(ADMIN, "id; sudo -n true && echo sudo-ok", c.key_path, cert)
    assert res.returncode == 0, res.stderr + sshd.log()[-3000:]
    assert "aad_admins" in res.stdout and "sudo-ok" in res.stdout
    show = sshd.iso.run(f"{CLI} show {ADMIN}").stdout
    assert "(the last login was by certificate)" in show, show


def test_user_certificate_login_has_no_sudo(sshd, fake, tmp_path):
    c = CertClient(fake, tmp_path / "az-bob")
    res = sshd.ssh_key(USER, "id; sudo -n true && echo sudo-ok || echo sudo-refused", c.key_path,
                       c.device_code(USER))
    assert res.returncode == 0, res.stderr + sshd.log()[-3000:]
    assert "aad_users" in res.stdout and "aad_admins" not in res.stdout and "sudo-refused" in res.stdout


def test_no_role_certificate_refused(sshd, fake, tmp_path):
    c = CertClient(fake, tmp_path / "az-carol")
    res = sshd.ssh_key("carol@contoso.com", "id", c.key_path, c.device_code("carol@contoso.com"))
    assert res.returncode != 0 and "uid=" not in res.stdout
    assert "Permission denied" in res.stderr
    assert "refused carol@contoso.com: user holds neither VM login role (EL_ERR_ROLE_NONE)" in sshd.log()


def test_certificate_of_other_user_refused(sshd, fake, tmp_path):
    c = CertClient(fake, tmp_path / "az-bob2")
    res = sshd.ssh_key(ADMIN, "id", c.key_path, c.device_code(USER))
    assert res.returncode != 0 and "uid=" not in res.stdout


def test_same_person_by_certificate_then_device_code_keeps_one_uid(sshd, fake, tmp_path):
    c = CertClient(fake, tmp_path / "az-dora")
    res = sshd.ssh_key("dora@contoso.com", "id -u", c.key_path, c.device_code("dora@contoso.com"))
    assert res.returncode == 0, res.stderr + sshd.log()[-3000:]
    uid_cert = int(res.stdout.strip())
    # a refreshed certificate (refresh_token grant, as `az ssh vm` does each time) also works
    res = sshd.ssh_key("dora@contoso.com", "id -u", c.key_path, c.refresh(), tag="pk2")
    assert res.returncode == 0 and int(res.stdout.strip()) == uid_cert, res.stderr
    fake.auto("approve", upn="dora@contoso.com", roles=[ADMIN_APP_ROLE])
    res, _ = sshd.ssh("dora@contoso.com", "id -u", answers=["", ""])
    assert res.returncode == 0, res.stderr
    assert int(res.stdout.strip()) == uid_cert
    listing = sshd.iso.run(f"{CLI} users").stdout
    assert listing.count("dora@contoso.com") == 1


def test_local_user_authorized_keys_unaffected_and_command_not_run(sshd, fake, tmp_path):
    # an Entra certificate offered for a local account: sshd must not even ask our command
    # (its refusals reach sshd's log through stderr, as the other tests show)
    c = CertClient(fake, tmp_path / "az-local")
    res = sshd.ssh_key(LOCAL_USER, "id", c.key_path, c.device_code(ADMIN), tag="lc")
    assert res.returncode != 0
    key = tmp_path / "local_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    home = sshd.iso.home / LOCAL_USER
    (home / ".ssh").mkdir(mode=0o700, exist_ok=True)
    (home / ".ssh" / "authorized_keys").write_text((tmp_path / "local_key.pub").read_text())
    for p in (home / ".ssh", home / ".ssh" / "authorized_keys"):
        subprocess.run(["chown", "4242:4242", str(p)], check=True)
    res = sshd.ssh_key(LOCAL_USER, "id -un", key)
    assert res.returncode == 0, res.stderr + sshd.log()[-3000:]
    assert res.stdout.strip() == LOCAL_USER
    log = sshd.log()
    assert "entra-login authorized-keys" not in log and "/usr/sbin/entra-login" not in log, log[-2000:]
    assert f"Failed publickey for {LOCAL_USER}" in log     # the certificate was offered and refused


def test_authorized_keys_file_of_directory_user_is_ignored(sshd, fake, tmp_path):
    """AuthorizedKeysFile none in the Match block: neither a plain key nor a `cert-authority` line
    for some other CA that an admin (or an attacker with write access to the home) drops into a
    directory user's ~/.ssh/authorized_keys ever logs in: only `entra-login authorized-keys` decides."""
    import sshcert
    c = CertClient(fake, tmp_path / "az-alice2")
    assert sshd.ssh_key(ADMIN, "true", c.key_path, c.device_code(ADMIN)).returncode == 0
    key = tmp_path / "plain"
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(key)], check=True)
    rogue_ca = sshcert.new_user_key()
    home = sshd.iso.home / ADMIN
    home.mkdir(exist_ok=True)
    (home / ".ssh").mkdir(mode=0o700, exist_ok=True)
    (home / ".ssh" / "authorized_keys").write_text(
        (tmp_path / "plain.pub").read_text() + "cert-authority " + sshcert.public_line(rogue_ca.public_key()) + "\n")
    uid = home.stat().st_uid       # sshd reads the file as the user: make it theirs, as a real one is
    assert uid >= 1000000000
    for p in (home / ".ssh", home / ".ssh" / "authorized_keys"):
        os.chown(p, uid, uid)
    res = sshd.ssh_key(ADMIN, "id", key, tag="plain")
    assert res.returncode != 0 and "uid=" not in res.stdout
    # an Entra-shaped certificate for the same person, signed by the rogue CA of that line
    rogue_cert = tmp_path / "rogue-cert.pub"
    rogue_cert.write_text(sshcert.line(sshcert.entra_cert(rogue_ca, c.key.public_key(), ADMIN,
                                                          oid_for(ADMIN), TENANT)) + "\n")
    res = sshd.ssh_key(ADMIN, "id", c.key_path, rogue_cert, tag="rogue")
    assert res.returncode != 0 and "uid=" not in res.stdout, res.stderr + sshd.log()[-2500:]


@pytest.fixture
def sshd_with_akfile(tmp_path, fake, public_state_dir):
    """The drop-in without `AuthorizedKeysFile none`: an admin's edit (or a Match order that loses
    it) lets sshd read a directory user's own authorized_keys. PAM account must still refuse."""
    env = SshdEnv(tmp_path, BUILD, cert_config(fake, public_state_dir))
    dropin = env.iso.etc / "ssh" / "sshd_config.d" / "50-entra-login.conf"
    text = dropin.read_text()
    assert "AuthorizedKeysFile none" in text
    text = text.replace("AuthorizedKeysFile none", "AuthorizedKeysFile .ssh/authorized_keys")
    text = text.replace("PubkeyAcceptedAlgorithms rsa-sha2-256-cert", "PubkeyAcceptedAlgorithms rsa-sha2-512,rsa-sha2-256,rsa-sha2-256-cert")
    dropin.write_text(text)
    env.start()
    prime_jwks(env)
    yield env
    env.stop()


def test_publickey_without_certificate_grant_refused_by_pam_account(sshd_with_akfile, fake, tmp_path):
    """Issue 14: PAM account passes a directory user's publickey login only if authorized-keys
    granted a certificate for the name within the last minute."""
    sshd = sshd_with_akfile
    fake.auto("approve", upn=ADMIN, roles=[ADMIN_APP_ROLE])
    res, _ = sshd.ssh(ADMIN, "id -u", answers=["", ""])       # bound by a device-code login
    assert res.returncode == 0, res.stderr + sshd.log()[-3000:]
    uid = int(res.stdout.strip())
    key = tmp_path / "plain"
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(key)], check=True)
    home = sshd.iso.home / ADMIN
    (home / ".ssh").mkdir(mode=0o700, exist_ok=True)
    (home / ".ssh" / "authorized_keys").write_text((tmp_path / "plain.pub").read_text())
    for p in (home, home / ".ssh", home / ".ssh" / "authorized_keys"):
        os.chown(p, uid, uid)
    res = sshd.ssh_key(ADMIN, "id", key, tag="plain")
    log = sshd.log()
    assert res.returncode != 0 and "uid=" not in res.stdout, res.stdout + log[-3000:]
    assert f"/home/{ADMIN}/.ssh/authorized_keys:1" in log, log[-3000:]        # sshd took the key ...
    assert f"Access denied for user {ADMIN} by PAM account" in log, log[-3000:]  # ... PAM account did not


@pytest.mark.parametrize("enabled", [True, False])
def test_service_principal_by_app_id(tmp_path, fake, public_state_dir, enabled):
    """`az login --service-principal; az ssh vm`: the principal is the app id. Logs in (role from
    static, by app id; PAM account passes it on the certificate grant) only when
    ssh_service_principals = yes."""
    extra = {"ssh_service_principals": "yes" if enabled else "no"}
    text = cert_config(fake, public_state_dir, **extra).replace(
        f"static_users = {USER}", f"static_users = {USER}, {SP_CLIENT_ID}")
    env = SshdEnv(tmp_path / "sp", BUILD, text).start()
    try:
        prime_jwks(env)
        c = CertClient(fake, tmp_path / "az-sp")
        cert = c.service_principal(SP_CLIENT_ID)
        res = env.ssh_key(SP_CLIENT_ID, "id -un; id", c.key_path, cert)
        if enabled:
            assert res.returncode == 0, res.stderr + env.log()[-3000:]
            assert res.stdout.splitlines()[0] == SP_CLIENT_ID and "aad_users" in res.stdout
            show = env.iso.run(f"{CLI} show {SP_CLIENT_ID}").stdout
            assert f"oid: {guid_for('sp:' + SP_CLIENT_ID)}" in show, show
        else:
            assert res.returncode != 0 and "uid=" not in res.stdout
    finally:
        env.stop()
