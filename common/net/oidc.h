/* oidc.h - OpenID Connect discovery for the configured tenant.
 *
 * The document at {authority}/{tenant_id}/v2.0/.well-known/openid-configuration
 * is accepted only if its issuer equals cfg->issuer exactly and every
 * endpoint we use is https on the authority's own scheme, host and port.
 * The accepted endpoints are cached in {state_dir}/openid-configuration.json
 * (0644, root, atomic), so later logins make no discovery request; the
 * cache is trusted only if root-owned, not group/world-writable, and made
 * for the current authority and tenant. It is used for OIDC_CACHE_MAX_AGE
 * seconds, and after that still used if a fresh fetch fails, up to
 * OIDC_CACHE_HARD_MAX_AGE: past that, with no fresh copy, EL_ERR_DISCOVERY.
 *
 * Thread-safe (no shared state; concurrent writers replace the cache
 * atomically). No logging.
 */
#ifndef EL_OIDC_H
#define EL_OIDC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "err.h"

#define OIDC_CACHE_MAX_AGE (24 * 3600)
#define OIDC_CACHE_HARD_MAX_AGE (7 * 24 * 3600)

struct oidc_meta {
	char *issuer;				/* == cfg->issuer */
	char *jwks_uri;
	char *token_endpoint;
	char *device_authorization_endpoint;
	time_t fetched;				/* when it came from the network */
	bool from_cache;
};

/* The endpoints for cfg: from the cache if fresh and trustworthy, else
 * fetched (and the cache rewritten; a failed cache write is not an error).
 * deadline_ms as in http.h (0 = http_timeout). *ret_meta is new, free with
 * oidc_meta_free(). Returns 0, EL_ERR_DISCOVERY (bad document), EL_ERR_JSON,
 * EL_ERR_HTTP_* (unreachable and no usable cache), EL_ERR_NOMEM. */
int oidc_discover(const struct el_config *cfg, uint64_t deadline_ms, struct oidc_meta **ret_meta) EL_MUST_CHECK;

/* Always fetch (status, tests); rewrites the cache on success. */
int oidc_fetch(const struct el_config *cfg, uint64_t deadline_ms, struct oidc_meta **ret_meta) EL_MUST_CHECK;

/* Validate a discovery document (text, len) against cfg.
 * Returns 0, EL_ERR_JSON, EL_ERR_DISCOVERY, EL_ERR_NOMEM. */
int oidc_parse(const struct el_config *cfg, const char *text, size_t len, struct oidc_meta **ret_meta) EL_MUST_CHECK;

/* True if url is https with exactly the scheme, host and port of
 * cfg->authority (":443" and no port are the same). */
bool oidc_same_origin(const char *authority, const char *url);

void oidc_meta_free(struct oidc_meta *meta);

#endif
