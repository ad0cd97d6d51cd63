/* conf.c - the configuration parser (design section 2). libc only.
 *
 * Table-driven: each key names a parser and the field it fills. Every
 * error message has the form "file:line: key 'x': expected ..." so an
 * admin can fix the file without reading code.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "conf_parse.h"
#include "el_limits.h"
#include "names.h"
#include "strutil.h"

/* K_LIST entries end up in group lines and logs, so they may not hold ':' or
 * '%'; K_AUD_LIST entries are URIs compared exactly and may. */
enum kind { K_STR, K_URL, K_PATH, K_GUID, K_UINT, K_LIST, K_LOWER_LIST, K_AUD_LIST, K_SOURCES, K_GROUP,
	K_BOOL };	/* K_BOOL: yes/no into a uint32_t field (0/1) */

struct key {
	const char *name;
	enum kind kind;
	size_t off;		/* offset of the field in struct el_config */
	uint32_t min, max;	/* K_UINT */
	const char *dflt;	/* NULL = no default (required if 'required') */
	bool required;
};

#define F(field) offsetof(struct el_config, field)
static const struct key keys[] = {
	{ "tenant_id", K_GUID, F(tenant_id), 0, 0, NULL, true },
	{ "client_id", K_GUID, F(client_id), 0, 0, NULL, true },
	{ "authority", K_URL, F(authority), 0, 0, "https://login.microsoftonline.com", false },
	{ "audiences", K_AUD_LIST, F(audiences), 0, 0, NULL, false },
	{ "ca_file", K_PATH, F(ca_file), 0, 0, NULL, false },
	{ "domains", K_LOWER_LIST, F(domains), 0, 0, NULL, true },
	{ "uid_min", K_UINT, F(uid_min), 1000, 4294967294u, EL_UID_MIN_DEFAULT_S, false },
	{ "uid_max", K_UINT, F(uid_max), 1000, 4294967294u, "1999999999", false },
	{ "admin_group", K_GROUP, F(admin_group), 0, 0, "aad_admins", false },
	{ "admin_gid", K_UINT, F(admin_gid), 1000, 4294967294u, "999999001", false },
	{ "user_group", K_GROUP, F(user_group), 0, 0, "aad_users", false },
	{ "user_gid", K_UINT, F(user_gid), 1000, 4294967294u, "999999002", false },
	{ "home", K_PATH, F(home), 0, 0, "/home/%u", false },
	{ "shell", K_PATH, F(shell), 0, 0, "/bin/bash", false },
	{ "role_sources", K_SOURCES, 0, 0, 0, "claims, static", false },
	{ "admin_role_values", K_LIST, F(admin_role_values), 0, 0, "VirtualMachineAdministratorLogin", false },
	{ "user_role_values", K_LIST, F(user_role_values), 0, 0, "VirtualMachineUserLogin", false },
	{ "static_admins", K_LOWER_LIST, F(static_admins), 0, 0, NULL, false },
	{ "static_users", K_LOWER_LIST, F(static_users), 0, 0, NULL, false },
	{ "arm_url", K_URL, F(arm_url), 0, 0, "https://management.azure.com", false },
	{ "imds_url", K_URL, F(imds_url), 0, 0, "http://169.254.169.254", false },
	{ "token_max_age", K_UINT, F(token_max_age), 1, 86400, "600", false },
	{ "clock_skew", K_UINT, F(clock_skew), 0, 3600, "120", false },
	{ "http_timeout", K_UINT, F(http_timeout), 1, 300, "10", false },
	{ "login_timeout", K_UINT, F(login_timeout), 1, 3600, "110", false },
	{ "state_dir", K_PATH, F(state_dir), 0, 0, EL_STATEDIR, false },
	/* SSH certificates (design section 6) */
	{ "ssh_ca_keys", K_STR, F(ssh_ca_keys), 0, 0, "jwks", false },
	{ "ssh_ca_max_age", K_UINT, F(ssh_ca_max_age), 60, 30u * 86400, "86400", false },
	{ "ssh_service_principals", K_BOOL, F(ssh_service_principals), 0, 0, "no", false },
	/* Entra groups (issue 21): checked further in conf_check_groups() (conf_groups.c) */
	{ "groups", K_STR, F(groups), 0, 0, "none", false },
	{ "group_name_attribute", K_STR, F(group_name_attribute), 0, 0, "displayName", false },
	{ "group_filter", K_AUD_LIST, F(group_filter), 0, 0, NULL, false },
	{ "gid_min", K_UINT, F(gid_min), 1000, 2147483646u, "2000000000", false },
	{ "gid_max", K_UINT, F(gid_max), 1000, 2147483646u, "2099999999", false },
	{ "allow_groups", K_LOWER_LIST, F(allow_groups), 0, 0, NULL, false },
	{ "admin_groups", K_LOWER_LIST, F(admin_groups), 0, 0, NULL, false },
	{ "graph_url", K_URL, F(graph_url), 0, 0, "https://graph.microsoft.com", false },
	{ "graph_credential_file", K_PATH, F(graph_credential_file), 0, 0, NULL, false },
	{ "uid_attribute", K_STR, F(uid_attribute), 0, 0, NULL, false },
	{ "shell_attribute", K_STR, F(shell_attribute), 0, 0, NULL, false },
	{ "home_attribute", K_STR, F(home_attribute), 0, 0, NULL, false },
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/* Copy src for an error message: at most max input bytes, every byte that is
 * not printable ASCII (control bytes, DEL, anything >= 0x80) and '\\' as
 * \xNN, so a hostile file cannot put terminal escapes or fake lines into
 * what an admin reads or a log records. dst always ends in NUL. */
static void escape_into(char *dst, size_t cap, const char *src, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; src[i] && i < max; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= cap)
				break;
			dst[o++] = (char)c;
		} else {
			if (o + 4 >= cap)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
}

