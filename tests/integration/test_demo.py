"""`make demo` (tests/demo.sh): both logins really happen, the output shows each step, and the
machine is left as found (everything ran in a private mount namespace and one temporary directory)."""
import hashlib
import os
import pathlib
import re
import socket
import subprocess
import time

import pytest

from conftest import BUILD, ROOT
from entra_fake import TENANT, oid_for

USER = "alice@contoso.com"
WATCHED = ("/etc/passwd", "/etc/group", "/etc/shadow", "/etc/nsswitch.conf", "/etc/pam.d/sshd",
           "/etc/ssh/sshd_config", "/etc/sudoers")
ABSENT = ("/etc/entra-login.conf", "/etc/ssh/sshd_config.d/50-entra-login.conf", "/etc/sudoers.d/entra-login",
          "/etc/pam.d/sshd-entra", "/usr/sbin/entra-login", "/var/lib/entra-login")


def host_state():
    state = {p: hashlib.sha256(pathlib.Path(p).read_bytes()).hexdigest() if os.path.exists(p) else None
             for p in WATCHED}
    state.update({p: os.path.lexists(p) for p in ABSENT})
    state["mounts"] = sorted(line.split()[4] for line in pathlib.Path("/proc/self/mountinfo").read_text().splitlines())
    return state


@pytest.fixture(scope="module")
def demo():
    if os.geteuid() != 0:
        pytest.skip("the demo needs root")
    before = host_state()
    t0 = time.monotonic()
    res = subprocess.run(["bash", str(ROOT / "tests" / "demo.sh")], capture_output=True, text=True, timeout=180,
                         env=dict(os.environ, EL_BUILD=str(BUILD)), stdin=subprocess.DEVNULL)
    elapsed = time.monotonic() - t0
    print(f"\nmake demo (tests/demo.sh): {elapsed:.1f}s")
    return res, elapsed, before


def sections(out):
    dc, sep, cert = out.partition("2. `az ssh`-style certificate login")
    assert sep, out
    return dc, cert


def uids(text):
    return re.findall(r"\$ uid=(\d+)\(" + re.escape(USER) + r"\)", text)


def test_demo_succeeds_quickly(demo):
    res, elapsed, _ = demo
    assert res.returncode == 0, res.stdout[-6000:] + res.stderr[-3000:]
    assert "== demo OK" in res.stdout and "FAILED" not in res.stdout
    assert elapsed < 60, elapsed


def test_demo_device_code_login(demo):
    dc, _ = sections(demo[0].stdout)
    assert re.search(r"open https://microsoft\.com/devicelogin and enter the code [A-Z0-9]{6,}", dc), dc
    assert "role_sources = claims, arm" in dc
    assert re.search(r"\$ uid=\d+\(alice@contoso\.com\) .*999999001\(aad_admins\)", dc), dc
    assert "$ uid=0(root)" in dc      # sudo -n id
    assert "OK: signed in with a device code" in dc


def test_demo_certificate_login(demo):
    dc, cert = sections(demo[0].stdout)
    oid = oid_for(USER)
    # the request, as az ssh cert makes it, and the certificate it got
    assert "token_type=ssh-cert" in cert and "req_cnf=" in cert
    assert "scope=https://pas.windows.net/CheckMyAccess/Linux/.default" in cert
    assert "| ssh-rsa-cert-v01@openssh.com AAAA" in cert
    # what verify-cert read in it
    assert "\n   | valid\n" in cert, cert
    for line in (f"key id: {oid}@{TENANT}", f"oid: {oid}", f"tid: {TENANT}", f"principal: {USER}",
                 "type: user"):
        assert f"   | {line}\n" in cert, (line, cert)
    assert re.search(r"valid from: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\n.*valid to: \d{4}-", cert), cert
    # the stock client's login, as sshd saw it, and the one line our command gave it
    assert "ssh -i id_rsa -o CertificateFile=id_rsa-aadcert.pub" in cert
    assert re.search(r"Accepted publickey for alice@contoso\.com .* RSA-CERT .* ID " + re.escape(f"{oid}@{TENANT}"),
                     cert), cert
    assert f'   | cert-authority,principals="{USER}" ssh-rsa AAAA' in cert
    # the role came from ARM (a certificate has no token for `claims`)
    assert re.search(r"GET arm .*/providers/Microsoft\.Authorization/roleAssignments -> 200", cert), cert
    assert re.search(r"\$ uid=\d+\(alice@contoso\.com\) .*999999001\(aad_admins\)", cert), cert
    assert "$ uid=0(root)" in cert
    assert "(the last login was by certificate)" in cert
    assert "OK: signed in with an Entra SSH certificate" in cert
    # one person, one UID, whichever way she signed in
    assert len(uids(dc)) == 1 and uids(dc) == uids(cert), (uids(dc), uids(cert))


def test_demo_leaves_the_machine_as_found(demo):
    res, _, before = demo
    assert host_state() == before
    tmp = re.findall(r"ca_file = (/\S+)/fake/ca\.pem", res.stdout)
    assert len(tmp) == 1 and "entra-demo-" in tmp[0], res.stdout[:2000]
    assert not os.path.lexists(tmp[0]), tmp[0]      # its one temporary directory is gone
    ports = re.findall(r"sshd on 127\.0\.0\.1:(\d+)", res.stdout)
    fake = re.findall(r"fake Entra ID on https://127\.0\.0\.1:(\d+)", res.stdout)
    assert len(ports) == 1 and len(fake) == 1, res.stdout[:2000]
    for port in ports + fake:        # sshd and the fake were stopped
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", int(port))) != 0, port
