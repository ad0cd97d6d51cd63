"""A real sshd on 127.0.0.1 configured only with the files in conf/, inside an Isolated namespace,
and an OpenSSH client driven through SSH_ASKPASS."""
import os
import pathlib
import shutil
import socket
import subprocess
import time

from entra_fake import CLIENT_ID, TENANT
from isolated import SAN_OPTIONS, Isolated, q
from ssh_client import ssh_askpass, ssh_pubkey

ROOT = pathlib.Path(__file__).resolve().parent.parent
CONF = ROOT / "conf"
LOCAL_USER = "eltestlocal"
LOCAL_PASSWORD = "correct horse battery staple"


def host_config(fake, state_dir, role_sources="claims", **extra):
    """The /etc/entra-login.conf of an sshd test host: the fake tenant, app roles from the token
    (or the given role_sources), then any extra keys (e.g. arm_url / imds_url of the fake)."""
    return "".join(f"{k} = {v}\n" for k, v in (
        ("tenant_id", TENANT), ("client_id", CLIENT_ID), ("domains", "contoso.com"),
        ("authority", fake.authority), ("ca_file", fake.ca_file), ("role_sources", role_sources),
        ("login_timeout", 60), ("state_dir", state_dir), *extra.items()))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pam_stack_for_sshd():
    """Debian's /etc/pam.d/sshd with our lines (conf/pam.d/entra-login-sshd) put before each include."""
    ours = {}
    for line in (CONF / "pam.d" / "entra-login-sshd").read_text().splitlines():
        if line and not line.startswith("#"):
            ours.setdefault(line.split()[0], []).append(line)
    out = []
    for line in pathlib.Path("/etc/pam.d/sshd").read_text().splitlines():
        for kind in ("auth", "account", "session"):
            if line.strip() == f"@include common-{kind}":
                out.extend(ours.pop(kind, []))
        out.append(line)
    assert not ours, "every kind of our lines found a place"
    return "\n".join(out) + "\n"


class SshdEnv:
    def __init__(self, tmp, build, config_text):
        self.tmp = pathlib.Path(tmp)
        self.iso = Isolated(self.tmp / "iso", build)
        self.port = free_port()
        self.proc = None
        self.run_dir = self.tmp / "sshd"
        self.run_dir.mkdir(parents=True, exist_ok=True)
        iso = self.iso
        iso.add_etc("entra-login.conf", config_text)
        iso.copy_etc("ssh/sshd_config.d/50-entra-login.conf", CONF / "sshd_config.d" / "50-entra-login.conf")
        iso.copy_etc("sudoers.d/entra-login", CONF / "sudoers.d" / "entra-login", 0o440)
        iso.add_etc("pam.d/sshd-entra", pam_stack_for_sshd())
        # SAN=...: Isolated preloads the runtime everywhere; sessions need the options too.
        self.san = iso.san
        # A local account with a password, visible only inside the namespace.
        pw_hash = subprocess.run(["openssl", "passwd", "-6", LOCAL_PASSWORD], capture_output=True,
                                 text=True, check=True).stdout.strip()
        passwd = pathlib.Path("/etc/passwd").read_text()
        shadow = pathlib.Path("/etc/shadow").read_text()
        iso.add_etc("passwd", passwd + f"{LOCAL_USER}:x:4242:4242:test:/home/{LOCAL_USER}:/bin/sh\n")
        iso.add_etc("shadow", shadow + f"{LOCAL_USER}:{pw_hash}:19000:0:99999:7:::\n", 0o640)
        os.chown(iso.etc / "shadow", 0, 42)  # group shadow
        iso.add_etc("group", pathlib.Path("/etc/group").read_text() + f"{LOCAL_USER}:x:4242:\n")
        (iso.home / LOCAL_USER).mkdir(exist_ok=True)
        os.chown(iso.home / LOCAL_USER, 4242, 4242)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.run_dir / "hostkey")],
                       check=True)
        (self.run_dir / "sshd_config").write_text(f"""\
Include /etc/ssh/sshd_config.d/50-entra-login.conf
UsePAM yes
Port {self.port}
ListenAddress 127.0.0.1
HostKey {self.run_dir}/hostkey
PidFile {self.run_dir}/sshd.pid
KbdInteractiveAuthentication no
PasswordAuthentication yes
PubkeyAuthentication yes
PermitRootLogin no
LoginGraceTime 120
MaxStartups 50:30:100
MaxSessions 50
LogLevel VERBOSE
""" + (f"SetEnv ASAN_OPTIONS={SAN_OPTIONS}\n" if self.san else ""))
        # sshd runs the AuthorizedKeysCommand /usr/sbin/entra-login (root-owned path, as installed).
        self.sbin = self.tmp / "sbin-over"
        self.sbin.mkdir(mode=0o755, exist_ok=True)
        shutil.copy2(pathlib.Path(build) / "entra-login", self.sbin / "entra-login")
        os.chmod(self.sbin / "entra-login", 0o755)
        (self.run_dir / "sshd-entra").unlink(missing_ok=True)
        (self.run_dir / "sshd-entra").symlink_to("/usr/sbin/sshd")

    def start(self):
        log = open(self.run_dir / "sshd.log", "ab")
        env = dict(os.environ, ASAN_OPTIONS=SAN_OPTIONS) if self.san else None
        self.proc = self.iso.popen(
            f"mount -t overlay overlay -o lowerdir={self.sbin}:/usr/sbin /usr/sbin\n"
            f"exec {q(self.run_dir / 'sshd-entra')} -D -e -f {q(self.run_dir / 'sshd_config')}",
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("sshd exited:\n" + self.log())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()     # the fixture never yields: nobody else would stop it
        raise RuntimeError("sshd did not listen:\n" + self.log())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self):
        return (self.run_dir / "sshd.log").read_text(errors="replace")

    def ssh(self, user, command, answers, methods="keyboard-interactive", timeout=90, tag="c"):
        """Run `ssh -l user 127.0.0.1 command` answering prompts from `answers` (list of strings).
        Returns (CompletedProcess, prompts seen)."""
        return ssh_askpass(self.tmp, self.port, user, command, answers, methods, timeout, tag)

    def ssh_key(self, user, command, identity, certificate=None, timeout=60, tag="pk", extra=()):
        """Publickey login with the stock client: -i identity [-o CertificateFile=certificate]."""
        return ssh_pubkey(self.tmp, self.port, user, command, identity, certificate, timeout, tag, extra)