__attribute__((format(printf, 3, 4)))
int conf_fail(struct parse_ctx *ctx, const char *key, const char *fmt, ...)
{
	char raw[256], msg[4 * sizeof(raw)], k[4 * 64 + 1];
	va_list ap;

	if (!ctx->errbuf || ctx->errlen == 0)
		return EL_ERR_CONFIG;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	escape_into(msg, sizeof(msg), raw, sizeof(raw));
	if (key)
		escape_into(k, sizeof(k), key, 64);
	if (ctx->line && key)
		snprintf(ctx->errbuf, ctx->errlen, "%s:%u: key '%s': %s", ctx->path, ctx->line, k, msg);
	else if (key)
		snprintf(ctx->errbuf, ctx->errlen, "%s: key '%s': %s", ctx->path, k, msg);
	else
		snprintf(ctx->errbuf, ctx->errlen, "%s:%u: %s", ctx->path, ctx->line, msg);
	return EL_ERR_CONFIG;
}

static void list_free(struct el_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

bool cfg_list_has(const struct el_list *list, const char *item)
{
	for (size_t i = 0; i < list->n; i++)
		if (strcmp(list->items[i], item) == 0)
			return true;
	return false;
}

static int list_add(struct el_list *l, const char *item)
{
	char **items;
	char *copy;

	if (l->n >= EL_CONF_LIST_MAX)
		return EL_ERR_RANGE;
	copy = strdup(item);
	if (!copy)
		return EL_ERR_NOMEM;
	items = realloc(l->items, (l->n + 1) * sizeof(*items));
	if (!items) {
		free(copy);
		return EL_ERR_NOMEM;
	}
	items[l->n++] = copy;
	l->items = items;
	return 0;
}

/* Characters a list entry may hold: no separators of group, passwd or sudoers lines. */
static bool list_item_ok(const char *s, bool uri)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x21 || c > 0x7e || c == ',' || c == '#' || c == '\\')
			return false;
		if (!uri && (c == ':' || c == '%' || c == '/'))
			return false;
	}
	return true;
}

