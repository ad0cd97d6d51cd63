"""Entra SSH certificates against a real sshd with the drop-in and the stock OpenSSH client
(issue 14, "what it must show" 1): certificates from the fake, requested as `az ssh cert` does."""
import os
import pathlib
import subprocess
import time

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


def state_of(env, name):
    """users.db byte for byte, the certificate grant of name, and `show`."""
    state = env.state
    grant = state / "certgrant" / name
    return ((state / "users.db").read_bytes() if (state / "users.db").exists() else b"",
            grant.read_bytes() if grant.exists() else None,
            env.iso.run(f"{CLI} show {name}").stdout)


def test_public_certificate_without_its_key_writes_nothing(sshd, fake, tmp_path):
    """Issue 19 item 5: sshd runs authorized-keys for the client's unsigned query, so whoever holds a
    copy of a public certificate can make it run. That binds nothing, records no login and grants
    nothing; only a login that proves the key (PAM account, after sshd checked the signature) does.
    Before the fix: the keyless offer bound dora's name and wrote the grant."""
    state = pathlib.Path(next(line.split("=", 1)[1].strip() for line in
                              (sshd.iso.etc / "entra-login.conf").read_text().splitlines()
                              if line.startswith("state_dir")))
    sshd.state = state
    c = CertClient(fake, tmp_path / "az-keyless")
    assert sshd.ssh_key(USER, "true", c.key_path, c.device_code(USER), tag="b0").returncode == 0  # a users.db
    cert = c.device_code("dora@contoso.com")
    nokey = tmp_path / "nokey"
    nokey.mkdir()
    (nokey / "id.pub").write_text(cert.read_text().split()[0].replace("-cert-v01@openssh.com", "") + " "
                                  + subprocess.run(["ssh-keygen", "-y", "-f", str(c.key_path)], capture_output=True,
                                                   text=True, check=True).stdout.split()[1] + "\n")
    before = state_of(sshd, "dora@contoso.com")
    # 1. the stock client offering the certificate without its private key (query only)
    res = sshd.ssh_key("dora@contoso.com", "id", nokey / "id.pub", cert, tag="nokey")
    assert res.returncode != 0 and "uid=" not in res.stdout
    assert state_of(sshd, "dora@contoso.com") == before
    assert (state / "certpending" / "dora@contoso.com").exists(), sshd.log()[-3000:]  # it was asked and said yes
    # 2. the query run by hand, as sshd runs it
    blob = cert.read_text().split()[1]
    q = sshd.iso.run(f"{CLI} authorized-keys dora@contoso.com ssh-rsa-cert-v01@openssh.com {blob}")
    assert q.stdout.startswith("cert-authority,principals=\"dora@contoso.com\""), q.stdout + q.stderr
    assert state_of(sshd, "dora@contoso.com") == before
    assert "dora@contoso.com" not in sshd.iso.run(f"{CLI} users").stdout
    # a real login with the key binds and works, and is recorded
    res = sshd.ssh_key("dora@contoso.com", "id -un", c.key_path, cert, tag="withkey")
    assert res.returncode == 0 and res.stdout.strip() == "dora@contoso.com", res.stderr + sshd.log()[-3000:]
    after = state_of(sshd, "dora@contoso.com")
    assert after[0] != before[0] and after[1] is not None and "(the last login was by certificate)" in after[2]
    assert not (state / "certpending" / "dora@contoso.com").exists()      # one decision, one login


def test_cached_grant_is_not_reused_once_the_certificate_expired(sshd, tmp_path):
    """Issue 19 item 8: the decision cache re-checks the certificate's validity window at use. An
    entry written by hand for user + blob (the blob is not even a certificate: a cache hit never
    parses it): inside its window it answers, past valid_before it is a miss (and the garbage
    blob is then refused). Before the fix: the cached line was printed for the expired one."""
    import hashlib
    state = pathlib.Path(next(line.split("=", 1)[1].strip() for line in
                              (sshd.iso.etc / "entra-login.conf").read_text().splitlines()
                              if line.startswith("state_dir")))
    cache = state / "akcache"
    cache.mkdir(mode=0o700, exist_ok=True)
    cache.chmod(0o700)
    user, oid, tid = "erin@contoso.com", oid_for("erin@contoso.com"), TENANT
    now = int(time.time())
    for tag, valid_before, printed in (("live", now + 600, True), ("expired", now - 1, False)):
        blob = "AAAA" + tag
        entry = cache / hashlib.sha256(user.encode() + b"\0" + blob.encode()).hexdigest()
        entry.write_text(f"2 0 {now - 600} {valid_before} {oid} {tid} 1 cert-authority,principals=\"{user}\" "
                         f"ssh-rsa AAAAcached{tag}\n")
        entry.chmod(0o600)
        res = sshd.iso.run(f"{CLI} authorized-keys {user} ssh-rsa-cert-v01@openssh.com {blob}")
        assert (f"AAAAcached{tag}" in res.stdout) == printed, (tag, res.stdout, res.stderr)


def test_certificate_refused_for_no_role_demotes_the_stored_role(sshd, fake, tmp_path):
    """Issue 19 item 2: as the token path does, a certificate found to hold no role any more
    demotes the stored role (aad_users / aad_admins follow at once). Before the fix: the stored
    role stayed 'user' and NSS kept bob in aad_users."""
    c = CertClient(fake, tmp_path / "az-bob-demote")
    cert = c.device_code(USER)
    res = sshd.ssh_key(USER, "id", c.key_path, cert, tag="d1")
    assert res.returncode == 0 and "aad_users" in res.stdout, res.stderr + sshd.log()[-3000:]
    conf = sshd.iso.etc / "entra-login.conf"
    conf.write_text(conf.read_text().replace(f"static_users = {USER}, ", "static_users = "))
    res = sshd.ssh_key(USER, "id", c.key_path, c.refresh(), tag="d2")
    assert res.returncode != 0 and "uid=" not in res.stdout
    show = sshd.iso.run(f"{CLI} show {USER}").stdout
    assert "role: none" in show, show
    assert USER not in sshd.iso.run("getent group aad_users").stdout
