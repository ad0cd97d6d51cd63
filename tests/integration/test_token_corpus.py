"""The token rejection corpus (tests/corpus/tokens) and the accepted shapes, through the CLI.

Each corpus case is minted now by the fake Entra ID's helpers and fed to
`entra-login --config CONF verify-token` on stdin; the CLI must print `invalid: EL_ERR_X: ...`
with exactly the case's reason and exit 1. See tests/corpus/tokens/README.md for spec.json.
"""
import json
import os
import pathlib
import re
import subprocess
import time

import pytest

from conftest import CLI, write_config
from entra_fake import CLIENT_ID, OTHER_TENANT, TENANT, FakeEntra, oid_for
import tokens as fake_tokens

CORPUS = pathlib.Path(__file__).resolve().parent.parent / "corpus" / "tokens"
CASES = sorted(d.name for d in CORPUS.iterdir() if d.is_dir())


@pytest.fixture(scope="module")
def corpus_fake(tmp_path_factory, fake_material):
    fe = FakeEntra().start(tmp_path_factory.mktemp("corpus-fake"), material_from=fake_material)
    yield fe
    fe.stop()


# EL_CLI_WRAPPER="valgrind -q --leak-check=full --error-exitcode=99" runs every CLI call under it.
WRAPPER = os.environ.get("EL_CLI_WRAPPER", "").split()


def run_cli(conf, args, token, timeout=120):
    data = token.encode() if isinstance(token, str) else token
    return subprocess.run([*WRAPPER, str(CLI), "--config", str(conf), "verify-token", *args], input=data,
                          capture_output=True, timeout=timeout)


def expand(fe, v):
    """Placeholders of spec.json (see the corpus README)."""
    if isinstance(v, dict):
        return {k: expand(fe, x) for k, x in v.items()}
    if isinstance(v, list):
        return [expand(fe, x) for x in v]
    if not isinstance(v, str):
        return v
    m = re.fullmatch(r"@(str:|float:)?now([+-]\d+)?", v)
    if m:
        t = int(time.time()) + int(m.group(2) or 0)
        return {"str:": str(t), "float:": float(t) + 0.5}.get(m.group(1), t)
    m = re.fullmatch(r"@repeat:(.):(\d+)", v)
    if m:
        return m.group(1) * int(m.group(2))
    for name, val in (("@authority", fe.authority), ("@issuer", fe.issuer()), ("@other_tenant", OTHER_TENANT),
                      ("@tenant", TENANT), ("@client_id", CLIENT_ID)):
        v = v.replace(name, val)
    return v


def payload_text(fe, a):
    if "payload" in a:
        return a["payload"]
    text = fake_tokens.jdump(fe.claims(a["payload_kind"])).decode()
    return text[:-1] + a.get("payload_append", "") + "}"


def mint(fe, spec):
    a = expand(fe, spec.get("args", {}))
    method = spec["method"]
    if method in ("mint", "hs_confusion", "alg_none"):
        return getattr(fe, method)(**a)
    if method == "sign_raw":
        header = a.get("header") or fake_tokens.jdump({"typ": "JWT", "alg": "RS256", "kid": fe.key("k1").kid}).decode()
        return fe.sign_raw(header.encode(), payload_text(fe, a).encode())
    if method == "mint_raw":
        return fe.mint_raw(a["header"].encode(), payload_text(fe, a).encode(), a.get("signature", "").encode())
    if method == "splice":
        other = fe.mint(**a).split(".")
        return ".".join(other[:2] + [fe.mint(a.get("kind", "access_v2")).split(".")[2]])
    if method == "literal":
        return a["token"]
    raise ValueError("unknown method %r" % method)


def transform(token, steps):
    for t in steps or ():
        if "append" in t:
            token += t["append"]
        elif "set_char" in t:
            seg, idx, ch = t["set_char"]
            parts = token.split(".")
            parts[seg] = parts[seg][:idx] + ch + parts[seg][idx + 1:]
            token = ".".join(parts)
        elif "keep_segments" in t:
            token = ".".join(token.split(".")[:t["keep_segments"]])
        else:
            raise ValueError("unknown transform %r" % t)
    return token


def test_corpus_is_large_and_exact():
    assert len(CASES) >= 40
    reasons = set()
    for c in CASES:
        expect = (CORPUS / c / "expect").read_text().strip()
        assert re.fullmatch(r"EL_ERR_[A-Z0-9_]+", expect), c
        json.loads((CORPUS / c / "spec.json").read_text())
        reasons.add(expect)
    assert len(reasons) >= 30


