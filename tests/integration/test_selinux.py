"""The SELinux policy module (packaging/selinux/): compiled with Debian's refpolicy headers
(`make selinux`), installed with `semodule -n` into a copy of Debian's selinux-policy-default store
inside a mount namespace (the host's store is not touched), and the resulting kernel policy read
with sesearch/seinfo: the transitions, network and state-directory rules the helper, the
authorized-keys command and the refresh service need, and the rules that must not be there.

There is no SELinux kernel here: nothing is enforced, no AVC is seen. What that leaves unproven is
listed in packaging/selinux/README.md. Debian's refpolicy is not Fedora's selinux-policy.
"""
import os
import pathlib
import re
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("EL_BUILD", ROOT / "build")).resolve()

HELPER_HOSTS = ["sshd_t", "crond_t", "local_login_t", "sysadm_sudo_t", "staff_sudo_t", "user_sudo_t",
                "sysadm_su_t", "staff_su_t", "user_su_t"]
WORKERS = ["entra_login_helper_t", "entra_login_authkeys_t", "entra_login_t"]

LINK = r"""
set -euo pipefail
ovl=$R/ovl
mkdir -p "$ovl"
mount -t tmpfs -o mode=0755 tmpfs "$ovl"
for d in /var/lib/selinux /etc/selinux; do
	n=${d//\//_}
	mkdir -p "$ovl/$n.u" "$ovl/$n.w"
	mount -t overlay overlay -o "lowerdir=$d,upperdir=$ovl/$n.u,workdir=$ovl/$n.w" "$d"
done
semodule -n -s default -i "$PP"
semodule -s default -l >"$R/modules"
cp /etc/selinux/default/policy/policy.* "$R/policy"
cp /etc/selinux/default/contexts/files/file_contexts "$R/file_contexts"
"""


