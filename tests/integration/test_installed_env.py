"""Issue 11 sec.1 and "what it must show" 2: a local unprivileged user steers real setuid su.

The package is installed with `dpkg -i` in a mount namespace (tests/installed_env.py). An
unprivileged local account runs `su NAME@contoso.com -c id` on a pseudo-terminal with an
environment, umask or rlimit of its choosing, presses Enter for a device code, and the fake
Entra ID approves it. Whatever the caller chose, nothing outside our own configuration may steer
the code that talks to the network or writes the state directory:

- SSLKEYLOGFILE: no file appears (libcurl 7.88 opens it with fopen "a" as root);
- https_proxy / HTTPS_PROXY / ALL_PROXY: a listener standing in for the proxy sees no connection;
- CURL_CA_BUNDLE / SSL_CERT_FILE (an attacker's CA), OPENSSL_CONF (a config that would make TLS
  fail), HOME with a .curlrc and .netrc (naming the attacker's proxy): each is a FIFO that counts
  every open, and none is opened;
- umask 0: every file the login writes (state directory, home, anywhere in the overlays) has the
  product's modes, nothing is group- or world-writable;
- RLIMIT_NOFILE=8: no crash; the login works or fails closed, and the state stays intact.

And in every case the login itself works as it does without the attack (except the rlimit, which
may make su itself fail), and no file written under the attack is world-writable.
"""
import re
import stat

import pytest

from entra_fake import ADMIN_APP_ROLE
from installed_env import FifoWatch, Listener, UNPRIV, module_fake, q, start_host

DEVICE_STEPS = [(r"Press Enter", ""), (r"Press Enter", "")]
KEYLOG = "/etc/entra-test-sslkeylog"

OPENSSL_CNF = b"""\
openssl_conf = attacker_init
[attacker_init]
ssl_conf = attacker_ssl
[attacker_ssl]
system_default = attacker_tls
[attacker_tls]
MaxProtocol = TLSv1
CipherString = NULL
"""

CASES = ["baseline", "SSLKEYLOGFILE", "https_proxy", "HTTPS_PROXY", "ALL_PROXY", "CURL_CA_BUNDLE",
         "SSL_CERT_FILE", "OPENSSL_CONF", "HOME_curlrc", "umask0", "RLIMIT_NOFILE8", "signals"]


mfake = module_fake("installed-env-fake")


@pytest.fixture(scope="module")
def host(mfake, tmp_path_factory):
    h = start_host(tmp_path_factory, mfake, "installed-env-host")
    yield h
    h.stop()


def attacker_dir(host, name):
    """A directory of the unprivileged user's, in the namespace's /tmp."""
    host.run(f"install -d -o {UNPRIV} -g {UNPRIV} -m 0755 /tmp/{name}")
    return f"/tmp/{name}"


def world_writable(written):
    return {p: oct(m) for p, (m, _uid) in written.items()
            if not stat.S_ISLNK(m) and m & 0o002 and not (stat.S_ISDIR(m) and m & stat.S_ISVTX)}


class Attack:
    """What the caller sets up for one case: environment, shell prefix, detectors."""

    def __init__(self, host, mfake, case, d, keylog):
        self.env = {"HOME": f"/home/{UNPRIV}", "TERM": "dumb", "LC_ALL": "C"}
        self.prefix = ""
        self.launcher = "exec "     # how the shell starts su
        self.watches, self.listener = [], None
        env = self.env
        if case == "SSLKEYLOGFILE":
            env["SSLKEYLOGFILE"] = keylog   # the reproducer of issue 11: umask 0 too, a 0666 file
            self.prefix = "umask 0; "
        elif case in ("https_proxy", "HTTPS_PROXY", "ALL_PROXY"):
            self.listener = Listener()
            env[case] = f"http://127.0.0.1:{self.listener.port}"
        elif case in ("CURL_CA_BUNDLE", "SSL_CERT_FILE"):
            ca = open(mfake.other_ca_file, "rb").read()
            self.watches.append(FifoWatch(host.path(f"{d}/ca.pem"), ca))
            env[case] = f"{d}/ca.pem"
        elif case == "OPENSSL_CONF":
            self.watches.append(FifoWatch(host.path(f"{d}/openssl.cnf"), OPENSSL_CNF))
            env[case] = f"{d}/openssl.cnf"
        elif case == "HOME_curlrc":
            self.listener = Listener()
            rc = f'proxy = "http://127.0.0.1:{self.listener.port}"\ninsecure\n'.encode()
            self.watches.append(FifoWatch(host.path(f"{d}/.curlrc"), rc))
            self.watches.append(FifoWatch(host.path(f"{d}/.netrc"), b"default login x password y\n"))
            env["HOME"] = d
        elif case == "umask0":
            self.prefix = "umask 0; "
        elif case == "RLIMIT_NOFILE8":
            self.prefix = "ulimit -n 8; "
        elif case == "signals":
            # Ignored and blocked signals survive exec: su starts with SIGCHLD, SIGPIPE, SIGALRM,
            # SIGTERM ignored and SIGCHLD, SIGALRM, SIGTERM, SIGINT blocked.
            self.launcher = ("exec perl -MPOSIX -e '$SIG{$_} = q(IGNORE) for qw(CHLD PIPE ALRM TERM); "
                           "sigprocmask(SIG_BLOCK, POSIX::SigSet->new(SIGCHLD, SIGALRM, SIGTERM, SIGINT)); "
                           "exec @ARGV or die' -- ")

    def close(self):
        for w in self.watches:
            w.close()
        if self.listener:
            self.listener.close()


