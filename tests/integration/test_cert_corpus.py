"""The refusal corpus of issue 14 ("what it must show" 2): Entra-shaped certificates, each bent
in one way, through `entra-login authorized-keys USER TYPE BLOB` exactly as sshd runs it (inside
an isolated /etc with our NSS module), and a subset through a real sshd. Every refusal must
print nothing and name its own reason; the untouched certificate must print the one
cert-authority line."""
import base64
import os
import pathlib
import shutil
import struct
import tempfile
import time

import pytest

import sshcert
from conftest import BUILD, CLI
from entra_fake import OTHER_TENANT, TENANT
from isolated import Isolated, q
from sshd_env import SshdEnv, host_config

ADMIN = "alice@contoso.com"
CONSUMER = "9188040d-6c67-4c5b-b112-36a304b66dad"
OID = "11111111-2222-4333-8444-555555555555"
OID2 = "99999999-2222-4333-8444-555555555555"
BOB_OID = "22222222-2222-4333-8444-555555555555"


def config_text(fake, state_dir, role_sources="static"):
    return (host_config(fake, state_dir).replace("role_sources = claims\n", f"role_sources = {role_sources}\n")
            + f"static_admins = {ADMIN}\nstatic_users = bob@contoso.com\n")


@pytest.fixture
def env(tmp_path, fake):
    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    iso = Isolated(tmp_path / "iso", BUILD)
    iso.add_etc("entra-login.conf", config_text(fake, state))
    iso.add_etc("claims-only.conf", config_text(fake, state, "claims"))
    consumer = dict(fake.key("k3").jwk(), issuer=f"https://login.microsoftonline.com/{CONSUMER}/v2.0")
    fake.publish_keys(["k1", "k2", "weak"], extra=[consumer])
    res = iso.run(f"{CLI} status")
    assert (state / "jwks.json").exists(), res.stdout + res.stderr
    return iso, state


# EL_CLI_WRAPPER="valgrind ..." (make valgrind) runs every authorized-keys call under it.
# --run-libc-freeres=no: glibc's exit-time freeres unloads libnss_entra.so.2 (loaded by the
# getpwnam that checks the UID NSS announces), and valgrind then calls the module's cached
# per-process state "definitely lost"; without the unload it is reachable, as in real life.
WRAPPER = " ".join(q(w) for w in os.environ.get("EL_CLI_WRAPPER", "").split())
if "valgrind" in WRAPPER:
    WRAPPER = WRAPPER.replace("valgrind", "valgrind --run-libc-freeres=no", 1)


def run_ak(iso, user, blob, ktype=sshcert.CERT_TYPE, conf=""):
    b64 = blob if isinstance(blob, str) else base64.b64encode(blob).decode()
    opt = f"--config /etc/{conf} " if conf else ""
    return iso.run(f"{WRAPPER} {CLI} {opt}authorized-keys {q(user)} {q(ktype)} {q(b64)}", timeout=120)


USER_KEYS = {}


