/* fuzz_conf - the one configuration parser (common/base/conf.c, cfg_parse),
 * as PAM, NSS and the CLI run it on /etc/entra-login.conf.
 *
 * Besides memory safety: an accepted config satisfies what the rest of the
 * code relies on (required keys present, tenant a GUID and not a
 * multi-tenant alias, UID range sane and clear of the role gids, list
 * entries free of ':' '%' ',' and control bytes, derived issuers set), and
 * a refused one leaves a NUL-terminated one-line message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fuzz_common.h"
#include "names.h"

static void check_list(const struct el_list *l, bool uri)
{
	FUZZ_CHECK(l->n <= 64);
	for (size_t i = 0; i < l->n; i++) {
		const char *s = l->items[i];

		FUZZ_CHECK(s && *s);
		for (; *s; s++) {
			unsigned char c = (unsigned char)*s;

			FUZZ_CHECK(c > 0x20 && c < 0x7f && c != ',');
			if (!uri)
				FUZZ_CHECK(c != ':' && c != '%');
		}
	}
}

static void check_config(const struct el_config *cfg)
{
	char home[4096];

	FUZZ_CHECK(cfg->tenant_id && name_is_guid(cfg->tenant_id));
	FUZZ_CHECK(cfg->client_id && name_is_guid(cfg->client_id));
	FUZZ_CHECK(cfg->authority && strncmp(cfg->authority, "https://", 8) == 0);
	FUZZ_CHECK(cfg->issuer && strncmp(cfg->issuer, cfg->authority, strlen(cfg->authority)) == 0);
	FUZZ_CHECK(cfg->issuer_v1 != NULL);
	FUZZ_CHECK(cfg->domains.n >= 1);
	FUZZ_CHECK(cfg->uid_min >= 1000 && cfg->uid_min <= cfg->uid_max);
	FUZZ_CHECK(cfg->admin_gid != cfg->user_gid && cfg->admin_gid != 0 && cfg->user_gid != 0);
	FUZZ_CHECK(cfg->admin_gid < cfg->uid_min || cfg->admin_gid > cfg->uid_max);
	FUZZ_CHECK(cfg->user_gid < cfg->uid_min || cfg->user_gid > cfg->uid_max);
	FUZZ_CHECK(cfg->admin_group && cfg->user_group && strcmp(cfg->admin_group, cfg->user_group) != 0);
	FUZZ_CHECK(!strchr(cfg->admin_group, ':') && !strchr(cfg->user_group, ':'));
	FUZZ_CHECK(cfg->home && cfg->home[0] == '/' && cfg->shell && cfg->shell[0] == '/');
	FUZZ_CHECK(cfg->state_dir && cfg->state_dir[0] == '/');
	FUZZ_CHECK(cfg->n_role_sources >= 1 && cfg->n_role_sources <= EL_ROLE_SOURCES_MAX);
	FUZZ_CHECK(cfg->http_timeout >= 1 && cfg->login_timeout >= 1 && cfg->token_max_age >= 1);
	FUZZ_CHECK(cfg->audiences.n >= 1);
	check_list(&cfg->domains, false);
	check_list(&cfg->static_admins, false);
	check_list(&cfg->static_users, false);
	check_list(&cfg->admin_role_values, false);
	check_list(&cfg->user_role_values, false);
	check_list(&cfg->audiences, true);
	/* What NSS does next with an accepted config. */
	for (size_t i = 0; i < cfg->domains.n; i++) {
		char name[128];

		snprintf(name, sizeof(name), "alice@%s", cfg->domains.items[i]);
		if (name_is_ours(cfg, name))
			(void)name_home(cfg->home, name, home, sizeof(home));
	}
	(void)name_is_ours(cfg, "root");
	(void)name_home(cfg->home, "alice@contoso.com", home, 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1);	/* exact size, not NUL-terminated */
	struct el_config *cfg = NULL;
	char err[512];
	int r;

	if (!text)
		abort();
	memcpy(text, data, size);
	memset(err, 'x', sizeof(err));
	r = cfg_parse("/fuzz/entra-login.conf", text, size, &cfg, err, sizeof(err));
	if (r == 0) {
		check_config(cfg);
		cfg_free(cfg);
	} else {
		FUZZ_CHECK(r == EL_ERR_CONFIG || r == EL_ERR_NOMEM || r == EL_ERR_INVAL);
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		FUZZ_CHECK(r != EL_ERR_CONFIG || err[0] != '\0');
		FUZZ_CHECK(strchr(err, '\n') == NULL);
	}
	/* No error buffer: same verdict. */
	cfg = NULL;
	FUZZ_CHECK((cfg_parse(NULL, text, size, &cfg, NULL, 0) == 0) == (r == 0));
	cfg_free(cfg);
	free(text);
	return 0;
}
