"""HTTP response helpers of the fake Entra ID: Entra's error shape and the fault switches."""
import datetime
import json
import time
import uuid

import arm
import graph


def json_resp(status, obj, headers=None):
    h = {"Content-Type": "application/json; charset=utf-8"}
    h.update(headers or {})
    return status, h, json.dumps(obj).encode()


def aad_error(status, error, code, text, headers=None):
    trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
    ts = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M:%SZ")
    desc = "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s" % (
        code, text, trace, corr, ts)
    return json_resp(status, {"error": error, "error_description": desc, "error_codes": [code],
                              "timestamp": ts, "trace_id": trace, "correlation_id": corr,
                              "error_uri": "https://login.microsoftonline.com/error?code=%d" % code},
                     headers)


def missing_param(name):
    return aad_error(400, "invalid_request", 900144,
                     "The request body must contain the following parameter: '%s'." % name)


def bad_tenant(tenant):
    return aad_error(400, "invalid_tenant", 90002,
                     "Tenant '%s' not found. Check to make sure you have the correct tenant ID and "
                     "are signing into the correct cloud. Check with your subscription administrator, "
                     "this may happen if there are no active subscriptions for the tenant." % tenant)


def slow_down_resp():
    """RFC 8628 slow_down. Entra documents no slow_down (and no AADSTS code for one) for the
    device flow, so the fake sends it only when a test asks (fault "slow_down"), in RFC 8628's
    bare shape rather than with a made-up AADSTS number."""
    return json_resp(400, {"error": "slow_down",
                           "error_description": "The client is polling too frequently."})



# Token endpoint refusals a client meets after (or instead of) a successful sign-in, with the
# `error` Entra sends and its text (Microsoft "Microsoft Entra authentication and authorization
# error codes"; the OAuth error per MSAL's handling of each: interaction/consent/CA failures come
# back as invalid_grant from /token). fault("token", "aadsts", code=N).
AADSTS = {
    50076: ("invalid_grant", "Due to a configuration change made by your administrator, or because "
            "you moved to a new location, you must use multi-factor authentication to access '%s'."
            % "CheckMyAccess"),
    50079: ("invalid_grant", "Due to a configuration change made by your administrator, or because "
            "you moved to a new location, you must enroll in multi-factor authentication to access "
            "'CheckMyAccess'."),
    53003: ("invalid_grant", "Access has been blocked by Conditional Access policies. The access "
            "policy does not allow token issuance."),
    65001: ("invalid_grant", "The user or administrator has not consented to use the application "
            "with ID '04b07795-8ddb-461a-bbee-02f9e1bf7b46' named 'Microsoft Azure CLI'. Send an "
            "interactive authorization request for this user and resource."),
    700082: ("invalid_grant", "The refresh token has expired due to inactivity. The token was "
             "issued on 2026-09-01T08:00:00.0000000Z and was inactive for 90.00:00:00."),
    70008: ("invalid_grant", "The provided authorization code or refresh token has expired due to "
            "inactivity. Send a new interactive authorization request for this user and resource."),
    50058: ("invalid_grant", "A silent sign-in request was sent but no user is signed in."),
    50173: ("invalid_grant", "The provided grant has expired due to it being revoked, a fresh auth "
            "token is needed. The user might have changed or reset their password."),
}


# ------------------------------------------------------------------ faults
def fault_response(app, f, endpoint, req):
    """Response tuple for fault f, 'DOWN' to drop the connection, or None to go on."""
    mode = f["mode"]
    pathq = req.path + ("?" + req.raw_query if req.raw_query else "")
    if mode == "down":
        return "DOWN"
    if mode == "stall":
        time.sleep(float(f.get("seconds", 30)))
        return None
    if mode == "status":
        code = int(f.get("status", 503))
        if "body" in f:
            body = f["body"] if isinstance(f["body"], str) else json.dumps(f["body"])
            return code, {"Content-Type": f.get("content_type", "application/json")}, body.encode()
        if endpoint == "arm":
            return arm.arm_error(code, "InternalServerError", "Encountered internal server error.")
        if endpoint == "graph":
            return graph.graph_error(code, "serviceNotAvailable", "The service is temporarily unavailable.")
        if endpoint == "imds":
            return json_resp(code, {"error": "unknown", "error_description": "Internal error"})
        return aad_error(code, "temporarily_unavailable", 90006,
                         "The service is temporarily unavailable.")
    if mode == "throttle":
        h = {"Retry-After": str(f.get("retry_after", 1))}
        if endpoint == "arm":
            return arm.arm_error(429, "TooManyRequests", "The request is being throttled.", h)
        if endpoint == "graph":
            return graph.graph_error(429, "TooManyRequests", "Too many requests.", h)
        if endpoint == "imds":
            return json_resp(429, {"error": "too_many_requests",
                                   "error_description": "Too many requests"}, h)
        return aad_error(429, "temporarily_unavailable", 90055,
                         "There are too many incoming requests. Please retry later.", h)
    if mode == "forbidden":
        if endpoint == "arm":
            return arm.forbidden(req.path)
        return aad_error(403, "access_denied", 50105, "The signed in user is not assigned to a role.")
    if mode == "badjson":
        return 200, {"Content-Type": "application/json; charset=utf-8"}, \
            f.get("body", '{"issuer": "https://127.0.0.1", "keys": [{"kty": "RSA", "n": ').encode()
    if mode == "empty":
        return 200, {"Content-Type": "application/json; charset=utf-8"}, b""
    if mode == "huge":
        size = int(f.get("size", 10 * 1024 * 1024))
        head, tail = b'{"keys": [], "padding": "', b'"}'
        return 200, {"Content-Type": "application/json; charset=utf-8"}, \
            head + b"A" * max(0, size - len(head) - len(tail)) + tail
    if mode == "redirect_http":
        loc = "http://127.0.0.1:%d%s" % (app.ports["http"], pathq)
        return int(f.get("status", 302)), {"Location": loc, "Content-Length": "0"}, b""
    if mode == "redirect_other":
        loc = "https://127.0.0.2:%d%s" % (app.ports["https"], pathq)
        return int(f.get("status", 302)), {"Location": loc}, b""
    if mode == "slow_down":
        return slow_down_resp()
    if mode == "aadsts":
        code = int(f.get("code", 0))
        if code not in AADSTS:
            raise ValueError("no documented AADSTS%d in the fake" % code)
        error, text = AADSTS[code]
        return aad_error(400, error, code, text)
    raise ValueError("unknown fault mode %r" % mode)


