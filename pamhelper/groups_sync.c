/* groups_sync.c - after a recorded login: map the user's Entra groups into
 * groups.db (groups = mapped; issue 21, groupmap.h). A Graph failure keeps
 * the stored memberships and never fails the login: the role decision
 * already happened; only the group list may be one refresh behind. */
#include <syslog.h>

#include "authz.h"
#include "groupmap.h"
#include "http.h"
#include "userdb.h"

static void refused(void *userdata, const char *oid, const char *name, const char *why)
{
	const struct hctx *ctx = userdata;

	hlog(ctx, LOG_WARNING, "group not mapped: group oid=%.36s name '%.32s': %s", oid, name, why);
}

void authz_sync_groups(const struct hctx *ctx, const char *name, const char *oid)
{
	struct udb *db = NULL;
	struct udb_user u;
	int r;

	if (!ctx->cfg->groups_mapped)
		return;
	r = udb_open(ctx->cfg, &db);
	if (r == 0)
		r = udb_lookup_name(db, name, &u);
	if (r == 0)
		r = groupmap_user(ctx->cfg, u.uid, oid, http_deadline_in(ctx->cfg->http_timeout * AUTHZ_TIMEOUTS),
				  refused, (void *)ctx);
	if (r < 0)
		hlog(ctx, LOG_WARNING, "group mapping: user '%.64s' oid=%.36s: %s; stored memberships kept", name, oid,
		     el_strerror(r));
	udb_close(db);
}
