/* test_userdb_fx.h - the cmocka fixture of the user database unit tests: a
 * 0755 state directory made from a mkdtemp template and a configuration of
 * the test tenant pointing at it, removed again by teardown. Test code.
 * Included by test_userdb.c, test_userdb_life.c and test_userdb_identity.c,
 * with the helpers two of them shared (generation, slurp, spit,
 * resign_header_whole). */
#ifndef TEST_USERDB_FX_H
#define TEST_USERDB_FX_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "conf.h"
#include "userdb.h"
#include "userdb_format.h"

#define TID "6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a37"

struct fx {
	char dir[64], path[128];	/* path: dir/users.db */
	struct el_config *cfg;
};

/* tmpl: a mkdtemp template under /tmp; domains: the domains key's value;
 * extra: more configuration lines ("" for none). */
static int udb_fx_setup(void **state, const char *tmpl, const char *domains, const char *extra)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char text[1024];

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "%s", tmpl);
	assert_non_null(mkdtemp(fx->dir));
	chmod(fx->dir, 0755);
	snprintf(fx->path, sizeof(fx->path), "%s/users.db", fx->dir);
	snprintf(text, sizeof(text),
		 "tenant_id = " TID "\nclient_id = 3f8a1c2e-5b6d-4e7f-9a0b-1c2d3e4f5a6b\n"
		 "domains = %s\nstate_dir = %s\n%s", domains, fx->dir, extra);
	assert_int_equal(cfg_parse("t.conf", text, strlen(text), &fx->cfg, NULL, 0), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	cfg_free(fx->cfg);
	free(fx);
	return 0;
}

/* users.db's generation, opened afresh. */
static inline uint64_t generation(struct fx *fx)
{
	struct udb *db = NULL;
	uint64_t g;

	assert_int_equal(udb_open(fx->cfg, &db), 0);
	g = udb_generation(db);
	udb_close(db);
	return g;
}

/* The whole file at path (malloc'ed), for tests that edit an image. */
static inline unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Replace path with buf (0644) by rename, as a writer would. */
static inline void spit(const char *path, const unsigned char *buf, size_t len)
{
	char tmp[160];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
	chmod(tmp, 0644);
	assert_int_equal(rename(tmp, path), 0);
}

/* Stamp an image with version and re-sum its header as a version 1/2
 * writer did: the header and every table (records are the caller's). */
static inline void resign_header_whole(unsigned char *img, uint32_t version)
{
	struct udb_disk_hdr *h = (struct udb_disk_hdr *)img;
	uint64_t sum;

	h->version = version;
	sum = udb_hash64(h, UDB_HDR_SUMMED, UDB_SEED_HDR);
	sum = udb_hash64(img + h->name_table_off, (uint64_t)h->name_slots * 8, sum);
	sum = udb_hash64(img + h->uid_table_off, (uint64_t)h->uid_slots * 8, sum);
	sum = udb_hash64(img + h->admins_off, (uint64_t)h->n_admins * 4, sum);
	h->checksum = udb_hash64(img + h->members_off, (uint64_t)h->n_members * 4, sum);
}

#endif
