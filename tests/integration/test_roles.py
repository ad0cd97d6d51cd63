"""Who may log in and who is an administrator: every role source through pam_entra.so.

Each login is a pamtester run (pam_wrapper) with a pasted token minted by the fake Entra ID,
`auth` and `account` both pam_entra.so unless said otherwise. The resulting group membership
is read back through the NSS module itself (tests/nss/nss_call), as getgrnam answers it.
"""
import os
import stat
import subprocess

import pytest

from conftest import BUILD, CLI, NSS_MODULE, PAM_MODULE, PAM_SO, token_parts, write_config
from entra_fake import ADMIN_APP_ROLE, USER_APP_ROLE, oid_for
from tokens import guid_for

USER = "alice@contoso.com"
OID = oid_for(USER)
G_ADMINS = guid_for("group:vm-admins")
G_USERS = guid_for("group:vm-users")
G_NESTED = guid_for("group:nested")
CUSTOM_ROLE = guid_for("role:custom-vm-login")
NSS_CALL = BUILD / "tests" / "nss" / "nss_call"

DENIED = "Permission denied"                                          # PAM_PERM_DENIED
UNAVAIL = "Authentication service cannot retrieve authentication info"  # PAM_AUTHINFO_UNAVAIL
ROLE_MESSAGE = '"Virtual Machine Administrator Login" or "Virtual Machine User Login"'
OVERAGE = {"_claim_names": {"groups": "src1"},
           "_claim_sources": {"src1": {"endpoint": "https://graph.microsoft.com/v1.0/users/x/getMemberObjects"}}}


def san_keep_loaded():
    """Under SAN: libraries to preload so that pam_end's dlclose does not unload them.
    libgnutls (pulled in by libcurl's dependencies) touches its TLS in its destructor; once
    unloaded, LeakSanitizer trips over the stale dynamic TLS block at exit ("Tracer caught
    signal 11"), depending on heap layout. Preloaded, it is never unloaded."""
    if "build-san" not in str(BUILD):
        return []
    out = subprocess.run(["ldd", str(PAM_SO)], capture_output=True, text=True).stdout
    return [ln.split("=>")[1].split()[0] for ln in out.splitlines() if "libgnutls" in ln and "=>" in ln]


class Host:
    """One test host: config, state dir, PAM stack; logs users in and reads their groups."""

    def __init__(self, tmp_path, fake, pam_stack, state_dir):
        self.tmp, self.fake, self.stack, self.state = tmp_path, fake, pam_stack, state_dir
        self.conf = None
        keep, env = san_keep_loaded(), pam_stack.env
        if keep:
            pam_stack.env = lambda: dict(env(), LD_PRELOAD=":".join([env()["LD_PRELOAD"], *keep]))

    def configure(self, account=None, auth=None, **keys):
        self.conf = write_config(self.tmp / "entra-login.conf", self.fake, self.state, **keys)
        auth = auth or f"auth required {PAM_MODULE} config={self.conf} mode=token"
        account = account or f"account required {PAM_MODULE} config={self.conf}"
        self.stack.write([auth, account])
        return self

    def login(self, user=USER, token=None, ops=("authenticate", "acct_mgmt"), **mint):
        if token is None:
            token = self.fake.mint("access_v2", upn=user, **mint)
        res = self.stack.run(user, ops=ops, stdin=token_parts(token) if "authenticate" in ops else "")
        res.out = res.stdout + res.stderr
        return res

    def members(self, group):
        env = dict(os.environ, ENTRA_LOGIN_CONF=str(self.conf))
        out = subprocess.run([str(NSS_CALL), str(NSS_MODULE), "getgrnam", group], capture_output=True,
                             text=True, env=env, timeout=30).stdout.strip()
        assert out.startswith("SUCCESS "), out
        line = out.split(" ", 1)[1]
        return [m for m in line.split(":")[3].split(",") if m]

    def role(self, user=USER):
        admins, users = self.members("aad_admins"), self.members("aad_users")
        assert user not in admins or user in users, "an admin is always a user too"
        return "admin" if user in admins else "user" if user in users else "none"

    def refresh(self, *args):
        return subprocess.run([str(CLI), "--config", str(self.conf), "refresh", *args], capture_output=True,
                              text=True, timeout=120)


