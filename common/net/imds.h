/* imds.h - this VM's identity from the Azure instance metadata service:
 * the managed-identity access token for Azure Resource Manager and the
 * VM's resource id.
 *
 *   GET {imds_url}/metadata/identity/oauth2/token?api-version=2018-02-01
 *       &resource=https://management.azure.com/         (Metadata: true)
 *   GET {imds_url}/metadata/instance/compute/resourceId?api-version=2021-02-01
 *       &format=text                                    (Metadata: true)
 *
 * Both are cached until IMDS_REFRESH_MARGIN seconds before the token
 * expires: in memory (per process, keyed by imds_url and state_dir), and in
 * {state_dir}/imds-token.json so that pam_entra.so, loaded afresh for each
 * login, does not ask IMDS every time. The token is a secret: the file is
 * written 0600 and trusted only if it is a regular file owned by root (or
 * the caller's euid), with no group or other permission bits at all; it is
 * bound to the imds_url it came from. Buffers holding it are wiped.
 *
 * Thread-safe (one mutex around the in-memory cache). No logging.
 */
#ifndef EL_IMDS_H
#define EL_IMDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "err.h"

#define IMDS_TOKEN_API "2018-02-01"
#define IMDS_INSTANCE_API "2021-02-01"
#define IMDS_ARM_RESOURCE "https://management.azure.com/"
#define IMDS_CACHE_FILE "imds-token.json"
#define IMDS_REFRESH_MARGIN 300			/* seconds before expiry we fetch a new token */
#define IMDS_LIFETIME_MAX (7 * 24 * 3600)	/* longer expires_in values are clamped */
#define IMDS_RESOURCE_ID_MAX 1024

struct imds_identity {
	char *access_token;	/* secret: wiped by imds_identity_free */
	char *resource_id;	/* "/subscriptions/.../virtualMachines/NAME" */
	time_t expires;		/* wall clock */
	bool from_cache;	/* memory or file, no IMDS request */
};

/* The identity for cfg at time now: from memory, else the cache file, else
 * IMDS (then both caches are rewritten; a failed file write is not an
 * error). deadline_ms as in http.h. *ret_id is new; free with
 * imds_identity_free. Returns 0, EL_ERR_HTTP_* (IMDS unreachable, an error
 * status is EL_ERR_HTTP_STATUS), EL_ERR_JSON (malformed answer), EL_ERR_NOMEM. */
int imds_identity_get(const struct el_config *cfg, uint64_t deadline_ms, time_t now,
		      struct imds_identity **ret_id) EL_MUST_CHECK;

/* Drop the cached identity of cfg, memory and file (ARM refused the token). */
void imds_identity_forget(const struct el_config *cfg);

void imds_identity_free(struct imds_identity *id);

/* The resources whose managed-identity tokens are asked for, URL-encoded. */
#define IMDS_RESOURCE_ARM "https%3A%2F%2Fmanagement.azure.com%2F"
#define IMDS_RESOURCE_GRAPH "https%3A%2F%2Fgraph.microsoft.com%2F"

/* A managed-identity token for resource (URL-encoded) from cfg->imds_url:
 * GET .../metadata/identity/oauth2/token with "Metadata: true", 200 only,
 * parsed by imds_parse_token. *ret_token is a new secret. Returns 0,
 * EL_ERR_INVAL (no imds_url), EL_ERR_HTTP_STATUS, the http_get and
 * imds_parse_token errors. */
int imds_token_for(const struct el_config *cfg, const char *resource, uint64_t deadline_ms, time_t now,
		   char **ret_token, time_t *ret_expires) EL_MUST_CHECK;

/* Parse a token response: access_token (printable, at most EL_TOKEN_MAX)
 * and expires_in (a decimal string, as IMDS sends it, or an integer).
 * *ret_token is a new secret. Returns 0, EL_ERR_JSON, EL_ERR_NOMEM. */
int imds_parse_token(const char *text, size_t len, time_t now, char **ret_token, time_t *ret_expires) EL_MUST_CHECK;

/* True if s looks like an ARM resource id we may put into a URL path:
 * "/subscriptions/..." of [A-Za-z0-9._()-] segments, no empty, "." or ".."
 * segment, no trailing slash, at most IMDS_RESOURCE_ID_MAX bytes. */
bool imds_resource_id_ok(const char *s);

#endif
