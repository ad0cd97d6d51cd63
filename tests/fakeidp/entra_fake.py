"""Client side of the fake Entra ID: start/stop the server, drive its test API, mint tokens.

    sys.path.insert(0, "tests/fakeidp")
    from entra_fake import FakeEntra, TENANT, CLIENT_ID

    with FakeEntra().start(tmpdir) as fe:          # Entra's interval 5 s, expires_in 900 s
        conf = f"authority = {fe.authority}\\nca_file = {fe.ca_file}\\n..."
        ... start the login (it POSTs devicecode and polls) ...
        fe.approve(upn="alice@contoso.com", roles=["VirtualMachineAdministratorLogin"])
        tok = fe.mint("access_v2", upn="bob@contoso.com")

Only /usr/bin/python3 (Debian's python3-cryptography) can run this. All network traffic goes
to 127.0.0.1.
"""
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import pki  # noqa: E402
import tokens  # noqa: E402
from tokens import (ADMIN_APP_ROLE, ADMIN_ROLE_ID, ARM_AUD, AZ_CLI_CLIENT_ID, CLIENT_ID, GRAPH_AUD,  # noqa: E402,F401
                    MI_OBJECT_ID, OTHER_TENANT, TENANT, USER_APP_ROLE, USER_ROLE_ID,
                    decode_unverified, encode_raw, oid_for)

__all__ = ["FakeEntra", "ControlError", "TENANT", "OTHER_TENANT", "CLIENT_ID", "GRAPH_AUD",
           "ARM_AUD", "ADMIN_ROLE_ID", "USER_ROLE_ID", "ADMIN_APP_ROLE", "USER_APP_ROLE",
           "MI_OBJECT_ID", "oid_for", "decode_unverified", "encode_raw"]

SERVER = os.path.join(HERE, "fake_entra.py")
PYTHON = "/usr/bin/python3"
MATERIAL_FILES = ("ca.pem", "ca.key", "server.pem", "server.key", "wrong-name.pem",
                  "wrong-name.key", "expired.pem", "expired.key", "other-ca.pem", "other-ca.key",
                  "other-server.pem", "other-server.key")


class ControlError(RuntimeError):
    """The control API refused a request (bad arguments, no pending code, ...)."""