@pytest.mark.parametrize("case", CASES)
def test_corpus_token_rejected(case, corpus_fake, tmp_path):
    fe = corpus_fake
    fe.reset()
    spec = json.loads((CORPUS / case / "spec.json").read_text())
    expect = (CORPUS / case / "expect").read_text().strip()
    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    conf = write_config(tmp_path / "entra-login.conf", fe, state)
    for call in spec.get("setup", []):
        getattr(fe, call)()
    token = transform(mint(fe, spec), spec.get("transform"))
    p = run_cli(conf, spec.get("cli", []), token)
    out = p.stdout.decode(errors="replace")
    assert p.returncode == 1, "%s: exit %d\n%s%s" % (case, p.returncode, out, p.stderr.decode(errors="replace"))
    assert out.startswith("invalid: %s: " % expect), "%s: %s" % (case, out)
    # The verdict never echoes the token (nor its signature, the part that is a credential).
    sig = token.split(".")[-1].strip()
    if len(sig) > 16:
        assert sig not in out and sig not in p.stderr.decode(errors="replace")


# ---------------------------------------------------------------- accepted tokens

@pytest.fixture
def cli_env(fake, config):
    return fake, config


def fields(out):
    return dict(line.split(": ", 1) for line in out.splitlines()[1:] if ": " in line)


def test_valid_access_v2(cli_env):
    fe, conf = cli_env
    tok = fe.mint("access_v2", upn="alice@contoso.com", roles=["VirtualMachineAdministratorLogin"],
                  groups=["0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"])
    p = run_cli(conf, ["--user", "alice@contoso.com"], tok)
    out = p.stdout.decode()
    assert p.returncode == 0, out + p.stderr.decode()
    assert out.startswith("valid\n")
    f = fields(out)
    assert f["kind"] == "access_token v2"
    assert f["name"] == "alice@contoso.com"
    assert f["oid"] == oid_for("alice@contoso.com")
    assert f["tid"] == TENANT
    assert f["roles"] == "VirtualMachineAdministratorLogin"
    assert f["groups"] == "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"
    assert f["exp"].split()[0] == str(fe.decode(tok)[1]["exp"])
    assert tok.split(".")[2] not in out


def test_valid_access_v1(cli_env):
    fe, conf = cli_env
    p = run_cli(conf, [], fe.mint("access_v1", upn="Bob@Contoso.com"))
    out = p.stdout.decode()
    assert p.returncode == 0, out
    assert fields(out)["kind"] == "access_token v1"
    assert fields(out)["name"] == "bob@contoso.com"	# lower-cased


def test_valid_id_token(cli_env):
    fe, conf = cli_env
    p = run_cli(conf, ["--id-token", "--user", "carol@fabrikam.example"], fe.mint("id_token", upn="carol@fabrikam.example"))
    out = p.stdout.decode()
    assert p.returncode == 0, out
    assert fields(out)["kind"] == "id_token"
    assert fields(out)["name"] == "carol@fabrikam.example"


def test_valid_with_one_trailing_newline_on_stdin(cli_env):
    fe, conf = cli_env
    p = run_cli(conf, [], fe.mint("access_v2") + "\n")
    assert p.returncode == 0, p.stdout.decode()


def test_groups_overage_means_no_groups(cli_env):
    fe, conf = cli_env
    tok = fe.mint("access_v2", groups=["0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"],
                  claims={"_claim_names": {"groups": "src1"},
                          "_claim_sources": {"src1": {"endpoint": "https://graph.microsoft.com/v1.0/users/x/getMemberObjects"}}})
    p = run_cli(conf, [], tok)
    assert p.returncode == 0
    assert fields(p.stdout.decode())["groups"].startswith("(overage")


def test_usage_errors_exit_2(cli_env):
    fe, conf = cli_env
    tok = fe.mint("access_v2")
    assert run_cli(conf, ["--bogus"], tok).returncode == 2
    assert run_cli(conf, ["--user", "Alice@contoso.com"], tok).returncode == 2	# not a name of ours
    assert run_cli(conf, ["--user", "alice@elsewhere.example"], tok).returncode == 2


def test_idp_unavailable_without_cache_exits_3(cli_env):
    fe, conf = cli_env
    tok = fe.mint("access_v2")
    fe.stop()
    p = run_cli(conf, [], tok)
    assert p.returncode == 3, p.stdout.decode()
    assert p.stdout.decode().startswith("unavailable: EL_ERR_HTTP_CONNECT: ")
