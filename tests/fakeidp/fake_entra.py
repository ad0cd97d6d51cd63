#!/usr/bin/python3
"""Fake Microsoft Entra ID (+ IMDS + ARM) for entra-login's tests. See README.md.

usage: /usr/bin/python3 tests/fakeidp/fake_entra.py --dir SCRATCH [--interval N] [--expires-in N]
"""
import argparse
import http.server
import json
import os
import secrets
import signal
import ssl
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import arm  # noqa: E402
import control  # noqa: E402
import graph  # noqa: E402
from responses import (aad_error, bad_tenant, fault_response, json_resp,  # noqa: E402
                       missing_param, slow_down_resp)
import pki  # noqa: E402
import sshcert  # noqa: E402
import tokens  # noqa: E402
from tokens import AZ_CLI_CLIENT_ID, CLIENT_ID, OTHER_TENANT, TENANT  # noqa: E402

KNOWN_TENANTS = (TENANT, OTHER_TENANT)
MULTI_TENANTS = ("common", "organizations")
VERIFICATION_URI = "https://microsoft.com/devicelogin"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
ENDPOINTS = ("discovery", "jwks", "devicecode", "token", "imds", "arm", "graph")
USER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
# Entra's text for AADSTS70016 (as seen in real responses)
PENDING_TEXT = "The provided request has not yet been authorized by the user. The user must input their code."


# Entra's documented device-code values: interval 5 s, expires_in 900 s (15 minutes). Anything
# else is a test override (FakeEntra.start(interval=..), config(interval=..)).
ENTRA_INTERVAL = 5
ENTRA_EXPIRES_IN = 900
# Claims of a v2 ID token that need the `profile` scope (Entra's ID token claims reference:
# "the profile scope is required to receive this claim" for oid, name, preferred_username).
PROFILE_CLAIMS = ("name", "oid", "preferred_username")


def default_config(interval=ENTRA_INTERVAL, expires_in=ENTRA_EXPIRES_IN):
    return {"interval": interval, "expires_in": expires_in,
            "poll_slack": 0.25,          # a poll this much before the interval still counts as on time
            "slow_down_increment": 5,    # RFC 8628: interval grows by 5 s after each slow_down
            "token_lifetime": 3600,      # id_token lifetime
            "access_lifetime": 4725,     # expires_in of the token response / Graph token
            "imds_token_lifetime": 86399,
            "clients": [CLIENT_ID, AZ_CLI_CLIENT_ID],   # registered app ids; az is first-party
            "ssh_cert_lifetime": 3900,   # Entra: valid from 5 min before issue for 65 min
            "ssh_cert_backdate": 300,
            "public_client_flows": True}  # "Allow public client flows" on the app registration


class Req:
    def __init__(self, method, path, query, headers, form, listener, port, raw_query):
        self.method, self.path, self.query, self.headers = method, path, query, headers
        self.form, self.listener, self.port, self.raw_query = form, listener, port, raw_query


class DeviceCode:
    def __init__(self, tenant, client_id, scope, interval, expires_in):
        self.device_code = "DAQABIQEAAAD" + secrets.token_urlsafe(384)
        self.user_code = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(9))
        self.tenant, self.client_id, self.scope = tenant, client_id, scope
        self.interval, self.expires_in = interval, expires_in
        self.created = time.monotonic()
        self.created_wall = time.time()
        self.status = "pending"     # pending approved declined expired redeemed
        self.approval = None
        self.last_poll = None
        self.polls = 0
        self.early_polls = 0         # polls that came before the interval was over
        self.pending_polls_left = 0  # auto actions: polls answered pending before the action

    def summary(self):
        return {"user_code": self.user_code, "device_code": self.device_code, "tenant": self.tenant,
                "client_id": self.client_id, "scope": self.scope, "status": self.status,
                "interval": self.interval, "expires_in": self.expires_in, "polls": self.polls,
                "early_polls": self.early_polls,
                "created": self.created, "created_wall": self.created_wall}