@pytest.fixture(scope="module")
def policy(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("needs root (mount namespace)")
    d = tmp_path_factory.mktemp("selinux")
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "O", "SAN")}
    t0 = time.monotonic()
    res = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "selinux", f"O={BUILD}"],
                         env=env, capture_output=True, text=True, timeout=120)
    t1 = time.monotonic()
    assert res.returncode == 0, res.stdout + res.stderr
    assert "warning" not in (res.stdout + res.stderr).lower(), res.stdout + res.stderr
    pp = BUILD / "selinux" / "entra_login.pp"
    assert pp.is_file()
    (d / "link.sh").write_text(LINK)
    res = subprocess.run(["unshare", "--mount", "--propagation", "private", "--", "bash", str(d / "link.sh")],
                         env={**os.environ, "R": str(d), "PP": str(pp)}, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    t2 = time.monotonic()
    pol = Policy(d)
    print(f"\nselinux: make selinux {t1 - t0:.1f}s, semodule -n -i (full policy link) {t2 - t1:.1f}s, "
          f"policy load {time.monotonic() - t2:.1f}s")
    return pol


class Policy:
    """The kernel policy, read once with setools (sesearch's library) into a list of rules: one
    pass instead of one per query. Queries match through attributes, as sesearch does by default;
    conditional (boolean) rules are left out."""

    def __init__(self, d):
        import setools
        self.dir = d
        p = setools.SELinuxPolicy(str(d / "policy"))
        self.rules = []  # (kind, source, target, class, perms or default, filename)
        for r in p.terules():
            kind = r.ruletype.name
            if kind not in ("allow", "type_transition"):
                continue
            try:
                r.conditional
                continue
            except Exception:  # setools raises RuleNotConditional: the rule always applies
                pass
            extra = frozenset(str(x) for x in r.perms) if kind == "allow" else str(r.default)
            self.rules.append((kind, str(r.source), str(r.target), str(r.tclass), extra,
                               getattr(r, "filename", None)))
        self.names = {str(t): {str(a) for a in t.attributes()} | {str(t)} for t in p.types()}
        self.roles = {str(r): {str(t) for t in r.types()} for r in p.roles()}
        self.ports = [(str(pc.protocol), pc.ports.low, pc.ports.high, str(pc.context.type_))
                      for pc in p.portcons()]

    def _match(self, kind, source, target, tclass):
        srcs = self.names.get(source, {source}) if source else None
        tgts = self.names.get(target, {target}) if target else None
        for rule in self.rules:
            if rule[0] == kind and (srcs is None or rule[1] in srcs) and \
                    (tgts is None or rule[2] in tgts) and (tclass is None or rule[3] == tclass):
                yield rule

    def allow(self, source=None, target=None, tclass=None, perm=None):
        return [r for r in self._match("allow", source, target, tclass) if perm is None or perm in r[4]]

    def perms(self, source, target, tclass):
        """The union of the permissions of the matching allow rules."""
        out = set()
        for r in self.allow(source, target, tclass):
            out |= r[4]
        return out

    def transitions(self, source=None, target=None, tclass=None):
        return sorted(f"type_transition {r[1]} {r[2]}:{r[3]} {r[4]}" + (f" {r[5]}" if r[5] else "") + ";"
                      for r in self._match("type_transition", source, target, tclass))

    def role_types(self, role):
        return self.roles[role]

    def port_type(self, proto, port):
        for p, low, high, typ in self.ports:
            if p == proto and low <= port <= high:
                return typ
        return None


def test_selinux_module_links_into_the_distribution_policy(policy):
    """Every type the module requires exists in Debian's full policy, no neverallow is violated,
    setfiles accepted the file contexts: semodule built a kernel policy with it."""
    assert re.search(r"^entra_login\s", (policy.dir / "modules").read_text(), re.M)
    assert (policy.dir / "policy").stat().st_size > 1_000_000


def test_selinux_helper_transitions(policy):
    """pam_entra.so execs the helper from every PAM host the module names: it runs in
    entra_login_helper_t, talks over the host's socketpair, and the host may kill it."""
    for src in HELPER_HOSTS:
        assert policy.transitions(src, "entra_login_helper_exec_t", "process") == \
            [f"type_transition {src} entra_login_helper_exec_t:process entra_login_helper_t;"], src
        assert {"transition", "sigkill"} <= policy.perms(src, "entra_login_helper_t", "process"), src
        assert {"execute", "open", "read"} <= policy.perms(src, "entra_login_helper_exec_t", "file"), src
        assert {"read", "write"} <= policy.perms("entra_login_helper_t", src, "unix_stream_socket"), src
        assert "use" in policy.perms("entra_login_helper_t", src, "fd"), src
    assert "entrypoint" in policy.perms("entra_login_helper_t", "entra_login_helper_exec_t", "file")
    # the su and sudo domains run in user roles: the helper type is allowed there
    for role in ("staff_r", "sysadm_r", "user_r", "system_r"):
        assert "entra_login_helper_t" in policy.role_types(role), role


def test_selinux_cli_transitions(policy):
    """sshd's AuthorizedKeysCommand runs in entra_login_authkeys_t, the refresh service (systemd)
    in entra_login_t; nothing else transitions into them."""
    assert policy.transitions(None, "entra_login_exec_t", "process") == [
        "type_transition init_t entra_login_exec_t:process entra_login_t;",
        "type_transition initrc_t entra_login_exec_t:process entra_login_t;",  # init_daemon_domain
        "type_transition sshd_t entra_login_exec_t:process entra_login_authkeys_t;"]
    for dom in ("entra_login_authkeys_t", "entra_login_t"):
        assert "entrypoint" in policy.perms(dom, "entra_login_exec_t", "file"), dom
    assert "transition" in policy.perms("sshd_t", "entra_login_authkeys_t", "process")


def test_selinux_network_for_the_workers_only(policy):
    """HTTPS (443) and IMDS (169.254.169.254:80) are http_port_t; the three worker domains may
    connect there (and to DNS), and this module gives no other domain a network rule."""
    for port in (80, 443):
        assert policy.port_type("tcp", port) == "http_port_t", port
    for dom in WORKERS:
        connect = {r[2] for r in policy.allow(dom, None, "tcp_socket", "name_connect")}
        assert connect == {"http_port_t", "dns_port_t"}, (dom, connect)
    ours = [r for r in policy.allow(None, None, "tcp_socket", "name_connect") if "entra" in r[1] + r[2]]
    assert {r[1] for r in ours} == {"entra_login_worker"}, ours


def test_selinux_state_directory(policy):
    """/var/lib/entra-login: the workers replace files in it (temp file, rename, lock) and create
    it if missing with the right type; every domain may read it (the NSS module); no PAM host or
    other domain may write it."""
    for dom in WORKERS:
        assert {"create", "write", "rename", "unlink", "lock", "open", "read", "map"} <= \
            policy.perms(dom, "entra_login_var_lib_t", "file"), dom
        assert {"add_name", "remove_name", "write", "search", "create"} <= \
            policy.perms(dom, "entra_login_var_lib_t", "dir"), dom
        assert f"type_transition {dom} var_lib_t:dir entra_login_var_lib_t entra-login;" in \
            policy.transitions(dom, "var_lib_t", "dir"), dom
    for dom in ("user_t", "sshd_t", "staff_sudo_t", "crond_t", "httpd_t", "init_t"):
        assert {"open", "read", "getattr", "map"} <= policy.perms(dom, "entra_login_var_lib_t", "file"), dom
        assert {"search", "read"} <= policy.perms(dom, "entra_login_var_lib_t", "dir"), dom
        assert "search" in policy.perms(dom, "var_lib_t", "dir"), dom
    writers = {r[1] for r in policy.allow(None, "entra_login_var_lib_t", "file", "write")}
    # the worker attribute, plus the policy's own all-files domains (unconfined, admin tools)
    assert "entra_login_worker" in writers
    for dom in ("sshd_t", "domain", "user_t", "crond_t", "nsswitch_domain"):
        assert dom not in writers, writers
    assert not policy.allow("sshd_t", "entra_login_var_lib_t", "file", "write")
    assert not policy.allow("user_t", "entra_login_var_lib_t", "dir", "add_name")


def test_selinux_file_contexts(policy):
    fc = policy.dir / "file_contexts"
    want = {"/usr/libexec/entra-login/pam-helper": "entra_login_helper_exec_t",
            "/usr/sbin/entra-login": "entra_login_exec_t",
            "/var/lib/entra-login": "entra_login_var_lib_t",
            "/var/lib/entra-login/users.db": "entra_login_var_lib_t",
            "/var/lib/entra-login/users.db.tmp.Ab12Cd": "entra_login_var_lib_t",
            "/usr/lib/x86_64-linux-gnu/security/pam_entra.so": "lib_t"}  # libraries: the policy's own
    for path, typ in want.items():
        out = subprocess.run(["selabel_lookup", "-b", "file", "-k", path, "-f", str(fc)], capture_output=True,
                             text=True, check=True).stdout
        assert f":object_r:{typ}:" in out, (path, out)