def cases(fake):
    """(label, user, blob or b64 text, key type, expected EL_ERR name), minted for now (the
    time-window cases sit 5 s outside clock_skew: re-mint right before each use)."""
    now = int(time.time())
    k1 = fake.key("k1").key
    k2 = fake.key("k2").key
    rogue = fake.key("rogue").key
    weak = fake.key("weak").key
    k3 = fake.key("k3").key
    if not USER_KEYS:
        USER_KEYS[2048] = sshcert.new_user_key().public_key()
        USER_KEYS[1024] = sshcert.new_user_key(1024).public_key()
    u = USER_KEYS[2048]
    ext = sshcert.entra_extensions
    s = sshcert.s

    def cert(principal=ADMIN, oid=OID, tid=TENANT, ca=k1, **kw):
        return sshcert.entra_cert(ca, u, principal, oid, tid, now=now, **kw)

    good = cert()
    other_ext = [e for e in ext(OID, TENANT) if not e[0].startswith(("oid@", "tid@"))]
    oid_e = ("oid@sshservice.azure.net", s(OID))
    tid_e = ("tid@sshservice.azure.net", s(TENANT))
    out = [
        ("other tenant in key id and extension", ADMIN, cert(tid=OTHER_TENANT), "EL_ERR_CERT_TENANT"),
        ("other tenant in key id only", ADMIN, cert(key_id=f"{OID}@{OTHER_TENANT}"), "EL_ERR_CERT_TENANT"),
        ("other tenant in extension only", ADMIN, cert(extensions=ext(OID, OTHER_TENANT)), "EL_ERR_CERT_TENANT"),
        ("key id oid differs from extension", ADMIN, cert(key_id=f"{OID2}@{TENANT}"), "EL_ERR_CERT_EXT_MISMATCH"),
        ("oid extension missing", ADMIN, cert(extensions=sorted(other_ext + [tid_e])), "EL_ERR_CERT_EXT_MISSING"),
        ("tid extension missing", ADMIN, cert(extensions=sorted(other_ext + [oid_e])), "EL_ERR_CERT_EXT_MISSING"),
        ("oid extension doubled", ADMIN, cert(extensions=sorted(other_ext + [oid_e, oid_e, tid_e])),
         "EL_ERR_CERT_EXT_DUPLICATE"),
        ("tid extension doubled", ADMIN, cert(extensions=sorted(other_ext + [oid_e, tid_e, tid_e])),
         "EL_ERR_CERT_EXT_DUPLICATE"),
        ("extension value not wrapped", ADMIN,
         cert(extensions=sorted(other_ext + [("oid@sshservice.azure.net", OID.encode()), tid_e])),
         "EL_ERR_CERT_EXT_FORMAT"),
        ("key id not oid@tid", ADMIN, cert(key_id="alice"), "EL_ERR_CERT_KEY_ID"),
        ("host certificate", ADMIN, cert(cert_type=2), "EL_ERR_CERT_NOT_USER"),
        ("critical option force-command", ADMIN, cert(critical=[("force-command", s("/bin/sh"))]),
         "EL_ERR_CERT_CRITICAL"),
        ("unknown CA key", ADMIN, cert(ca=rogue), "EL_ERR_CERT_CA_UNKNOWN"),
        ("consumer-tenant CA key", ADMIN, cert(ca=k3), "EL_ERR_CERT_CA_CONSUMER"),
        ("1024-bit CA key", ADMIN, cert(ca=weak), "EL_ERR_CERT_CA_WEAK"),
        ("expired", ADMIN, cert(backdate=7200, lifetime=3900), "EL_ERR_CERT_EXPIRED"),
        ("not yet valid", ADMIN, cert(backdate=-3600), "EL_ERR_CERT_NOT_YET_VALID"),
        ("expired just outside clock_skew", ADMIN, cert(valid_after=now - 4000, valid_before=now - 125),
         "EL_ERR_CERT_EXPIRED"),
        ("starts just outside clock_skew", ADMIN, cert(valid_after=now + 125, valid_before=now + 3900),
         "EL_ERR_CERT_NOT_YET_VALID"),
        ("empty validity window", ADMIN, cert(valid_after=now, valid_before=now), "EL_ERR_CERT_VALIDITY"),
        ("another user's principal", ADMIN, cert(principal="bob@contoso.com"), "EL_ERR_CERT_USER_MISMATCH"),
        ("several principals", ADMIN, cert(principals=[ADMIN, "bob@contoso.com"]), "EL_ERR_CERT_PRINCIPALS"),
        ("no principal", ADMIN, cert(principals=[]), "EL_ERR_CERT_PRINCIPALS"),
        ('principal with "', ADMIN, cert(principal='alice"@contoso.com'), "EL_ERR_CERT_PRINCIPAL_CHARS"),
        ("principal with ,", ADMIN, cert(principal="alice@contoso.com,bob@contoso.com"),
         "EL_ERR_CERT_PRINCIPAL_CHARS"),
        ("principal with space", ADMIN, cert(principal="alice@contoso.com x"), "EL_ERR_CERT_PRINCIPAL_CHARS"),
        ("principal with newline", ADMIN, cert(principal="alice@contoso.com\nx"), "EL_ERR_CERT_PRINCIPAL_CHARS"),
        ("principal outside our domains", "eve@evil.example", cert(principal="eve@evil.example"),
         "EL_ERR_CERT_NAME"),
        ("truncated blob", ADMIN, good[:-40], "EL_ERR_CERT_TRUNCATED"),
        ("trailing bytes", ADMIN, good + b"\0\0\0\0", "EL_ERR_CERT_TRAILING"),
        ("64 KiB blob", ADMIN, cert(reserved=b"A" * 65536), "EL_ERR_CERT_TOO_BIG"),
        ("not base64", ADMIN, "!!!!" + base64.b64encode(good).decode()[4:], "EL_ERR_CERT_BASE64"),
        ("other certificate type", ADMIN, good, "EL_ERR_CERT_KEY_TYPE", "ssh-ed25519-cert-v01@openssh.com"),
        ("type inside the blob differs", ADMIN, cert(type_name="ssh-dss-cert-v01@openssh.com"),
         "EL_ERR_CERT_KEY_TYPE"),
        ("1024-bit user key", ADMIN, sshcert.entra_cert(k1, USER_KEYS[1024], ADMIN, OID,
                                                        TENANT, now=now), "EL_ERR_CERT_USER_KEY"),
        ("signature by another key than the CA field", ADMIN, cert(sign_key=k2), "EL_ERR_CERT_SIGNATURE"),
        ("signature alg ssh-rsa (SHA-1)", ADMIN, cert(sig_alg="ssh-rsa"), "EL_ERR_CERT_SIG_ALG"),
        ("CA field not an RSA key", ADMIN, cert(ca_blob=s("ssh-ed25519") + s(b"\1" * 32)), "EL_ERR_CERT_CA_FORMAT"),
        ("no role for the user", "eve@contoso.com", cert(principal="eve@contoso.com"), "EL_ERR_ROLE_NONE"),
        ("role_sources only claims", ADMIN, good, "EL_ERR_CERT_NO_ROLE_SOURCE", sshcert.CERT_TYPE,
         "claims-only.conf"),
    ]
    # a flipped byte inside the signed part (the serial): the signature no longer matches
    bad = bytearray(good)
    i = good.index(struct.pack(">QI", 0, 1))
    bad[i + 7] ^= 1
    out.append(("tampered serial", ADMIN, bytes(bad), "EL_ERR_CERT_SIGNATURE"))
    return good, out


