"""Microsoft Graph (v1.0) for the fake Entra ID: group memberships and user attributes.

Shapes follow Microsoft Graph's documentation:
  GET /v1.0/users/{id}/memberOf[/microsoft.graph.group]
  GET /v1.0/users/{id}/transitiveMemberOf[/microsoft.graph.group]
      ?$select=id,displayName,...&$top=N (1..999, default 100)
      -> {"@odata.context": ..., "value": [...], "@odata.nextLink": "<absolute URL>"}
  GET /v1.0/users/{id}?$select=id,extension_<appid without dashes>_<name>,...
Errors: {"error": {"code": ..., "message": ..., "innerError": {...}}}; 401
InvalidAuthenticationToken (no token, wrong audience: a Graph token has aud
https://graph.microsoft.com), 404 Request_ResourceNotFound, 429 TooManyRequests with
Retry-After (Graph throttling guidance), 400 for a bad $top.

Membership is the directory the fake already has (app.arm.groups: member oid -> group oids,
groups may be members of groups), so ARM's assignedTo() and Graph agree. Group objects (names)
and user extension attributes live here.

Tokens: Entra puts at most 200 groups into a JWT's `groups` claim (150 for SAML); beyond that it
sends the overage indicator `_claim_names: {"groups": "src1"}` with `_claim_sources.src1.endpoint`
and no `groups` claim (Microsoft identity platform, "Groups overage claim").
"""
import json
import re
import time
import urllib.parse
import uuid

import tokens

GRAPH_AUD = "https://graph.microsoft.com"
JWT_GROUPS_LIMIT = 200
PAGE_DEFAULT = 100
PAGE_MAX = 999
GROUP_PROPS = ("id", "displayName", "mailNickname", "onPremisesSamAccountName", "securityEnabled",
               "description")


class GraphState:
    def __init__(self):
        self.groups = {}        # group oid -> {displayName, mailNickname, onPremisesSamAccountName, ...}
        self.attributes = {}    # user oid -> {property: value} (extension_..., onPremisesExtensionAttributes)
        self.page_size = 0      # 0 = Graph's default (100) or the client's $top
        self.throttle = 0       # next N Graph requests get 429
        self.retry_after = 1
        self.group_claims = False   # app registration: groupMembershipClaims = SecurityGroup
        self.deleted = set()    # user oids Graph answers 404 for
        self.app_secrets = {}   # client_id -> client secret (client_credentials for Graph)


def _json(status, obj, headers=None):
    h = {"Content-Type": "application/json;odata.metadata=minimal;odata.streaming=true;"
                         "IEEE754Compatible=false;charset=utf-8"}
    h.update(headers or {})
    return status, h, json.dumps(obj).encode()


def graph_error(status, code, message, headers=None):
    return _json(status, {"error": {"code": code, "message": message, "innerError": {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S"), "request-id": str(uuid.uuid4()),
        "client-request-id": str(uuid.uuid4())}}}, headers)


def transitive_groups(app, oid):
    """Group oids oid belongs to, directly or through nested groups."""
    mem = {k.lower(): [g.lower() for g in v] for k, v in app.arm.groups.items()}
    seen, todo = [], list(mem.get(oid.lower(), []))
    while todo:
        g = todo.pop(0)
        if g in seen:
            continue
        seen.append(g)
        todo.extend(mem.get(g, []))
    return seen


def direct_groups(app, oid):
    return list(dict.fromkeys(g.lower() for g in app.arm.groups.get(oid.lower(), [])))


def group_object(app, gid, select):
    g = dict(app.graph.groups.get(gid, {}))
    obj = {"@odata.type": "#microsoft.graph.group", "id": gid}
    for p in GROUP_PROPS[1:]:
        obj[p] = g.get(p)
    if select:
        obj = {k: v for k, v in obj.items() if k in select or k == "@odata.type"}
    return obj


def token_groups_claims(app, oid):
    """Claims Entra adds to an ID token when groupMembershipClaims is set (security groups)."""
    with app.lock:
        groups = transitive_groups(app, oid)
    if len(groups) > JWT_GROUPS_LIMIT:
        return {"_claim_names": {"groups": "src1"},
                "_claim_sources": {"src1": {"endpoint": "https://graph.microsoft.com/v1.0/users/%s/"
                                                        "getMemberObjects" % oid}}}
    return {"groups": groups}


def client_credentials(app, req, tenant):
    """grant_type=client_credentials for an app registration with a client secret (an app that
    holds GroupMember.Read.All as an application permission): scope must be
    https://graph.microsoft.com/.default (AADSTS1002012 / 70011 otherwise)."""
    from responses import aad_error, json_resp
    cid, secret, scope = (req.form.get(k, "") for k in ("client_id", "client_secret", "scope"))
    with app.lock:
        known = app.graph.app_secrets.get(cid.lower())
    if not cid or not secret:
        return aad_error(400, "invalid_request", 900144, "The request body must contain the following "
                         "parameter: 'client_secret or client_assertion'.")
    if known is None:
        return aad_error(400, "unauthorized_client", 700016, "Application with identifier '%s' was not "
                         "found in the directory." % cid)
    if secret != known:
        return aad_error(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret "
                         "being sent in the request is the client secret value, not the client secret ID.")
    if scope != GRAPH_AUD + "/.default":
        return aad_error(400, "invalid_scope", 1002012, "The provided value for scope %s is not valid. "
                         "Client credential flows must have a scope value with /.default suffixed to the "
                         "resource identifier (application ID URI)." % scope)
    lifetime = 3599
    tok = tokens.mint(app.keys, app.authority, "app_only", aud=GRAPH_AUD, tid=tenant, lifetime=lifetime)
    with app.lock:
        app.arm.imds_tokens[tok] = (int(time.time()) + lifetime, GRAPH_AUD + "/", None)
    return json_resp(200, {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
                           "access_token": tok})


