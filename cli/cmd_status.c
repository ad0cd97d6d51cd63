/* cmd_status.c - entra-login status: is this host ready for Entra sign-ins?
 *
 * Checks, in order: the configuration (already loaded by main), the state
 * directory and the cache files (owner, mode), discovery (a fresh request,
 * so "reachable" means now), and the signing keys (age, kids, sizes).
 * The user database is opened and every record read: a damaged, unsafe or
 * newer-format file is a local problem (NSS and logins ignore it).
 * Exit 0 all good, 1 a local problem (permissions, user database), 3 the identity
 * provider or its keys cannot be had. Prints nothing secret: the caches
 * hold public endpoints and public keys only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmds.h"
#include "conf.h"
#include "http.h"
#include "jwks.h"
#include "oidc.h"
#include "sshca.h"
#include "statefile.h"
#include "userdb.h"

/* 0 if path is root-owned and not group/world-writable (or absent, if optional). */
static int check_path(const char *label, const char *path, bool dir, bool optional)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT && optional) {
			printf("  %-26s %s: not created yet\n", label, path);
			return 0;
		}
		printf("  %-26s %s: MISSING (%s)\n", label, path, strerror(errno));
		return -1;
	}
	if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
		printf("  %-26s %s: NOT A %s\n", label, path, dir ? "DIRECTORY" : "REGULAR FILE");
		return -1;
	}
	printf("  %-26s %s: uid %u, mode %04o", label, path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		printf(" UNSAFE: must be root-owned and not group/world-writable\n");
		return -1;
	}
	printf(" ok\n");
	return 0;
}

static int check_state(const struct el_config *cfg)
{
	static const char *const files[] = { STATE_DISCOVERY, STATE_JWKS, STATE_JWKS_REFRESH };
	static const char *const json_caches[] = { STATE_DISCOVERY, STATE_JWKS, SSHCA_STATE };
	char path[4096];
	int bad = 0;

	printf("state:\n");
	if (check_path("directory", cfg->state_dir ? cfg->state_dir : EL_STATEDIR, true, false) < 0)
		bad = -1;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (state_path(cfg, files[i], path, sizeof(path)) < 0 || check_path(files[i], path, false, true) < 0)
			bad = -1;
	/* A cache of a later package (after a downgrade) is ignored and refetched: say so. */
	for (size_t i = 0; i < sizeof(json_caches) / sizeof(json_caches[0]); i++)
		if (state_file_format(cfg, json_caches[i]) == EL_ERR_NEWER_FORMAT)
			printf("  %-26s IGNORED: %s\n", json_caches[i], el_strerror(EL_ERR_NEWER_FORMAT));
	return bad;
}

static int count_user(const struct udb_user *u, void *userdata)
{
	(void)u;
	++*(unsigned *)userdata;
	return 0;
}

/* The whole database as NSS and the writer will read it. */
static int check_userdb(const struct el_config *cfg)
{
	char path[4096];
	unsigned n = 0;
	int r;

	printf("user database:\n");
	r = udb_path(cfg, path, sizeof(path));
	if (r == 0)
		r = udb_foreach(cfg, count_user, &n);
	if (r < 0) {
		printf("  %s: DAMAGED OR UNUSABLE: %s: %s\n", path, el_errname(r), el_strerror(r));
		printf("  directory users cannot be resolved or log in until it is fixed or restored\n");
		return -1;
	}
	printf("  %s: %u user(s) ok\n", path, n);
	return 0;
}

static int check_discovery(const struct el_config *cfg)
{
	struct oidc_meta *m = NULL;
	int r, reachable;

	printf("discovery:\n  issuer: %s\n", cfg->issuer);
	r = oidc_fetch(cfg, 0, &m);
	reachable = r;
	if (r < 0) {
		printf("  UNREACHABLE: %s: %s\n", el_errname(r), el_strerror(r));
		r = oidc_discover(cfg, 0, &m);	/* what a login would use */
		if (r < 0) {
			printf("  no usable cached copy either: logins will fail\n");
			return -1;
		}
		printf("  using the cached copy (fetched %lld): pasted tokens work, device sign-in does not\n",
		       (long long)m->fetched);
	} else {
		printf("  reachable\n");
	}
	printf("  jwks_uri: %s\n  token_endpoint: %s\n  device_authorization_endpoint: %s\n", m->jwks_uri,
	       m->token_endpoint, m->device_authorization_endpoint);
	oidc_meta_free(m);
	return reachable < 0 ? -1 : 0;
}

static int check_keys(const struct el_config *cfg)
{
	struct el_keys *ks = NULL;
	time_t fetched, now = time(NULL);
	int r;

	printf("signing keys:\n");
	r = keys_open(cfg, &ks);
	if (r < 0) {
		printf("  UNAVAILABLE: %s: %s\n", el_errname(r), el_strerror(r));
		return -1;
	}
	fetched = keys_fetched(ks);
	printf("  %zu key(s), %s, age %llds\n", keys_count(ks), keys_from_cache(ks) ? "from the cache" : "just fetched",
	       (long long)(now >= fetched ? now - fetched : 0));
	for (size_t i = 0; i < keys_count(ks); i++) {
		const struct el_key *k = keys_get(ks, i);

		printf("  kid %.64s: RSA %d bits%s\n", k->kid, k->bits, k->weak ? " (too weak: tokens refused)" : "");
	}
	keys_free(ks);
	return 0;
}

int cmd_status(const struct el_config *cfg, int argc, char **argv)
{
	int local, remote;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: entra-login status\n");
		return 2;
	}
	printf("entra-login %s\n", EL_VERSION);
	printf("config: %s ok\n  tenant_id: %s\n  client_id: %s\n  authority: %s\n", cfg->path ? cfg->path : "(built-in)",
	       cfg->tenant_id, cfg->client_id, cfg->authority);
	local = check_state(cfg);
	if (check_userdb(cfg) < 0)
		local = -1;
	remote = check_discovery(cfg);
	if (check_keys(cfg) < 0)
		remote = -1;
	(void)sshca_status(cfg, true);	/* issue 14: certificate logins (informational) */
	if (remote < 0)
		return 3;
	return local < 0 ? 1 : 0;
}
