/* conf.h - the one configuration parser, shared by PAM, NSS and the CLI.
 *
 * Format: INI-like "key = value" lines, '#' starts a comment line, blank
 * lines ignored. Every key of design section 2 is known; an unknown key, a
 * repeated key, a bad value or a missing required key is an error that
 * names file, line and key. libc only (NSS links it). Thread-safe: a loaded
 * struct el_config is read-only and may be shared.
 */
#ifndef EL_CONF_H
#define EL_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#ifndef EL_SYSCONFDIR
#define EL_SYSCONFDIR "/etc"
#endif
#ifndef EL_STATEDIR
#define EL_STATEDIR "/var/lib/entra-login"
#endif
#define EL_CONF_DEFAULT_PATH EL_SYSCONFDIR "/entra-login.conf"
#define EL_CONF_ENV "ENTRA_LOGIN_CONF"

/* Default uid_min: above systemd's container range (524288-1879048191,
 * systemd-nspawn/userns) and inside the design range 1000000000-1999999999.
 * Before: 1000000000 (EL_UID_MIN_FORMER). */
#define EL_UID_MIN_DEFAULT 1879048192u
#define EL_UID_MIN_DEFAULT_S "1879048192"
#define EL_UID_MIN_FORMER 1000000000u

struct el_list {
	char **items;		/* owned; each entry owned */
	size_t n;
};

enum el_role_source { EL_SRC_CLAIMS = 1, EL_SRC_STATIC, EL_SRC_ARM, EL_SRC_GROUPS };
#define EL_ROLE_SOURCES_MAX 4

struct el_config {
	char *path;			/* file it came from */
	char *tenant_id;		/* lower-case GUID */
	char *client_id;
	char *authority;		/* no trailing slash */
	char *issuer;			/* derived: {authority}/{tenant_id}/v2.0 */
	char *issuer_v1;		/* derived: https://sts.windows.net/{tenant_id}/ */
	struct el_list audiences;	/* client_id is always accepted too */
	char *ca_file;			/* NULL = system store */
	struct el_list domains;		/* lower-case */
	uint32_t uid_min, uid_max;	/* the range new users' UIDs are picked from */
	uint32_t uid_floor;		/* derived: lowest UID a stored (not pinned) user may
					 * hold: uid_min, or when uid_min is not set the
					 * former default EL_UID_MIN_FORMER, so users
					 * allocated before keep their UIDs */
	char *admin_group;
	uint32_t admin_gid;
	char *user_group;
	uint32_t user_gid;
	char *home;			/* template: %u %l %d %% */
	char *shell;
	enum el_role_source role_sources[EL_ROLE_SOURCES_MAX];
	size_t n_role_sources;
	struct el_list admin_role_values, user_role_values;
	struct el_list static_admins, static_users;	/* lower-case */
	char *arm_url, *imds_url;
	uint32_t token_max_age, clock_skew, http_timeout, login_timeout;
	char *state_dir;		/* extension: default EL_STATEDIR */
	char *ssh_ca_keys;		/* "jwks" or an absolute path (OpenSSH public keys) */
	uint32_t ssh_ca_max_age;	/* seconds; an older CA key set trusts nothing */
	uint32_t ssh_service_principals;	/* 1: a lower-case GUID login name is a directory name */
	/* Entra groups (issue 21, groupdb.h, graph.h) */
	char *groups;			/* "none" or "mapped" */
	bool groups_mapped;		/* derived: groups = mapped */
	char *group_name_attribute;	/* displayName, mailNickname or onPremisesSamAccountName */
	struct el_list group_filter;	/* "all", lower-case group object ids, "prefix:<name prefix>" */
	uint32_t gid_min, gid_max;	/* hashed gids of mapped groups */
	struct el_list allow_groups, admin_groups;	/* group object ids (role source "groups") */
	char *graph_url;		/* no trailing slash */
	char *graph_credential_file;	/* NULL: the VM's managed identity */
	/* POSIX attributes from the directory (issue 21): Graph user properties,
	 * "extension_<app id without dashes>_<name>" or
	 * "onPremisesExtensionAttributes.extensionAttribute<1-15>"; NULL = not used */
	char *uid_attribute, *shell_attribute, *home_attribute;
};

/* Where to read the configuration: explicit path if non-NULL, else
 * $ENTRA_LOGIN_CONF read with secure_getenv (ignored in setuid programs),
 * else EL_CONF_DEFAULT_PATH. Returns a borrowed pointer. */
const char *cfg_default_path(const char *explicit_path);

/* Parse a file. The file must be a regular file owned by root (or by the
 * caller's euid) and not writable by group or others (EL_ERR_INSECURE).
 * On error, if errbuf is non-NULL, a one-line message
 * "file:line: key 'x': expected ..." is written to it.
 * On success *ret_cfg is set; free it with cfg_free().
 * Returns 0, EL_ERR_IO, EL_ERR_INSECURE, EL_ERR_CONFIG, EL_ERR_NOMEM. */
int cfg_load(const char *path, struct el_config **ret_cfg, char *errbuf, size_t errlen) EL_MUST_CHECK;

/* Same, parsing text already in memory (no file checks). */
int cfg_parse(const char *path, const char *text, size_t len, struct el_config **ret_cfg,
	      char *errbuf, size_t errlen) EL_MUST_CHECK;

void cfg_free(struct el_config *cfg);

/* True if the lower-case item is in the list (exact match). */
bool cfg_list_has(const struct el_list *list, const char *item);

#endif