static int parse_list(struct parse_ctx *ctx, const struct key *k, char *value, struct el_list *out)
{
	char *rest = value, *tok;
	int r;

	list_free(out);
	/* strsep, not strtok: "a,,b" must be an error, not two entries. */
	for (tok = strsep(&rest, ","); tok; tok = strsep(&rest, ",")) {
		char *item = str_strip(tok);

		if (!*item)
			return conf_fail(ctx, k->name, "empty entry in comma list");
		if (!list_item_ok(item, k->kind == K_AUD_LIST))
			return conf_fail(ctx, k->name, "entry '%.64s' has a forbidden character", item);
		if (k->kind == K_LOWER_LIST)
			for (char *p = item; *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char)(*p + 32);
		r = list_add(out, item);
		if (r == EL_ERR_RANGE)
			return conf_fail(ctx, k->name, "at most %d entries", EL_CONF_LIST_MAX);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_sources(struct parse_ctx *ctx, const struct key *k, char *value, struct el_config *cfg)
{
	char *save = NULL, *tok;

	cfg->n_role_sources = 0;
	for (tok = strtok_r(value, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *item = str_strip(tok);
		enum el_role_source s;

		if (strcmp(item, "claims") == 0)
			s = EL_SRC_CLAIMS;
		else if (strcmp(item, "static") == 0)
			s = EL_SRC_STATIC;
		else if (strcmp(item, "arm") == 0)
			s = EL_SRC_ARM;
		else if (strcmp(item, "groups") == 0)
			s = EL_SRC_GROUPS;
		else
			return conf_fail(ctx, k->name, "expected claims, static, arm or groups, got '%.32s'", item);
		for (size_t i = 0; i < cfg->n_role_sources; i++)
			if (cfg->role_sources[i] == s)
				return conf_fail(ctx, k->name, "'%s' listed twice", item);
		cfg->role_sources[cfg->n_role_sources++] = s;
	}
	if (cfg->n_role_sources == 0)
		return conf_fail(ctx, k->name, "expected at least one of claims, static, arm, groups");
	return 0;
}

static bool group_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32 || s[0] == '-')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	return true;
}

static int set_str(char **field, const char *value)
{
	char *copy = strdup(value);

	if (!copy)
		return EL_ERR_NOMEM;
	free(*field);
	*field = copy;
	return 0;
}

/* home and shell end up in passwd lines: no ':' (it would split the line),
 * and home's % escapes must be ones name_home() knows, or every lookup of
 * every user would fail at run time. */
static int parse_passwd_field(struct parse_ctx *ctx, const struct key *k, char *value, char **field)
{
	if (strchr(value, ':'))
		return conf_fail(ctx, k->name, "no ':' (it separates passwd fields), got '%.64s'", value);
	for (const char *p = value; k->off == F(home) && *p; p++) {
		if (*p != '%')
			continue;
		p++;
		if (*p != 'u' && *p != 'l' && *p != 'd' && *p != '%')
			return conf_fail(ctx, k->name, "unknown escape '%%%.1s': use %%u (name), %%l (local part), "
				    "%%d (domain) or %%%%", *p ? p : "");
	}
	return set_str(field, value);
}

static int parse_value(struct parse_ctx *ctx, const struct key *k, char *value, struct el_config *cfg)
{
	void *field = (char *)cfg + k->off;
	uint64_t v;

	if (str_has_ctl(value))
		return conf_fail(ctx, k->name, "control characters are not allowed");
	switch (k->kind) {
	case K_STR:
		if (strcmp(k->name, "ssh_ca_keys") == 0 && strcmp(value, "jwks") != 0 &&
		    (value[0] != '/' || strlen(value) > 1024))
			return conf_fail(ctx, k->name, "'jwks' or an absolute path, got '%.64s'", value);
		if (conf_check_directory_str(ctx, k->name, value) < 0)
			return EL_ERR_CONFIG;
		break;
	case K_BOOL:
		if (!strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "1"))
			*(uint32_t *)field = 1;
		else if (!strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "0"))
			*(uint32_t *)field = 0;
		else
			return conf_fail(ctx, k->name, "yes or no, got '%.32s'", value);
		return 0;
	case K_GUID:
		if (strcmp(k->name, "tenant_id") == 0 &&
		    (!strcmp(value, "common") || !strcmp(value, "organizations") || !strcmp(value, "consumers")))
			return conf_fail(ctx, k->name, "a tenant GUID; multi-tenant '%s' is refused", value);
		if (!name_is_guid(value))
			return conf_fail(ctx, k->name, "a GUID like 00000000-0000-0000-0000-000000000000");
		for (char *p = value; *p; p++)
			if (*p >= 'A' && *p <= 'F')
				*p = (char)(*p + 32);
		break;
	case K_URL:
		if (strlen(value) > EL_URL_MAX || strchr(value, ' ') || strchr(value, '?') || strchr(value, '#') ||
		    (strncmp(value, "https://", 8) != 0 &&
		     !(strcmp(k->name, "imds_url") == 0 && strncmp(value, "http://", 7) == 0)))
			return conf_fail(ctx, k->name, "an %s URL without query, got '%.64s'",
				    strcmp(k->name, "imds_url") == 0 ? "http(s)://" : "https://", value);
		{
			size_t n = strlen(value);

			while (n > 8 && value[n - 1] == '/')
				value[--n] = '\0';
		}
		break;
	case K_PATH:
		if (value[0] != '/' || strlen(value) > 1024)
			return conf_fail(ctx, k->name, "an absolute path, got '%.64s'", value);
		if (k->off == F(home) || k->off == F(shell))
			return parse_passwd_field(ctx, k, value, field);
		break;
	case K_UINT:
		if (parse_uint(value, k->min, k->max, &v) < 0)
			return conf_fail(ctx, k->name, "expected %u-%u, got '%.32s'", k->min, k->max, value);
		*(uint32_t *)field = (uint32_t)v;
		return 0;
	case K_GROUP:
		if (!group_name_ok(value))
			return conf_fail(ctx, k->name, "a group name of [a-z0-9_-], 1-32 characters");
		break;
	case K_LIST:
	case K_LOWER_LIST:
	case K_AUD_LIST:
		return parse_list(ctx, k, value, field);
	case K_SOURCES:
		return parse_sources(ctx, k, value, cfg);
	}
	return set_str(field, value);
}

