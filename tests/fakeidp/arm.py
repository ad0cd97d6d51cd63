"""IMDS (plain HTTP) and Azure Resource Manager role assignments for the fake Entra ID.

The functions take the server's App (state) and a Req, and return (status, headers, body).
"""
import json
import re
import time
import urllib.parse
import uuid

import tokens
from tokens import ADMIN_ROLE_ID, USER_ROLE_ID, guid_for

DEFAULT_SUB = "7d3e9f1a-2b4c-4d5e-8f6a-9b0c1d2e3f4a"
DEFAULT_RG = "rg-entra-login"
DEFAULT_VM = "vm-test-01"
ROLE_ALIASES = {"admin": ADMIN_ROLE_ID, "user": USER_ROLE_ID,
                "reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
                "owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"}
RA_SUFFIX = "/providers/microsoft.authorization/roleassignments"


def vm_resource_id(sub=DEFAULT_SUB, rg=DEFAULT_RG, vm=DEFAULT_VM):
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s" % (
        sub, rg, vm)


def parse_vm(resource_id):
    m = re.match(r"^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/"
                 r"Microsoft\.Compute/virtualMachines/([^/]+)$", resource_id, re.I)
    if not m:
        raise ValueError("not a VM resource id: %r" % resource_id)
    return m.groups()


class ArmState:
    def __init__(self):
        self.vm_id = vm_resource_id()
        self.assignments = []       # list of dicts: principal, role_id, scope, type, name
        self.groups = {}            # member oid -> [group oids]
        self.imds_tokens = {}       # token -> exp
        self.page_size = 0          # 0 = no paging
        self.identity = True        # VM has a system-assigned identity
        self.reader_scope = None    # None = the VM's own resource id

    def scope_for(self, s):
        sub, rg, vm = parse_vm(self.vm_id)
        named = {"vm": self.vm_id, "rg": "/subscriptions/%s/resourceGroups/%s" % (sub, rg),
                 "resource_group": "/subscriptions/%s/resourceGroups/%s" % (sub, rg),
                 "subscription": "/subscriptions/%s" % sub,
                 "other_vm": vm_resource_id(sub, rg, "vm-other-99"),
                 # a child resource of the VM: ARM lists it below the VM scope (no login right)
                 "vm_child": self.vm_id + "/extensions/AADSSHLoginForLinux",
                 "other_rg": "/subscriptions/%s/resourceGroups/rg-other" % sub,
                 "other_subscription": "/subscriptions/%s" % guid_for("other-sub")}
        return named.get(s, s)

    def set_assignments(self, items, replace=True):
        if replace:
            self.assignments = []
        for it in items:
            role = it.get("role", "user")
            scope = self.scope_for(it.get("scope", "vm"))
            principal = it["principal"]
            self.assignments.append({
                "principal": principal,
                "role_id": ROLE_ALIASES.get(role, role),
                "scope": scope,
                "type": it.get("type") or ("Group" if principal in self.all_groups() else "User"),
                "name": it.get("name") or str(uuid.uuid4()),
            })

    def all_groups(self):
        return {g for gs in self.groups.values() for g in gs}

    def principals_of(self, oid):
        """oid plus every group it is (transitively) a member of."""
        seen, todo = set(), [oid.lower()]
        lower = {k.lower(): [g.lower() for g in v] for k, v in self.groups.items()}
        while todo:
            p = todo.pop()
            if p in seen:
                continue
            seen.add(p)
            todo.extend(lower.get(p, []))
        return seen


def _under(scope, ancestor):
    s, a = scope.lower().rstrip("/"), ancestor.lower().rstrip("/")
    return a == "" or s == a or s.startswith(a + "/")


def _json(status, obj, headers=None):
    h = {"Content-Type": "application/json; charset=utf-8"}
    h.update(headers or {})
    return status, h, json.dumps(obj).encode()


def arm_error(status, code, message, headers=None):
    return _json(status, {"error": {"code": code, "message": message}}, headers)


def imds_error(status, err, desc=None):
    body = {"error": err}
    if desc is not None:
        body["error_description"] = desc
    return _json(status, body)


