"""entra-ssh gets and renews Entra SSH certificates itself (issue 23): no Azure CLI on PATH, the
fake Entra ID as the token endpoint, a real sshd deciding through `entra-login authorized-keys`,
the stock OpenSSH client, a real ssh-agent. entra-ssh runs with its own HOME (a user's state)."""
import base64
import hashlib
import json
import os
import pathlib
import shutil
import socket
import stat
import subprocess
import threading
import time

import tempfile

import pytest

import sshcert
from conftest import BUILD, CLI
from entra_fake import FakeEntra
from sshd_env import SshdEnv, host_config
from tokens import AZ_CLI_CLIENT_ID, TENANT

ENTRA_SSH = BUILD / "entra-ssh"
USER = "bob@contoso.com"
BACKDATE = 300      # Entra's: a certificate is valid from 5 minutes before it is issued


# One fake Entra ID and one sshd for the module (reset between tests): the tests only add files
# in their own client HOME and the same user logs in each time.
@pytest.fixture(scope="module")
def fake(tmp_path_factory, fake_material):
    fe = FakeEntra().start(tmp_path_factory.mktemp("fake"), material_from=fake_material)
    yield fe
    fe.stop()


@pytest.fixture(autouse=True)
def fresh_fake(fake):
    fake.reset()


@pytest.fixture(scope="module")
def sshd(tmp_path_factory, fake):
    state = pathlib.Path(tempfile.mkdtemp(prefix="entra-state-"))   # readable by the user (NSS)
    state.chmod(0o755)
    text = host_config(fake, state).replace("role_sources = claims\n", "role_sources = static\n")
    env = SshdEnv(tmp_path_factory.mktemp("sshd"), BUILD, text + f"static_users = {USER}\n").start()
    try:
        res = env.iso.run(f"{CLI} status")      # discovery + JWKS into the state dir, as the timer does
        assert res.returncode == 0 or "kid-1" in res.stdout, res.stdout + res.stderr
        yield env
    finally:
        env.stop()
        shutil.rmtree(state, ignore_errors=True)


class Client:
    """One user of entra-ssh: a HOME with the state directory, a PATH without az, and a wrapper
    ssh-add that records its argv and environment before running the real one."""

    def __init__(self, tmp_path, fake):
        self.fake, self.home = fake, tmp_path / "home"
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        self.home.mkdir(mode=0o755)
        self.dir = self.home / ".config" / "entra-ssh"
        self.key, self.cert, self.rt = self.dir / "id_rsa", self.dir / "id_rsa-cert.pub", self.dir / "refresh_token"
        (self.bin / "ssh-add").write_text(
            f'#!/bin/sh\n{{ printf "%s\\n" "$@"; env; }} >> {self.bin}/ssh-add.log\nexec /usr/bin/ssh-add "$@"\n')
        (self.bin / "ssh-add").chmod(0o755)
        self.env = {"PATH": f"{self.bin}:/usr/bin:/bin", "HOME": str(self.home), "LANG": "C",
                    "ENTRA_SSH_AUTHORITY": fake.authority, "ENTRA_SSH_TENANT": TENANT,
                    "ENTRA_SSH_CA_FILE": str(fake.ca_file)}
        self.outputs = []

    def run(self, *args, env=None, timeout=60):
        res = subprocess.run([str(ENTRA_SSH), *args], capture_output=True, text=True, timeout=timeout,
                             env=dict(self.env, **(env or {})), stdin=subprocess.DEVNULL)
        self.outputs.append(res.stdout + res.stderr)
        return res

    def sign_in(self, *args, upn=USER, env=None):
        self.fake.auto("approve", upn=upn)
        res = self.run("cert", *args, env=env)
        assert res.returncode == 0, res.stderr
        return res

    def cert_line(self):
        return self.cert.read_text().split()

    def cert_validity(self):
        blob = base64.b64decode(self.cert_line()[1])
        return cert_times(blob)

    def ssh(self, *args, config=None, host="127.0.0.1", user=USER, cmd="id", port=None):
        opts = ["-F", str(config) if config else "/dev/null", "-o", "StrictHostKeyChecking=no",
                "-o", f"UserKnownHostsFile={self.home}/known_hosts", "-o", "BatchMode=yes",
                "-o", "PreferredAuthentications=publickey", "-o", "ConnectTimeout=10"]
        if port:
            opts += ["-p", str(port)]
        if user:
            opts += ["-l", user]
        return subprocess.run(["ssh", *opts, *args, "-T", host, cmd], capture_output=True, text=True, timeout=60,
                              env=dict(self.env, **({"SSH_AUTH_SOCK": self.env["SSH_AUTH_SOCK"]}
                                                    if "SSH_AUTH_SOCK" in self.env else {})),
                              stdin=subprocess.DEVNULL)


