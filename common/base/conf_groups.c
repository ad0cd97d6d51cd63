/* conf_groups.c - the configuration's group keys (issue 21): gid range,
 * group_filter, allow_groups / admin_groups and the "groups" role source,
 * checked once the whole file is read (conf.c's check_consistency). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "conf_parse.h"
#include "names.h"
#include "strutil.h"

static bool ranges_overlap(uint32_t a0, uint32_t a1, uint32_t b0, uint32_t b1)
{
	return a0 <= b1 && b0 <= a1;
}

/* Issue 21: group mapping and the "groups" role source. */
int conf_check_groups(struct parse_ctx *ctx, struct el_config *cfg)
{
	bool src_groups = false;

	cfg->groups_mapped = strcmp(cfg->groups, "mapped") == 0;
	if (cfg->gid_min > cfg->gid_max || cfg->gid_max - cfg->gid_min < 1000)
		return conf_fail(ctx, "gid_max", "gid_min..gid_max must hold at least 1000 ids");
	if (ranges_overlap(cfg->gid_min, cfg->gid_max, cfg->uid_min, cfg->uid_max))
		return conf_fail(ctx, "gid_min", "gid_min..gid_max must not overlap uid_min..uid_max");
	if ((cfg->admin_gid >= cfg->gid_min && cfg->admin_gid <= cfg->gid_max) ||
	    (cfg->user_gid >= cfg->gid_min && cfg->user_gid <= cfg->gid_max))
		return conf_fail(ctx, "gid_min", "role group ids must lie outside gid_min..gid_max");
	for (size_t i = 0; i < cfg->group_filter.n; i++) {
		char *it = cfg->group_filter.items[i];

		if (strcmp(it, "all") == 0 && cfg->group_filter.n == 1)
			continue;
		if (name_is_guid(it)) {
			for (char *p = it; *p; p++)
				if (*p >= 'A' && *p <= 'F')
					*p = (char)(*p + 32);
			continue;
		}
		if (strncmp(it, "prefix:", 7) == 0 && it[7] && strlen(it + 7) <= 32 &&
		    strspn(it + 7, "abcdefghijklmnopqrstuvwxyz0123456789_.-") == strlen(it + 7))
			continue;
		return conf_fail(ctx, "group_filter", "'all', group object ids or prefix:<lower-case name prefix>, got '%.64s'", it);
	}
	if (cfg->groups_mapped && cfg->group_filter.n == 0)
		return conf_fail(ctx, "group_filter", "required with groups = mapped ('all' to map every group)");
	for (size_t i = 0; i < cfg->allow_groups.n; i++)
		if (!name_is_guid(cfg->allow_groups.items[i]))
			return conf_fail(ctx, "allow_groups", "group object ids (GUIDs), got '%.64s'", cfg->allow_groups.items[i]);
	for (size_t i = 0; i < cfg->admin_groups.n; i++)
		if (!name_is_guid(cfg->admin_groups.items[i]))
			return conf_fail(ctx, "admin_groups", "group object ids (GUIDs), got '%.64s'", cfg->admin_groups.items[i]);
	for (size_t i = 0; i < cfg->n_role_sources; i++)
		if (cfg->role_sources[i] == EL_SRC_GROUPS)
			src_groups = true;
	if (src_groups && cfg->allow_groups.n == 0 && cfg->admin_groups.n == 0)
		return conf_fail(ctx, "role_sources", "'groups' needs allow_groups or admin_groups");
	if (!src_groups && (cfg->allow_groups.n || cfg->admin_groups.n))
		return conf_fail(ctx, "allow_groups", "allow_groups/admin_groups need 'groups' in role_sources");
	if (cfg->graph_credential_file && strchr(cfg->graph_credential_file, '%'))
		return conf_fail(ctx, "graph_credential_file", "an absolute path");
	return 0;
}

/* A Graph user property we may put into a $select: a directory extension
 * attribute or one of the 15 on-premises extension attributes. */
static bool attribute_name_ok(const char *s)
{
	static const char ext[] = "extension_", onp[] = "onPremisesExtensionAttributes.extensionAttribute";
	uint64_t n;

	if (strncasecmp(s, onp, sizeof(onp) - 1) == 0)	/* Graph ignores the case of names */
		return s[sizeof(onp) - 1] != '0' && parse_uint(s + sizeof(onp) - 1, 1, 15, &n) == 0;
	if (strncasecmp(s, ext, sizeof(ext) - 1) != 0)
		return false;
	s += sizeof(ext) - 1;
	if (strspn(s, "0123456789abcdefABCDEF") != 32 || s[32] != '_' || !s[33] || strlen(s + 33) > 100)
		return false;
	return strspn(s + 33, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == strlen(s + 33);
}

int conf_check_directory_str(struct parse_ctx *ctx, const char *key, const char *value)
{
	bool attribute = strcmp(key, "uid_attribute") == 0 || strcmp(key, "shell_attribute") == 0 ||
			 strcmp(key, "home_attribute") == 0;

	if (attribute &&
	    !attribute_name_ok(value))
		return conf_fail(ctx, key, "extension_<app id without dashes>_<name> or "
				 "onPremisesExtensionAttributes.extensionAttribute<1-15>, got '%.64s'", value);
	if (strcmp(key, "groups") == 0 && strcmp(value, "none") != 0 && strcmp(value, "mapped") != 0)
		return conf_fail(ctx, key, "none or mapped, got '%.32s'", value);
	if (strcmp(key, "group_name_attribute") == 0 && strcmp(value, "displayName") != 0 &&
	    strcmp(value, "mailNickname") != 0 && strcmp(value, "onPremisesSamAccountName") != 0)
		return conf_fail(ctx, key, "displayName, mailNickname or onPremisesSamAccountName, got '%.32s'", value);
	return 0;
}