@pytest.fixture
def host(tmp_path, fake, pam_stack, state_dir):
    return Host(tmp_path, fake, pam_stack, state_dir)


def assert_login(res, expect):
    """expect: 'admin'/'user' (allowed) or 'none' (refused for lack of a role)."""
    if expect == "none":
        assert res.returncode != 0, res.out
        assert DENIED in res.out, res.out
        assert ROLE_MESSAGE in res.out, res.out
    else:
        assert res.returncode == 0, res.out
        assert "account management done" in res.out


# ---------------------------------------------------------------- the matrix
# id: (role_sources, extra config, token claims, arm assignments, arm groups, expected role)
MATRIX = {
    "claims-admin": ("claims", {}, dict(roles=[ADMIN_APP_ROLE]), [], {}, "admin"),
    "claims-user": ("claims", {}, dict(roles=[USER_APP_ROLE]), [], {}, "user"),
    "claims-both": ("claims", {}, dict(roles=[USER_APP_ROLE, ADMIN_APP_ROLE]), [], {}, "admin"),
    "claims-none": ("claims", {}, dict(roles=[]), [], {}, "none"),
    "claims-no-roles-claim": ("claims", {}, {}, [], {}, "none"),
    "claims-group-admin": ("claims", dict(static_admins=G_ADMINS), dict(groups=[G_USERS, G_ADMINS]), [], {}, "admin"),
    "claims-group-user": ("claims", dict(static_users=G_USERS), dict(groups=[G_USERS]), [], {}, "user"),
    "claims-custom-value": ("claims", {}, dict(roles=["Reader", ADMIN_APP_ROLE.lower(), USER_APP_ROLE + " "]),
                            [], {}, "none"),
    "claims-overage": ("claims", dict(static_admins=G_ADMINS), dict(groups=[G_ADMINS], claims=OVERAGE), [], {},
                       "none"),
    "claims-overage-keeps-roles": ("claims", dict(static_admins=G_ADMINS),
                                   dict(roles=[USER_APP_ROLE], claims=OVERAGE, groups=[G_ADMINS]), [], {}, "user"),
    "static-admin": ("static", dict(static_admins=USER), {}, [], {}, "admin"),
    "static-user": ("static", dict(static_users=USER), {}, [], {}, "user"),
    "static-both": ("static", dict(static_admins=USER, static_users=USER), {}, [], {}, "admin"),
    "static-none": ("static", dict(static_admins="bob@contoso.com", static_users=G_USERS),
                    dict(roles=[ADMIN_APP_ROLE]), [], {}, "none"),
    "static-group": ("static", dict(static_users=G_USERS), dict(groups=[G_USERS]), [], {}, "user"),
    "static-overage": ("static", dict(static_users=G_USERS), dict(groups=[G_USERS], claims=OVERAGE), [], {}, "none"),
    "arm-admin": ("arm", {}, {}, [(OID, "admin", "vm")], {}, "admin"),
    "arm-user": ("arm", {}, {}, [(OID, "user", "vm")], {}, "user"),
    "arm-both": ("arm", {}, {}, [(OID, "user", "vm"), (OID, "admin", "vm")], {}, "admin"),
    "arm-none": ("arm", {}, {}, [(guid_for("someone-else"), "admin", "vm")], {}, "none"),
    "arm-other-vm-and-rg": ("arm", {}, {}, [(OID, "admin", "other_vm"), (OID, "admin", "other_rg"),
                                            (OID, "user", "other_subscription")], {}, "none"),
    # ARM lists assignments below the VM scope too (a child resource): they grant nothing here,
    # so this exercises the module's own scope check (the fake does not filter them out).
    "arm-child-scope-only": ("arm", {}, {}, [(OID, "admin", "vm_child")], {}, "none"),
    "arm-child-scope-and-user": ("arm", {}, {}, [(OID, "admin", "vm_child"), (OID, "user", "vm")], {}, "user"),
    "arm-group": ("arm", {}, {}, [(G_ADMINS, "admin", "vm")], {OID: [G_ADMINS]}, "admin"),
    "arm-nested-group": ("arm", {}, {}, [(G_NESTED, "user", "rg")], {OID: [G_USERS], G_USERS: [G_NESTED]}, "user"),
    "arm-inherited-rg": ("arm", {}, {}, [(OID, "admin", "rg")], {}, "admin"),
    "arm-inherited-subscription": ("arm", {}, {}, [(OID, "user", "subscription")], {}, "user"),
    "arm-custom-role": ("arm", {}, {}, [(OID, "reader", "vm"), (OID, "owner", "vm"), (OID, CUSTOM_ROLE, "vm")], {},
                        "none"),
    "arm-overage": ("arm", {}, dict(claims=OVERAGE), [(G_USERS, "user", "vm")], {OID: [G_USERS]}, "user"),
    "arm-decides-over-claims": ("arm, claims", {}, dict(roles=[ADMIN_APP_ROLE]), [(OID, "user", "vm")], {}, "user"),
    "arm-no-role-is-final": ("arm, claims", {}, dict(roles=[ADMIN_APP_ROLE]), [], {}, "none"),
    "claims-silent-then-static": ("claims, static", dict(static_admins=USER), dict(roles=["Reader"]), [], {},
                                  "admin"),
    "claims-first-decides": ("claims, static", dict(static_admins=USER), dict(roles=[USER_APP_ROLE]), [], {},
                             "user"),
}