class App:
    def __init__(self, scratch, interval, expires_in):
        self.scratch = scratch
        self.keys = pki.load_keys(scratch)
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.ports = {}
        self.tenant = TENANT
        self.defaults = (interval, expires_in)
        self.reset()

    @property
    def authority(self):
        return "https://127.0.0.1:%d" % self.ports["https"]

    def reset(self):
        with self.lock:
            self.config = default_config(*self.defaults)
            self.codes = {}              # device_code -> DeviceCode
            self.order = []              # issue order
            self.auto = []               # queued automatic actions for the next codes
            self.faults = {}             # endpoint -> {"mode":..., "count":..., params}
            self.published = {t: ["k1", "k2"] for t in KNOWN_TENANTS + MULTI_TENANTS}
            self.jwks_extra = []
            self.jwks_raw = None
            self.discovery_override = {}
            self.arm = arm.ArmState()
            self.graph = graph.GraphState()
            self.log = []
            self.seq = getattr(self, "seq", 0)
            self.cond.notify_all()

    # -------------------------------------------------- request log
    def log_start(self, req, endpoint):
        with self.lock:
            self.seq += 1
            e = {"seq": self.seq, "t_mono": time.monotonic(), "t_wall": time.time(),
                 "listener": req.listener, "method": req.method, "path": req.path,
                 "query": req.query, "endpoint": endpoint, "form": req.form,
                 "headers": {k: v for k, v in req.headers.items()
                             if k.lower() in ("metadata", "authorization", "user-agent",
                                              "content-type", "accept", "x-forwarded-for")},
                 "status": None, "fault": None, "error": None}
            self.log.append(e)
            return e

    # -------------------------------------------------- faults
    def take_fault(self, endpoint):
        with self.lock:
            f = self.faults.get(endpoint)
            if not f or f["mode"] == "ok":
                return None
            if f.get("count") is not None:
                f["count"] -= 1
                if f["count"] <= 0:
                    del self.faults[endpoint]
            return dict(f)

    # -------------------------------------------------- device codes
    def find_code(self, user_code=None, wait=0.0, statuses=("pending",)):
        deadline = time.monotonic() + float(wait or 0)
        with self.cond:
            while True:
                if user_code:
                    for c in self.codes.values():
                        if c.user_code == user_code:
                            return c
                else:
                    for dc in reversed(self.order):
                        c = self.codes[dc]
                        self._check_expiry(c)
                        if c.status in statuses:
                            return c
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(min(left, 0.2))

    def _check_expiry(self, c):
        if c.status in ("pending", "approved", "declined", "auto") and \
                time.monotonic() > c.created + c.expires_in:
            c.status = "expired"


def classify(path):
    """(endpoint name, tenant) for a request path."""
    parts = path.split("/")
    if path.startswith("/metadata/"):
        return "imds", None
    if path.lower().startswith("/subscriptions/") or path.lower().startswith("/providers/"):
        return "arm", None
    if path.startswith("/v1.0/"):
        return "graph", None
    if len(parts) >= 3:
        tenant, rest = parts[1], "/".join(parts[2:])
        name = {"v2.0/.well-known/openid-configuration": "discovery",
                ".well-known/openid-configuration": "discovery",
                "discovery/v2.0/keys": "jwks", "discovery/keys": "jwks",
                "oauth2/v2.0/devicecode": "devicecode", "oauth2/v2.0/token": "token"}.get(rest)
        if name:
            return name, tenant
    return None, None