def cert_times(blob):
    """(valid_after, valid_before) of an ssh-rsa-cert-v01 blob (PROTOCOL.certkeys)."""
    off = 0

    def string():
        nonlocal off
        n = int.from_bytes(blob[off:off + 4], "big")
        off += 4 + n
        return blob[off - n:off]
    for _ in range(4):      # type, nonce, e, n
        string()
    off += 8 + 4            # serial, type
    string()                # key id
    string()                # principals
    return int.from_bytes(blob[off:off + 8], "big"), int.from_bytes(blob[off + 8:off + 16], "big")


@pytest.fixture
def client(tmp_path, fake):
    return Client(tmp_path, fake)


def short_certificates(fake, seconds):
    """Test override: the fake issues certificates that end `seconds` from now (Entra: 60 min)."""
    fake.config(ssh_cert_lifetime=BACKDATE + seconds)


def wait_until(t):
    while time.time() < t:
        time.sleep(min(0.2, max(0.01, t - time.time())))


def test_certificate_without_az_logs_in_to_real_sshd(sshd, fake, client):
    assert shutil.which("az", path=client.env["PATH"]) is None
    res = client.sign_in()
    assert "To sign in, use a web browser to open the page" in res.stderr
    assert f"certificate for {USER} valid until" in res.stderr
    # the request, as `az ssh cert` makes it: the Azure CLI's client id, the Linux VM sign-in scope,
    # token_type=ssh-cert, req_cnf = our key's JWK, key_id = SHA-256 of n||e
    (tok,) = [e for e in fake.requests("token") if e["status"] == 200]
    form = tok["form"]
    assert form["client_id"] == AZ_CLI_CLIENT_ID and form["token_type"] == "ssh-cert"
    assert sshcert.SCOPE in form["scope"].split() and "offline_access" in form["scope"].split()
    from cryptography.hazmat.primitives import serialization
    key = serialization.load_pem_private_key(client.key.read_bytes(), None)
    want_cnf, want_kid = sshcert.req_cnf(key.public_key())
    assert json.loads(form["req_cnf"]) == json.loads(want_cnf) and form["key_id"] == want_kid
    assert fake.requests("devicecode")[0]["form"]["client_id"] == AZ_CLI_CLIENT_ID
    # the files: a private directory, the key and refresh token 0600, the certificate 0644
    assert stat.S_IMODE(client.dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(client.key.stat().st_mode) == 0o600
    assert stat.S_IMODE(client.rt.stat().st_mode) == 0o600
    assert stat.S_IMODE(client.cert.stat().st_mode) == 0o644
    assert client.cert_line()[0] == "ssh-rsa-cert-v01@openssh.com"
    res = client.ssh("-i", str(client.key), "-o", f"CertificateFile={client.cert}", "-o", "IdentitiesOnly=yes",
                     port=sshd.port)
    assert res.returncode == 0, res.stderr + sshd.log()[-3000:]
    assert "aad_users" in res.stdout
    # a certificate with an hour left: ensure does nothing (no request at all)
    before = len(fake.requests())
    res = client.run("ensure", "--quiet")
    assert res.returncode == 0 and res.stdout == "" and res.stderr == "", res.stderr
    assert len(fake.requests()) == before


def test_ssh_config_block_works_twice_across_a_certificate_expiry(sshd, fake, client, tmp_path):
    """`entra-ssh config HOST` + plain `ssh HOST id`: each connection renews (refresh token, no
    prompt) a certificate with < 5 minutes left; the second one after the first certificate expired."""
    short_certificates(fake, 4)
    client.sign_in()
    block = client.run("config", "vm1").stdout
    assert f'Match originalhost vm1 exec "{ENTRA_SSH} ensure --quiet --dir {client.dir}"' in block
    assert f"CertificateFile {client.cert}" in block and f"IdentityFile {client.key}" in block
    assert f"User {USER}" in block
    cfg = tmp_path / "ssh_config"
    cfg.write_text(f"Host vm1\n\tHostName 127.0.0.1\n\tPort {sshd.port}\n" + block)
    fake.clear_requests()
    res = client.ssh(config=cfg, host="vm1", user=None)
    assert res.returncode == 0, res.stderr + sshd.log()[-3000:]
    assert "aad_users" in res.stdout
    grants = [e["form"]["grant_type"] for e in fake.requests("token")]
    assert grants == ["refresh_token"], grants         # renewed without a device code
    old = tmp_path / "old-cert.pub"
    shutil.copy(client.cert, old)
    wait_until(client.cert_validity()[1] + 1)
    # the old certificate really expired: sshd refuses it
    res = client.ssh("-i", str(client.key), "-o", f"CertificateFile={old}", "-o", "IdentitiesOnly=yes",
                     port=sshd.port)
    assert res.returncode != 0 and "uid=" not in res.stdout
    res = client.ssh(config=cfg, host="vm1", user=None)
    assert res.returncode == 0, res.stderr + sshd.log()[-3000:]
    assert [e["form"]["grant_type"] for e in fake.requests("token")] == ["refresh_token"] * 2
    assert fake.requests("devicecode") == []


def test_agent_holds_key_and_certificate_for_the_certificates_lifetime(sshd, fake, client, tmp_path):
    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if sock.exists():
                break
            time.sleep(0.05)
        client.env["SSH_AUTH_SOCK"] = str(sock)
        short_certificates(fake, 5)
        t0 = time.time()
        client.sign_in("--agent")
        t1 = time.time()
        after, before = client.cert_validity()
        listed = subprocess.run(["ssh-add", "-l"], capture_output=True, text=True, env=client.env)
        assert listed.stdout.count("(RSA-CERT)") == 1 and listed.stdout.count("(RSA)") == 1, listed.stdout
        argv = (client.bin / "ssh-add.log").read_text().splitlines()
        t = int(argv[argv.index("-t") + 1])
        # -t is the lifetime left when entra-ssh ran ssh-add, somewhere between t0 and t1
        assert before - t1 - 3 <= t <= before - t0 + 1, (t, before, t0, t1)
        # the agent alone logs in (no -i, no CertificateFile)
        res = client.ssh(port=sshd.port)
        assert res.returncode == 0, res.stderr + sshd.log()[-3000:]
        wait_until(before + 0.5)
        listed = subprocess.run(["ssh-add", "-l"], capture_output=True, text=True, env=client.env)
        assert "no identities" in listed.stdout, listed.stdout
    finally:
        agent.terminate()
        agent.wait(10)


def test_refresh_token_stays_private(fake, client):
    """0600 in a 0700 directory; never in stdout/stderr, the settings file, ssh-add's argv or
    environment; a copy others can read, or a symlink, is refused."""
    client.env["SSH_AUTH_SOCK"] = "/nonexistent"
    short_certificates(fake, 60)
    client.sign_in()
    res = client.run("ensure")                          # renews by refresh token (< 5 min left)
    assert res.returncode == 0, res.stderr
    rts = {e["form"]["refresh_token"] for e in fake.requests("token") if e["form"].get("refresh_token")}
    assert rts and client.rt.read_text() in rts
    res = client.run("ensure", "--agent")               # ssh-add fails (no agent there) but is run
    assert (client.bin / "ssh-add.log").exists()
    seen = "".join(client.outputs) + (client.bin / "ssh-add.log").read_text() + \
        (client.dir / "settings").read_text() + client.cert.read_text()
    for rt in rts:
        assert rt not in seen and rt[:40] not in seen
    assert stat.S_IMODE(client.rt.stat().st_mode) == 0o600
    client.rt.chmod(0o644)
    res = client.run("ensure")
    assert res.returncode == 1 and "refresh_token is readable by others" in res.stderr, res.stderr
    client.rt.chmod(0o600)
    os.rename(client.rt, client.dir / "rt-elsewhere")
    os.symlink(client.dir / "rt-elsewhere", client.rt)
    res = client.run("ensure")
    assert res.returncode == 1 and "refresh_token is readable by others or not yours" in res.stderr, res.stderr
    # a state directory others can enter is refused before anything is read or written
    os.unlink(client.rt)
    client.dir.chmod(0o755)
    res = client.run("ensure")
    assert res.returncode == 1 and "only you can use: chmod 700" in res.stderr, res.stderr


AADSTS_CASES = [
    (50076, "requires multi-factor authentication"),
    (50079, "register for multi-factor authentication"),
    (53003, "Conditional Access policy"),
    (65001, "consent missing"),
    (700082, "sign-in has expired (the refresh token is no longer valid): run 'entra-ssh cert' again"),
    (70008, "sign-in has expired (the refresh token is no longer valid): run 'entra-ssh cert' again"),
    (50058, "not signed in: run 'entra-ssh cert'"),
]


def test_entra_refusals_are_said_plainly(fake, client):
    short_certificates(fake, 60)
    client.sign_in()
    for code, text in AADSTS_CASES:
        fake.fault("token", "aadsts", code=code, count=1)
        res = client.run("ensure", "--quiet")
        assert res.returncode == 1, (code, res.stderr)
        assert text in res.stderr and f"(AADSTS{code}, invalid_grant)" in res.stderr, (code, res.stderr)
        assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    res = client.run("ensure", "--quiet")               # the fault is gone: renewal works again
    assert res.returncode == 0, res.stderr


def test_not_signed_in_clock_skew_and_unusable_answers(fake, client):
    res = client.run("ensure")
    assert res.returncode == 1 and "not signed in: run 'entra-ssh cert' once" in res.stderr, res.stderr
    fake.config(ssh_cert_backdate=-600)     # the certificate starts in 10 minutes: our clock is behind
    fake.auto("approve", upn=USER)
    res = client.run("cert")
    assert res.returncode == 1 and "this clock is behind" in res.stderr, res.stderr
    assert not client.cert.exists()
    fake.config(ssh_cert_backdate=BACKDATE, ssh_cert_lifetime=BACKDATE - 10)    # already expired
    fake.auto("approve", upn=USER)
    res = client.run("cert")
    assert res.returncode == 1 and "not usable: certificate expired" in res.stderr, res.stderr
    assert not client.cert.exists()
    # an answer that is not an SSH certificate (a bearer token) is not written as one
    fake.config(ssh_cert_lifetime=BACKDATE + 3600)
    fake.fault("token", "status", status=200, count=1,
               body={"token_type": "Bearer", "access_token": "eyJ0eXAi.x.y", "expires_in": 3599})
    fake.auto("approve", upn=USER)
    res = client.run("cert")
    assert res.returncode == 1 and "without an SSH certificate (token_type Bearer)" in res.stderr, res.stderr
    assert not client.cert.exists()


def test_certificate_for_another_key_is_renewed(fake, client, tmp_path):
    """ensure trusts the certificate file only if it is for our key (a stale or swapped file)."""
    (tmp_path / "other").mkdir()
    other = Client(tmp_path / "other", fake)
    other.sign_in()
    client.sign_in()
    shutil.copy(other.cert, client.cert)
    fake.clear_requests()
    res = client.run("ensure", "--quiet")
    assert res.returncode == 0, res.stderr
    assert [e["form"]["grant_type"] for e in fake.requests("token")] == ["refresh_token"]
    res = client.run("ensure", "--quiet")      # now it is ours: nothing to do
    assert len(fake.requests("token")) == 1


def test_config_refuses_hosts_that_would_inject_ssh_config(client):
    for host in ('vm1 exec "touch /tmp/x"', "vm1\n\tProxyCommand x", "%h", "a#b", ""):
        res = client.run("config", host)
        assert res.returncode == 2 and res.stdout == "", (host, res.stdout)


def test_user_proxy_is_honoured_the_root_programs_still_ignore_it(fake, client, config):
    """A user's tool follows the user's https_proxy; the same HTTP code without the opt-in (the
    PAM helper's and entra-login's, driven by build/tests/test_http) does not."""
    hits = []
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)

    def serve():
        try:
            c, _ = srv.accept()
            hits.append(c.recv(200))
            c.close()
        except OSError:
            pass
    th = threading.Thread(target=serve, daemon=True)
    th.start()
    proxy_env = {"https_proxy": f"http://127.0.0.1:{srv.getsockname()[1]}", "HTTPS_PROXY": "",
                 "ALL_PROXY": "", "no_proxy": "", "NO_PROXY": ""}
    root = subprocess.run([str(BUILD / "tests" / "test_http"), "get", str(config),
                           f"{fake.authority}/{TENANT}/v2.0/.well-known/openid-configuration"],
                          capture_output=True, text=True, timeout=60, env=dict(os.environ, **proxy_env))
    assert root.returncode == 0 and "status=200" in root.stdout, root.stdout + root.stderr
    assert hits == []
    fake.auto("approve", upn=USER)          # (without the opt-in, the sign-in would go straight through)
    res = client.run("cert", env=proxy_env)
    srv.close()
    th.join(5)
    assert res.returncode == 1 and "could not reach Entra ID" in res.stderr, res.stderr
    assert hits and hits[0].startswith(b"CONNECT 127.0.0.1:"), hits


