"""Test control API of the fake Entra ID: /_test/* on the main HTTPS listener (JSON in/out).

See README.md for the list. Every handler returns (status, headers, body).
"""
import json

import arm as armmod
import graph as graphmod
import pki

FAULT_MODES = ("ok", "down", "stall", "status", "throttle", "forbidden", "badjson", "empty",
               "huge", "redirect_http", "redirect_other", "slow_down", "aadsts")
APPROVAL_KEYS = ("upn", "oid", "tid", "name", "roles", "groups", "claims", "drop", "key", "alg",
                 "headers", "access_claims", "id_token", "omit_id_token")
CONFIG_KEYS = ("interval", "expires_in", "poll_slack", "slow_down_increment", "token_lifetime",
               "access_lifetime", "imds_token_lifetime", "clients", "public_client_flows",
               "ssh_cert_lifetime", "ssh_cert_backdate")


def _ok(obj=None, status=200):
    return status, {"Content-Type": "application/json"}, json.dumps(
        {"ok": True} if obj is None else obj).encode()


def _err(status, msg):
    return status, {"Content-Type": "application/json"}, json.dumps({"error": msg}).encode()


def _approval(body, action):
    a = {k: body[k] for k in APPROVAL_KEYS if k in body}
    unknown = set(body) - set(APPROVAL_KEYS) - {"user_code", "wait", "after_polls", "count",
                                                "action"}
    if unknown:
        raise ValueError("unknown field(s): %s" % ", ".join(sorted(unknown)))
    if a.get("key") and a["key"] not in pki.KEY_SPECS:
        raise ValueError("unknown key %r" % a["key"])
    a["action"] = action
    return a


def _settle(app, body, action):
    c = app.find_code(body.get("user_code"), body.get("wait", 0))
    if c is None:
        return _err(404, "no such pending device code" if not body.get("user_code")
                    else "unknown user_code %r" % body["user_code"])
    with app.cond:
        app._check_expiry(c)
        if c.status != "pending" and action != "expire":
            return _err(409, "code %s is %s, not pending" % (c.user_code, c.status))
        if action == "approve":
            c.approval = _approval(body, action)
            if not c.approval.get("upn"):
                return _err(400, "approve needs upn")
            c.status = "approved"
        elif action == "decline":
            c.status = "declined"
        else:
            c.status = "expired"
        app.cond.notify_all()
        return _ok(c.summary())