# ---------------------------------------------------------------- IMDS
def handle_imds(app, req):
    st = app.arm
    path = req.path
    if "X-Forwarded-For" in req.headers:
        return imds_error(400, "Bad request. X-Forwarded-For header is not allowed.")
    if path == "/metadata/identity/oauth2/token":
        if req.headers.get("Metadata") != "true":
            return imds_error(400, "invalid_request", "Required metadata header not specified")
        if "api-version" not in req.query:
            return imds_error(400, "invalid_request", "Required query variable 'api-version' is missing")
        resource = req.query.get("resource")
        if not resource:
            return imds_error(400, "invalid_request", "Required audience parameter not specified")
        if not st.identity:
            return imds_error(400, "invalid_request", "Identity not found")
        lifetime = app.config["imds_token_lifetime"]
        with app.lock:
            sub = parse_vm(st.vm_id)[0]
        tok = tokens.mint(app.keys, app.authority, "imds", aud=resource, tid=app.tenant,
                          lifetime=lifetime, backdate=0,
                          claims={"xms_mirid": st.vm_id, "xms_az_rid": st.vm_id.lower()})
        now = int(time.time())
        with app.lock:
            st.imds_tokens[tok] = (now + lifetime, resource, sub)
        return _json(200, {"access_token": tok, "client_id": tokens.MI_CLIENT_ID,
                           "expires_in": str(lifetime), "expires_on": str(now + lifetime),
                           "ext_expires_in": str(lifetime), "not_before": str(now),
                           "resource": resource, "token_type": "Bearer"})
    if path.startswith("/metadata/instance"):
        if req.headers.get("Metadata") != "true":
            return imds_error(400, "Bad request. Required metadata header not specified")
        if "api-version" not in req.query:
            return _json(400, {"error": "Bad request. api-version was not specified in the request. "
                                        "For more information refer to aka.ms/azureimds",
                               "newest-versions": ["2023-07-01", "2021-12-13", "2021-11-15"]})
        sub, rg, vm = parse_vm(st.vm_id)
        compute = {"resourceId": st.vm_id, "subscriptionId": sub, "resourceGroupName": rg,
                   "name": vm, "location": "westeurope", "osType": "Linux",
                   "vmId": guid_for("vmid:" + st.vm_id), "azEnvironment": "AzurePublicCloud"}
        rest = path[len("/metadata/instance"):].strip("/").split("/")
        node = {"compute": compute, "network": {"interface": []}}
        for part in [p for p in rest if p]:
            if not isinstance(node, dict) or part not in node:
                return _json(404, {"error": "Not found"})
            node = node[part]
        if req.query.get("format") == "text" and not isinstance(node, (dict, list)):
            return 200, {"Content-Type": "text/plain; charset=utf-8"}, str(node).encode()
        return _json(200, node)
    return _json(404, {"error": "Not found"})


# ---------------------------------------------------------------- ARM
FILTER_RE = re.compile(r"^\s*(?:assignedTo\('([^']*)'\)|principalId\s+eq\s+'([^']*)'|(atScope\(\)))"
                       r"(?:\s+and\s+(?:assignedTo\('([^']*)'\)|(atScope\(\))))?\s*$", re.I)


