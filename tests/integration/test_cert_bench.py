"""Figures for `make bench` (issue 14, "what it must show" 3): the cost of one
`entra-login authorized-keys` call (fresh certificate, and the cached second call sshd makes),
and a certificate login's wall time next to a plain authorized_keys publickey login measured in
the same sshd run. Roles from `static`. Writes $EL_BUILD/reports/cert-bench.txt; asserts only
that everything worked and the figures are sane (the goals are printed, the machine is shared)."""
import base64
import os
import statistics
import subprocess
import time

from cryptography.hazmat.primitives import serialization

import sshcert
from conftest import BUILD, CLI
from entra_fake import TENANT
from sshd_env import LOCAL_USER, SshdEnv, host_config

N_CALLS = int(os.environ.get("EL_CERT_BENCH_CALLS", "40"))
N_LOGINS = int(os.environ.get("EL_CERT_BENCH_LOGINS", "8"))
ADMIN = "alice@contoso.com"
OID = "11111111-2222-4333-8444-555555555555"


def test_cert_bench(tmp_path, fake):
    import tempfile
    import shutil
    state = tempfile.mkdtemp(prefix="entra-state-")
    os.chmod(state, 0o755)
    text = host_config(fake, state).replace("role_sources = claims\n", "role_sources = static\n")
    env = SshdEnv(tmp_path / "s", BUILD, text + f"static_admins = {ADMIN}\n").start()
    try:
        env.iso.run(f"{CLI} status")
        ukey = sshcert.new_user_key()
        blobs = tmp_path / "blobs"
        blobs.mkdir()
        for i in range(N_CALLS):   # a new nonce each: every call decides afresh (no cache hit)
            b = sshcert.entra_cert(fake.key("k1").key, ukey.public_key(), ADMIN, OID, TENANT)
            (blobs / f"{i:03d}").write_text(base64.b64encode(b).decode())
        script = f"""
            : > {blobs}.out
            s=$(date +%s%N)
            for f in {blobs}/*; do read -r b < "$f"; {CLI} authorized-keys {ADMIN} {sshcert.CERT_TYPE} "$b" >> {blobs}.out; done
            m=$(date +%s%N)
            n=$(grep -c '^cert-authority,' {blobs}.out)
            for f in {blobs}/*; do read -r b < "$f"; {CLI} authorized-keys {ADMIN} {sshcert.CERT_TYPE} "$b" >/dev/null; done
            e=$(date +%s%N)
            for f in {blobs}/*; do {CLI} authorized-keys {ADMIN} ssh-rsa AAAAB3NzaC1yc2E >/dev/null; done
            p=$(date +%s%N)
            echo $n $(( (m-s)/{N_CALLS} )) $(( (e-m)/{N_CALLS} )) $(( (p-e)/{N_CALLS} ))
        """
        res = env.iso.run(script, timeout=600)
        granted, fresh_ns, cached_ns, plain_ns = map(int, res.stdout.split()[-4:])
        assert granted == N_CALLS, res.stdout + res.stderr

        kp = tmp_path / "id_rsa"
        kp.write_bytes(ukey.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                          serialization.NoEncryption()))
        kp.chmod(0o600)
        local_key = tmp_path / "local_key"
        subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(local_key)], check=True)
        home = env.iso.home / LOCAL_USER
        (home / ".ssh").mkdir(mode=0o700, exist_ok=True)
        (home / ".ssh" / "authorized_keys").write_text((tmp_path / "local_key.pub").read_text())
        subprocess.run(["chown", "-R", "4242:4242", str(home / ".ssh")], check=True)

        cert_t, plain_t = [], []
        for i in range(N_LOGINS):    # interleaved, so load changes hit both alike
            cp = tmp_path / f"c{i}-cert.pub"
            cp.write_text(sshcert.line(sshcert.entra_cert(fake.key("k1").key, ukey.public_key(), ADMIN, OID,
                                                          TENANT)) + "\n")
            t = time.monotonic()
            r = env.ssh_key(ADMIN, "true", kp, cp, tag=f"c{i}")
            cert_t.append(time.monotonic() - t)
            assert r.returncode == 0, r.stderr + env.log()[-2000:]
            t = time.monotonic()
            r = env.ssh_key(LOCAL_USER, "true", local_key, tag=f"p{i}")
            plain_t.append(time.monotonic() - t)
            assert r.returncode == 0, r.stderr
        cert_med, plain_med = statistics.median(cert_t), statistics.median(plain_t)
        lines = [
            "== SSH certificates (tests/integration/test_cert_bench.py; roles from static)",
            f"authorized-keys, fresh certificate: {fresh_ns / 1e6:7.2f} ms/call  ({N_CALLS} calls: parse, CA set, "
            "RSA verify, role, binding check, grant; process start included)",
            f"  minus the exit-at-once floor:     {(fresh_ns - plain_ns) / 1e6:7.2f} ms/call  (goal < 5 ms)",
            f"authorized-keys, cached 2nd call:   {cached_ns / 1e6:7.2f} ms/call",
            f"authorized-keys, plain key type:    {plain_ns / 1e6:7.2f} ms/call  (exits at once)",
            f"certificate login wall time:        {cert_med * 1000:7.1f} ms median of {N_LOGINS}",
            f"plain authorized_keys login:        {plain_med * 1000:7.1f} ms median of {N_LOGINS}",
            f"ratio certificate / plain:          {cert_med / plain_med:7.2f}   (goal <= 1.3)",
        ]
        out = BUILD / "reports"
        out.mkdir(exist_ok=True)
        (out / "cert-bench.txt").write_text("\n".join(lines) + "\n")
        print("\n".join(lines))
        assert 0 < fresh_ns < 500e6 and 0 < cached_ns < 500e6
    finally:
        env.stop()
        shutil.rmtree(state, ignore_errors=True)