def _authorize(app, req):
    auth = req.headers.get("Authorization")
    if not auth:
        return graph_error(401, "InvalidAuthenticationToken", "Access token is empty.")
    m = re.match(r"^Bearer (\S+)$", auth)
    with app.lock:
        info = app.arm.imds_tokens.get(m.group(1)) if m else None
    if info is None:
        return graph_error(401, "InvalidAuthenticationToken", "IDX14100: JWT is not well formed.")
    exp, resource, _sub = info
    if exp < time.time():
        return graph_error(401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
    if resource.rstrip("/") != GRAPH_AUD:
        return graph_error(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
    return None


def handle_graph(app, req):
    st = app.graph
    with app.lock:
        if st.throttle > 0:
            st.throttle -= 1
            return graph_error(429, "TooManyRequests", "Too many requests.",
                               {"Retry-After": str(st.retry_after)})
    if req.method != "GET":
        return graph_error(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
    bad = _authorize(app, req)
    if bad:
        return bad
    m = re.match(r"^/v1\.0/users/([^/]+)(?:/(memberOf|transitiveMemberOf)(/microsoft\.graph\.group)?)?/?$",
                 req.path)
    if not m:
        return graph_error(400, "BadRequest", "Resource not found for the segment '%s'." % req.path.split("/")[-1])
    uid, rel = urllib.parse.unquote(m.group(1)).lower(), m.group(2)
    select = [s.strip() for s in req.query.get("$select", "").split(",") if s.strip()]
    # The fake directory holds every user a token can name (tokens.oid_for of any UPN), except
    # those a test deleted.
    with app.lock:
        known = bool(re.match(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", uid)) \
            and uid not in st.deleted
    if rel is None:
        if not known:
            return _not_found(uid)
        with app.lock:
            attrs = dict(st.attributes.get(uid, {}))
        obj = {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(%s)/$entity" % ",".join(select),
               "id": uid}
        # Graph matches $select names without regard to case and answers in the property's own
        # spelling.
        for s in select:
            for k, v in attrs.items():
                if s != "id" and k.lower() == s.lower():
                    obj[k] = v
        return _json(200, obj)
    if not known:
        # Graph answers an existing user in no group with an empty list; the fake knows users
        # through memberships or attributes; an unknown GUID is 404 as in Graph.
        return _not_found(uid)
    top = req.query.get("$top")
    try:
        n = int(top) if top is not None else PAGE_DEFAULT
    except ValueError:
        n = -1
    if n < 1 or n > PAGE_MAX:
        return graph_error(400, "Request_UnsupportedQuery", "Invalid page size specified: '%s'. Must be between "
                           "1 and 999 inclusive." % top)
    with app.lock:
        ids = transitive_groups(app, uid) if rel == "transitiveMemberOf" else direct_groups(app, uid)
        if st.page_size:
            n = min(n, st.page_size)
        rows = [group_object(app, g, select) for g in ids]
    try:
        skip = int(req.query.get("$skiptoken", "0"))
    except ValueError:
        return graph_error(400, "Request_BadRequest", "Invalid skip token.")
    body = {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#groups(%s)" % ",".join(select),
            "value": rows[skip:skip + n]}
    if skip + n < len(rows):
        q = dict(req.query)
        q["$skiptoken"] = str(skip + n)
        body["@odata.nextLink"] = "https://127.0.0.1:%d%s?%s" % (
            req.port, req.path, urllib.parse.urlencode(q, quote_via=urllib.parse.quote, safe="$,()"))
    return _json(200, body)


def _not_found(uid):
    return graph_error(404, "Request_ResourceNotFound", "Resource '%s' does not exist or one of its queried "
                       "reference-property objects are not present." % uid)


def control(app, body):
    """POST /_test/graph: groups {oid: {displayName, ...}}, attributes {user oid: {...}},
    page_size, throttle {count, retry_after}, group_claims, replace."""
    st = app.graph
    with app.lock:
        if body.get("replace"):
            st.groups, st.attributes = {}, {}
        for k, v in (body.get("groups") or {}).items():
            st.groups[k.lower()] = dict(v)
        for k, v in (body.get("attributes") or {}).items():
            st.attributes.setdefault(k.lower(), {}).update(v)
        if "page_size" in body:
            st.page_size = int(body["page_size"] or 0)
        if "throttle" in body:
            st.throttle = int(body["throttle"].get("count", 1))
            st.retry_after = int(body["throttle"].get("retry_after", 1))
        for k, v in (body.get("app_secrets") or {}).items():
            st.app_secrets[k.lower()] = v
        if "deleted" in body:
            st.deleted = {d.lower() for d in body["deleted"]}
        if "group_claims" in body:
            st.group_claims = bool(body["group_claims"])
        return {"groups": st.groups, "page_size": st.page_size, "throttle": st.throttle,
                "group_claims": st.group_claims}
