"""The stock OpenSSH client as the sshd tests drive it (tests/sshd_env.py, tests/installed_env.py):
keyboard-interactive answered through SSH_ASKPASS, or publickey with an identity and certificate.
Every call gets its own directory (prompts seen, answers, known_hosts) under the caller's tmp."""
import os
import subprocess

ASKPASS = r"""#!/bin/sh
# Records every prompt (argv[1], info text included) and answers from the answers file, in order.
dir=$(dirname "$0")
printf '%s\n---\n' "$1" >> "$dir/prompts.log"
n=$(cat "$dir/answer.idx" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "$dir/answer.idx"
sed -n "${n}p" "$dir/answers"
"""


def _client_dir(tmp, tag):
    d = tmp / f"client-{tag}"
    d.mkdir(parents=True, exist_ok=True)
    return d


def ssh_askpass(tmp, port, user, command, answers, methods, timeout, tag):
    """`ssh -l user 127.0.0.1 command` answering prompts from `answers` (list of strings).
    Returns (CompletedProcess, prompts seen)."""
    d = _client_dir(tmp, tag)
    for f in ("prompts.log", "answer.idx"):
        (d / f).unlink(missing_ok=True)
    (d / "answers").write_text("".join(a + "\n" for a in answers))
    ap = d / "askpass"
    ap.write_text(ASKPASS)
    ap.chmod(0o700)
    env = dict(os.environ, SSH_ASKPASS=str(ap), SSH_ASKPASS_REQUIRE="force", DISPLAY=":0")
    cmd = ["ssh", "-F", "/dev/null", "-p", str(port), "-l", user,
           "-o", "StrictHostKeyChecking=no", "-o", f"UserKnownHostsFile={d}/known_hosts",
           "-o", f"PreferredAuthentications={methods}", "-o", "NumberOfPasswordPrompts=1",
           "-o", "ConnectTimeout=10", "-o", "BatchMode=no", "-T", "127.0.0.1", command]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                         stdin=subprocess.DEVNULL)
    prompts = (d / "prompts.log").read_text() if (d / "prompts.log").exists() else ""
    return res, prompts


def ssh_pubkey(tmp, port, user, command, identity, certificate, timeout, tag, extra=()):
    """Publickey login: -i identity [-o CertificateFile=certificate], as `az ssh vm` runs it."""
    d = _client_dir(tmp, tag)
    cmd = ["ssh", "-F", "/dev/null", "-p", str(port), "-l", user, "-i", str(identity),
           "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
           "-o", f"UserKnownHostsFile={d}/known_hosts", "-o", "PreferredAuthentications=publickey",
           "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", *extra]
    if certificate:
        cmd += ["-o", f"CertificateFile={certificate}"]
    cmd += ["-T", "127.0.0.1", command]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