@pytest.mark.parametrize("case", sorted(MATRIX))
def test_role_matrix(host, fake, case):
    sources, extra, claims, assignments, groups, expect = MATRIX[case]
    host.configure(role_sources=sources, **extra)
    if groups:
        fake.set_groups(groups)
    fake.set_roles(*assignments)
    res = host.login(**claims)
    assert_login(res, expect)
    assert host.role() == expect
    if "arm" not in sources:
        assert fake.requests("imds") == [] and fake.requests("arm") == [], "no needless requests"


# ---------------------------------------------------------------- unavailable sources
@pytest.mark.parametrize("fault", ["imds-down", "imds-no-identity", "arm-403", "arm-403-real", "arm-429", "arm-500"])
def test_unavailable_arm_is_not_no_role(host, fake, fault):
    host.configure(role_sources="arm")
    fake.set_roles((OID, "admin", "vm"))
    if fault == "imds-down":
        fake.fault("imds", "down")
    elif fault == "imds-no-identity":
        fake.set_vm(identity=False)
    elif fault == "arm-403":
        fake.fault("arm", "forbidden")
    elif fault == "arm-403-real":
        fake.set_vm(reader_scope="other_vm")   # the identity may read another VM only
    elif fault == "arm-429":
        fake.fault("arm", "throttle", retry_after=1, count=10)
    else:
        fake.fault("arm", "status", status=500)
    res = host.login()
    assert res.returncode != 0
    assert UNAVAIL in res.out, res.out
    assert ROLE_MESSAGE not in res.out
    assert host.role() == "none"


def test_unavailable_arm_is_not_overruled_by_a_later_source(host, fake):
    """Issue 11 sec.3: `arm, claims`, the user's Azure role removed, ARM unreachable, the token still
    carrying the admin app role: refused as unavailable (the old fall-through let them in as admin)."""
    host.configure(role_sources="arm, claims")
    fake.set_roles()
    fake.fault("imds", "down")
    res = host.login(roles=[ADMIN_APP_ROLE])
    assert res.returncode != 0, res.out
    assert UNAVAIL in res.out, res.out
    assert host.role() == "none"
    # ARM reachable again: its "no assignment" decides.
    fake.fault("imds", "ok")
    assert_login(host.login(roles=[ADMIN_APP_ROLE]), "none")
    # A source listed before the unavailable one that grants still decides.
    host.configure(role_sources="claims, arm")
    fake.fault("imds", "down")
    assert_login(host.login(roles=[USER_APP_ROLE]), "user")


def test_throttled_once_is_retried(host, fake):
    host.configure(role_sources="arm")
    fake.set_roles((OID, "user", "vm"))
    fake.fault("arm", "throttle", retry_after=1, count=1)
    assert_login(host.login(), "user")
    assert [e["status"] for e in fake.requests("arm")] == [429, 200]


