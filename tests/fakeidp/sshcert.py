"""OpenSSH user certificates the way Entra ID issues them (design section 6), for the fake and
for tests that mint refusal cases. Wire format of PROTOCOL.certkeys, written field by field so
every field can be bent.

Entra's shape: ssh-rsa-cert-v01@openssh.com, user type, serial 0, key id "<oid>@<tid>", one
principal (the UPN, or the app id of a service principal), valid from 5 min before issue for
65 min, no critical options, extensions displayname@/oid@/tid@sshservice.azure.net (value wrapped
as an SSH string) plus the usual permit-*, signed rsa-sha2-256 by a JWKS signing key.
"""
import base64
import hashlib
import json
import os
import struct
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

CERT_TYPE = "ssh-rsa-cert-v01@openssh.com"
SCOPE = "https://pas.windows.net/CheckMyAccess/Linux/.default"
PERMITS = ("permit-X11-forwarding", "permit-agent-forwarding", "permit-port-forwarding",
           "permit-pty", "permit-user-rc")


def s(b):
    """An SSH string."""
    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">I", len(b)) + b


def mpint(n):
    if n == 0:
        return s(b"")
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    if raw[0] & 0x80:
        raw = b"\0" + raw
    return s(raw)


def rsa_blob(pub):
    nums = pub.public_numbers()
    return s("ssh-rsa") + mpint(nums.e) + mpint(nums.n)


def public_line(pub, comment=""):
    return ("ssh-rsa " + base64.b64encode(rsa_blob(pub)).decode() + (" " + comment if comment else "")).strip()


def sign(key, data, alg="rsa-sha2-256"):
    h = {"rsa-sha2-256": hashes.SHA256(), "rsa-sha2-512": hashes.SHA512(), "ssh-rsa": hashes.SHA1()}[alg]
    return s(alg) + s(key.sign(data, padding.PKCS1v15(), h))


def build(ca_key, user_pub, *, key_id, principals, valid_after, valid_before, cert_type=1, serial=0,
          critical=(), extensions=(), sig_alg="rsa-sha2-256", nonce=None, ca_blob=None, reserved=b"",
          signature=None, sign_key=None, type_name=CERT_TYPE, trailing=b""):
    """The certificate blob. extensions/critical: (name, data bytes) pairs in the given order."""
    nums = user_pub.public_numbers()
    body = s(type_name) + s(nonce if nonce is not None else os.urandom(32)) + mpint(nums.e) + mpint(nums.n)
    body += struct.pack(">QI", serial, cert_type) + s(key_id)
    body += s(b"".join(s(p) for p in principals))
    body += struct.pack(">QQ", valid_after, valid_before)
    body += s(b"".join(s(n) + s(d) for n, d in critical))
    body += s(b"".join(s(n) + s(d) for n, d in extensions))
    body += s(reserved)
    body += s(ca_blob if ca_blob is not None else rsa_blob(ca_key.public_key()))
    sig = signature if signature is not None else sign(sign_key or ca_key, body, sig_alg)
    return body + s(sig) + trailing


def entra_extensions(oid, tid, display="Test User"):
    ext = [("displayname@sshservice.azure.net", s(display)), ("oid@sshservice.azure.net", s(oid))]
    ext += [(p, b"") for p in PERMITS]
    ext.append(("tid@sshservice.azure.net", s(tid)))
    return sorted(ext)


def entra_cert(ca_key, user_pub, principal, oid, tid, now=None, backdate=300, lifetime=3900, **kw):
    """A certificate exactly as Entra issues it; kw overrides build() arguments."""
    now = int(now if now is not None else time.time())
    args = dict(key_id=f"{oid}@{tid}", principals=[principal], valid_after=now - backdate,
                valid_before=now - backdate + lifetime, extensions=entra_extensions(oid, tid, principal))
    args.update(kw)
    return build(ca_key, user_pub, **args)


def line(blob, comment=""):
    return (CERT_TYPE + " " + base64.b64encode(blob).decode() + (" " + comment if comment else "")).strip()