class FakeEntra:
    """A running fake Entra ID server (one process) plus helpers.

    Attributes after start(): scratch, info (server.json), https_port, http_port,
    other_ca_port, wrong_name_port, expired_port, pid.
    """

    def __init__(self):
        self.proc = None
        self.info = None
        self.scratch = None
        self._keys = None
        self._ctx = None

    # ------------------------------------------------------------ lifecycle
    def start(self, scratch_dir, interval=5, expires_in=900, material_from=None, timeout=10.0):
        """Start the server with scratch_dir as its state dir; returns self once it answers.

        interval / expires_in: what the devicecode endpoint hands out. Entra's values are the
        defaults; anything else is a test override (ints, 0 allowed).
        material_from: a scratch dir of an earlier run whose CA and keys are copied in (saves
        the ~1 s of key generation per test).
        """
        self.scratch = os.path.abspath(scratch_dir)
        os.makedirs(self.scratch, exist_ok=True)
        if material_from:
            src = os.path.abspath(material_from)
            os.makedirs(os.path.join(self.scratch, "keys"), exist_ok=True)
            for f in MATERIAL_FILES:
                if os.path.exists(os.path.join(src, f)) and not os.path.exists(os.path.join(self.scratch, f)):
                    shutil.copy2(os.path.join(src, f), os.path.join(self.scratch, f))
            for f in os.listdir(os.path.join(src, "keys")):
                dst = os.path.join(self.scratch, "keys", f)
                if not os.path.exists(dst):
                    shutil.copy2(os.path.join(src, "keys", f), dst)
        sj = os.path.join(self.scratch, "server.json")
        if os.path.exists(sj):
            os.unlink(sj)
        log = open(os.path.join(self.scratch, "server.log"), "ab")
        self.proc = subprocess.Popen(
            [PYTHON, SERVER, "--dir", self.scratch, "--interval", str(int(interval)),
             "--expires-in", str(int(expires_in)), "--exit-with-parent"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, close_fds=True)
        log.close()
        deadline = time.monotonic() + timeout
        while not os.path.exists(sj):
            if self.proc.poll() is not None:
                raise RuntimeError("fake Entra exited with %s:\n%s" % (self.proc.returncode,
                                                                       self.server_log()[-3000:]))
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("fake Entra not ready after %.0f s:\n%s" % (timeout,
                                                                              self.server_log()[-3000:]))
            time.sleep(0.05)
        with open(sj) as f:
            self.info = json.load(f)
        self._keys = pki.load_keys(self.scratch)
        self._ctx = ssl.create_default_context(cafile=self.ca_file)
        return self

    def stop(self):
        """SIGTERM the server and wait for it (SIGKILL after 5 s)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def server_log(self):
        try:
            with open(os.path.join(self.scratch, "server.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # ------------------------------------------------------------ addresses
    def __getattr__(self, name):
        if name.endswith("_port") or name == "pid":
            info = self.__dict__.get("info")
            if info and name in info:
                return info[name]
        raise AttributeError(name)

    @property
    def authority(self):
        """The `authority` config value: https://127.0.0.1:PORT"""
        return "https://127.0.0.1:%d" % self.info["https_port"]

    def authority_on(self, listener):
        """Authority on another TLS listener: 'other_ca' (cert from an untrusted CA),
        'wrong_name' (trusted CA, name wrong-name.invalid), 'expired' (trusted CA, expired);
        or 'http' (plain http://)."""
        if listener == "http":
            return "http://127.0.0.1:%d" % self.info["http_port"]
        return "https://127.0.0.1:%d" % self.info[listener + "_port"]

    @property
    def imds_url(self):
        return "http://127.0.0.1:%d" % self.info["http_port"]

    @property
    def arm_url(self):
        return self.authority

    @property
    def ca_file(self):
        return os.path.join(self.scratch, "ca.pem")

    @property
    def other_ca_file(self):
        return os.path.join(self.scratch, "other-ca.pem")

    def issuer(self, tenant=TENANT):
        return tokens.issuer_v2(self.authority, tenant)

    def url(self, path):
        return self.authority + path

    # ------------------------------------------------------------ HTTP helpers
    def http(self, method, url, body=None, headers=None, form=None, timeout=10):
        """(status, headers, body bytes) of a request to the fake; never raises on HTTP status."""
        data = None
        h = dict(headers or {})
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            h.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        r = urllib.request.Request(url, data=data, method=method, headers=h)
        ctx = self._ctx if url.startswith("https:") else None
        try:
            with urllib.request.urlopen(r, timeout=timeout, context=ctx) as resp:
                return resp.status, dict(resp.headers.items()), resp.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers.items()), e.read()

    def _control(self, method, path, body=None, timeout=30):
        st, _h, raw = self.http(method, self.authority + "/_test/" + path, body=body, timeout=timeout)
        out = json.loads(raw) if raw else None
        if st != 200:
            raise ControlError("%s /_test/%s -> %d %s" % (method, path, st, out))
        return out

    # ------------------------------------------------------------ device flow
    def approve(self, user_code=None, upn="alice@contoso.com", *, wait=10, **kw):
        """Approve a pending device code as `upn` (the latest pending one if user_code is None,
        waiting up to `wait` s for one to be issued). Keyword options:
          oid (default: deterministic per upn, see oid_for), tid (default: the code's tenant),
          name, roles (list -> `roles` claim), groups (list -> `groups` claim),
          claims (dict merged into the ID token; a None value removes that claim), drop (list),
          key ('k1' default, 'k2', 'k3', 'weak', 'ec', 'rogue'), alg ('RS256' default),
          headers (dict merged into the JWS header), access_claims (for the Graph token),
          id_token (a raw string returned verbatim as id_token), omit_id_token (bool).
        Returns the code's summary dict (user_code, device_code, status, ...)."""
        body = dict(kw, upn=upn, wait=wait)
        if user_code:
            body["user_code"] = user_code
        return self._control("POST", "approve", body)

    def decline(self, user_code=None, wait=10):
        """The user declines: the next poll answers authorization_declined."""
        return self._control("POST", "decline", {"user_code": user_code, "wait": wait})

    def expire(self, user_code=None, wait=10):
        """Expire the code now: the next poll answers expired_token."""
        return self._control("POST", "expire", {"user_code": user_code, "wait": wait})

    def auto(self, action="approve", upn=None, after_polls=0, count=1, **kw):
        """Queue an automatic outcome for the next `count` issued codes (None = all): after
        `after_polls` authorization_pending answers the code is approved as upn (same options
        as approve), declined or expired. action='none' clears the queue. For synchronous
        tests (pamtester) that cannot approve concurrently."""
        body = dict(kw, action=action, after_polls=after_polls, count=count)
        if upn is not None:
            body["upn"] = upn
        return self._control("POST", "auto", body)

    def codes(self):
        """All issued device codes (oldest first) with status and poll count."""
        return self._control("GET", "codes")

    # ------------------------------------------------------------ switches
    def fault(self, endpoint, mode, **params):
        """Make `endpoint` ('discovery', 'jwks', 'devicecode', 'token', 'imds', 'arm' or '*')
        misbehave. Modes: ok, down, stall(seconds=30), status(status=503, body=..),
        throttle(retry_after=1; count defaults to 1), forbidden, badjson, empty,
        huge(size=10 MiB), redirect_http, redirect_other, slow_down (token only; count
        defaults to 1), aadsts(code=N; token: Entra's refusal AADSTSN, see responses.AADSTS).
        count=K: only the next K requests, then back to ok (default: forever)."""
        return self._control("POST", "fault", dict(params, endpoint=endpoint, mode=mode))

    def config(self, **kw):
        """Runtime settings: interval, expires_in, poll_slack, slow_down_increment,
        token_lifetime, access_lifetime, imds_token_lifetime, clients, public_client_flows,
        ssh_cert_lifetime, ssh_cert_backdate (certificate validity: from now - backdate for lifetime)."""
        return self._control("POST", "config", kw)

    def set_interval(self, interval=None, expires_in=None):
        kw = {}
        if interval is not None:
            kw["interval"] = int(interval)
        if expires_in is not None:
            kw["expires_in"] = int(expires_in)
        return self.config(**kw)

    def publish_keys(self, names, tenant=None, extra=None, raw=None, set_raw=False):
        """Publish exactly `names` (e.g. ['k1','k2','weak']) in the JWKS (of `tenant` or all
        tenants); extra: additional raw JWK dicts; raw (with set_raw=True): the whole JWKS
        document verbatim (dict or str), None to go back to normal."""
        body = {"publish": list(names)} if names is not None else {}
        if tenant:
            body["tenant"] = tenant
        if extra is not None:
            body["extra"] = extra
        if set_raw:
            body["raw"] = raw
        return self._control("POST", "keys", body)

    def rotate_keys(self):
        """JWKS now publishes k2 and k3 (k1 is gone)."""
        return self._control("POST", "rotate", {})

    def publish_weak(self):
        return self.publish_keys(["k1", "k2", "weak"])

    def discovery_override(self, reset=False, **fields):
        """Merge fields into the discovery document (None removes a field)."""
        return self._control("POST", "discovery", {"override": fields, "reset": reset})

    # ------------------------------------------------------------ ARM / IMDS
    def set_roles(self, *assignments, replace=True, page_size=None):
        """Role assignments. Each: dict(principal=OID, role='admin'|'user'|'reader'|GUID,
        scope='vm'|'rg'|'subscription'|'other_vm'|'other_rg'|'other_subscription'|ARM id,
        type='User'|'Group' (default: Group if the oid is a known group)), or a tuple
        (principal, role[, scope])."""
        items = []
        for a in assignments:
            if isinstance(a, dict):
                items.append(a)
            else:
                items.append(dict(zip(("principal", "role", "scope"), a)))
        body = {"assignments": items, "replace": replace}
        if page_size is not None:
            body["page_size"] = page_size
        return self._control("POST", "roles", body)

    def set_groups(self, memberships, replace=True):
        """memberships: {member_oid: [group_oid, ...]} (groups may be members of groups)."""
        return self._control("POST", "groups", {"memberships": memberships, "replace": replace})

    def set_graph(self, **kw):
        """Microsoft Graph (graph.py): groups={oid: {displayName, mailNickname,
        onPremisesSamAccountName}}, attributes={user_oid: {extension_...: value}}, page_size,
        throttle={count, retry_after}, group_claims (groups claim in ID tokens), deleted=[oid],
        replace."""
        return self._control("POST", "graph", kw)

    def set_vm(self, resource_id=None, **kw):
        """VM identity: resource_id, or subscription/resource_group/name; also
        reader_scope (where the VM identity may read role assignments, default the VM),
        identity (False: IMDS answers 'Identity not found'), page_size (ARM paging)."""
        body = dict(kw)
        if resource_id:
            body["resource_id"] = resource_id
        return self._control("POST", "vm", body)

    def state(self):
        return self._control("GET", "state")

    @property
    def vm_id(self):
        return self.state()["vm_id"]

    # ------------------------------------------------------------ request log
    def requests(self, endpoint=None, since=0):
        """Request log entries (dicts: seq, t_mono (time.monotonic, comparable with the test's),
        t_wall, listener, method, path, query, endpoint, form, headers, status, fault, error)."""
        out = self._control("GET", "requests?since=%d" % since)
        return [e for e in out if endpoint is None or e["endpoint"] == endpoint]

    def clear_requests(self):
        return self._control("POST", "requests/clear", {})

    def reset(self):
        """Everything back to defaults (codes, faults, keys, roles, VM, config, log)."""
        return self._control("POST", "reset", {})

    # ------------------------------------------------------------ tokens
    def key(self, name="k1"):
        """pki.SigningKey: .key (private), .public_key, .kid, .x5t, .jwk(), .public_pem()."""
        return self._keys[name]

    def mint(self, kind="id_token", *, key="k1", alg=None, claims=None, drop=(), headers=None,
             **claim_kw):
        """A token as Entra would issue it, signed in-process with the server's keys.

        kind: id_token | access_v2 | access_v1 | app_only | app_only_v2 | graph | imds.
        claim_kw: upn, oid, tid, name, client_id, roles, groups, scp, aud, iat, lifetime,
        backdate (iat = nbf = now - backdate, default 300 like Entra).
        claims: overrides (None removes), drop: claims to remove, headers: JWS header
        overrides (None removes; e.g. {'kid': 'nope', 'jku': 'https://evil'}).
        key: k1 k2 k3 weak ec rogue (rogue is never published); alg: RS256 (default for RSA),
        RS384, RS512, PS256.., ES256 (default for ec), none."""
        return tokens.mint(self._keys, self.authority, kind, key=key, alg=alg, claims=claims,
                           drop=drop, headers=headers, **claim_kw)

    def claims(self, kind="id_token", **claim_kw):
        """The default claim set of a token kind (not signed)."""
        return tokens.build_claims(kind, authority=self.authority, **claim_kw)

    @staticmethod
    def mint_raw(header_bytes, payload_bytes, signature_bytes=b""):
        """Encode raw bytes as a compact JWS (no signing): for malformed JSON tests."""
        return encode_raw(header_bytes, payload_bytes, signature_bytes)

    def sign_raw(self, header_bytes, payload_bytes, key="k1", alg="RS256"):
        """Validly signed token over raw JSON bytes (e.g. duplicate keys)."""
        return tokens.sign_raw(header_bytes, payload_bytes, self._keys[key], alg)

    def hs_confusion(self, alg="HS256", kind="id_token", secret="spki", key="k1", **claim_kw):
        """Token with alg HS256/384/512 whose HMAC secret is k1's public key (kid of k1).
        secret: 'spki' (PEM 'BEGIN PUBLIC KEY', as PEM_write_PUBKEY writes it), 'pkcs1'
        (PEM 'BEGIN RSA PUBLIC KEY'), 'der' (SPKI DER), 'cert' (x5c cert PEM), or bytes."""
        sk = self._keys[key]
        if isinstance(secret, bytes):
            sec = secret
        elif secret == "der":
            from cryptography.hazmat.primitives import serialization as s
            sec = sk.public_key.public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo)
        elif secret == "cert":
            from cryptography.hazmat.primitives import serialization as s
            sec = sk.cert.public_bytes(s.Encoding.PEM)
        else:
            sec = sk.public_pem(secret)
        payload = tokens.build_claims(kind, authority=self.authority, **claim_kw)
        header = {"typ": "JWT", "alg": alg, "kid": sk.kid}
        return tokens.sign_raw(tokens.jdump(header), tokens.jdump(payload), sec, alg)

    def alg_none(self, variant="none", with_signature=False, kind="id_token", **claim_kw):
        """Unsigned token with alg `variant` ('none', 'None', 'NONE', 'nOnE', ...) and kid of k1.
        with_signature: append k1's valid RS256 signature over the same input instead of ''."""
        payload = tokens.build_claims(kind, authority=self.authority, **claim_kw)
        header = {"typ": "JWT", "alg": variant, "kid": self._keys["k1"].kid}
        hb, pb = tokens.jdump(header), tokens.jdump(payload)
        sig = b""
        if with_signature:
            si = ("%s.%s" % (pki.b64u(hb), pki.b64u(pb))).encode()
            sig = tokens.sign_bytes(si, self._keys["k1"], "RS256")
        return encode_raw(hb, pb, sig)

    def decode(self, token):
        """(header, payload) without verification."""
        return decode_unverified(token)



def _main(argv=None):
    """Shell access to a running server's control API:
    entra_fake.py --dir SCRATCH approve '{"upn": "alice@contoso.com"}'
    entra_fake.py --dir SCRATCH requests         (GET endpoints: requests, codes, state)"""
    import argparse
    ap = argparse.ArgumentParser(description=_main.__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True, help="the server's scratch dir")
    ap.add_argument("endpoint", help="control endpoint after /_test/, e.g. approve, fault, reset")
    ap.add_argument("json", nargs="?", help="JSON object body (POST); none for GET endpoints")
    a = ap.parse_args(argv)
    fe = FakeEntra()
    fe.scratch = os.path.abspath(a.dir)
    with open(os.path.join(fe.scratch, "server.json")) as f:
        fe.info = json.load(f)
    fe._ctx = ssl.create_default_context(cafile=fe.ca_file)
    get = a.endpoint.split("?")[0] in ("requests", "codes", "state")
    out = fe._control("GET" if get else "POST", a.endpoint,
                      None if get else json.loads(a.json or "{}"))
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