def test_refusal_corpus_through_authorized_keys(env, fake):
    iso, state = env
    good, corpus = cases(fake)
    assert len(corpus) >= 30
    failures, table = [], []
    for i in range(len(corpus)):
        case = cases(fake)[1][i] if "clock_skew" in corpus[i][0] else corpus[i]
        label, user, blob, want = case[:4]
        ktype = case[4] if len(case) > 4 else sshcert.CERT_TYPE
        conf = case[5] if len(case) > 5 else ""
        res = run_ak(iso, user, blob, ktype, conf)
        table.append(f"{label}\t{want}")
        if res.stdout != "" or want not in res.stderr or res.returncode != 0:
            failures.append((label, want, res.returncode, res.stdout, res.stderr))
    assert not failures, failures
    # the untouched certificate is granted, with the principal quoted
    res = run_ak(iso, ADMIN, good)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f'cert-authority,principals="{ADMIN}" ssh-rsa AAAA'), res.stdout
    ca_line = sshcert.public_line(fake.key("k1").public_key)
    assert lines[0].split(" ", 1)[1] == ca_line
    # the second run (sshd asks twice) is answered from the one-minute cache, identically
    assert run_ak(iso, ADMIN, good).stdout == res.stdout
    assert len(list((state / "akcache").iterdir())) >= 1
    assert oct((state / "akcache").stat().st_mode & 0o777) == "0o700"
    (pathlib_out := state.parent / "cert-corpus.tsv").write_text("\n".join(table) + "\n")
    assert pathlib_out.exists()