def handle(app, req):
    p = req.path[len("/_test/"):].strip("/")
    body = {}
    if req.body:
        body = json.loads(req.body)
        if not isinstance(body, dict):
            return _err(400, "JSON object expected")
    if req.method == "GET":
        if p == "requests":
            since = int(req.query.get("since", 0))
            with app.lock:
                return _ok([dict(e) for e in app.log if e["seq"] > since])
        if p == "codes":
            with app.lock:
                for c in app.codes.values():
                    app._check_expiry(c)
                return _ok([app.codes[d].summary() for d in app.order])
        if p == "state":
            with app.lock:
                return _ok({"config": app.config, "faults": app.faults, "published": app.published,
                            "ports": app.ports, "vm_id": app.arm.vm_id,
                            "assignments": app.arm.assignments, "groups": app.arm.groups,
                            "page_size": app.arm.page_size, "auto": app.auto,
                            "discovery_override": app.discovery_override})
        return _err(404, "unknown control endpoint GET /_test/%s" % p)
    if req.method != "POST":
        return _err(405, "GET or POST")
    if p in ("approve", "decline", "expire"):
        return _settle(app, body, p)
    if p == "auto":
        action = body.get("action", "approve")
        with app.lock:
            if action == "none":
                app.auto = []
                return _ok()
            if action not in ("approve", "decline", "expire"):
                return _err(400, "action must be approve, decline, expire or none")
            a = _approval(body, action)
            if action == "approve" and not a.get("upn"):
                return _err(400, "auto approve needs upn")
            a["after_polls"] = int(body.get("after_polls", 0))
            a["count"] = body.get("count", 1)
            app.auto.append(a)
        return _ok()
    if p == "fault":
        ep, mode = body.pop("endpoint", None), body.get("mode")
        eps = list(_endpoints()) if ep in ("*", "all") else [ep]
        for e in eps:
            if e not in _endpoints():
                return _err(400, "unknown endpoint %r (one of %s)" % (e, ", ".join(_endpoints())))
        if mode not in FAULT_MODES:
            return _err(400, "unknown mode %r (one of %s)" % (mode, ", ".join(FAULT_MODES)))
        if mode == "slow_down" and eps != ["token"]:
            return _err(400, "slow_down applies to the token endpoint only")
        f = dict(body)
        if "count" not in f:
            f["count"] = 1 if mode in ("throttle", "slow_down") else None
        with app.lock:
            for e in eps:
                if mode == "ok":
                    app.faults.pop(e, None)
                else:
                    app.faults[e] = dict(f)
        return _ok()
    if p == "config":
        bad = set(body) - set(CONFIG_KEYS)
        if bad:
            return _err(400, "unknown config key(s): %s" % ", ".join(sorted(bad)))
        with app.lock:
            app.config.update(body)
            return _ok(app.config)
    if p == "keys":
        names = body.get("publish")
        with app.lock:
            if names is not None:
                for n in names:
                    if n not in pki.KEY_SPECS:
                        return _err(400, "unknown key %r" % n)
                tenants = [body["tenant"]] if body.get("tenant") else list(app.published)
                for t in tenants:
                    app.published[t] = list(names)
            if "extra" in body:
                app.jwks_extra = list(body["extra"] or [])
            if "raw" in body:
                app.jwks_raw = body["raw"]
            return _ok({"published": app.published})
    if p == "rotate":
        with app.lock:
            for t in app.published:
                app.published[t] = ["k2", "k3"]
        return _ok()
    if p == "discovery":
        with app.lock:
            if body.get("reset"):
                app.discovery_override = {}
            app.discovery_override.update(body.get("override") or {})
        return _ok()
    if p == "roles":
        with app.lock:
            app.arm.set_assignments(body.get("assignments", []), body.get("replace", True))
            if "page_size" in body:
                app.arm.page_size = int(body["page_size"] or 0)
            return _ok(app.arm.assignments)
    if p == "groups":
        with app.lock:
            if body.get("replace", True):
                app.arm.groups = {}
            for k, v in (body.get("memberships") or {}).items():
                app.arm.groups.setdefault(k, [])
                app.arm.groups[k] = list(dict.fromkeys(app.arm.groups[k] + list(v)))
            return _ok(app.arm.groups)
    if p == "graph":
        return _ok(graphmod.control(app, body))
    if p == "vm":
        with app.lock:
            st = app.arm
            if body.get("resource_id"):
                armmod.parse_vm(body["resource_id"])
                st.vm_id = body["resource_id"]
            elif any(k in body for k in ("subscription", "resource_group", "name")):
                sub, rg, vm = armmod.parse_vm(st.vm_id)
                st.vm_id = armmod.vm_resource_id(body.get("subscription", sub),
                                                 body.get("resource_group", rg),
                                                 body.get("name", vm))
            if "reader_scope" in body:
                st.reader_scope = st.scope_for(body["reader_scope"]) if body["reader_scope"] else None
            if "identity" in body:
                st.identity = bool(body["identity"])
            if "page_size" in body:
                st.page_size = int(body["page_size"] or 0)
            return _ok({"vm_id": st.vm_id})
    if p == "requests/clear":
        with app.lock:
            app.log = []
        return _ok()
    if p == "reset":
        app.reset()
        return _ok()
    return _err(404, "unknown control endpoint POST /_test/%s" % p)


def _endpoints():
    return ("discovery", "jwks", "devicecode", "token", "imds", "arm", "graph")