def test_runs_as_an_ordinary_user_and_never_opens_the_host_files(fake):
    """As nobody (setpriv), traced: the state is the user's, and neither /etc/entra-login.conf nor
    the host state directory is ever opened."""
    home = pathlib.Path(tempfile.mkdtemp(prefix="entra-ssh-user-"))
    try:
        home.chmod(0o755)
        shutil.copy(fake.ca_file, home / "ca.pem")
        os.chown(home, 65534, 65534)
        trace = home / "trace"
        env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "ENTRA_SSH_AUTHORITY": fake.authority,
               "ENTRA_SSH_TENANT": TENANT, "ENTRA_SSH_CA_FILE": str(home / "ca.pem"),
               "ASAN_OPTIONS": "detect_leaks=0"}    # (make check-san: LeakSanitizer cannot run under ptrace)
        fake.auto("approve", upn=USER)
        res = subprocess.run(["strace", "-f", "-qq", "-o", str(trace), "-e", "trace=open,openat,stat,newfstatat,access",
                              "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", str(ENTRA_SSH), "cert"],
                             capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
        assert res.returncode == 0, res.stderr
        d = home / ".config" / "entra-ssh"
        for name, mode in (("id_rsa", 0o600), ("id_rsa-cert.pub", 0o644), ("refresh_token", 0o600)):
            st = (d / name).stat()
            assert st.st_uid == 65534 and stat.S_IMODE(st.st_mode) == mode, name
        assert d.stat().st_uid == 65534 and stat.S_IMODE(d.stat().st_mode) == 0o700
        opened = trace.read_text()
        assert "entra-login.conf" not in opened and "/var/lib/entra-login" not in opened
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_out_directory_holds_key_and_certificate_not_the_refresh_token(fake, client, tmp_path):
    out = tmp_path / "keys"
    client.sign_in("--out", str(out))
    assert (out / "id_rsa").stat().st_mode & 0o777 == 0o600 and (out / "id_rsa-cert.pub").exists()
    assert not (out / "refresh_token").exists() and client.rt.exists() and not client.key.exists()
    block = client.run("config", "vm1").stdout      # ensure and config remember --out
    assert f"IdentityFile {out}/id_rsa" in block and f"CertificateFile {out}/id_rsa-cert.pub" in block
    short_certificates(fake, 60)
    before = (out / "id_rsa-cert.pub").read_text()
    res = client.run("ensure", "--quiet")
    assert res.returncode == 0, res.stderr
    assert (out / "id_rsa-cert.pub").read_text() == before        # an hour left: untouched


def test_parallel_connections_share_one_renewal(fake, client):
    """Ansible forks, VS Code's parallel channels: ensure runs many times at once; the lock in the
    state directory makes one of them renew and the others find the new certificate."""
    short_certificates(fake, 60)
    client.sign_in()
    fake.config(ssh_cert_lifetime=BACKDATE + 3600)
    fake.clear_requests()
    procs = [subprocess.Popen([str(ENTRA_SSH), "ensure", "--quiet"], env=client.env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(6)]
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    assert len(fake.requests("token")) == 1