# ---------------------------------------------------------------- ARM paging and origins
def test_pages_are_followed(host, fake):
    host.configure(role_sources="arm")
    others = [(guid_for("u%d" % i), "admin", "vm") for i in range(3)]
    # Sorted by scope: the subscription-wide user role first, the VM's admin role on a later page.
    fake.set_roles((OID, "user", "subscription"), (OID, "reader", "rg"), (OID, "admin", "vm"), *others, page_size=1)
    assert_login(host.login(), "admin")
    arm = fake.requests("arm")
    assert len(arm) == 3, [e["query"] for e in arm]
    assert host.role() == "admin"


def test_next_link_to_another_origin_is_not_followed(host, fake):
    # arm_url names the server "localhost"; its nextLinks say "127.0.0.1": another origin.
    host.configure(role_sources="arm", arm_url="https://localhost:%d" % fake.https_port)
    fake.set_roles((OID, "user", "subscription"), (OID, "admin", "vm"), page_size=1)
    res = host.login()
    assert UNAVAIL in res.out, res.out
    assert len(fake.requests("arm")) == 1
    # Without paging the same server answers at once.
    fake.set_roles((OID, "user", "subscription"), (OID, "admin", "vm"), page_size=0)
    assert_login(host.login(), "admin")


def test_request_shapes(host, fake):
    host.configure(role_sources="arm")
    fake.set_roles((OID, "user", "vm"))
    assert_login(host.login(), "user")
    tok, rid = [e for e in fake.requests("imds")]
    assert tok["path"] == "/metadata/identity/oauth2/token"
    assert tok["query"]["api-version"] == "2018-02-01"
    assert tok["query"]["resource"] == "https://management.azure.com/"
    assert tok["headers"].get("Metadata") == "true"
    assert rid["path"] == "/metadata/instance/compute/resourceId"
    assert rid["query"] == {"api-version": "2021-02-01", "format": "text"}
    (arm,) = fake.requests("arm")
    assert arm["path"] == fake.vm_id + "/providers/Microsoft.Authorization/roleAssignments"
    assert arm["query"] == {"api-version": "2022-04-01", "$filter": "assignedTo('%s')" % OID}
    assert arm["headers"]["Authorization"].startswith("Bearer ")


# ---------------------------------------------------------------- the managed-identity token cache
def test_identity_token_is_cached_in_a_private_file(host, fake, state_dir, syslog):
    host.configure(role_sources="arm")
    fake.set_roles((OID, "admin", "vm"))
    first = host.login()
    assert_login(first, "admin")
    second = host.login()
    assert_login(second, "admin")
    # Two processes, one IMDS token request and one resource id request between them.
    assert [e["path"] for e in fake.requests("imds")] == ["/metadata/identity/oauth2/token",
                                                          "/metadata/instance/compute/resourceId"]
    assert len(fake.requests("arm")) == 2
    cache = state_dir / "imds-token.json"
    st = cache.stat()
    assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0
    secret = fake.requests("arm")[0]["headers"]["Authorization"].split(" ", 1)[1]
    assert secret in cache.read_text()
    for res in (first, second, host.refresh()):
        assert secret not in res.stdout + res.stderr
    # syslog at every priority (pam_wrapper alone shows only LOG_ERR and above)
    logged = syslog.messages()
    assert any(prio > 3 for prio, _f, _t in logged), logged
    text = "\n".join(t for _p, _f, t in logged)
    for part in secret.split("."):
        for i in range(0, len(part) - 15):
            assert part[i:i + 16] not in text, "a piece of the IMDS token was logged"
    for f in state_dir.iterdir():
        if f.name != "imds-token.json":
            assert secret not in f.read_bytes().decode("latin-1"), f


def test_identity_token_refetched_near_expiry(host, fake):
    host.configure(role_sources="arm")
    fake.config(imds_token_lifetime=200)       # inside the refresh margin: never reused
    fake.set_roles((OID, "user", "vm"))
    assert_login(host.login(), "user")
    assert_login(host.login(), "user")
    assert len([e for e in fake.requests("imds") if e["path"].endswith("/token")]) == 2


