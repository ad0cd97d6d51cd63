"""Token construction shared by the fake server and the test client module.

Tokens are built by hand (no PyJWT) so header field order, duplicate keys, odd algs and
raw bytes are fully under the tests' control. Claim sets follow what Entra ID issues.
"""
import base64
import hashlib
import hmac
import json
import os
import time
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from pki import b64u

TENANT = "6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a37"
OTHER_TENANT = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"
CLIENT_ID = "3f8a1c2e-5b6d-4e7f-9a0b-1c2d3e4f5a6b"
GRAPH_AUD = "00000003-0000-0000-c000-000000000000"
ARM_AUD = "https://management.azure.com/"
ADMIN_ROLE_ID = "1c0163c0-47e6-4577-8991-ea5c82e286e4"
USER_ROLE_ID = "fb879df8-f326-4884-b1cf-06f3ad86be52"
ADMIN_APP_ROLE = "VirtualMachineAdministratorLogin"
USER_APP_ROLE = "VirtualMachineUserLogin"
# app id of "Azure CLI"-like first-party client that would call Graph; only cosmetic
# The Azure CLI: a first-party public client present in every tenant (az login, az ssh cert).
AZ_CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
SP_CLIENT_ID = "9c6b4d2a-1e3f-4a5b-8c7d-0e1f2a3b4c5d"
MI_CLIENT_ID = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
MI_OBJECT_ID = "8e7d6c5b-4a39-4281-9f0e-1d2c3b4a5968"

_NS = uuid.UUID("2f1d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6")

KINDS = ("id_token", "access_v2", "access_v1", "app_only", "app_only_v2", "graph", "imds")


def oid_for(upn: str) -> str:
    """Deterministic object id for a UPN: the same user gets the same oid in every test."""
    return str(uuid.uuid5(_NS, "user:" + upn.lower()))


def guid_for(label: str) -> str:
    return str(uuid.uuid5(_NS, label))


def _rand(n):
    return b64u(os.urandom(n))


def display_name(upn: str) -> str:
    local = upn.split("@", 1)[0]
    return " ".join(p.capitalize() for p in local.replace("_", ".").split(".") if p) or upn


def issuer_v2(authority: str, tenant: str) -> str:
    return "%s/%s/v2.0" % (authority.rstrip("/"), tenant)


def issuer_v1(tenant: str) -> str:
    return "https://sts.windows.net/%s/" % tenant


def build_claims(kind="id_token", *, authority, upn="alice@contoso.com", oid=None, tid=None,
                 name=None, client_id=CLIENT_ID, roles=None, groups=None, scp=None,
                 aud=None, iat=None, lifetime=3600, backdate=300):
    """The claim set Entra would put in a token of `kind`.

    kinds: id_token (v2 ID token, aud=client_id), access_v2 (v2 access token for our app,
    aud=client_id), access_v1 (v1 access token, aud=api://client_id, iss sts.windows.net),
    app_only (v1 app-only token: roles, idtyp=app, appid, no upn/scp), app_only_v2 (same, v2,
    azp instead of appid), graph (v1 Microsoft Graph access token), imds (managed identity
    token for ARM). iat/nbf default to now-backdate (Entra backdates by 5 minutes),
    exp = iat + lifetime.
    """
    if kind not in KINDS:
        raise ValueError("unknown token kind %r" % kind)
    tid = tid or TENANT
    now = int(time.time()) if iat is None else int(iat) + backdate
    iat_v = now - backdate
    app = kind in ("app_only", "app_only_v2", "imds")
    if oid is None:
        oid = MI_OBJECT_ID if kind == "imds" else (guid_for("sp:" + client_id) if app
                                                   else oid_for(upn))
    c = {}
    v1 = kind in ("access_v1", "app_only", "graph", "imds")
    if kind == "id_token":
        c["aud"] = aud or client_id
    elif kind == "access_v2" or kind == "app_only_v2":
        c["aud"] = aud or client_id
    elif kind in ("access_v1", "app_only"):
        c["aud"] = aud or ("api://" + client_id)
    elif kind == "graph":
        c["aud"] = aud or GRAPH_AUD
    else:
        c["aud"] = aud or ARM_AUD
    c["iss"] = issuer_v1(tid) if v1 else issuer_v2(authority, tid)
    c["iat"] = iat_v
    c["nbf"] = iat_v
    c["exp"] = iat_v + int(lifetime)
    if not app:
        c["acr"] = "1" if v1 else None
        c["aio"] = _rand(120)
        if v1:
            c["amr"] = ["pwd", "mfa"]
            c["appid"] = client_id if kind == "access_v1" else SP_CLIENT_ID
            c["appidacr"] = "0"
            c["family_name"] = (name or display_name(upn)).split(" ")[-1]
            c["given_name"] = (name or display_name(upn)).split(" ")[0]
            c["ipaddr"] = "203.0.113.7"
        elif kind == "access_v2":
            c["azp"] = client_id
            c["azpacr"] = "0"
        c["name"] = name or display_name(upn)
        c["oid"] = oid
        if kind != "access_v1" and kind != "graph":
            c["preferred_username"] = upn
        c["rh"] = "1.AQ" + _rand(60) + "."
        if kind != "id_token":
            c["scp"] = scp or ("openid profile User.Read email" if kind == "graph"
                               else "access_as_user")
        c["sid"] = str(uuid.uuid4()) if kind in ("id_token", "access_v2", "graph") else None
        c["sub"] = _rand(32)
        c["tid"] = tid
        if v1:
            c["unique_name"] = upn
            c["upn"] = upn
        c["uti"] = _rand(16)
        c["ver"] = "1.0" if v1 else "2.0"
        if kind == "graph":
            c["wids"] = ["b79fbf4d-3ef9-4689-8143-76b194e85509"]
            c["xms_tcdt"] = 1600000000
    else:
        c["aio"] = _rand(60)
        if kind == "app_only_v2":
            c["azp"] = SP_CLIENT_ID
            c["azpacr"] = "1"
        else:
            c["appid"] = MI_CLIENT_ID if kind == "imds" else SP_CLIENT_ID
            c["appidacr"] = "2"
        c["idp"] = issuer_v1(tid)
        c["idtyp"] = "app"
        c["oid"] = oid
        c["rh"] = "1.AQ" + _rand(60) + "."
        if kind != "imds":
            c["roles"] = [ADMIN_APP_ROLE]
        c["sub"] = oid
        c["tid"] = tid
        c["uti"] = _rand(16)
        c["ver"] = "1.0" if kind != "app_only_v2" else "2.0"
        if kind == "imds":
            c["xms_mirid"] = "/subscriptions/.../virtualMachines/vm"
    if roles is not None:
        c["roles"] = list(roles)
    if groups is not None:
        c["groups"] = list(groups)
    return {k: v for k, v in c.items() if v is not None}


