"""The product as a user gets it: the built .deb installed with `dpkg -i` inside a mount namespace,
then real sshd, su, sudo, cron's and login's PAM stacks against the fake Entra ID.

Nothing is written outside the namespace: /etc, /usr, /var, /run and /home are overlays on a tmpfs
and /tmp is a fresh tmpfs, all private to the namespace, so they vanish with it. The PAM files are
exactly what the package's postinst (pam-auth-update) wrote; sshd reads the stock
/etc/ssh/sshd_config, which includes the drop-in the package installed (only the port, listen
address, host key and pid file come from the command line).

One namespace per test module (an `InstalledHost`): a holder process (`sleep`) keeps it alive and
every command enters it with `nsenter --mount`. The test process reaches the namespace's files
through /proc/<holder>/root. Waits are bounded by EL_INSTALLED_TIMEOUT (seconds, default 60).
"""
import os
import pathlib
import re
import select
import shlex
import signal
import socket
import subprocess
import threading
import time

import pytest

from entra_fake import CLIENT_ID, TENANT, FakeEntra
from ssh_client import ssh_askpass, ssh_pubkey

ROOT = pathlib.Path(__file__).resolve().parent.parent
TIMEOUT = float(os.environ.get("EL_INSTALLED_TIMEOUT", "60"))

# Accounts created inside the namespace (useradd), visible only there.
LOCAL_USER = "eltestlocal"          # has a password, may ssh and su
LOCAL_SUDOER = "eltestsudoer"       # in group sudo, with a password
UNPRIV = "elunpriv"                 # an unprivileged local user: the attacker of issue 11 sec.1
PASSWORD = "correct horse battery staple"


def q(s):
    return shlex.quote(str(s))


def clean_env(**extra):
    """The environment for a nested make: none of the outer make's flags or SAN settings
    (same rule as test_packaging.clean_env)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "GNUMAKEFLAGS", "SAN", "O",
                        "CFLAGS", "LDFLAGS")}
    env.update(extra)
    return env


_DEB = {}


def build_deb(out_dir):
    """`make deb` from this tree into a private O= directory, once per pytest process (the first
    caller's out_dir wins). Returns (path of the .deb, seconds the build took)."""
    if "deb" in _DEB:
        return _DEB["deb"], 0.0
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    res = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "deb", f"O={out_dir}"],
                         env=clean_env(), capture_output=True, text=True, timeout=900)
    elapsed = time.monotonic() - t0
    (out_dir / "make-deb.log").write_text(res.stdout + res.stderr)
    if res.returncode != 0:
        raise RuntimeError("make deb failed:\n" + (res.stdout + res.stderr)[-4000:])
    debs = sorted((out_dir / "pkg" / "deb").glob("entra-login_*.deb"))
    if len(debs) != 1:
        raise RuntimeError(f"make deb built {debs}")
    _DEB["deb"] = debs[0]
    return debs[0], elapsed


# The previous release for the upgrade test (tests/integration/test_upgrade.py): main as it was
# before issue 20, package version 0.1.0, /etc/entra-login.conf still a dpkg conffile.
OLD_RELEASE = "9805eb7"