def test_unsafe_cache_file_is_not_trusted(host, fake, state_dir):
    host.configure(role_sources="arm")
    fake.set_roles((OID, "user", "vm"))
    assert_login(host.login(), "user")
    os.chmod(state_dir / "imds-token.json", 0o644)
    assert_login(host.login(), "user")
    assert len([e for e in fake.requests("imds") if e["path"].endswith("/token")]) == 2
    assert stat.S_IMODE((state_dir / "imds-token.json").stat().st_mode) == 0o600


def test_refused_cached_token_is_replaced(host, fake):
    host.configure(role_sources="arm")
    fake.set_roles((OID, "user", "vm"))
    assert_login(host.login(), "user")
    fake.reset()                                # the fake forgets the tokens it issued
    fake.set_roles((OID, "admin", "vm"))
    assert_login(host.login(), "admin")
    assert [e["status"] for e in fake.requests("arm")] == [401, 200]
    assert host.role() == "admin"


# ---------------------------------------------------------------- revocation at login
def test_role_removed_is_revoked_at_next_login(host, fake):
    host.configure(role_sources="arm")
    fake.set_roles((OID, "admin", "vm"))
    assert_login(host.login(), "admin")
    assert host.role() == "admin"
    fake.set_roles((OID, "user", "rg"))
    assert_login(host.login(), "user")
    assert host.role() == "user"
    fake.set_roles()
    assert_login(host.login(), "none")
    assert host.role() == "none"


def test_name_bound_to_another_oid_is_refused(host, fake):
    host.configure(role_sources="claims")
    assert_login(host.login(roles=[ADMIN_APP_ROLE]), "admin")
    res = host.login(roles=[ADMIN_APP_ROLE], oid=guid_for("impostor"))
    assert res.returncode != 0
    assert "belongs to another directory account" in res.out
    assert host.role() == "admin"     # the bound user keeps their role


# ---------------------------------------------------------------- weak or foreign PAM lines
def test_weak_account_line_still_refuses_no_role(host, fake):
    host.configure(role_sources="claims", account="account required pam_permit.so")
    res = host.login(roles=[])
    assert res.returncode != 0
    assert DENIED in res.out and ROLE_MESSAGE in res.out
    assert "account management done" not in res.out
    assert host.role() == "none"
    res = host.login(roles=[ADMIN_APP_ROLE])
    assert res.returncode == 0, res.out
    assert host.role() == "admin"


def test_account_after_another_auth_module_uses_the_database_oid(host, fake):
    host.configure(role_sources="arm")
    fake.set_roles((OID, "user", "vm"))
    assert_login(host.login(), "user")
    # Later the same user comes in through another auth module: no token, the binding's oid.
    host.configure(role_sources="arm", auth="auth required pam_permit.so")
    fake.set_roles((OID, "admin", "vm"))
    res = host.login(token="")
    assert res.returncode == 0, res.out
    assert host.role() == "admin"
    fake.set_roles()
    res = host.login(token="")
    assert res.returncode != 0 and DENIED in res.out and ROLE_MESSAGE in res.out
    assert host.role() == "none"


def test_account_after_another_auth_module_without_binding(host, fake):
    # Never logged in with a token: no database record, no oid for arm to ask about; static can grant.
    host.configure(role_sources="arm, static", static_users=USER, auth="auth required pam_permit.so")
    fake.set_roles((OID, "admin", "vm"))
    res = host.login(token="")
    assert res.returncode == 0, res.out
    assert fake.requests("arm") == []
    # No record and no token-free grant: refused with the role message (issue 11 sec.2).
    host.configure(role_sources="arm", auth="auth required pam_permit.so")
    res = host.login(token="")
    assert res.returncode != 0 and DENIED in res.out and ROLE_MESSAGE in res.out, res.out