def new_user_key(bits=2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


# ------------------------------------------------------------------ the client side (az ssh cert)
def _b64u_pad(b):
    return base64.urlsafe_b64encode(b).decode()   # az keeps the '=' padding


def req_cnf(pub):
    """(req_cnf JSON text, key_id) as the Azure CLI ssh extension builds them: n and e are the
    base64url (padded) of the SSH wire mpint bytes, leading 0x00 kept; key_id is the lower-hex
    SHA-256 of n || e."""
    nums = pub.public_numbers()
    e = mpint(nums.e)[4:]
    n = mpint(nums.n)[4:]
    kid = hashlib.sha256(n + e).hexdigest()
    return json.dumps({"kty": "RSA", "n": _b64u_pad(n), "e": _b64u_pad(e), "kid": kid}), kid


def _b64u_dec(t):
    return base64.urlsafe_b64decode(t + "=" * (-len(t) % 4))


def key_from_req_cnf(text):
    """The fake's side: the RSA public key the client asks a certificate for."""
    jwk = json.loads(text)
    if jwk.get("kty") != "RSA":
        raise ValueError("req_cnf is not an RSA JWK")
    n = int.from_bytes(_b64u_dec(jwk["n"]), "big")
    e = int.from_bytes(_b64u_dec(jwk["e"]), "big")
    return rsa.RSAPublicNumbers(e, n).public_key()


def issue(app_keys, signer, form, upn, oid, tid, now=None, backdate=300, lifetime=3900):
    """The fake token endpoint's certificate for a token_type=ssh-cert request (or raise ValueError)."""
    if SCOPE not in form.get("scope", "").split():
        raise ValueError("scope must be " + SCOPE)
    if not form.get("req_cnf"):
        raise ValueError("req_cnf missing")
    pub = key_from_req_cnf(form["req_cnf"])
    return entra_cert(app_keys[signer].key, pub, upn, oid, tid, now=now, backdate=backdate, lifetime=lifetime)


# ------------------------------------------------------------------ the fake's token endpoint hook
def _current_signer(app, tenant):
    """The key Entra signs with now: the first published RSA key of the tenant's JWKS."""
    names = [n for n in app.published.get(tenant, []) if app.keys[n].is_rsa and n != "weak"]
    return names[0] if names else "k1"


def token_hook(app, req, tenant, resp, approval=None):
    """Called with the token endpoint's successful answer (device_code or refresh_token grant).
    Remembers refresh tokens; for token_type=ssh-cert swaps the access token for a certificate."""
    import responses   # the fake's own module (same directory)
    status, headers, raw = resp
    if status != 200:
        return resp
    body = json.loads(raw)
    if approval is not None and body.get("refresh_token"):
        with app.lock:
            app.__dict__.setdefault("ssh_refresh", {})[body["refresh_token"]] = (dict(approval), tenant)
    if req.form.get("token_type") != "ssh-cert":
        return resp
    a = approval or {}
    upn = a.get("upn") or "alice@contoso.com"
    tid = a.get("tid") or tenant
    oid = a.get("oid") or __import__("tokens").oid_for(upn)
    principal = a.get("ssh_principal") or upn
    try:
        with app.lock:
            signer = a.get("ssh_key") or _current_signer(app, tenant)
            backdate, lifetime = app.config["ssh_cert_backdate"], app.config["ssh_cert_lifetime"]
        blob = issue(app.keys, signer, req.form, principal, oid, tid, backdate=backdate, lifetime=lifetime)
    except (ValueError, KeyError, TypeError) as e:
        return responses.aad_error(400, "invalid_request", 900144, "ssh-cert request invalid: %s" % e)
    body.update({"token_type": "ssh-cert", "access_token": base64.b64encode(blob).decode(),
                 "expires_in": max(0, lifetime - backdate - 1), "scope": SCOPE})
    return responses.json_resp(200, body)


def refresh_grant(app, req, tenant, mint_id_token):
    """grant_type=refresh_token for a refresh token the fake issued earlier."""
    import responses
    with app.lock:
        entry = getattr(app, "ssh_refresh", {}).get(req.form.get("refresh_token", ""))
    if entry is None or entry[1] != tenant:
        return responses.aad_error(400, "invalid_grant", 9002313, "Invalid refresh token.")
    a = entry[0]
    body = {"token_type": "Bearer", "scope": req.form.get("scope", ""), "expires_in": 3599,
            "ext_expires_in": 3599, "access_token": "opaque-" + base64.urlsafe_b64encode(os.urandom(24)).decode(),
            "refresh_token": req.form["refresh_token"], "id_token": mint_id_token(a)}
    return token_hook(app, req, tenant, responses.json_resp(200, body), a)


def client_credentials(app, req, tenant):
    """grant_type=client_credentials (a service principal: `az login --service-principal`):
    any client_id with a client_secret; the certificate's principal is the app id and the key id
    carries the service principal's object id (guid_for("sp:" + app id))."""
    import responses
    import tokens
    cid, secret = req.form.get("client_id", ""), req.form.get("client_secret", "")
    if not cid or not secret:
        return responses.aad_error(401, "invalid_client", 7000215, "Invalid client secret provided.")
    a = {"upn": cid, "ssh_principal": cid, "oid": tokens.guid_for("sp:" + cid), "tid": tenant}
    body = {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
            "access_token": "opaque-" + base64.urlsafe_b64encode(os.urandom(24)).decode()}
    return token_hook(app, req, tenant, responses.json_resp(200, body), a)