def build_old_deb():
    """The .deb of OLD_RELEASE, built from git history with that commit's own Makefile
    (`git archive` into build/upgrade-old/<commit>/src, `make deb` there) and cached under
    build/upgrade-old/ for later runs. Returns (path, seconds the build took, 0 when cached).
    A checkout without that commit (a shallow clone) fails, never skips: CI must have history.
    EL_UPGRADE_GIT names another checkout to take the history from (the mutation runner's
    scratch copy of the tree has none)."""
    repo = os.environ.get("EL_UPGRADE_GIT") or str(ROOT)
    res = subprocess.run(["git", "-C", repo, "rev-parse", "--verify", "--quiet", f"{OLD_RELEASE}^{{commit}}"],
                         capture_output=True, text=True)
    if res.returncode != 0:
        shallow = subprocess.run(["git", "-C", repo, "rev-parse", "--is-shallow-repository"],
                                 capture_output=True, text=True).stdout.strip()
        raise RuntimeError(f"the upgrade test needs commit {OLD_RELEASE} (the previous release) in git history, "
                           f"and this checkout does not have it (shallow clone: {shallow or 'unknown'}); "
                           "run `git fetch --unshallow` or test from a full clone")
    commit = res.stdout.strip()
    top = ROOT / "build" / "upgrade-old" / commit
    done = top / "deb.path"
    if done.exists() and pathlib.Path(done.read_text().strip()).exists():
        return pathlib.Path(done.read_text().strip()), 0.0
    t0 = time.monotonic()
    subprocess.run(["rm", "-rf", str(top)], check=True)
    (top / "src").mkdir(parents=True)
    archive = subprocess.run(["git", "-C", repo, "archive", "--format=tar", commit],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(top / "src")], input=archive, check=True)
    # GIT_CEILING_DIRECTORIES: the old stage-tree must not find this checkout's .git above it
    # (it would list this tree's files); it copies its own directory instead.
    res = subprocess.run(["make", "--no-print-directory", "-C", str(top / "src"), "deb", f"O={top / 'out'}"],
                         env=clean_env(GIT_CEILING_DIRECTORIES=str(top)), capture_output=True, text=True,
                         timeout=900)
    (top / "make-deb.log").write_text(res.stdout + res.stderr)
    if res.returncode != 0:
        raise RuntimeError(f"make deb of {OLD_RELEASE} failed:\n" + (res.stdout + res.stderr)[-4000:])
    debs = sorted((top / "out" / "pkg" / "deb").glob("entra-login_*.deb"))
    if len(debs) != 1:
        raise RuntimeError(f"make deb of {OLD_RELEASE} built {debs}")
    done.write_text(str(debs[0]))
    return debs[0], time.monotonic() - t0


def start_fake(tmp_path_factory, fake_material, name):
    """The fake tenant of one installed-package test module: device codes without a poll wait."""
    return FakeEntra().start(tmp_path_factory.mktemp(name), interval=0, material_from=fake_material)


def module_fake(name):
    """A module-scoped `mfake` fixture for a test module: start_fake(name), stopped after the
    module. Use as `mfake = module_fake("x-fake")`."""
    @pytest.fixture(scope="module")
    def mfake(fake_material, tmp_path_factory):
        fe = start_fake(tmp_path_factory, fake_material, name)
        yield fe
        fe.stop()
    return mfake


@pytest.fixture(autouse=True)
def clean_queue(mfake):
    """Imported into a test module (which has an mfake): every test there starts and ends with
    the fake's auto-approval queue empty."""
    mfake.auto("none")
    yield
    mfake.auto("none")


def start_host(tmp_path_factory, fake, name, **host_keys):
    """The .deb (built once per session, shared by the modules) installed in a new InstalledHost
    named `name` (keyword arguments as InstalledHost's), started; prints the set-up timings."""
    deb, secs = build_deb(tmp_path_factory.getbasetemp() / "installed-deb")
    h = InstalledHost(tmp_path_factory.mktemp(name), deb, fake, **host_keys).start()
    print(f"\n{name}: make deb {secs:.1f}s, dpkg -i + setup {h.timings['install']:.1f}s, "
          f"sshd {h.timings['sshd']:.1f}s")
    return h


def host_config(fake, ca_path, **keys):
    """/etc/entra-login.conf as an admin writes it for the fake tenant. role_sources is left at
    its default (claims, static) unless given."""
    conf = {"tenant_id": TENANT, "client_id": CLIENT_ID, "domains": "contoso.com",
            "authority": fake.authority, "ca_file": ca_path, "http_timeout": 5, "login_timeout": 40}
    conf.update(keys)
    return "# written by tests/installed_env.py\n" + "".join(
        f"{k} = {v}\n" for k, v in conf.items() if v is not None)