def test_claims_account_without_token_uses_the_stored_role(host, fake):
    """sudo, su, cron: account without a token in the handle. With `claims` the stored role (what NSS
    reports) decides; without a record the user is refused (issue 11 sec.2: not 'unavailable')."""
    host.configure(role_sources="claims", auth="auth required pam_permit.so")
    res = host.login(token="")
    assert res.returncode != 0 and DENIED in res.out and ROLE_MESSAGE in res.out, res.out
    host.configure(role_sources="claims")
    assert_login(host.login(roles=[ADMIN_APP_ROLE]), "admin")
    host.configure(role_sources="claims", auth="auth required pam_permit.so")
    for _ in range(2):
        res = host.login(token="")
        assert res.returncode == 0 and "account management done" in res.out, res.out
    assert host.role() == "admin"
    # Demoted at a later sign-in: account agrees with NSS at once.
    host.configure(role_sources="claims")
    assert_login(host.login(roles=[]), "none")
    host.configure(role_sources="claims", auth="auth required pam_permit.so")
    res = host.login(token="")
    assert res.returncode != 0 and DENIED in res.out, res.out


def test_account_without_token_arm_down_keeps_the_stored_role(host, fake):
    """`arm`: account asks ARM; unreachable -> the stored role stands (never stricter or looser than
    the groups NSS reports); reachable -> its answer is written first, so NSS and sudo agree."""
    host.configure(role_sources="arm")
    fake.set_roles((OID, "user", "vm"))
    assert_login(host.login(), "user")
    host.configure(role_sources="arm", auth="auth required pam_permit.so")
    fake.set_roles((OID, "admin", "vm"))
    fake.fault("arm", "status", status=500)
    res = host.login(token="")
    assert res.returncode == 0, res.out
    assert host.role() == "user"
    fake.fault("arm", "ok")
    res = host.login(token="")
    assert res.returncode == 0, res.out
    assert host.role() == "admin"


def test_local_user_is_left_alone(host, fake):
    host.configure(role_sources="arm", auth="auth required pam_permit.so")
    host.stack.write(["auth required pam_permit.so", f"account sufficient {PAM_MODULE} config={host.conf}",
                      "account required pam_permit.so"])
    res = host.login(user="root", token="")
    assert res.returncode == 0, res.out
    assert fake.requests("imds") == []


