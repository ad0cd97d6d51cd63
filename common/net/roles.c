/* roles.c - the role decision over the configured sources (see roles.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "arm.h"
#include "groupmap.h"
#include "names.h"
#include "roles.h"

const char *roles_name(enum el_role role)
{
	switch (role) {
	case EL_ROLE_ADMIN:
		return "admin";
	case EL_ROLE_USER:
		return "user";
	default:
		return "none";
	}
}

const char *roles_source_name(enum el_role_source src)
{
	switch (src) {
	case EL_SRC_CLAIMS:
		return "claims";
	case EL_SRC_STATIC:
		return "static";
	case EL_SRC_ARM:
		return "arm";
	case EL_SRC_GROUPS:
		return "groups";
	default:
		return "-";
	}
}

/* Exact, case-sensitive: app role values are defined by the app registration. */
static bool value_listed(const struct el_list *list, const char *value)
{
	if (!value)
		return false;
	for (size_t i = 0; i < list->n; i++)
		if (strcmp(list->items[i], value) == 0)
			return true;
	return false;
}

/* A group object id from a token counts only if it is a GUID; static lists
 * are lower-case, tokens may not be. */
static bool group_listed(const struct el_list *list, const char *gid)
{
	if (!gid || !name_is_guid(gid))
		return false;
	for (size_t i = 0; i < list->n; i++)
		if (strcasecmp(list->items[i], gid) == 0)
			return true;
	return false;
}

static enum el_role groups_role(const struct el_config *cfg, const struct role_input *in)
{
	enum el_role role = EL_ROLE_NONE;

	/* Overage: Entra left the groups out; we know none of them. */
	if (!in->have_claims || in->groups_overage)
		return EL_ROLE_NONE;
	for (size_t i = 0; i < in->n_groups && in->groups; i++) {
		if (group_listed(&cfg->static_admins, in->groups[i]))
			return EL_ROLE_ADMIN;
		if (group_listed(&cfg->static_users, in->groups[i]))
			role = EL_ROLE_USER;
	}
	return role;
}

int roles_from_claims(const struct el_config *cfg, const struct role_input *in, enum el_role *ret_role)
{
	enum el_role role = EL_ROLE_NONE, g;

	if (!in->have_claims && in->from_store) {
		if (in->stored_claims_role == EL_ROLE_NONE)
			return EL_ERR_NOT_FOUND;	/* another source decided: ask it */
		*ret_role = in->stored_claims_role;
		return 0;
	}
	if (!in->have_claims)
		return EL_ERR_ROLE_UNAVAILABLE;
	for (size_t i = 0; i < in->n_roles && in->roles; i++) {
		if (value_listed(&cfg->admin_role_values, in->roles[i]))
			role = EL_ROLE_ADMIN;
		else if (role == EL_ROLE_NONE && value_listed(&cfg->user_role_values, in->roles[i]))
			role = EL_ROLE_USER;
	}
	g = groups_role(cfg, in);
	if (g > role)
		role = g;
	if (role == EL_ROLE_NONE)
		return EL_ERR_NOT_FOUND;
	*ret_role = role;
	return 0;
}

int roles_from_static(const struct el_config *cfg, const struct role_input *in, enum el_role *ret_role)
{
	enum el_role role = EL_ROLE_NONE, g;

	/* Names in the lists are lower-case, as ours are; no folding here. */
	if (in->name && cfg_list_has(&cfg->static_admins, in->name))
		role = EL_ROLE_ADMIN;
	else if (in->name && cfg_list_has(&cfg->static_users, in->name))
		role = EL_ROLE_USER;
	g = groups_role(cfg, in);
	if (g > role)
		role = g;
	if (role == EL_ROLE_NONE)
		return EL_ERR_NOT_FOUND;
	*ret_role = role;
	return 0;
}

/* One source: 0 with a role (which may be NONE for arm: an authoritative
 * "no"), EL_ERR_NOT_FOUND (nothing to say), or why it could not answer. */
static int ask(const struct el_config *cfg, enum el_role_source src, const struct role_input *in, uint64_t deadline_ms,
	       enum el_role *ret_role)
{
	switch (src) {
	case EL_SRC_CLAIMS:
		return roles_from_claims(cfg, in, ret_role);
	case EL_SRC_STATIC:
		return roles_from_static(cfg, in, ret_role);
	case EL_SRC_ARM:
		if (!in->oid || !name_is_guid(in->oid))
			return EL_ERR_ROLE_UNAVAILABLE;	/* no binding known: nobody to ask about */
		return arm_vm_role(cfg, in->oid, deadline_ms, time(NULL), ret_role);
	case EL_SRC_GROUPS:	/* authoritative like arm: not in a listed group decides */
		return groupmap_role(cfg, in, deadline_ms, ret_role);
	default:
		return EL_ERR_CONFIG;
	}
}

int roles_resolve(const struct el_config *cfg, const struct role_input *in, uint64_t deadline_ms,
		  struct role_result *ret_res)
{
	struct role_result res = { .role = EL_ROLE_NONE };
	int r;

	if (!cfg || !in || !in->name || !ret_res)
		return EL_ERR_INVAL;
	for (size_t i = 0; i < cfg->n_role_sources && i < EL_ROLE_SOURCES_MAX; i++) {
		enum el_role_source src = cfg->role_sources[i];
		enum el_role role = EL_ROLE_NONE;

		if ((unsigned)src > EL_ROLE_SOURCES_MAX)
			continue;
		r = ask(cfg, src, in, deadline_ms, &role);
		if (r == EL_ERR_NOMEM)
			return r;
		if (r == EL_ERR_NOT_FOUND)
			continue;
		if (r < 0) {
			/* Unavailable is not "no role", nor a licence to ask the next
			 * source: with `arm, claims`, ARM down must not let a token's
			 * stale app role undo a revocation in Azure. No source before
			 * this one granted (a grant returns at once), so: unavailable. */
			res.unavailable[src] = r;
			res.incomplete = true;
			break;
		}
		res.role = role;
		res.source = src;
		*ret_res = res;
		return role == EL_ROLE_NONE ? EL_ERR_ROLE_NONE : 0;
	}
	*ret_res = res;
	return res.incomplete ? EL_ERR_ROLE_UNAVAILABLE : EL_ERR_ROLE_NONE;
}