def _die_with_parent():
    """preexec_fn: SIGKILL this child when the test process dies (survives exec)."""
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Files and effective configuration of sshd: `ssh_snapshot PREFIX` writes PREFIX.files (names,
# modes, owners, contents of /etc/ssh except host keys) and PREFIX.T.<user> (`sshd -T` for a
# directory name and a local user, host keys left out).
SSH_SNAPSHOT = r"""
ssh_snapshot() {
	( cd /etc/ssh && find . ! -name '*_key' ! -name '*_key.pub' -printf '%p %y %m %U:%G\n' | LC_ALL=C sort &&
	  find . -type f ! -name '*_key' ! -name '*_key.pub' -print0 | LC_ALL=C sort -z | xargs -0 md5sum ) >"$1.files"
	for u in someone@contoso.com "$LOCAL_USER"; do
		sshd -T -f /etc/ssh/sshd_config -C "user=$u,host=localhost,addr=127.0.0.1" \
			2>&1 | grep -v '^hostkey ' | LC_ALL=C sort >"$1.T.$u"
	done
}
"""

SETUP = r"""
set -euo pipefail
mount --make-rprivate /
ovl=$R/ovl
mkdir -p "$ovl"
mount -t tmpfs -o mode=0755 tmpfs "$ovl"
for d in /etc /usr /var /run /home; do
	n=${d//\//_}
	mkdir -p "$ovl/$n.u" "$ovl/$n.w"
	mount -t overlay overlay -o "lowerdir=$d,upperdir=$ovl/$n.u,workdir=$ovl/$n.w" "$d"
done
cp "$CA" /etc/entra-login-test-ca.pem
chmod 0644 /etc/entra-login-test-ca.pem

# No real service actions while installing (policy-rc.d), no man-db index rebuild.
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
chmod 0755 /usr/sbin/policy-rc.d
rm -f /var/lib/man-db/auto-update
mkdir -p /run/sshd

# sshd's configuration before the package: what remove/purge must give back.
""" + SSH_SNAPSHOT + r"""
ssh_snapshot "$R/ssh.pre"

DEBIAN_FRONTEND=noninteractive dpkg -i "$DEB" >"$R/dpkg.log" 2>&1

cat "$R/entra-login.conf" >/etc/entra-login.conf
ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/entra_test_host_key

useradd -m -s /bin/bash "$LOCAL_USER"
useradd -m -s /bin/bash -G sudo "$LOCAL_SUDOER"
useradd -m -s /bin/bash "$UNPRIV"
printf '%s:%s\n' "$LOCAL_USER" "$PASSWORD" "$LOCAL_SUDOER" "$PASSWORD" "$UNPRIV" "$PASSWORD" | chpasswd

# /tmp becomes the namespace's own; the overlays' upper dirs and $R stay reachable below /run.
mkdir -p /run/entra-test/ovl /run/entra-test/r
mount --bind "$ovl" /run/entra-test/ovl
mount --bind "$R" /run/entra-test/r
mount -t tmpfs -o mode=1777 tmpfs /tmp

# Optional: every syslog line of the namespace (sshd's children, the PAM module, the CLI) goes to
# the test's socket instead of the host's log (tests/syslog_capture.py does the same for one
# command). Without a /dev/log to bind over, /dev becomes a tmpfs of links to the real entries.
if [ -n "${LOG_SOCK:-}" ]; then
	if ! [ -e /dev/log ] && ! [ -L /dev/log ]; then
		mkdir -p /run/entra-test/realdev
		mount --rbind /dev /run/entra-test/realdev
		mount -t tmpfs -o mode=0755 el-dev /dev
		for e in /run/entra-test/realdev/* /run/entra-test/realdev/.[!.]*; do
			[ -e "$e" ] || [ -L "$e" ] || continue
			ln -s "$e" "/dev/${e##*/}"
		done
		: >/dev/log
	fi
	mount --bind "/run/entra-test/r/$LOG_SOCK" /dev/log
fi
touch /run/entra-test/r/ready
exec sleep 86400
"""


# `dpkg $ACTION entra-login` in a mount namespace nested in the host's (its own overlays over
# /etc /usr /var, so the host keeps the package for the other tests), then sshd as there.
PACKAGE_ACTION = r"""
set -euo pipefail
mount --make-rprivate /
n=/run/entra-test/nested-$TAG
mkdir -p "$n"
mount -t tmpfs -o mode=0755 tmpfs "$n"
for d in /etc /usr /var; do
	u=${d//\//_}
	mkdir -p "$n/$u.u" "$n/$u.w"
	mount -t overlay overlay -o "lowerdir=$d,upperdir=$n/$u.u,workdir=$n/$u.w" "$d"
done
out=/run/entra-test/r/$TAG
""" + SSH_SNAPSHOT + r"""
rc=0
DEBIAN_FRONTEND=noninteractive dpkg $ACTION entra-login >"$out.dpkg" 2>&1 || rc=$?
echo $rc >"$out.dpkg.rc"
dpkg-query -W -f '${Status}' entra-login >"$out.status" 2>&1 || true
ssh_snapshot "$out"
rc=0
sshd -t -f /etc/ssh/sshd_config >"$out.t" 2>&1 || rc=$?
echo $rc >"$out.t.rc"
touch "$out.ready"
exec /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config -o Port=$PORT -o ListenAddress=127.0.0.1 \
	-o HostKey=/etc/ssh/entra_test_host_key -o PidFile=none -o LogLevel=VERBOSE
"""


class Listener:
    """A TCP listener on 127.0.0.1 that counts connections and closes them (a would-be proxy)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self._stop = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.hits += 1
            conn.close()

    def close(self):
        self._stop = True
        self.thread.join(2)
        self.sock.close()


class FifoWatch:
    """A FIFO that reports every process opening it for reading (the open blocks until a writer
    comes, so none is missed): each is counted and then reads `content` (what the attacker wants
    it to read) and end of file."""

    def __init__(self, path, content=b""):
        self.path = pathlib.Path(path)
        self.content = content
        os.mkfifo(self.path, 0o644)
        self.opens = 0
        self._stop = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self._stop:
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:     # ENXIO: nobody has it open for reading
                time.sleep(0.02)
                continue
            self.opens += 1
            try:
                os.write(fd, self.content)
            except OSError:
                pass
            os.close(fd)
            time.sleep(0.05)

    def close(self):
        self._stop = True
        self.thread.join(2)


class InstalledHost:
    def __init__(self, tmp, deb, fake, config_keys=None, syslog=False):
        self.tmp = pathlib.Path(tmp)
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.deb = pathlib.Path(deb)
        self.fake = fake
        self.config_keys = dict(config_keys or {})
        self.holder = None
        self.sshd = None
        self.port = None
        self.timings = {}
        self.syslog = None
        if syslog:
            from syslog_capture import SyslogCapture
            self.syslog = SyslogCapture(self.tmp)

    # ------------------------------------------------------------ lifecycle
    def start(self):
        t0 = time.monotonic()
        (self.tmp / "entra-login.conf").write_text(
            host_config(self.fake, "/etc/entra-login-test-ca.pem", **self.config_keys))
        (self.tmp / "setup.sh").write_text(SETUP)
        env = dict(os.environ, R=str(self.tmp), DEB=str(self.deb), CA=str(self.fake.ca_file),
                   LOCAL_USER=LOCAL_USER, LOCAL_SUDOER=LOCAL_SUDOER, UNPRIV=UNPRIV, PASSWORD=PASSWORD,
                   LC_ALL="C", LOG_SOCK=str(pathlib.Path(self.syslog.path).relative_to(self.tmp)) if self.syslog else "")
        log = open(self.tmp / "setup.log", "ab")
        self.holder = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "--", "bash",
                                        str(self.tmp / "setup.sh")], env=env, stdout=log,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       preexec_fn=_die_with_parent)
        log.close()
        self._wait(lambda: (self.tmp / "ready").exists(), "the namespace setup (dpkg -i)",
                   lambda: (self.tmp / "setup.log").read_text(errors="replace")
                   + self.dpkg_log())
        self.timings["install"] = time.monotonic() - t0
        t0 = time.monotonic()
        self.start_sshd()
        self.timings["sshd"] = time.monotonic() - t0
        return self

    def _wait(self, cond, what, details, proc=None):
        proc = proc or self.holder
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if cond():
                return
            if proc.poll() is not None:
                raise RuntimeError(f"{what}: exited with {proc.returncode}\n{details()[-4000:]}")
            time.sleep(0.05)
        raise RuntimeError(f"{what}: not ready after {TIMEOUT:.0f} s\n{details()[-4000:]}")

    def start_sshd(self):
        self.port = free_port()
        log = open(self.tmp / "sshd.log", "ab")
        self.sshd = subprocess.Popen(
            self.enter(["/usr/sbin/sshd", "-D", "-e", "-f", "/etc/ssh/sshd_config",
                        "-o", f"Port={self.port}", "-o", "ListenAddress=127.0.0.1",
                        "-o", "HostKey=/etc/ssh/entra_test_host_key", "-o", "PidFile=/run/entra-test-sshd.pid",
                        "-o", "LogLevel=VERBOSE", "-o", "MaxStartups=50:30:100"]),
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        log.close()

        def listening():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return True
            except OSError:
                return False
        self._wait(listening, "sshd", self.sshd_log, proc=self.sshd)

    def package_action(self, action, tag):
        """`dpkg ACTION entra-login` (-r, -P) in a namespace nested in this one, then an sshd
        there. Returns (sshd Popen, its port, prefix of the files the script wrote: .dpkg,
        .dpkg.rc, .status, .files, .T.<user>, .t, .t.rc, .sshd). The caller stops the sshd."""
        port = free_port()
        (self.tmp / f"{tag}.sh").write_text(PACKAGE_ACTION)
        prefix = self.tmp / tag
        log = open(f"{prefix}.sshd", "ab")
        env = dict(os.environ, TAG=tag, ACTION=action, PORT=str(port), LOCAL_USER=LOCAL_USER, LC_ALL="C")
        proc = subprocess.Popen(self.enter(["unshare", "--mount", "--propagation", "private", "--", "bash",
                                            f"/run/entra-test/r/{tag}.sh"]),
                                env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                preexec_fn=_die_with_parent)
        log.close()

        def listening():
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return True
            except OSError:
                return False
        self._wait(listening, f"dpkg {action} + sshd",
                   lambda: pathlib.Path(f"{prefix}.sshd").read_text(errors="replace"), proc=proc)
        return proc, port, prefix

    @staticmethod
    def stop_proc(proc):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop(self):
        for p in (self.sshd, self.holder):
            if p and p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if self.syslog:
            self.syslog.close()

    def sshd_log(self):
        try:
            return (self.tmp / "sshd.log").read_text(errors="replace")
        except OSError:
            return ""

    def dpkg_log(self):
        try:
            return (self.tmp / "dpkg.log").read_text(errors="replace")
        except OSError:
            return ""

    # ------------------------------------------------------------ inside the namespace
    def enter(self, argv):
        return ["nsenter", "-t", str(self.holder.pid), "-m", "--"] + list(argv)

    def path(self, p):
        """A path of the namespace, as the test process reaches it."""
        return pathlib.Path(f"/proc/{self.holder.pid}/root") / str(p).lstrip("/")

    def run(self, script, input=None, timeout=None):
        """bash -c script inside the namespace, as root."""
        return subprocess.run(self.enter(["bash", "-c", script]), capture_output=True, text=True,
                              input=input, timeout=timeout or TIMEOUT, env=dict(os.environ, LC_ALL="C"))

    @staticmethod
    def as_user(user, command):
        """A shell command line that runs `command` (a shell string) as user, with the groups
        NSS reports for them (no PAM involved)."""
        return (f"setpriv --reuid={q(user)} --regid={q(user)} --init-groups "
                f"env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp LC_ALL=C bash -c {q(command)}")

    def pty(self, command, steps, env=None, user=None, timeout=None, before_answer=None):
        """Run `command` (a shell string) in the namespace on a pseudo-terminal, as `user` (root
        if None) with exactly the environment `env` (PATH added if missing). steps: a list of
        (regex, answer): wait until regex appears in the output after the previous match, then
        type answer + newline. Returns (exit status, all output). A negative status means a
        signal killed the command. before_answer(i): called before the i-th answer is typed (the
        command is waiting at that prompt)."""
        env = dict(env or {})
        env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
        envargs = [f"{k}={v}" for k, v in env.items()]
        inner = ["env", "-i", *envargs, "bash", "-c", command]
        if user:
            inner = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", *inner]
        master, slave = os.openpty()

        def ctty():
            import fcntl
            import termios
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        proc = subprocess.Popen(self.enter(inner), stdin=slave, stdout=slave, stderr=slave,
                                start_new_session=True, preexec_fn=ctty, close_fds=True)
        os.close(slave)
        out = b""
        pos = 0
        steps = list(steps)
        deadline = time.monotonic() + (timeout or TIMEOUT)
        try:
            while True:
                if steps:
                    m = re.search(steps[0][0].encode(), out[pos:])
                    if m:
                        pos += m.end()
                        if before_answer:
                            before_answer(len(steps))
                        os.write(master, steps[0][1].encode() + b"\n")
                        steps.pop(0)
                        continue
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"pty command timed out; output so far:\n{out.decode(errors='replace')}")
                r, _, _ = select.select([master], [], [], min(left, 0.5))
                if r:
                    try:
                        chunk = os.read(master, 65536)
                    except OSError:     # EIO: every writer closed the terminal
                        chunk = b""
                    if not chunk:
                        break
                    out += chunk
                elif proc.poll() is not None:
                    break       # exited, and nothing more to read within 0.5 s
            rc = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        finally:
            os.close(master)
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)     # its own session: su and its children
                except OSError:
                    proc.kill()
                proc.wait()
        return rc, out.decode(errors="replace").replace("\r\n", "\n")

    # ------------------------------------------------------------ ssh client (outside)
    def ssh(self, user, command, answers, methods="keyboard-interactive", tag="c", timeout=None):
        """A stock OpenSSH client answering prompts from `answers` via SSH_ASKPASS.
        Returns (CompletedProcess, prompts seen)."""
        return ssh_askpass(self.tmp, self.port, user, command, answers, methods, timeout or TIMEOUT * 2, tag)

    def ssh_key(self, user, command, identity, certificate=None, tag="pk", port=None, timeout=None):
        """Publickey login with the stock client: -i identity [-o CertificateFile=certificate],
        as `az ssh vm` runs it. port: another sshd of this namespace (default: the main one)."""
        return ssh_pubkey(self.tmp, port or self.port, user, command, identity, certificate,
                          timeout or TIMEOUT * 2, tag)

    # ------------------------------------------------------------ what the namespace wrote
    def written(self):
        """{namespace path: (mode, uid)} of everything written into the overlays so far."""
        out = {}
        ovl = self.path("/run/entra-test/ovl")
        for upper in ovl.glob("*.u"):
            base = "/" + upper.name[:-2].lstrip("_").replace("_", "/")
            for dirpath, dirnames, filenames in os.walk(upper):
                for name in dirnames + filenames:
                    p = pathlib.Path(dirpath) / name
                    st = p.lstat()
                    rel = p.relative_to(upper)
                    out[f"{base}/{rel}"] = (st.st_mode, st.st_uid)
        return out