# ---------------------------------------------------------------- entra-login refresh
def test_refresh_revokes_and_grants_from_arm(host, fake):
    host.configure(role_sources="arm")
    bob, carol = "bob@contoso.com", "carol@contoso.com"
    fake.set_roles((OID, "admin", "vm"), (oid_for(bob), "user", "vm"), (oid_for(carol), "user", "rg"))
    for u, want in ((USER, "admin"), (bob, "user"), (carol, "user")):
        assert_login(host.login(user=u), want)
    fake.set_roles((oid_for(bob), "admin", "subscription"), (oid_for(carol), "user", "rg"))
    dry = host.refresh("--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert host.role(USER) == "admin", "a dry run changes nothing"
    res = host.refresh()
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"{USER}: admin -> none (arm)" in res.stdout
    assert f"{bob}: user -> admin (arm)" in res.stdout
    assert f"{carol}: user (unchanged, arm)" in res.stdout
    assert (host.role(USER), host.role(bob), host.role(carol)) == ("none", "admin", "user")


def test_refresh_keeps_roles_when_arm_is_unavailable(host, fake):
    host.configure(role_sources="arm, static")
    fake.set_roles((OID, "admin", "vm"))
    assert_login(host.login(), "admin")
    fake.set_roles()
    fake.fault("arm", "forbidden")
    res = host.refresh()
    assert res.returncode == 3, res.stdout + res.stderr
    assert "kept admin (arm unavailable: VM identity may not read role assignments)" in res.stdout
    assert host.role() == "admin"
    fake.fault("arm", "ok")
    res = host.refresh()
    assert res.returncode == 0
    assert host.role() == "none"


def test_refresh_with_claims_keeps_stored_roles_and_says_so(host, fake):
    host.configure(role_sources="claims")
    assert_login(host.login(roles=[ADMIN_APP_ROLE]), "admin")
    res = host.refresh()
    assert res.returncode == 0, res.stdout + res.stderr
    assert "note: role_sources is 'claims' only" in res.stdout
    # The role claims decided (stored with its source) is what claims answers without a token.
    assert f"{USER}: admin (unchanged, claims)" in res.stdout
    assert host.role() == "admin"
    # claims first, static next: the login's decision came from claims; refresh keeps it.
    host.configure(role_sources="claims, static")
    res = host.refresh()
    assert "admin (unchanged, claims)" in res.stdout and host.role() == "admin"
    # static first: static decides, offline, and is applied.
    host.configure(role_sources="static, claims", static_users=USER)
    res = host.refresh()
    assert f"{USER}: admin -> user (static)" in res.stdout, res.stdout
    assert host.role() == "user"


# ---------------------------------------------------------------- revocation whatever the order (issue 19)
@pytest.mark.parametrize("sources", ["claims, static", "claims, arm", "arm, claims"])
def test_revocation_takes_at_one_refresh_whatever_the_source_order(host, fake, sources):
    """The default `claims, static`, the README's `claims, arm` and `arm, claims`: a token without app roles, the role
    from static / ARM. Removing the entry / assignment demotes at the next refresh, and account (sudo,
    cron: no token) refuses. Before issue 19 the token-free claims source re-affirmed the stored role
    ("kept admin") and nothing was ever revoked."""
    grant = dict(static_admins=USER) if "static" in sources else {}
    host.configure(role_sources=sources, **grant)
    fake.set_roles((OID, "admin", "vm"))
    assert_login(host.login(roles=[]), "admin")
    host.configure(role_sources=sources, auth="auth required pam_permit.so", **grant)
    res = host.login(token="")
    assert res.returncode == 0 and "account management done" in res.out, res.out
    host.configure(role_sources=sources, auth="auth required pam_permit.so")   # static entry gone
    fake.set_roles()                                                           # assignment gone
    res = host.refresh()
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"{USER}: admin -> none" in res.stdout, res.stdout
    assert host.role() == "none"
    res = host.login(token="")
    assert res.returncode != 0 and DENIED in res.out, res.out


def test_claims_role_stands_until_the_next_sign_in_and_static_grants_are_not_claims(host, fake):
    """A role the token's claims decided is kept by refresh and account until the next sign-in, which
    decides again; account never lets claims speak for a role static set."""
    host.configure(role_sources="claims, static", static_users=USER)
    assert_login(host.login(roles=[ADMIN_APP_ROLE]), "admin")
    host.configure(role_sources="claims, static", auth="auth required pam_permit.so")
    res = host.login(token="")
    assert res.returncode == 0, res.out               # claims' own role: answered from the store
    assert host.role() == "admin"
    host.configure(role_sources="claims, static", static_users=USER)
    assert_login(host.login(roles=[]), "user")        # a new sign-in: claims silent, static decides
    host.configure(role_sources="claims, static", auth="auth required pam_permit.so")
    res = host.login(token="")
    assert res.returncode != 0 and DENIED in res.out, res.out   # static entry gone: refused at once
    assert host.role() == "none"


def test_blocked_and_forgotten_names_are_refused_by_auth_and_account(host, fake):
    """issue 19: `entra-login block` / `forget` refuse every login of the name - a token sign-in and the
    token-free account stage (sudo, cron) alike - even while a source still grants a role."""
    host.configure(role_sources="static", static_admins=USER)
    assert_login(host.login(), "admin")
    cli = lambda *a: subprocess.run([str(CLI), "--config", str(host.conf), *a], capture_output=True, text=True)
    assert cli("block", USER).returncode == 0
    assert host.role() == "none"
    res = host.login()
    assert res.returncode != 0 and "retired or blocked" in res.out, res.out
    # Token-free account (sudo, cron): refused before any role source is asked.
    fake.set_roles((OID, "admin", "vm"))
    host.configure(role_sources="arm, static", static_admins=USER, auth="auth required pam_permit.so")
    fake.clear_requests()
    res = host.login(token="")
    assert res.returncode != 0 and DENIED in res.out, res.out
    assert fake.requests("arm") == []
    assert cli("unblock", USER).returncode == 0
    res = host.login(token="")
    assert res.returncode == 0, res.out
    assert cli("forget", USER).returncode == 0
    res = host.login(token="")
    assert res.returncode != 0 and DENIED in res.out, res.out