def test_plain_keys_leave_at_once(env):
    iso, state = env
    key = sshcert.rsa_blob(sshcert.new_user_key().public_key())
    for ktype in ("ssh-rsa", "ssh-ed25519", "rsa-sha2-256", "ecdsa-sha2-nistp256"):
        res = run_ak(iso, ADMIN, key, ktype)
        assert res.returncode == 0 and res.stdout == "" and res.stderr == "", (ktype, res)
    assert not (state / "akcache").exists() and not (state / "certgrant").exists()


def test_name_bound_to_another_oid_refused(env, fake):
    iso, state = env
    u = sshcert.new_user_key().public_key()
    first = sshcert.entra_cert(fake.key("k1").key, u, "bob@contoso.com", BOB_OID, TENANT)
    res = run_ak(iso, "bob@contoso.com", first)
    assert res.stdout.startswith("cert-authority,"), res.stderr
    # the query binds nothing (issue 19): it leaves a decision for PAM account, no grant
    assert (state / "certpending" / "bob@contoso.com").exists()
    assert not (state / "certgrant").exists() and not (state / "users.db").exists()
    # bob bound to BOB_OID (as a proven login would), imported here
    (iso.etc / "aadpasswd-bob").write_text(f"bob@contoso.com:{BOB_OID}:1000077:1000077:Bob:/home/bob:/bin/bash\n")
    res = iso.run(f"{CLI} import-aadpasswd --apply /etc/aadpasswd-bob")
    assert res.returncode == 0 and "1 imported" in res.stdout, res.stdout + res.stderr
    other = sshcert.entra_cert(fake.key("k1").key, u, "bob@contoso.com", OID2, TENANT)
    res = run_ak(iso, "bob@contoso.com", other)
    assert res.stdout == "" and "EL_ERR_BOUND_OTHER" in res.stderr, res


def test_stale_ca_cache_fails_closed(env, fake):
    iso, state = env
    good = sshcert.entra_cert(fake.key("k1").key, sshcert.new_user_key().public_key(), ADMIN, OID, TENANT)
    old = time.time() - 2 * 86400
    os.utime(state / "jwks.json", (old, old))
    if (state / "sshca.json").exists():
        os.utime(state / "sshca.json", (old, old))
    fake.fault("jwks", "status", status=503)     # and the IdP cannot give a fresh set
    res = run_ak(iso, ADMIN, good)
    assert res.stdout == "" and "EL_ERR_CERT_CA_STALE" in res.stderr, res


def test_unknown_ca_triggers_one_refresh_then_accepts_rotated_key(env, fake):
    """Entra rotates: a certificate signed by a key published after our cache was taken is
    accepted after one JWKS refresh; a second unknown key within the minute is not refetched."""
    iso, state = env
    fake.publish_keys(["k1", "k2", "weak"], extra=[])
    for f in ("jwks.json", "sshca.json", "jwks.refresh"):
        (state / f).unlink(missing_ok=True)
    iso.run(f"{CLI} status")
    if (state / "jwks.refresh").exists():      # status refreshed just now: let a minute pass
        os.utime(state / "jwks.refresh", (time.time() - 120, time.time() - 120))
    u = sshcert.new_user_key().public_key()
    fake.rotate_keys()                            # now k2, k3 (k3 as an ordinary tenant key)
    fake.clear_requests()
    res = run_ak(iso, ADMIN, sshcert.entra_cert(fake.key("k3").key, u, ADMIN, OID, TENANT))
    assert res.stdout.startswith("cert-authority,"), res.stderr
    assert len(fake.requests("jwks")) == 1
    res = run_ak(iso, ADMIN, sshcert.entra_cert(fake.key("rogue").key, u, ADMIN, OID, TENANT))
    assert "EL_ERR_CERT_CA_UNKNOWN" in res.stderr
    assert len(fake.requests("jwks")) == 1        # rate-limited: at most one refresh a minute
    # k1 left the JWKS but stays trusted from the merged set (sshca.json) while within max age
    res = run_ak(iso, ADMIN, sshcert.entra_cert(fake.key("k1").key, u, ADMIN, OID, TENANT, now=time.time() - 1))
    assert res.stdout.startswith("cert-authority,"), res.stderr