def handle_arm(app, req):
    st = app.arm
    lp = req.path.lower()
    if not lp.endswith(RA_SUFFIX):
        return arm_error(404, "InvalidResourceType",
                         "The resource type could not be found in the namespace for api version.")
    scope = req.path[:-len(RA_SUFFIX)]
    if req.method != "GET":
        return arm_error(405, "MethodNotAllowed", "The requested method is not allowed.")
    auth = req.headers.get("Authorization")
    if not auth:
        return arm_error(401, "AuthenticationFailed",
                         "Authentication failed. The 'Authorization' header is missing.",
                         {"WWW-Authenticate": 'Bearer authorization_uri="https://login.windows.net/", '
                                              'error="invalid_token", error_description="The '
                                              'authentication failed because of missing '
                                              '\'Authorization\' header."'})
    m = re.match(r"^Bearer (\S+)$", auth)
    with app.lock:
        info = st.imds_tokens.get(m.group(1)) if m else None
    if info is None:
        return arm_error(401, "InvalidAuthenticationToken",
                         "The access token is invalid.",
                         {"WWW-Authenticate": 'Bearer authorization_uri="https://login.windows.net/", '
                                              'error="invalid_token", error_description="The access '
                                              'token is invalid."'})
    exp, resource, _sub = info
    if exp < time.time():
        return arm_error(401, "ExpiredAuthenticationToken",
                         "The access token expiry UTC time is earlier than current UTC time.")
    if resource.rstrip("/") != tokens.ARM_AUD.rstrip("/"):
        return arm_error(401, "InvalidAuthenticationTokenAudience",
                         "The access token has been obtained for wrong audience or resource '%s'. "
                         "It should exactly match with one of the allowed audiences "
                         "'https://management.core.windows.net/','https://management.azure.com/'."
                         % resource)
    if "api-version" not in req.query:
        return arm_error(400, "MissingApiVersionParameter",
                         "The api-version query parameter (?api-version=) is required for all requests.")
    with app.lock:
        reader = st.reader_scope or st.vm_id
    if not _under(scope, reader):
        return forbidden(scope)
    flt = req.query.get("$filter")
    fm = None
    principals = None
    if flt:
        fm = FILTER_RE.match(flt)
        if not fm:
            return arm_error(400, "UnsupportedQuery",
                             "The filter '%s' is not supported. Supported filters are either "
                             "'atScope()' or 'principalId eq '{value}' or assignedTo('{value}')'." % flt)
        at, pid = fm.group(1) or fm.group(4), fm.group(2)
        if at is not None:
            with app.lock:
                principals = st.principals_of(at)
        elif pid is not None:
            principals = {pid.lower()}
    # ARM (Role Assignments - List For Scope): atScope() gives the assignments at or above the
    # scope; without it (no filter, principalId eq, assignedTo) those below the scope come too
    # (e.g. on a child resource of the VM): the client must check each assignment's scope itself.
    at_scope_only = bool(flt) and bool(fm.group(3) or fm.group(5))
    with app.lock:
        rows = [a for a in st.assignments
                if (_under(scope, a["scope"]) or (not at_scope_only and _under(a["scope"], scope)))
                and (principals is None or a["principal"].lower() in principals)]
        page = st.page_size
        vm_sub = parse_vm(st.vm_id)[0]
    rows.sort(key=lambda a: (a["scope"].lower(), a["name"]))
    try:
        skip = int(req.query.get("$skiptoken", "0"))
    except ValueError:
        return arm_error(400, "InvalidSkipToken", "The skip token is invalid.")
    chunk = rows[skip:skip + page] if page else rows[skip:]
    value = []
    for a in chunk:
        sub = a["scope"].split("/")[2] if a["scope"].lower().startswith("/subscriptions/") else vm_sub
        value.append({
            "id": "%s/providers/Microsoft.Authorization/roleAssignments/%s" % (a["scope"].rstrip("/"),
                                                                             a["name"]),
            "name": a["name"],
            "type": "Microsoft.Authorization/roleAssignments",
            "properties": {
                "roleDefinitionId": "/subscriptions/%s/providers/Microsoft.Authorization/"
                                    "roleDefinitions/%s" % (sub, a["role_id"]),
                "principalId": a["principal"], "principalType": a["type"], "scope": a["scope"],
                "condition": None, "conditionVersion": None,
                "createdOn": "2024-01-15T10:00:00.0000000Z", "updatedOn": "2024-01-15T10:00:00.0000000Z",
                "createdBy": guid_for("creator"), "updatedBy": guid_for("creator"),
                "delegatedManagedIdentityResourceId": None, "description": None}})
    body = {"value": value}
    if page and skip + page < len(rows):
        q = dict(req.query)
        q["$skiptoken"] = str(skip + page)
        body["nextLink"] = "https://127.0.0.1:%d%s?%s" % (req.port, req.path,
                                                          urllib.parse.urlencode(q, quote_via=urllib.parse.quote))
    return _json(200, body)


def forbidden(scope):
    return arm_error(403, "AuthorizationFailed",
                     "The client '%s' with object id '%s' does not have authorization to perform "
                     "action 'Microsoft.Authorization/roleAssignments/read' over scope '%s' or the "
                     "scope is invalid. If access was recently granted, please refresh your "
                     "credentials." % (tokens.MI_OBJECT_ID, tokens.MI_OBJECT_ID, scope))