void cfg_free(struct el_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < N_KEYS; i++) {
		void *field = (char *)cfg + keys[i].off;

		if (keys[i].kind == K_LIST || keys[i].kind == K_LOWER_LIST || keys[i].kind == K_AUD_LIST)
			list_free(field);
		else if (keys[i].kind != K_UINT && keys[i].kind != K_SOURCES && keys[i].kind != K_BOOL)
			free(*(char **)field);
	}
	free(cfg->path);
	free(cfg->issuer);
	free(cfg->issuer_v1);
	free(cfg);
}

static int apply_defaults(struct parse_ctx *ctx, struct el_config *cfg, const bool *seen)
{
	char tmp[256];
	int r;

	for (size_t i = 0; i < N_KEYS; i++) {
		if (seen[i])
			continue;
		if (keys[i].required)
			return conf_fail(ctx, keys[i].name, "required key is missing");
		if (!keys[i].dflt)
			continue;
		if (str_copy(tmp, sizeof(tmp), keys[i].dflt) < 0)
			return EL_ERR_INVAL;
		ctx->line = 0;
		r = parse_value(ctx, &keys[i], tmp, cfg);
		if (r < 0)
			return r;
	}
	return 0;
}

/* True if the home template has %l but neither %u nor %d: two domains'
 * alice would get one home. */
static bool home_local_only(const char *tmpl)
{
	bool l = false, ud = false;

	for (const char *p = tmpl; p && *p; p++) {
		if (*p != '%' || !p[1])
			continue;
		p++;
		l |= *p == 'l';
		ud |= *p == 'u' || *p == 'd';
	}
	return l && !ud;
}

static int check_consistency(struct parse_ctx *ctx, struct el_config *cfg)
{
	char buf[EL_URL_MAX + 128];
	int r;

	ctx->line = 0;
	/* Users allocated under the former default (uid_min 1000000000, inside
	 * systemd's container range) keep their uids when uid_min is not set. */
	if (!ctx->uid_min_line && cfg->uid_max < EL_UID_MIN_DEFAULT + 1000u)
		cfg->uid_min = EL_UID_MIN_FORMER;	/* a uid_max written for the former default */
	cfg->uid_floor = ctx->uid_min_line || cfg->uid_min < EL_UID_MIN_FORMER ? cfg->uid_min : EL_UID_MIN_FORMER;
	if (home_local_only(cfg->home) && cfg->domains.n > 1) {
		ctx->line = ctx->home_line;
		return conf_fail(ctx, "home", "'%.64s' uses %%l (the local part) without %%u or %%d, but %zu domains are "
			    "configured: alice@%s and alice@%s would share one home", cfg->home, cfg->domains.n,
			    cfg->domains.items[0], cfg->domains.items[1]);
	}
	ctx->line = 0;
	if (cfg->uid_min > cfg->uid_max)
		return conf_fail(ctx, "uid_min", "must not exceed uid_max (%u)", cfg->uid_max);
	if (cfg->uid_max - cfg->uid_min < 1000)
		return conf_fail(ctx, "uid_max", "range must hold at least 1000 ids");
	if (cfg->admin_gid == cfg->user_gid)
		return conf_fail(ctx, "user_gid", "must differ from admin_gid");
	if ((cfg->admin_gid >= cfg->uid_min && cfg->admin_gid <= cfg->uid_max) ||
	    (cfg->user_gid >= cfg->uid_min && cfg->user_gid <= cfg->uid_max))
		return conf_fail(ctx, "admin_gid", "role group ids must lie outside uid_min..uid_max");
	if (strcmp(cfg->admin_group, cfg->user_group) == 0)
		return conf_fail(ctx, "user_group", "must differ from admin_group");
	r = conf_check_groups(ctx, cfg);
	if (r < 0)
		return r;
	for (size_t i = 0; i < cfg->domains.n; i++) {
		/* An entry may be as long as a config line: never strcat it into buf. */
		int n = snprintf(buf, sizeof(buf), "x@%s", cfg->domains.items[i]);

		if (n < 0 || (size_t)n >= sizeof(buf) || !name_syntax_ok(buf))
			return conf_fail(ctx, "domains", "'%.64s' is not a domain name", cfg->domains.items[i]);
	}
	snprintf(buf, sizeof(buf), "%s/%s/v2.0", cfg->authority, cfg->tenant_id);
	r = set_str(&cfg->issuer, buf);
	if (r < 0)
		return r;
	snprintf(buf, sizeof(buf), "https://sts.windows.net/%s/", cfg->tenant_id);
	r = set_str(&cfg->issuer_v1, buf);
	if (r < 0)
		return r;
	if (cfg->audiences.n == 0) {
		snprintf(buf, sizeof(buf), "api://%s", cfg->client_id);
		r = list_add(&cfg->audiences, buf);
		if (r < 0)
			return r;
	}
	return 0;
}

