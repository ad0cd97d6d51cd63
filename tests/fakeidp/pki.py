"""Key and certificate material for the fake Entra ID (generated once per scratch dir).

Layout of SCRATCH (all PEM):
  ca.pem / ca.key              test CA (trust this: `ca_file`)
  server.pem / server.key      127.0.0.1, ::1, localhost, signed by ca
  wrong-name.pem / .key        signed by ca, but only for DNS wrong-name.invalid
  expired.pem / .key           signed by ca, for 127.0.0.1, expired a day ago
  other-ca.pem / .key          an unrelated CA
  other-server.pem / .key      127.0.0.1, signed by other-ca
  keys/NAME.key                token signing keys (PKCS#8), NAME in KEY_SPECS
  keys/NAME.crt                self-signed cert of that key (JWKS x5c / x5t)
"""
import base64
import datetime
import hashlib
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

# name -> (kind, size, kid)
KEY_SPECS = {
    "k1": ("rsa", 2048, "kid-1"),
    "k2": ("rsa", 2048, "kid-2"),
    "k3": ("rsa", 2048, "kid-3"),        # published by "rotate"
    "weak": ("rsa", 1024, "kid-weak"),   # published only on request
    "ec": ("ec", 256, "kid-ec"),         # P-256
    "rogue": ("rsa", 2048, "kid-rogue"),  # never published by default
}


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_uint(n: int) -> str:
    return b64u(n.to_bytes((n.bit_length() + 7) // 8 or 1, "big"))


def _write(path, data: bytes, mode=0o600):
    tmp = path + ".tmp.%d" % os.getpid()
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _cert_pem(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "entra-login tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _new_rsa(bits=2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _new_tls_key():
    # TLS keys are EC P-256: generated instantly (RSA costs ~0.3 s a key); clients don't care.
    return ec.generate_private_key(ec.SECP256R1())


def _make_ca(cn):
    key = _new_tls_key()
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder()
            .subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def _make_leaf(ca_key, ca_cert, cn, ips=(), dns=(), expired=False):
    key = _new_tls_key()
    now = datetime.datetime.utcnow()
    if expired:
        nb, na = now - datetime.timedelta(days=30), now - datetime.timedelta(days=1)
    else:
        nb, na = now - datetime.timedelta(days=1), now + datetime.timedelta(days=825)
    sans = [x509.IPAddress(ipaddress.ip_address(i)) for i in ips] + [x509.DNSName(d) for d in dns]
    cert = (x509.CertificateBuilder()
            .subject_name(_name(cn)).issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(nb).not_valid_after(na)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def _self_signed(key, cn):
    now = datetime.datetime.utcnow()
    return (x509.CertificateBuilder()
            .subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1825))
            .sign(key, hashes.SHA256()))


def ensure_material(d):
    """Create whatever is missing in directory d; idempotent."""
    os.makedirs(os.path.join(d, "keys"), exist_ok=True)
    p = lambda *a: os.path.join(d, *a)  # noqa: E731
    if not (os.path.exists(p("ca.pem")) and os.path.exists(p("ca.key"))):
        k, c = _make_ca("entra-login test CA")
        _write(p("ca.key"), _key_pem(k))
        _write(p("ca.pem"), _cert_pem(c), 0o644)
        for f in ("server.pem", "wrong-name.pem", "expired.pem"):
            if os.path.exists(p(f)):
                os.unlink(p(f))
    ca_key = serialization.load_pem_private_key(open(p("ca.key"), "rb").read(), None)
    ca_cert = x509.load_pem_x509_certificate(open(p("ca.pem"), "rb").read())
    leaves = [("server", dict(cn="127.0.0.1", ips=("127.0.0.1", "::1"), dns=("localhost",))),
              ("wrong-name", dict(cn="wrong-name.invalid", dns=("wrong-name.invalid",))),
              ("expired", dict(cn="127.0.0.1", ips=("127.0.0.1", "::1"), dns=("localhost",),
                               expired=True))]
    for stem, kw in leaves:
        if not os.path.exists(p(stem + ".pem")):
            k, c = _make_leaf(ca_key, ca_cert, **kw)
            _write(p(stem + ".key"), _key_pem(k))
            _write(p(stem + ".pem"), _cert_pem(c), 0o644)
    if not os.path.exists(p("other-server.pem")):
        ok, oc = _make_ca("unrelated test CA")
        _write(p("other-ca.key"), _key_pem(ok))
        _write(p("other-ca.pem"), _cert_pem(oc), 0o644)
        k, c = _make_leaf(ok, oc, "127.0.0.1", ips=("127.0.0.1", "::1"), dns=("localhost",))
        _write(p("other-server.key"), _key_pem(k))
        _write(p("other-server.pem"), _cert_pem(c), 0o644)
    for name, (kind, size, _kid) in KEY_SPECS.items():
        kp, cp = p("keys", name + ".key"), p("keys", name + ".crt")
        if os.path.exists(kp) and os.path.exists(cp):
            continue
        key = _new_rsa(size) if kind == "rsa" else ec.generate_private_key(ec.SECP256R1())
        _write(kp, _key_pem(key))
        _write(cp, _cert_pem(_self_signed(key, "accounts.accesscontrol.windows.net")), 0o644)


class SigningKey:
    """One token signing key: private key object, kid, cert, JWK."""

    def __init__(self, name, key, cert, kid):
        self.name, self.key, self.cert, self.kid = name, key, cert, kid
        self.der = cert.public_bytes(serialization.Encoding.DER)
        self.x5t = b64u(hashlib.sha1(self.der).digest())
        self.is_rsa = isinstance(key, rsa.RSAPrivateKey)

    @property
    def public_key(self):
        return self.key.public_key()

    def public_pem(self, fmt="spki") -> bytes:
        """PEM of the public key: 'spki' (BEGIN PUBLIC KEY) or 'pkcs1' (BEGIN RSA PUBLIC KEY)."""
        f = (serialization.PublicFormat.PKCS1 if fmt == "pkcs1"
             else serialization.PublicFormat.SubjectPublicKeyInfo)
        return self.public_key.public_bytes(serialization.Encoding.PEM, f)

    def jwk(self):
        """The key as Entra publishes it in the JWKS."""
        if self.is_rsa:
            nums = self.public_key.public_numbers()
            return {"kty": "RSA", "use": "sig", "kid": self.kid, "x5t": self.x5t,
                    "n": b64u_uint(nums.n), "e": b64u_uint(nums.e),
                    "x5c": [base64.b64encode(self.der).decode()],
                    "cloud_instance_name": "microsoftonline.com",
                    "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0"}
        nums = self.public_key.public_numbers()
        return {"kty": "EC", "use": "sig", "kid": self.kid, "x5t": self.x5t, "crv": "P-256",
                "x": b64u(nums.x.to_bytes(32, "big")), "y": b64u(nums.y.to_bytes(32, "big")),
                "x5c": [base64.b64encode(self.der).decode()]}


def load_keys(d):
    """name -> SigningKey for every key in KEY_SPECS."""
    out = {}
    for name, (_kind, _size, kid) in KEY_SPECS.items():
        key = serialization.load_pem_private_key(
            open(os.path.join(d, "keys", name + ".key"), "rb").read(), None)
        cert = x509.load_pem_x509_certificate(open(os.path.join(d, "keys", name + ".crt"), "rb").read())
        out[name] = SigningKey(name, key, cert, kid)
    return out