DETECTABLE = ["SSLKEYLOGFILE", "https_proxy", "HTTPS_PROXY", "ALL_PROXY", "CURL_CA_BUNDLE", "SSL_CERT_FILE",
              "OPENSSL_CONF", "HOME_curlrc"]


@pytest.mark.parametrize("case", DETECTABLE)
def test_detectors_see_a_program_that_honours_the_variable(host, mfake, case):
    """The control: the same setup catches an ordinary (not setuid) curl run by the same user,
    so a PAM host that honoured the variable could not pass the test below."""
    d = attacker_dir(host, "ctl-" + case.lower())
    keylog = f"{d}/sslkeylog"
    a = Attack(host, mfake, case, d, keylog)
    try:
        rc, out = host.pty(a.prefix + f"curl -sS --max-time 5 https://127.0.0.1:{mfake.https_port}/; true", [],
                           env=a.env, user=UNPRIV)
    finally:
        a.close()
    seen = sum(w.opens for w in a.watches) + (a.listener.hits if a.listener else 0)
    if case == "SSLKEYLOGFILE":
        seen += host.path(keylog).exists()
    assert seen > 0, out


@pytest.mark.parametrize("case", CASES)
def test_su_as_unprivileged_user_ignores_callers_environment(host, mfake, case):
    user = f"env-{case.lower().replace('_', '-')}@contoso.com"
    d = attacker_dir(host, case.lower())
    if case == "umask0":
        # The state directory starts empty, so the login creates every file in it under umask 0.
        res = host.run("find /var/lib/entra-login -mindepth 1 -delete")
        assert res.returncode == 0, res.stderr
    a = Attack(host, mfake, case, d, KEYLOG)
    env, prefix, watches, listener = a.env, a.prefix, a.watches, a.listener
    before = host.written()
    mfake.auto("none")
    mfake.auto("approve", upn=user, roles=[ADMIN_APP_ROLE], count=1)
    try:
        rc, out = host.pty(prefix + a.launcher + f"su {q(user)} -c 'echo INSIDE; id'", DEVICE_STEPS, env=env,
                           user=UNPRIV)
    finally:
        mfake.auto("none")
        a.close()
    after = host.written()
    new = {p: v for p, v in after.items() if before.get(p) != v}

    assert rc >= 0, f"su killed by signal {-rc}:\n{out}"
    assert not re.search(r"Segmentation fault|core dumped|Aborted|stack smashing", out), out
    if case == "SSLKEYLOGFILE":
        assert not host.path(KEYLOG).exists(), f"{KEYLOG} created: {oct(host.path(KEYLOG).stat().st_mode)}"
        assert KEYLOG not in after
    if listener:
        assert listener.hits == 0, f"the caller's proxy got {listener.hits} connection(s)"
    for w in watches:
        assert w.opens == 0, f"{w.path.name} opened {w.opens} time(s)"
    assert not world_writable(new), (world_writable(new), out)
    if case == "RLIMIT_NOFILE8":
        # su may not even get to PAM with 8 descriptors; whatever happens, it fails closed or works
        if rc == 0:
            assert f"({user})" in out, out
        else:
            assert "INSIDE" not in out, out
        print(f"RLIMIT_NOFILE=8: su exit {rc}; output:\n{out}")
        res = host.run("entra-login users")
        assert res.returncode == 0, res.stdout + res.stderr
    else:
        assert rc == 0 and "INSIDE" in out and f"({user})" in out, out
        assert "aad_admins" in out, out
    if case == "umask0":
        state = {p: v for p, v in after.items() if p.startswith("/var/lib/entra-login/")}
        assert state, "the login wrote nothing to the state directory"
        for p, (mode, uid) in state.items():
            assert uid == 0, (p, uid)
            if stat.S_ISREG(mode):
                assert stat.S_IMODE(mode) in (0o644, 0o600), (p, oct(mode))
            else:
                assert not stat.S_IMODE(mode) & 0o022, (p, oct(mode))
        home = host.path(f"/home/{user}")
        assert home.is_dir() and not stat.S_IMODE(home.stat().st_mode) & 0o022, oct(home.stat().st_mode)