SSHD_SUBSET = ("other tenant in key id and extension", "expired", "unknown CA key", "principal with ,",
               "another user's principal", "consumer-tenant CA key", "host certificate",
               "signature by another key than the CA field")


def test_refusal_subset_through_sshd(tmp_path, fake):
    # the logged-in user's own `id` reads the user database: not below pytest's 0700 tmp_path
    state = pathlib.Path(tempfile.mkdtemp(prefix="entra-state-"))
    state.chmod(0o755)
    consumer = dict(fake.key("k3").jwk(), issuer=f"https://login.microsoftonline.com/{CONSUMER}/v2.0")
    fake.publish_keys(["k1", "k2", "weak"], extra=[consumer])
    sshd = SshdEnv(tmp_path / "s", BUILD, config_text(fake, state)).start()
    try:
        sshd.iso.run(f"{CLI} status")
        ukey = sshcert.new_user_key()
        from cryptography.hazmat.primitives import serialization
        kp = tmp_path / "id_rsa"
        kp.write_bytes(ukey.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                          serialization.NoEncryption()))
        kp.chmod(0o600)
        # re-mint the chosen cases for this user key (the client must hold the certified key)
        now = int(time.time())
        k = {n: fake.key(n).key for n in ("k1", "k2", "k3", "rogue")}

        def c(**kw):
            args = dict(principal=ADMIN, oid=OID, tid=TENANT, ca=k["k1"])
            args.update(kw)
            return sshcert.entra_cert(args.pop("ca"), ukey.public_key(), args.pop("principal"), args.pop("oid"),
                                      args.pop("tid"), now=now, **args)

        chosen = {
            "other tenant in key id and extension": c(tid=OTHER_TENANT),
            "expired": c(backdate=7200),
            "unknown CA key": c(ca=k["rogue"]),
            "principal with ,": c(principal="alice@contoso.com,x"),
            "another user's principal": c(principal="bob@contoso.com"),
            "consumer-tenant CA key": c(ca=k["k3"]),
            "host certificate": c(cert_type=2),
            "signature by another key than the CA field": c(sign_key=k["k2"]),
        }
        assert set(chosen) == set(SSHD_SUBSET)
        for i, (label, blob) in enumerate(chosen.items()):
            cp = tmp_path / f"c{i}-cert.pub"
            cp.write_text(sshcert.line(blob) + "\n")
            res = sshd.ssh_key(ADMIN, "id", kp, cp, tag=f"r{i}")
            assert res.returncode != 0 and "uid=" not in res.stdout, (label, res.stdout, res.stderr)
        cp = tmp_path / "ok-cert.pub"
        cp.write_text(sshcert.line(c()) + "\n")
        res = sshd.ssh_key(ADMIN, "id -un", kp, cp, tag="ok")
        assert res.returncode == 0 and res.stdout.strip() == ADMIN, res.stderr + sshd.log()[-2000:]
    finally:
        sshd.stop()
        shutil.rmtree(state, ignore_errors=True)


def test_status_shows_ca_keys_and_fail_closed(env, fake):
    iso, state = env
    res = iso.run(f"{CLI} status")
    out = res.stdout
    assert "ssh certificate CA keys (ssh_ca_keys = jwks" in out, out
    assert "2 trusted key(s)" in out and "kid kid-1: RSA 2048 bits" in out, out
    assert "kid-weak: RSA 1024 bits" in out and "refused" in out.split("kid-weak")[-1], out
    assert (state / "sshca.json").stat().st_mode & 0o777 == 0o644
    old = time.time() - 2 * 86400
    os.utime(state / "jwks.json", (old, old))
    fake.fault("jwks", "status", status=503)
    out = iso.run(f"{CLI} status").stdout
    assert "FAIL-CLOSED" in out, out


