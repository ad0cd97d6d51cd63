/* err.h - entra-login error codes.
 *
 * Every function in common/ returns 0 or a negative EL_ERR_* code. Each
 * rejection of a token has its own code so logs and tests can tell them
 * apart. el_strerror() gives a short English text, el_errname() the symbol
 * (used by the token corpus). Both are thread-safe and never return NULL.
 */
#ifndef EL_ERR_H
#define EL_ERR_H

#define EL_MUST_CHECK __attribute__((warn_unused_result))
#define EL_PUBLIC __attribute__((visibility("default")))

/* X(symbol, text) - the order fixes the numeric values (negated index). */
/* EL_ERR_TOKEN_TOO_LONG .. EL_ERR_TOKEN_CLAIM_TYPE stay one run: pamhelper/auth.c
 * (token_refused) tells a refused token from a host problem by that range. */
#define EL_ERR_LIST(X) \
	X(EL_OK, "success") \
	X(EL_ERR_NOMEM, "out of memory") \
	X(EL_ERR_INVAL, "invalid argument") \
	X(EL_ERR_IO, "input/output error") \
	X(EL_ERR_RANGE, "buffer too small") \
	X(EL_ERR_NOT_OURS, "not a directory user name") \
	X(EL_ERR_NOT_FOUND, "not found") \
	X(EL_ERR_CONFIG, "configuration error") \
	X(EL_ERR_INSECURE, "file has unsafe owner or permissions") \
	X(EL_ERR_CORRUPT, "file is corrupt") \
	X(EL_ERR_LOCK, "the user database is locked by another process (a stopped or hung entra-login? see users.lock in /proc/locks); try again") \
	X(EL_ERR_FULL, "no free id left in the range") \
	X(EL_ERR_HTTP_CONNECT, "identity provider unreachable") \
	X(EL_ERR_HTTP_TIMEOUT, "identity provider timed out") \
	X(EL_ERR_HTTP_TLS, "TLS verification failed") \
	X(EL_ERR_HTTP_STATUS, "identity provider returned an error status") \
	X(EL_ERR_HTTP_TOO_BIG, "response too large") \
	X(EL_ERR_HTTP_SCHEME, "URL scheme not allowed") \
	X(EL_ERR_HTTP_REDIRECT, "redirect refused") \
	X(EL_ERR_HTTP_THROTTLED, "identity provider throttled the request") \
	X(EL_ERR_JSON, "malformed JSON response") \
	X(EL_ERR_DISCOVERY, "OpenID discovery document invalid") \
	X(EL_ERR_JWKS, "signing key set invalid") \
	X(EL_ERR_TOKEN_TOO_LONG, "token too long") \
	X(EL_ERR_TOKEN_FORMAT, "token is not three dot-separated parts") \
	X(EL_ERR_TOKEN_BASE64, "token part is not strict base64url") \
	X(EL_ERR_TOKEN_HEADER, "token header is not a valid JSON object") \
	X(EL_ERR_TOKEN_ALG, "token algorithm is not RS256") \
	X(EL_ERR_TOKEN_HEADER_FORBIDDEN, "token header carries a forbidden field (jku, x5u, jwk, crit)") \
	X(EL_ERR_TOKEN_KID_MISSING, "token header has no key id") \
	X(EL_ERR_TOKEN_KID_UNKNOWN, "token key id is not in the tenant's key set") \
	X(EL_ERR_TOKEN_KEY_WEAK, "signing key is weaker than 2048 bits") \
	X(EL_ERR_TOKEN_SIGNATURE, "token signature invalid") \
	X(EL_ERR_TOKEN_CLAIMS, "token claims are not a valid JSON object") \
	X(EL_ERR_TOKEN_DUPLICATE, "token JSON has a duplicate member") \
	X(EL_ERR_TOKEN_ISSUER, "token issuer not accepted") \
	X(EL_ERR_TOKEN_TENANT, "token tenant does not match") \
	X(EL_ERR_TOKEN_AUDIENCE, "token audience not accepted") \
	X(EL_ERR_TOKEN_EXP_MISSING, "token has no expiry") \
	X(EL_ERR_TOKEN_EXP_TYPE, "token expiry is not an integer") \
	X(EL_ERR_TOKEN_EXPIRED, "token expired") \
	X(EL_ERR_TOKEN_NBF_TYPE, "token not-before is not an integer") \
	X(EL_ERR_TOKEN_NOT_YET_VALID, "token not yet valid") \
	X(EL_ERR_TOKEN_IAT_MISSING, "token has no issued-at time") \
	X(EL_ERR_TOKEN_IAT_TYPE, "token issued-at is not an integer") \
	X(EL_ERR_TOKEN_IAT_FUTURE, "token issued in the future") \
	X(EL_ERR_TOKEN_TOO_OLD, "token older than token_max_age") \
	X(EL_ERR_TOKEN_OID, "token object id missing or not a GUID") \
	X(EL_ERR_TOKEN_APP_ONLY, "app-only tokens are not accepted") \
	X(EL_ERR_TOKEN_NO_NAME, "token carries no user name") \
	X(EL_ERR_TOKEN_USER_MISMATCH, "token is for another user") \
	X(EL_ERR_TOKEN_CLAIM_TYPE, "token claim has the wrong type") \
	X(EL_ERR_DEVICE_PENDING, "sign-in not completed yet") \
	X(EL_ERR_DEVICE_DECLINED, "sign-in was declined") \
	X(EL_ERR_DEVICE_EXPIRED, "sign-in code expired") \
	X(EL_ERR_DEVICE_BAD_CODE, "sign-in code not recognised") \
	X(EL_ERR_DEVICE_TIMEOUT, "sign-in not completed in time") \
	X(EL_ERR_DEVICE_ABORTED, "sign-in cancelled") \
	X(EL_ERR_DEVICE_PROTOCOL, "identity provider answered the device flow unexpectedly") \
	X(EL_ERR_ROLE_NONE, "user holds neither VM login role") \
	X(EL_ERR_ROLE_UNAVAILABLE, "role source unavailable") \
	X(EL_ERR_ARM_FORBIDDEN, "VM identity may not read role assignments") \
	X(EL_ERR_BOUND_OTHER, "name is bound to another directory object") \
	X(EL_ERR_TOKEN_KIND, "token is not of the expected kind (ID token vs access token)") \
	X(EL_ERR_TOKEN_NAME, "token user name is not a valid directory user name") \
	X(EL_ERR_ABORTED, "conversation aborted") \
	X(EL_ERR_UID_CHANGED, "the UID announced to this login was taken by another user during the login; retry") \
	X(EL_ERR_OID_OTHER_NAME, "directory object is bound to another name on this host (entra-login rename OLD NEW)") \
	X(EL_ERR_CERT_BASE64, "certificate is not strict base64") \
	X(EL_ERR_CERT_TOO_BIG, "certificate larger than 16 KiB") \
	X(EL_ERR_CERT_KEY_TYPE, "key is not an ssh-rsa-cert-v01@openssh.com certificate") \
	X(EL_ERR_CERT_TRUNCATED, "certificate truncated") \
	X(EL_ERR_CERT_TRAILING, "certificate has trailing bytes") \
	X(EL_ERR_CERT_FORMAT, "certificate field malformed") \
	X(EL_ERR_CERT_USER_KEY, "certificate key is not RSA of at least 2048 bits") \
	X(EL_ERR_CERT_NOT_USER, "certificate is not a user certificate") \
	X(EL_ERR_CERT_CRITICAL, "certificate carries critical options") \
	X(EL_ERR_CERT_KEY_ID, "certificate key id is not <oid>@<tid>") \
	X(EL_ERR_CERT_EXT_MISSING, "certificate lacks the oid or tid extension") \
	X(EL_ERR_CERT_EXT_DUPLICATE, "certificate repeats the oid or tid extension") \
	X(EL_ERR_CERT_EXT_FORMAT, "certificate oid or tid extension is not a wrapped GUID") \
	X(EL_ERR_CERT_EXT_MISMATCH, "certificate oid/tid extensions differ from the key id") \
	X(EL_ERR_CERT_TENANT, "certificate is for another tenant") \
	X(EL_ERR_CERT_VALIDITY, "certificate validity window is empty") \
	X(EL_ERR_CERT_EXPIRED, "certificate expired") \
	X(EL_ERR_CERT_NOT_YET_VALID, "certificate not yet valid") \
	X(EL_ERR_CERT_PRINCIPALS, "certificate does not name exactly one principal") \
	X(EL_ERR_CERT_PRINCIPAL_CHARS, "certificate principal holds a quote, comma, space or control byte") \
	X(EL_ERR_CERT_USER_MISMATCH, "certificate principal is not the login name") \
	X(EL_ERR_CERT_NAME, "certificate principal is not a directory name of this host") \
	X(EL_ERR_CERT_CA_FORMAT, "certificate signature key is not an RSA key") \
	X(EL_ERR_CERT_CA_UNKNOWN, "certificate signed by a key not in the trusted CA set") \
	X(EL_ERR_CERT_CA_WEAK, "certificate CA key is weaker than 2048 bits or has an odd exponent") \
	X(EL_ERR_CERT_CA_CONSUMER, "certificate CA key belongs to the consumer (MSA) tenant") \
	X(EL_ERR_CERT_CA_STALE, "trusted CA key set is older than ssh_ca_max_age") \
	X(EL_ERR_CERT_SIG_ALG, "certificate signature algorithm is not rsa-sha2-256/512") \
	X(EL_ERR_CERT_SIGNATURE, "certificate signature invalid") \
	X(EL_ERR_CERT_NO_ROLE_SOURCE, "no role source usable without a token (need arm or static)") \
	X(EL_ERR_NO_CERT_GRANT, "publickey login of a directory user without a certificate granted by authorized-keys") \
	X(EL_ERR_HTTP_LIB, "libcurl.so.4 (>= 7.85) could not be loaded: no network requests possible") \
	X(EL_ERR_NAME_RETIRED, "name was renamed or forgotten on this host: an administrator must release it (entra-login release NAME)") \
	X(EL_ERR_NAME_BLOCKED, "name is blocked on this host (entra-login unblock NAME)") \
	X(EL_ERR_BINDING_CHANGED, "name was rebound, forgotten or blocked while its role was decided: nothing written") \
	X(EL_ERR_DB_NOSPACE, "the user database cannot be written: no space left on device") \
	X(EL_ERR_DB_READONLY, "the user database cannot be written: read-only file system") \
	X(EL_ERR_DB_WRITE, "the user database cannot be written: input/output error") \
	X(EL_ERR_NEWER_FORMAT, "file written by a newer entra-login (format version too new); upgrade entra-login") \
	X(EL_ERR_UID_PINNED, "the account was set up with its directory UID during this login; connect again") \
	X(EL_ERR_POSIX_ATTR, "the directory's UID, shell or home for this user cannot be used on this host")

#define EL_ERR_ENUM_(sym, text) sym##_IDX,
enum el_err_index { EL_ERR_LIST(EL_ERR_ENUM_) EL_ERR_COUNT_ };
#undef EL_ERR_ENUM_
#define EL_ERR_DEFINE_(sym, text) sym = -(int)sym##_IDX,
enum el_err { EL_ERR_LIST(EL_ERR_DEFINE_) };
#undef EL_ERR_DEFINE_

/* Short text for a code (0 or negative). Unknown codes give "unknown error". */
const char *el_strerror(int r);
/* Symbol for a code, e.g. "EL_ERR_TOKEN_ALG". */
const char *el_errname(int r);
/* Code for a symbol, or 1 if there is none. */
int el_errfromname(const char *name);

#endif
