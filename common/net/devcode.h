/* devcode.h - the OAuth 2.0 device authorization grant (RFC 8628) against
 * the tenant's discovered endpoints.
 *
 * We ask for "openid profile" only: no refresh token, no API token, so a
 * host never holds anything usable elsewhere. The returned ID token is
 * handed back unvalidated: the caller runs jwt_validate() on it.
 * Thread-safe (no shared state). No logging.
 */
#ifndef EL_DEVCODE_H
#define EL_DEVCODE_H

#include <stdint.h>

#include "conf.h"
#include "err.h"
#include "oidc.h"

#define DEVCODE_SCOPE "openid profile"
#define DEVCODE_GRANT_TYPE "urn:ietf:params:oauth:grant-type:device_code"
#define DEVCODE_DEFAULT_INTERVAL 5	/* RFC 8628 3.2 */
#define DEVCODE_SLOW_DOWN_STEP 5	/* RFC 8628 3.5 */
#define DEVCODE_MAX_INTERVAL 60
#define DEVCODE_SERVER_ERRORS_MAX 3	/* consecutive 5xx / non-JSON answers before giving up */

struct devcode_grant {
	char *device_code;		/* secret: wiped on free */
	char *user_code;		/* [A-Z0-9-], shown to the user */
	char *verification_uri;		/* https URL, printable */
	unsigned interval;		/* seconds between polls, >= 1 */
	uint64_t expires_at_ms;		/* http_now_ms clock */
	unsigned polls;			/* token requests made so far */
};

/* Request a code. Returns 0 with *ret_grant (free with devcode_grant_free),
 * EL_ERR_DEVICE_PROTOCOL (answer malformed or refused), EL_ERR_JSON,
 * EL_ERR_HTTP_*, EL_ERR_NOMEM. */
int devcode_start(const struct el_config *cfg, const struct oidc_meta *meta, uint64_t deadline_ms,
		  struct devcode_grant **ret_grant) EL_MUST_CHECK;

/* One token request. Returns 0 with *ret_id_token (malloc'ed secret, caller
 * wipes and frees), EL_ERR_DEVICE_PENDING (also after slow_down, which
 * raises grant->interval), EL_ERR_DEVICE_DECLINED, EL_ERR_DEVICE_EXPIRED,
 * EL_ERR_DEVICE_BAD_CODE, EL_ERR_DEVICE_PROTOCOL, EL_ERR_TOKEN_TOO_LONG
 * (the id_token is longer than EL_TOKEN_MAX: a refusal), EL_ERR_HTTP_*. */
int devcode_poll_once(const struct el_config *cfg, const struct oidc_meta *meta, struct devcode_grant *grant,
		      uint64_t deadline_ms, char **ret_id_token) EL_MUST_CHECK;

/* Poll every grant->interval seconds until an answer, the code's expiry or
 * deadline_ms. Transient HTTP failures and 5xx are retried inside the
 * deadline, but DEVCODE_SERVER_ERRORS_MAX consecutive server errors (5xx
 * or a non-JSON body: EL_ERR_HTTP_STATUS, EL_ERR_JSON) end the wait with
 * that error. Returns what devcode_poll_once returns, or
 * EL_ERR_DEVICE_TIMEOUT / EL_ERR_DEVICE_EXPIRED when time runs out. */
int devcode_wait(const struct el_config *cfg, const struct oidc_meta *meta, struct devcode_grant *grant,
		 uint64_t deadline_ms, char **ret_id_token) EL_MUST_CHECK;

void devcode_grant_free(struct devcode_grant *grant);

#endif
