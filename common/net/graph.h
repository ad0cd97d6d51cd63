/* graph.h - a user's Entra groups from Microsoft Graph.
 *
 *   GET {graph_url}/v1.0/users/{oid}/transitiveMemberOf/microsoft.graph.group
 *       ?$select=id,{group_name_attribute}&$top=999
 *   Authorization: Bearer {token for https://graph.microsoft.com}
 *
 * The token is the VM's managed identity from IMDS (resource
 * https://graph.microsoft.com/), or with graph_credential_file (root-owned,
 * no group/other bits, "client_id = GUID" and "client_secret = ..." lines;
 * anything else refused: EL_ERR_INSECURE / EL_ERR_CONFIG) an app token from
 * the client credentials grant (scope https://graph.microsoft.com/.default).
 * Either identity needs the application permission GroupMember.Read.All. Pages are followed through @odata.nextLink only
 * while it is on the origin of graph_url (else EL_ERR_HTTP_REDIRECT), at
 * most GRAPH_PAGES_MAX of them (else EL_ERR_HTTP_TOO_BIG). 429 and 503 are
 * retried by http.c honouring Retry-After within the deadline; still
 * throttled, unreachable, any other error status: the call fails and the
 * caller treats Graph as unavailable, never as "no groups". 404
 * Request_ResourceNotFound (the user was deleted) is the one "no groups".
 *
 * The last answer is kept in memory for GRAPH_CACHE_SECONDS per process so
 * the role decision and the group mapping of one login ask once.
 * Thread-safe (one mutex around the caches); no logging; tokens are wiped.
 */
#ifndef EL_GRAPH_H
#define EL_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "el_limits.h"
#include "err.h"

#define GRAPH_RESOURCE "https://graph.microsoft.com/"
#define GRAPH_PAGES_MAX 32		/* x 999 groups */
#define GRAPH_GROUPS_MAX 20000		/* groups of one user we look at */
#define GRAPH_CACHE_SECONDS 30
#define GRAPH_CREDENTIAL_MAX 4096	/* bytes of graph_credential_file */

struct graph_group {
	char id[EL_GUID_LEN + 1];	/* lower-case GUID */
	char *name;			/* the group_name_attribute value, NULL if absent or null */
};

struct graph_groups {
	struct graph_group *items;
	size_t n, cap;
};

/* The groups oid is a member of, directly or through nested groups.
 * *ret is new (graph_groups_free). Returns 0, EL_ERR_HTTP_* (unreachable,
 * throttled, error status, foreign nextLink, too many pages), EL_ERR_JSON,
 * EL_ERR_INVAL (oid not a GUID), EL_ERR_NOMEM. */
int graph_user_groups(const struct el_config *cfg, const char *oid, uint64_t deadline_ms, time_t now,
		      struct graph_groups **ret) EL_MUST_CHECK;

void graph_groups_free(struct graph_groups *g);

/* One page: appends the groups of "value" (attr: the name property) and sets
 * *ret_next_link (new, NULL at the end). Returns 0, EL_ERR_JSON (shape or
 * types wrong, an id not a GUID), EL_ERR_RANGE (over GRAPH_GROUPS_MAX),
 * EL_ERR_NOMEM. */
int graph_parse_page(const char *text, size_t len, const char *attr, struct graph_groups *acc,
		     char **ret_next_link) EL_MUST_CHECK;

/* True if url may be followed as a nextLink under cfg (same origin as graph_url). */
bool graph_next_link_ok(const struct el_config *cfg, const char *url);

#define GRAPH_ATTRS_MAX 4

/* User properties of oid (GET {graph_url}/v1.0/users/{oid}?$select=...; with
 * User.Read.All): props are directory extension attributes or
 * "onPremisesExtensionAttributes.extensionAttributeN". ret_values[i] is a
 * new string (a string value, or an integer in decimal) or NULL
 * when the user has no value. Returns 0, EL_ERR_HTTP_* (a 404 too: a user
 * we cannot read is never "no attribute"), EL_ERR_JSON (a value of another
 * type), EL_ERR_INVAL, EL_ERR_NOMEM. */
int graph_user_attributes(const struct el_config *cfg, const char *oid, const char *const *props, size_t n,
			  uint64_t deadline_ms, time_t now, char **ret_values) EL_MUST_CHECK;

/* Drop the in-memory caches (tests, a refused token). */
void graph_forget(void);

#endif
