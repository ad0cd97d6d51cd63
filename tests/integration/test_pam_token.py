"""pam_entra.so with pasted tokens, driven by pamtester through pam_wrapper."""
import subprocess

import pytest

from conftest import PAM_MODULE, token_parts


@pytest.fixture
def token_stack(pam_stack, config):
    return pam_stack.write([f"auth required {PAM_MODULE} config={config} mode=token"])


def test_valid_token_in_parts_logs_in(token_stack, fake):
    groups = ["%08d-0000-4000-8000-000000000000" % i for i in range(24)]
    tok = fake.mint("access_v2", upn="alice@contoso.com", groups=groups, roles=["VirtualMachineUserLogin"])
    assert len(tok) > 2000, "the token should need three parts"
    parts = token_parts(tok)
    assert parts.count("\n") >= 4
    res = token_stack.run("alice@contoso.com", stdin=parts)
    assert res.returncode == 0, res.stderr
    assert "successfully authenticated" in res.stdout + res.stderr
    assert res.stderr.count("Entra ID token (part") >= 4


@pytest.mark.parametrize("case", ["wrong-signature", "expired", "other-user", "graph-audience", "garbage"])
def test_bad_token_is_refused(token_stack, fake, case):
    if case == "wrong-signature":
        tok = fake.mint("access_v2", upn="alice@contoso.com", key="rogue", headers={"kid": fake.key("k1").kid})
    elif case == "expired":
        tok = fake.mint("access_v2", upn="alice@contoso.com", backdate=7200, lifetime=3600)
    elif case == "other-user":
        tok = fake.mint("access_v2", upn="bob@contoso.com")
    elif case == "graph-audience":
        tok = fake.mint("graph", upn="alice@contoso.com")
    else:
        tok = "not.a.token"
    res = token_stack.run("alice@contoso.com", stdin=token_parts(tok))
    assert res.returncode != 0
    assert "Authentication failure" in res.stderr or "Authentication" in res.stderr
    assert "Sign-in refused" in res.stdout + res.stderr
    # the check that refused it is named (never anything of the token itself)
    said = {"wrong-signature": "(token signature invalid)", "graph-audience": "(token audience not accepted)",
            "garbage": "(token part is not strict base64url)", "expired": "too old", "other-user": "another user"}
    assert said[case] in res.stdout + res.stderr, res.stdout + res.stderr


def test_other_user_message_says_whose(token_stack, fake):
    res = token_stack.run("alice@contoso.com", stdin=token_parts(fake.mint("access_v2", upn="bob@contoso.com")))
    assert res.returncode != 0
    assert "belongs to another user" in res.stdout + res.stderr


@pytest.mark.parametrize("user", ["root", "daemon", "nobody", "alice@other.com", "Alice@contoso.com"])
def test_local_and_foreign_users_are_ignored(pam_stack, config, user):
    # pam_entra returns PAM_IGNORE; the next module decides. With only pam_deny after it,
    # authentication fails without any prompt of ours; with pam_permit it succeeds.
    pam_stack.write([f"auth sufficient {PAM_MODULE} config={config}", "auth required pam_permit.so"])
    res = pam_stack.run(user, stdin="")
    assert res.returncode == 0, res.stderr
    assert "Entra" not in res.stderr + res.stdout


def test_local_user_ignored_even_when_alone(pam_stack, config):
    # A stack with only our module: PAM_IGNORE from every module means failure, never success.
    pam_stack.write([f"auth required {PAM_MODULE} config={config}"])
    res = pam_stack.run("root", stdin="")
    assert res.returncode != 0
    assert "Entra" not in res.stderr + res.stdout


def test_idp_unreachable_without_cache_is_authinfo_unavail(pam_stack, tmp_path, fake, state_dir):
    from conftest import write_config
    conf = write_config(tmp_path / "c.conf", fake, state_dir, authority="https://127.0.0.1:9")
    pam_stack.write([f"auth required {PAM_MODULE} config={conf} mode=token"])
    res = pam_stack.run("alice@contoso.com", stdin=token_parts(fake.mint("access_v2")))
    assert res.returncode != 0
    assert "cannot be reached" in res.stdout + res.stderr


def test_broken_config_refuses_directory_user_and_ignores_local(pam_stack, tmp_path):
    bad = tmp_path / "bad.conf"
    bad.write_text("tenant_id = common\n")
    bad.chmod(0o644)
    pam_stack.write([f"auth sufficient {PAM_MODULE} config={bad}", "auth required pam_deny.so"])
    assert pam_stack.run("alice@contoso.com", stdin="").returncode != 0
    pam_stack.write([f"auth sufficient {PAM_MODULE} config={bad}", "auth required pam_permit.so"])
    assert pam_stack.run("root", stdin="").returncode == 0


def test_token_too_many_parts_refused(token_stack, fake):
    res = token_stack.run("alice@contoso.com", stdin=("x" * 1000 + "\n") * 40 + "\n")
    assert res.returncode != 0


