#!/usr/bin/python3
"""Write the seed corpora in tests/fuzz/corpus/<target>/ (deterministic; re-run after a format change).

    EL_BUILD=build /usr/bin/python3 tests/fuzz/gen_seeds.py

userdb seeds are real databases written by the product's writer through $EL_BUILD/tests/nss/udb_tool
(so `make unit` first). The other seeds are built here.
"""
import json
import os
import pathlib
import shutil
import struct
import subprocess
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BUILD = pathlib.Path(os.environ.get("EL_BUILD", ROOT / "build"))
CORPUS = HERE / "corpus"
TENANT = "6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a37"
CLIENT = "3f8a1c2e-5b6d-4e7f-9a0b-1c2d3e4f5a6b"
NOW = 1700000000
ISS = f"https://login.invalid/{TENANT}/v2.0"


def put(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def b64u(b):
    import base64
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64url_seeds():
    for i, s in enumerate(["", "QQ", "QUI", "QUJD", "eyJhbGciOiJSUzI1NiJ9", "AA-_", "QR", "QUJ", "A",
                           "QUJD====", "QU JD", "+/+/", b64u(bytes(range(256)))]):
        put("b64url", f"seed-{i:02d}", s)


def conf_seeds():
    put("conf", "seed-shipped", (ROOT / "conf" / "entra-login.conf").read_bytes())
    base = f"tenant_id = {TENANT}\nclient_id = {CLIENT}\ndomains = contoso.com, fabrikam.example\n"
    put("conf", "seed-minimal", base)
    put("conf", "seed-full", base + "authority = https://login.microsoftonline.com/\n"
        "audiences = api://x, https://entra-login.contoso.com\nca_file = /etc/ssl/ca.pem\n"
        "uid_min = 2000000000\nuid_max = 2100000000\nadmin_group = admins_x\nadmin_gid = 1500\n"
        "user_group = users_x\nuser_gid = 1501\nhome = /home/%d/%l\nshell = /bin/sh\n"
        "role_sources = arm, claims, static\nadmin_role_values = A, B\nuser_role_values = C\n"
        "static_admins = root@contoso.com, 11111111-1111-4111-8111-111111111111\nstatic_users = x@y.z\n"
        "arm_url = https://management.azure.com\nimds_url = http://169.254.169.254\n"
        "token_max_age = 600\nclock_skew = 0\nhttp_timeout = 300\nlogin_timeout = 3600\n"
        "state_dir = /var/lib/entra-login\n")
    put("conf", "seed-bad-common", base.replace(TENANT, "common"))
    put("conf", "seed-bad-dup", base + "domains = a.b\n")
    put("conf", "seed-comments", "# c\n\n   \t\n" + base.replace("\n", "  \r\n"))


def userdb_seeds():
    tool = BUILD / "tests" / "nss" / "udb_tool"
    if not tool.exists():
        print(f"gen_seeds: {tool} not built (make unit); userdb seeds skipped")
        return
    tid = TENANT
    with tempfile.TemporaryDirectory() as tmp:
        for name, steps in {
            "one": [["login", "alice@contoso.com", "11111111-1111-4111-8111-111111111111", tid, "admin",
                     "Alice", str(NOW)]],
            "mixed": [["login", "alice@contoso.com", "11111111-1111-4111-8111-111111111111", tid, "admin",
                       "Alice", str(NOW)],
                      ["login", "bob@contoso.com", "22222222-2222-4222-8222-222222222222", tid, "user",
                       "Bob B", str(NOW)],
                      ["login", "carol@fabrikam.example", "33333333-3333-4333-8333-333333333333", tid, "none",
                       "", str(NOW)],
                      ["login", "dave@contoso.com", "44444444-4444-4444-8444-444444444444", tid, "user",
                       "D" * 256, str(NOW)],
                      ["forget", "dave@contoso.com"]],
            "bulk40": [["bulk", "40", "contoso.com"]],
            "imported": [["import", "3", "contoso.com"],     # format v2: pinned uid, home, shell
                         ["login", "alice@contoso.com", "11111111-1111-4111-8111-111111111111", tid, "user",
                          "Alice", str(NOW)]],
        }.items():
            st = pathlib.Path(tmp) / name
            st.mkdir(mode=0o755)
            conf = st / "c.conf"
            conf.write_text(f"tenant_id = {TENANT}\nclient_id = {CLIENT}\n"
                            f"domains = contoso.com, fabrikam.example\nstate_dir = {st}\n")
            conf.chmod(0o644)
            for step in steps:
                subprocess.run([str(tool), str(conf), *step], check=True, capture_output=True)
            put("userdb", f"seed-{name}", (st / "users.db").read_bytes())


def nss_seeds():
    names = ["alice@contoso.com", "bob@contoso.com", "carol@fabrikam.example", "dave@contoso.com",
             "eve@contoso.com", "root", "aad_admins", "aad_users", "Alice@contoso.com", "../etc@contoso.com",
             "a" * 70 + "@contoso.com"]
    i = 0
    for op in (0, 2, 3, 5, 8, 9):
        for n in names:
            put("nss", f"seed-{i:03d}", bytes([op, 0, 4]) + n.encode())
            i += 1
    for op in (0, 3):
        put("nss", f"seed-{i:03d}", bytes([op, 7, 0]) + b"alice@contoso.com")   # 7-byte buffer
        i += 1
    for gid in (999999001, 999999002, 0, 1000000000):
        for op in (1, 4):
            put("nss", f"seed-{i:03d}", bytes([op, 0, 4]) + struct.pack("<I", gid))
            i += 1
    for op in (6, 7):
        put("nss", f"seed-{i:03d}", bytes([op, 16, 0]))
        i += 1


def claims(**kw):
    c = {"aud": CLIENT, "iss": ISS, "iat": NOW - 200, "nbf": NOW - 200, "exp": NOW + 3400, "tid": TENANT,
         "oid": "11111111-1111-4111-8111-111111111111", "preferred_username": "alice@contoso.com",
         "name": "Alice Example", "ver": "2.0", "sub": "x", "roles": ["VirtualMachineUserLogin"]}
    for k, v in kw.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return json.dumps(c, separators=(",", ":")).encode()


def jwt_seeds():
    ID, ACC, EXPECT = 4, 0, 8
    hdr = b'{"alg":"RS256","kid":"fuzz-k1","typ":"JWT"}'
    put("jwt", "seed-id", bytes([2 | ID | EXPECT]) + claims())
    put("jwt", "seed-id-any", bytes([2 | ID]) + claims(groups=["a", "b"], hasgroups=True))
    put("jwt", "seed-id-overage", bytes([2 | ID]) + claims(_claim_names={"groups": "src1"}))
    put("jwt", "seed-access-v2", bytes([2 | ACC | EXPECT]) + claims(scp="access", upn="alice@contoso.com",
                                                                    preferred_username=None))
    put("jwt", "seed-access-v1", bytes([2 | ACC]) + claims(scp="x", iss=f"https://sts.windows.net/{TENANT}/",
                                                           aud=f"api://{CLIENT}", upn="Alice@Contoso.com"))
    put("jwt", "seed-app-only", bytes([2 | ACC]) + claims(idtyp="app", preferred_username=None, roles=["a"]))
    put("jwt", "seed-aud-array", bytes([2 | ID]) + claims(aud=[CLIENT]))
    put("jwt", "seed-hostile-name", bytes([2 | ID]) + claims(preferred_username="a:b\n@contoso.com",
                                                             name="x:y\nz," + "%" * 100))
    put("jwt", "seed-hdr", bytes([1 | ID]) + hdr + b"\0" + claims())
    put("jwt", "seed-hdr-dup", bytes([1 | ID]) + b'{"alg":"RS256","alg":"none","kid":"fuzz-k1"}' + b"\0" + claims())
    put("jwt", "seed-weak", bytes([1 | ID | 16]) + b'{"alg":"RS256","kid":"fuzz-weak"}' + b"\0" + claims())
    tok = b64u(hdr) + "." + b64u(claims()) + "." + b64u(b"\x01" * 256)
    put("jwt", "seed-raw", bytes([0 | ID]) + tok.encode())
    put("jwt", "seed-raw-none", bytes([0]) + (b64u(b'{"alg":"none"}') + "." + b64u(claims()) + ".").encode())
    jwk = {"kty": "RSA", "use": "sig", "kid": "k", "n": b64u(b"\xc1" * 256), "e": "AQAB", "x5c": ["MII"]}
    put("jwt", "seed-jwks", bytes([3]) + json.dumps({"keys": [jwk, dict(jwk, kid="k2", kty="EC")]}).encode())


def main():
    for t in ("b64url", "conf", "userdb", "nss", "jwt"):
        shutil.rmtree(CORPUS / t, ignore_errors=True)
    b64url_seeds()
    conf_seeds()
    userdb_seeds()
    nss_seeds()
    jwt_seeds()
    for t in sorted(p.name for p in CORPUS.iterdir()):
        print(t, len(list((CORPUS / t).iterdir())))


if __name__ == "__main__":
    main()