def test_verify_cert_contract(env, fake):
    """`entra-login verify-cert [--user NAME] [--at UNIX_TIME]` < certificate line or bare blob."""
    iso, state = env
    now = int(time.time())
    blob = sshcert.entra_cert(fake.key("k1").key, sshcert.new_user_key().public_key(), "Alice@Contoso.com", OID,
                              TENANT, now=now)
    line = sshcert.line(blob, "alice@laptop")
    res = iso.run(f"{CLI} verify-cert --user {ADMIN}", input=line + "\n")
    assert res.returncode == 0, res.stdout + res.stderr
    out = res.stdout
    assert out.startswith("valid\n")
    for want in (f"oid: {OID}", f"tid: {TENANT}", "principal: Alice@Contoso.com", "CA kid: kid-1",
                 "signature: rsa-sha2-256", "valid from: ", "valid to: "):
        assert want in out, (want, out)
    # bare blob, no --user: any directory name
    res = iso.run(f"{CLI} verify-cert", input=base64.b64encode(blob).decode())
    assert res.returncode == 0 and res.stdout.startswith("valid\n"), res.stdout
    # --at after the 65 minutes: expired, with the fields still shown
    res = iso.run(f"{CLI} verify-cert --at {now + 2 * 3600}", input=line)
    assert res.returncode == 1 and res.stdout.startswith("invalid: certificate expired (EL_ERR_CERT_EXPIRED)")
    assert f"oid: {OID}" in res.stdout
    res = iso.run(f"{CLI} verify-cert --user bob@contoso.com", input=line)
    assert res.returncode == 1 and "EL_ERR_CERT_USER_MISMATCH" in res.stdout
    res = iso.run(f"{CLI} verify-cert --at yesterday", input=line)
    assert res.returncode == 2
    # verify-cert writes no user binding and no grant
    assert not (state / "certgrant").exists() and not (state / "users.db").exists()


def _x5c(key, not_before, not_after, subject_key=None):
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "accounts.accesscontrol.windows.net")])
    pub = (subject_key or key).public_key()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(pub)
            .serial_number(x509.random_serial_number())
            .not_valid_before(datetime.datetime.utcfromtimestamp(not_before))
            .not_valid_after(datetime.datetime.utcfromtimestamp(not_after)).sign(key, hashes.SHA256()))
    from cryptography.hazmat.primitives import serialization
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def test_x5c_validity_honoured(tmp_path, fake):
    """A JWKS key whose x5c certificate has expired, is not yet valid, or holds another key is not
    a CA key; the same key with a valid x5c (or none) is."""
    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    iso = Isolated(tmp_path / "iso", BUILD)
    iso.add_etc("entra-login.conf", config_text(fake, state))
    now = int(time.time())
    k3 = fake.key("k3")
    base = {k: v for k, v in k3.jwk().items() if k not in ("x5c", "x5t", "issuer")}
    cases_ = {
        "expired": dict(base, kid="x-expired", x5c=[_x5c(k3.key, now - 400 * 86400, now - 86400)]),
        "future": dict(base, kid="x-future", x5c=[_x5c(k3.key, now + 86400, now + 400 * 86400)]),
        "other-key": dict(base, kid="x-other", x5c=[_x5c(k3.key, now - 86400, now + 86400,
                                                          subject_key=fake.key("k2").key)]),
    }
    u = sshcert.new_user_key().public_key()
    blob = sshcert.entra_cert(k3.key, u, ADMIN, OID, TENANT)
    for label, jwk in cases_.items():
        fake.publish_keys(["k1"], extra=[jwk])
        for f in ("jwks.json", "sshca.json", "jwks.refresh"):
            (state / f).unlink(missing_ok=True)
        iso.run(f"{CLI} status")
        res = run_ak(iso, ADMIN, blob)
        assert res.stdout == "" and "EL_ERR_CERT_CA_UNKNOWN" in res.stderr, (label, res.stderr)
    fake.publish_keys(["k1"], extra=[dict(base, kid="x-ok", x5c=[_x5c(k3.key, now - 86400, now + 86400)])])
    for f in ("jwks.json", "sshca.json", "jwks.refresh"):
        (state / f).unlink(missing_ok=True)
    iso.run(f"{CLI} status")
    res = run_ak(iso, ADMIN, blob)
    assert res.stdout.startswith("cert-authority,"), res.stderr