# ------------------------------------------------------------------ Entra endpoints
def discovery(app, req, tenant):
    if tenant not in KNOWN_TENANTS + MULTI_TENANTS:
        return bad_tenant(tenant)
    base = "%s/%s" % (app.authority, tenant)
    iss_t = tenant if tenant in KNOWN_TENANTS else "{tenantid}"
    v1 = not req.path.endswith("/v2.0/.well-known/openid-configuration")
    doc = {
        "token_endpoint": base + ("/oauth2/token" if v1 else "/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt",
                                                  "client_secret_basic"],
        "jwks_uri": base + ("/discovery/keys" if v1 else "/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": ("https://sts.windows.net/%s/" % iss_t) if v1 else "%s/%s/v2.0" % (app.authority, iss_t),
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": base + "/oauth2/v2.0/authorize",
        "device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
        "http_logout_supported": True, "frontchannel_logout_supported": True,
        "end_session_endpoint": base + "/oauth2/v2.0/logout",
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
                             "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat",
                             "auth_time", "acr", "nonce", "preferred_username", "name", "tid",
                             "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": base + "/kerberos",
        "tenant_region_scope": "EU", "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net", "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }
    with app.lock:
        tokens.apply_overrides(doc, app.discovery_override)
    return json_resp(200, doc, {"Cache-Control": "max-age=86400, private"})


def jwks(app, req, tenant):
    if tenant not in KNOWN_TENANTS + MULTI_TENANTS:
        return bad_tenant(tenant)
    with app.lock:
        if app.jwks_raw is not None:
            raw = app.jwks_raw
            return (200, {"Content-Type": "application/json; charset=utf-8"},
                    raw.encode() if isinstance(raw, str) else json.dumps(raw).encode())
        names = list(app.published.get(tenant, []))
        extra = list(app.jwks_extra)
    keys = [app.keys[n].jwk() for n in names]
    for k in keys:   # Entra tags each key with the issuer it signs for
        if "issuer" in k:
            k["issuer"] = "%s/%s/v2.0" % (app.authority,
                                          tenant if tenant in KNOWN_TENANTS else "{tenantid}")
    keys += extra
    return json_resp(200, {"keys": keys}, {"Cache-Control": "max-age=86400, private"})


def check_client(app, form, tenant):
    cid = form.get("client_id")
    if not cid:
        return missing_param("client_id")
    if cid not in app.config["clients"]:
        return aad_error(400, "unauthorized_client", 700016,
                         "Application with identifier '%s' was not found in the directory '%s'. This "
                         "can happen if the application has not been installed by the administrator "
                         "of the tenant or consented to by any user in the tenant. You may have sent "
                         "your authentication request to the wrong tenant." % (cid, tenant))
    if not app.config["public_client_flows"]:
        return aad_error(401, "invalid_client", 7000218,
                         "The request body must contain the following parameter: 'client_assertion' "
                         "or 'client_secret'.")
    return None


def require_post(req):
    if req.method != "POST":
        return aad_error(400, "invalid_request", 900561,
                         "The endpoint only accepts POST, OPTIONS requests. Received a %s request."
                         % req.method)
    return None


def devicecode(app, req, tenant):
    err = require_post(req)
    if err:
        return err
    if tenant not in KNOWN_TENANTS + MULTI_TENANTS:
        return bad_tenant(tenant)
    err = check_client(app, req.form, tenant)
    if err:
        return err
    scope = req.form.get("scope")
    if not scope:
        return missing_param("scope")
    if "openid" not in scope.split():
        return aad_error(400, "invalid_scope", 70011,
                         "The provided value for the input parameter 'scope' is not valid. The scope "
                         "'%s' does not include 'openid'." % scope)
    with app.cond:
        c = DeviceCode(tenant, req.form["client_id"], scope, app.config["interval"],
                       app.config["expires_in"])
        if app.auto:
            act = app.auto[0]
            if act.get("count") is not None:
                act["count"] -= 1
                if act["count"] <= 0:
                    app.auto.pop(0)
            c.pending_polls_left = int(act.get("after_polls", 0))
            c.approval = dict(act)
            c.status = "auto"
        app.codes[c.device_code] = c
        app.order.append(c.device_code)
        app.cond.notify_all()
    msg = ("To sign in, use a web browser to open the page %s and enter the code %s to "
           "authenticate." % (VERIFICATION_URI, c.user_code))
    return json_resp(200, {"user_code": c.user_code, "device_code": c.device_code,
                           "verification_uri": VERIFICATION_URI, "expires_in": c.expires_in,
                           "interval": c.interval, "message": msg})


def token(app, req, tenant):
    err = require_post(req)
    if err:
        return err
    if tenant not in KNOWN_TENANTS + MULTI_TENANTS:
        return bad_tenant(tenant)
    gt = req.form.get("grant_type")
    if not gt:
        return missing_param("grant_type")
    if gt == "refresh_token" and not check_client(app, req.form, tenant):   # issue 14: az ssh cert
        return sshcert.refresh_grant(app, req, tenant, lambda a: tokens.mint(
            app.keys, app.authority, "id_token", upn=a.get("upn") or "alice@contoso.com", oid=a.get("oid"),
            tid=a.get("tid") or tenant, client_id=req.form["client_id"]))
    if gt == "client_credentials" and req.form.get("token_type") == "ssh-cert":
        return sshcert.client_credentials(app, req, tenant)
    if gt == "client_credentials":
        return graph.client_credentials(app, req, tenant)
    if gt != DEVICE_GRANT:
        return aad_error(400, "unsupported_grant_type", 70003,
                         "The app requested an unsupported grant type '%s'." % gt)
    err = check_client(app, req.form, tenant)
    if err:
        return err
    dc = req.form.get("device_code")
    if not dc:
        return missing_param("device_code")
    now = time.monotonic()
    with app.cond:
        c = app.codes.get(dc)
        if c is None or c.tenant != tenant or c.client_id != req.form["client_id"]:
            return aad_error(400, "bad_verification_code", 70018,
                             "The provided value for the input parameter 'device_code' is not valid.")
        app._check_expiry(c)
        if c.status == "expired":
            return aad_error(400, "expired_token", 70019,
                             "The code has expired. Verification code expired. Have the user retry "
                             "the sign-in.")
        if c.status == "redeemed":
            return aad_error(400, "invalid_grant", 54005,
                             "OAuth2 Authorization code was already redeemed, please retry with a "
                             "new valid code or use an existing refresh token.")
        # Entra documents no slow_down for the device flow (only authorization_pending,
        # authorization_declined, bad_verification_code, expired_token): an early poll is only
        # counted (codes()[..]["early_polls"]) for the tests; slow_down comes from a fault only.
        if c.last_poll is not None and now - c.last_poll < c.interval - app.config["poll_slack"]:
            c.early_polls += 1
        c.last_poll = now
        c.polls += 1
        if getattr(req, "force_slow_down", False):
            c.interval += app.config["slow_down_increment"]
            return slow_down_resp()
        if c.status == "auto":
            if c.pending_polls_left > 0:
                c.pending_polls_left -= 1
            else:
                c.status = {"approve": "approved", "decline": "declined",
                            "expire": "expired"}[c.approval.get("action", "approve")]
                app.cond.notify_all()
                if c.status == "expired":
                    return aad_error(400, "expired_token", 70019,
                                     "The code has expired. Verification code expired. Have the "
                                     "user retry the sign-in.")
                return sshcert.token_hook(app, req, tenant, _answer(app, c), c.approval)
            return aad_error(400, "authorization_pending", 70016,
                             PENDING_TEXT)
        return sshcert.token_hook(app, req, tenant, _answer(app, c), c.approval)


def _answer(app, c):
    if c.status == "declined":
        return aad_error(400, "authorization_declined", 70000,
                         "The user has declined the authorization request. The provided grant has "
                         "been denied.")
    if c.status == "pending":
        return aad_error(400, "authorization_pending", 70016, PENDING_TEXT)
    a = c.approval
    c.status = "redeemed"
    app.cond.notify_all()
    tid = a.get("tid") or (c.tenant if c.tenant in KNOWN_TENANTS else TENANT)
    upn = a.get("upn") or "alice@contoso.com"
    kw = dict(upn=upn, oid=a.get("oid"), tid=tid, name=a.get("name"), client_id=c.client_id,
              roles=a.get("roles"), groups=a.get("groups"))
    scopes = c.scope.split()
    drop = list(a.get("drop") or ())
    if "profile" not in scopes:   # openid alone: sub, tid, iss, aud, times; no oid, no names
        drop += [k for k in PROFILE_CLAIMS if k not in (a.get("claims") or {})]
    claims = a.get("claims")
    if app.graph.group_claims and a.get("groups") is None:
        # groupMembershipClaims on the app registration: Entra adds the user's groups, or the
        # overage indicator beyond 200 (graph.token_groups_claims).
        claims = dict(graph.token_groups_claims(app, kw["oid"] or tokens.oid_for(upn)), **(claims or {}))
    if a.get("id_token") is not None:
        id_tok = a["id_token"]
    else:
        id_tok = tokens.mint(app.keys, app.authority, "id_token", key=a.get("key", "k1"),
                             alg=a.get("alg"), claims=claims, drop=drop,
                             headers=a.get("headers"), lifetime=app.config["token_lifetime"], **kw)
    kw.pop("roles"), kw.pop("groups")
    at = tokens.mint(app.keys, app.authority, "graph", claims=a.get("access_claims"),
                     lifetime=app.config["access_lifetime"], **kw)
    granted = ["openid", "profile", "User.Read", "email"]
    granted += [s for s in scopes if s not in granted and s != "offline_access"]
    body = {"token_type": "Bearer", "scope": " ".join(granted),
            "expires_in": app.config["access_lifetime"],
            "ext_expires_in": app.config["access_lifetime"], "access_token": at}
    if "offline_access" in scopes:
        body["refresh_token"] = "1.AQ" + secrets.token_urlsafe(600)
    if not a.get("omit_id_token"):
        body["id_token"] = id_tok
    return json_resp(200, body)


# ------------------------------------------------------------------ HTTP plumbing
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-entra/1.0"
    sys_version = ""
    timeout = 30

    def log_message(self, fmt, *args):  # quiet
        pass

    def _dispatch(self):
        app, srv = self.server.app, self.server
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n > 0 else b""
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        form = {}
        if ctype == "application/x-www-form-urlencoded":
            form = dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        req = Req(self.command, u.path, q, dict(self.headers.items()), form, srv.listener_name,
                  srv.server_address[1], u.query)
        req.body = raw
        if u.path.startswith("/_test/"):
            if srv.listener_name != "https":
                return self._send(404, {"Content-Type": "text/plain"}, b"not here\n")
            try:
                return self._send(*control.handle(app, req))
            except Exception as e:  # noqa: BLE001 - report test API misuse to the test
                return self._send(*json_resp(400, {"error": "%s: %s" % (type(e).__name__, e)}))
        endpoint, tenant = classify(u.path)
        entry = app.log_start(req, endpoint)
        try:
            resp = None
            f = app.take_fault(endpoint) if endpoint else None
            if f:
                entry["fault"] = f["mode"]
                if f["mode"] == "slow_down" and endpoint == "token":
                    req.force_slow_down = True   # answered by token() so the interval grows
                else:
                    resp = fault_response(app, f, endpoint, req)
                if resp == "DOWN":
                    self.close_connection = True
                    entry["status"] = 0
                    return
            if resp is None:
                if endpoint == "discovery":
                    resp = discovery(app, req, tenant)
                elif endpoint == "jwks":
                    resp = jwks(app, req, tenant)
                elif endpoint == "devicecode":
                    resp = devicecode(app, req, tenant)
                elif endpoint == "token":
                    resp = token(app, req, tenant)
                elif endpoint == "imds":
                    resp = arm.handle_imds(app, req)
                elif endpoint == "arm":
                    resp = arm.handle_arm(app, req)
                elif endpoint == "graph":
                    resp = graph.handle_graph(app, req)
                else:
                    resp = json_resp(404, {"error": "not_found", "path": u.path})
            entry["status"] = resp[0]
            if resp[0] >= 400 and resp[2][:1] == b"{":
                try:
                    entry["error"] = json.loads(resp[2]).get("error")
                except ValueError:
                    pass
            self._send(*resp)
        except Exception as e:  # noqa: BLE001
            entry["status"] = 500
            entry["error"] = repr(e)
            self._send(*json_resp(500, {"error": "fake_entra_bug", "detail": repr(e)}))

    def _send(self, status, headers, body):
        self.send_response(status)
        for k, v in headers.items():
            if k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _dispatch


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # TLS handshake failures and client resets are expected in tests


def make_server(app, name, ctx=None):
    srv = Server(("127.0.0.1", 0), Handler)
    srv.app, srv.listener_name = app, name
    if ctx is not None:
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    return srv


def tls_ctx(scratch, stem):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(scratch, stem + ".pem"), os.path.join(scratch, stem + ".key"))
    return ctx


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--interval", type=int, default=5)
    ap.add_argument("--expires-in", type=int, default=900)
    ap.add_argument("--exit-with-parent", action="store_true",
                    help="stop when the starting process goes away (used by entra_fake.FakeEntra)")
    a = ap.parse_args(argv)
    ppid = os.getppid()
    scratch = os.path.abspath(a.dir)
    os.makedirs(scratch, exist_ok=True)
    sj = os.path.join(scratch, "server.json")
    if os.path.exists(sj):
        os.unlink(sj)
    pki.ensure_material(scratch)
    app = App(scratch, a.interval, a.expires_in)
    servers = {"https": make_server(app, "https", tls_ctx(scratch, "server")),
               "http": make_server(app, "http"),
               "other_ca": make_server(app, "other_ca", tls_ctx(scratch, "other-server")),
               "wrong_name": make_server(app, "wrong_name", tls_ctx(scratch, "wrong-name")),
               "expired": make_server(app, "expired", tls_ctx(scratch, "expired"))}
    for n, s in servers.items():
        app.ports[n] = s.server_address[1]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
               for s in servers.values()]
    for t in threads:
        t.start()
    info = {"https_port": app.ports["https"], "http_port": app.ports["http"],
            "other_ca_port": app.ports["other_ca"], "wrong_name_port": app.ports["wrong_name"],
            "expired_port": app.ports["expired"], "pid": os.getpid(),
            "tenant": TENANT, "client_id": CLIENT_ID}
    tmp = sj + ".tmp"
    with open(tmp, "w") as f:
        json.dump(info, f)
    os.replace(tmp, sj)
    print("READY", flush=True)
    while not stop.wait(0.5):
        if a.exit_with_parent and os.getppid() != ppid:
            break
    for s in servers.values():
        s.shutdown()
        s.server_close()
    try:
        os.unlink(sj)
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