int cfg_parse(const char *path, const char *text, size_t len, struct el_config **ret_cfg, char *errbuf,
	      size_t errlen)
{
	struct parse_ctx ctx = { .path = path ? path : "(config)", .errbuf = errbuf, .errlen = errlen };
	struct el_config *cfg = NULL;
	bool seen[N_KEYS] = { false };
	char line[EL_CONF_LINE_MAX + 1];
	size_t pos = 0;
	int r;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return EL_ERR_NOMEM;
	r = set_str(&cfg->path, ctx.path);
	if (r < 0)
		goto out;
	if (len > EL_CONF_SIZE_MAX || memchr(text, '\0', len)) {
		r = conf_fail(&ctx, NULL, "file too large or contains NUL bytes");
		goto out;
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char *s, *eq, *key, *value;
		size_t i;

		ctx.line++;
		if (n > EL_CONF_LINE_MAX) {
			r = conf_fail(&ctx, NULL, "line longer than %d bytes", EL_CONF_LINE_MAX);
			goto out;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + (nl ? 1 : 0);
		s = str_strip(line);
		if (*s == '\0' || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			r = conf_fail(&ctx, NULL, "expected 'key = value'");
			goto out;
		}
		*eq = '\0';
		key = str_strip(s);
		value = str_strip(eq + 1);
		for (i = 0; i < N_KEYS; i++)
			if (strcmp(keys[i].name, key) == 0)
				break;
		if (i == N_KEYS) {
			r = conf_fail(&ctx, key, "unknown key");
			goto out;
		}
		if (seen[i]) {
			r = conf_fail(&ctx, key, "set twice");
			goto out;
		}
		seen[i] = true;
		if (keys[i].off == F(home))
			ctx.home_line = ctx.line;
		if (keys[i].off == F(uid_min))
			ctx.uid_min_line = ctx.line;
		if (*value == '\0') {
			r = conf_fail(&ctx, key, "a value");
			goto out;
		}
		r = parse_value(&ctx, &keys[i], value, cfg);
		if (r < 0)
			goto out;
	}
	r = apply_defaults(&ctx, cfg, seen);
	if (r < 0)
		goto out;
	r = check_consistency(&ctx, cfg);
	if (r < 0)
		goto out;
	*ret_cfg = cfg;
	cfg = NULL;
out:
	cfg_free(cfg);
	return r;
}

int cfg_load(const char *path, struct el_config **ret_cfg, char *errbuf, size_t errlen)
{
	struct parse_ctx ctx = { .path = path, .errbuf = errbuf, .errlen = errlen };
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int fd = -1, r;

	/* O_NONBLOCK: a FIFO (or a device) must not block the process that
	 * opens it; it is refused below. Symbolic links are followed (a managed
	 * /etc may link the file); what is checked is the file read. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = EL_ERR_IO;
		conf_fail(&ctx, NULL, "cannot read the file");
		goto out;
	}
	/* Ownership of the very file we read (fstat, not the path: it could be
	 * swapped in between): a config an unprivileged user can edit would
	 * let them choose who becomes root. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !file_owner_safe(&st)) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s: must be a regular file owned by root, not writable by group or others", path);
		r = EL_ERR_INSECURE;
		goto out;
	}
	r = fd_read_capped(fd, EL_CONF_SIZE_MAX, &text, &len);
	if (r < 0) {
		conf_fail(&ctx, NULL, r == EL_ERR_RANGE ? "file too large" : "cannot read the file");
		goto out;
	}
	r = cfg_parse(path, text, len, ret_cfg, errbuf, errlen);
out:
	if (fd >= 0)
		close(fd);
	free(text);
	return r;
}

const char *cfg_default_path(const char *explicit_path)
{
	const char *env;

	if (explicit_path)
		return explicit_path;
	env = secure_getenv(EL_CONF_ENV);
	if (env && env[0] == '/')
		return env;
	return EL_CONF_DEFAULT_PATH;
}
