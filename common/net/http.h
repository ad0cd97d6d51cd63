/* http.h - the one HTTP client (libcurl) used for discovery, JWKS, the
 * device flow, IMDS and ARM.
 *
 * libcurl is not linked: the first request dlopens libcurl.so.4 (by that
 * SONAME, found the way the dynamic linker finds a linked library) and resolves
 * the few functions http.c calls, so commands that never go to the network
 * (authorized-keys deciding from its caches, status, users, ...) do not pay for
 * loading libcurl's ~30 libraries. If it cannot be loaded, or is older than
 * 7.85, every request fails with EL_ERR_HTTP_LIB (fail closed; "unavailable").
 *
 * Policy, not options: HTTPS only, except URLs under the configured imds_url
 * (which may be plain http); never a proxy (CURLOPT_PROXY "", NOPROXY "*":
 * https_proxy, ALL_PROXY and the like are ignored, even by the CLI); TLS peer and host
 * verification always on, cfg->ca_file as the trust store when set; no
 * redirect is followed (a 3xx is EL_ERR_HTTP_REDIRECT); bodies over
 * EL_HTTP_BODY_MAX abort the transfer; each attempt is bounded by
 * cfg->http_timeout and by the caller's absolute deadline; 429 and 503 are
 * retried at most twice, honouring Retry-After if the wait fits before the
 * deadline.
 *
 * Thread-safe: every call uses its own curl handle; curl_global_init runs
 * once (pthread_once) and curl_global_cleanup never (its users, the CLI and
 * the PAM helper, are short-lived processes; the PAM module itself never
 * links this). No logging.
 */
#ifndef EL_HTTP_H
#define EL_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"

struct http_response {
	long status;		/* final HTTP status (never 3xx) */
	char *body;		/* owned, NUL-terminated, at most EL_HTTP_BODY_MAX bytes */
	size_t len;		/* body bytes, without the NUL */
};

/* An application/x-www-form-urlencoded body under construction. Start it
 * zeroed (struct http_form f = { 0 };). Values may be secrets (device
 * codes): the buffer is wiped when freed. */
struct http_form {
	char *buf;
	size_t len, cap;
};

/* Append "name=value" (both percent-encoded, '&'-separated).
 * Returns 0, EL_ERR_NOMEM, EL_ERR_RANGE (over EL_HTTP_BODY_MAX). */
int http_form_add(struct http_form *form, const char *name, const char *value) EL_MUST_CHECK;
/* Wipe and free the buffer; the struct may be reused after. NULL-safe. */
void http_form_free(struct http_form *form);

/* Milliseconds of CLOCK_MONOTONIC; deadlines below are on this clock. */
uint64_t http_now_ms(void);
/* http_now_ms() + seconds * 1000. */
uint64_t http_deadline_in(unsigned seconds);

/* GET url. headers: NULL or a NULL-terminated array of "Name: value"
 * strings (e.g. "Metadata: true"). deadline_ms: absolute (http_now_ms
 * clock) for the whole call, retries included; 0 = now + cfg->http_timeout.
 * Each attempt is also capped at cfg->http_timeout.
 * On success (any non-3xx status, including 4xx/5xx: the caller decides)
 * *ret_resp is set; free it with http_response_free().
 * Returns 0, EL_ERR_HTTP_LIB, EL_ERR_HTTP_SCHEME, EL_ERR_HTTP_CONNECT, EL_ERR_HTTP_TIMEOUT,
 * EL_ERR_HTTP_TLS, EL_ERR_HTTP_TOO_BIG, EL_ERR_HTTP_REDIRECT,
 * EL_ERR_HTTP_THROTTLED (still 429 after the retries), EL_ERR_INVAL,
 * EL_ERR_NOMEM. */
int http_get(const struct el_config *cfg, const char *url, const char *const *headers, uint64_t deadline_ms,
	     struct http_response **ret_resp) EL_MUST_CHECK;

/* POST form (may be NULL or empty) as application/x-www-form-urlencoded.
 * Same rules and results as http_get. */
int http_post_form(const struct el_config *cfg, const char *url, const char *const *headers,
		   const struct http_form *form, uint64_t deadline_ms, struct http_response **ret_resp) EL_MUST_CHECK;

/* Let curl take a proxy from the environment (https_proxy, no_proxy, ...) for
 * the rest of the process. For entra-ssh only: a user's own tool follows the
 * user's proxy. The root programs (pam-helper, entra-login) never call it. */
void http_use_environment_proxy(void);
/* Wipes the body (it may hold a token) and frees. NULL-safe. */
void http_response_free(struct http_response *resp);

/* Which scheme url may use under cfg: "https", or "http" for a URL under
 * an http cfg->imds_url; NULL if the URL is
 * not allowed at all (EL_ERR_HTTP_SCHEME). Exposed for tests. */
const char *http_allowed_protocols(const struct el_config *cfg, const char *url);

/* True for the codes that mean "the identity provider could not be asked"
 * (PAM maps them to PAM_AUTHINFO_UNAVAIL, the CLI to exit 3). */
static inline int http_err_unavailable(int r)
{
	return (r <= EL_ERR_HTTP_CONNECT && r >= EL_ERR_HTTP_THROTTLED) || r == EL_ERR_HTTP_LIB;
}

#endif