TOKEN_MAX = 16 * 1024      # EL_TOKEN_MAX
PART_MAX = 1000            # EL_TOKEN_PART_MAX
ANSWERS_MAX = 32           # EL_TOKEN_PARTS_MAX: answers to the part prompt, the final empty one included


def token_of_length(fake, n):
    """A valid token for alice (user role) exactly n characters long (padding claims)."""
    def mint(pad, hpad):
        return fake.mint("access_v2", upn="alice@contoso.com", roles=["VirtualMachineUserLogin"],
                         claims={"xpad": "p" * pad}, headers={"xh": "h" * hpad} if hpad else None)
    est = (n - len(mint(0, 0))) * 3 // 4
    for hpad in range(4):
        for pad in range(max(0, est - 12), est + 12):
            tok = mint(pad, hpad)
            if len(tok) == n:
                return tok
    raise AssertionError("cannot mint a token of %d characters" % n)


def answers(parts):
    return "".join(p + "\n" for p in parts) + "\n"


def split_into(tok, count):
    """tok in exactly `count` non-empty parts."""
    size = -(-len(tok) // count)
    parts = [tok[i:i + size] for i in range(0, len(tok), size)]
    assert len(parts) == count, (len(parts), count)
    return parts


def test_token_at_the_part_count_cap(token_stack, fake):
    tok = token_of_length(fake, 2500)
    ok = token_stack.run("alice@contoso.com", stdin=answers(split_into(tok, ANSWERS_MAX - 1)))
    assert ok.returncode == 0, ok.stderr
    assert "(part %d," % ANSWERS_MAX in ok.stderr
    over = token_stack.run("alice@contoso.com", stdin=answers(split_into(tok, ANSWERS_MAX)))
    assert over.returncode != 0, over.stderr
    assert "(part %d," % (ANSWERS_MAX + 1) not in over.stderr, "no prompt after the cap"


def test_token_at_the_size_cap(token_stack, fake):
    tok = token_of_length(fake, TOKEN_MAX)
    ok = token_stack.run("alice@contoso.com", stdin=answers(tok[i:i + PART_MAX] for i in range(0, len(tok), PART_MAX)))
    assert ok.returncode == 0, ok.stderr
    tok = token_of_length(fake, TOKEN_MAX + 1)
    parts = [tok[i:i + PART_MAX] for i in range(0, len(tok), PART_MAX)]
    over = token_stack.run("alice@contoso.com", stdin=answers(parts))
    assert over.returncode != 0, over.stderr
    # refused at the part that crosses the cap: the finishing prompt never comes
    assert "(part %d," % len(parts) in over.stderr
    assert "(part %d," % (len(parts) + 1) not in over.stderr, over.stderr


def test_part_at_the_part_size_cap(token_stack, fake):
    tok = token_of_length(fake, 2 * PART_MAX + 10)
    ok = token_stack.run("alice@contoso.com",
                         stdin=answers([tok[:PART_MAX], tok[PART_MAX:2 * PART_MAX], tok[2 * PART_MAX:]]))
    assert ok.returncode == 0, ok.stderr
    over = token_stack.run("alice@contoso.com", stdin=answers([tok[:PART_MAX + 1], tok[PART_MAX + 1:2 * PART_MAX],
                                                              tok[2 * PART_MAX:]]))
    assert over.returncode != 0, over.stderr
    assert "(part 2," not in over.stderr


def test_oversized_part_refused(token_stack, fake):
    tok = fake.mint("access_v2", upn="alice@contoso.com")
    res = token_stack.run("alice@contoso.com", stdin=token_parts(tok, size=1500))
    assert res.returncode != 0


@pytest.mark.parametrize("owner", ["alice@contoso.com", "bob@contoso.com"])
def test_no_token_logged(token_stack, fake, tmp_path, syslog, owner):
    """Neither an accepted nor a refused token reaches stdout, stderr or syslog at any priority
    (the capture sees LOG_DEBUG too: pam_wrapper alone shows only LOG_ERR and above)."""
    tok = fake.mint("access_v2", upn=owner, roles=["VirtualMachineUserLogin"])
    res = token_stack.run("alice@contoso.com", stdin=token_parts(tok))
    assert (res.returncode == 0) == (owner == "alice@contoso.com"), res.stdout + res.stderr
    logged = syslog.messages()
    assert logged, "the module logs every sign-in decision"
    assert any(prio > 3 for prio, _f, _t in logged), logged     # below LOG_ERR is captured too
    text = res.stdout + res.stderr + "\n".join(t for _p, _f, t in logged)
    assert_no_piece_of(tok, text)


def assert_no_piece_of(secret, text, n=16):
    """No n-character run of secret (outside its '.' separators) occurs in text."""
    for part in secret.split("."):
        for i in range(0, len(part) - n + 1):
            assert part[i:i + n] not in text, "a piece of the secret was logged: %r" % part[i:i + n]