def default_header(kind, sk, alg):
    h = {"typ": "JWT"}
    if kind == "graph":
        h["nonce"] = _rand(32)   # Graph tokens carry a header nonce: not verifiable by us
    h["alg"] = alg
    if kind in ("access_v1", "app_only", "graph", "imds"):
        h["x5t"] = sk.x5t
    h["kid"] = sk.kid
    return h


_HASH = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
_HLIB = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}


def sign_bytes(signing_input: bytes, key, alg: str) -> bytes:
    """Signature over signing_input. key: a SigningKey (or private key object) for RS/PS/ES,
    bytes (the HMAC secret) for HS*, ignored for none."""
    if alg.lower() == "none":
        return b""
    fam, bits = alg[:2], alg[2:]
    if fam == "HS":
        if not isinstance(key, (bytes, bytearray)):
            raise ValueError("HS* needs a bytes secret")
        return hmac.new(bytes(key), signing_input, _HLIB[bits]).digest()
    priv = getattr(key, "key", key)
    if fam == "RS":
        return priv.sign(signing_input, padding.PKCS1v15(), _HASH[bits]())
    if fam == "PS":
        h = _HASH[bits]()
        return priv.sign(signing_input, padding.PSS(padding.MGF1(h), h.digest_size), h)
    if fam == "ES":
        der = priv.sign(signing_input, ec.ECDSA(_HASH[bits]()))
        r, s = decode_dss_signature(der)
        size = (priv.curve.key_size + 7) // 8
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    raise ValueError("unsupported alg %r" % alg)


def jdump(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def encode_raw(header_bytes: bytes, payload_bytes: bytes, signature: bytes = b"") -> str:
    """base64url(header).base64url(payload).base64url(signature) from raw bytes."""
    return "%s.%s.%s" % (b64u(header_bytes), b64u(payload_bytes), b64u(signature))


def sign_raw(header_bytes: bytes, payload_bytes: bytes, key, alg="RS256") -> str:
    """Validly signed token over raw JSON bytes (e.g. with duplicate keys)."""
    si = ("%s.%s" % (b64u(header_bytes), b64u(payload_bytes))).encode()
    return si.decode() + "." + b64u(sign_bytes(si, key, alg))


def encode(header: dict, payload: dict, key, alg=None) -> str:
    alg = alg or header.get("alg") or "RS256"
    return sign_raw(jdump(header), jdump(payload), key, alg)


def apply_overrides(d: dict, overrides=None, drop=()):
    """Merge overrides into d (a value of None removes the key), then remove `drop` keys."""
    for k, v in (overrides or {}).items():
        if v is None:
            d.pop(k, None)
        else:
            d[k] = v
    for k in drop or ():
        d.pop(k, None)
    return d


def mint(keys, authority, kind="id_token", *, key="k1", alg=None, claims=None, drop=(),
         headers=None, **claim_kw):
    """A complete signed token. keys: name -> SigningKey. claim_kw go to build_claims()."""
    sk = keys[key]
    alg = alg or ("RS256" if sk.is_rsa else "ES256")
    payload = apply_overrides(build_claims(kind, authority=authority, **claim_kw), claims, drop)
    header = apply_overrides(default_header(kind, sk, alg), headers)
    secret = sk.public_pem() if alg.upper().startswith("HS") else sk
    return sign_raw(jdump(header), jdump(payload), secret, alg if alg.lower() != "none" else "none")


def decode_unverified(token: str):
    """(header, payload) of a compact JWS, no verification."""
    def d(s):
        return json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
    h, p, _ = token.split(".")
    return d(h), d(p)
