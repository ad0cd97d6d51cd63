/* fuzz_userdb - the user database reader (common/base/userdb_read.c), which
 * NSS runs in every process that resolves a user.
 *
 * Each input is tried twice: as is, and with its checksums and file_size
 * recomputed (as a writer would: version 3 sums the header alone, 1 and 2
 * chain the tables in), so mutations get past the header and
 * record checksums into the bounds checks, the hash-table probes and the
 * group lists. Both copies are written to a root-owned 0644 file and mapped
 * through udb_open_path, exactly as NSS maps users.db.
 *
 * Properties: no read outside the mapping (ASan), and whatever the reader
 * returns is self-consistent: a record found by index is found again by its
 * name and by its uid (or the database reports CORRUPT), names are
 * NUL-terminated and at most EL_NAME_MAX bytes, group members hold the role.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "el_limits.h"
#include "fuzz_common.h"
#include "userdb.h"
#include "userdb_format.h"

#define MAX_WALK 512	/* records examined per input: keeps each run short */

static char db_path[512];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(db_path, sizeof(db_path), "%s/users.db", fuzz_scratch());
	return 0;
}

static bool in_file(size_t size, uint64_t off, uint64_t bytes)
{
	return off <= size && bytes <= size - off;
}

/* Recompute file_size, the record checksums and the header checksum. */
static void fix_checksums(unsigned char *buf, size_t size)
{
	struct udb_disk_hdr h;
	uint64_t sum;

	if (size < UDB_HEADER_SIZE)
		return;
	memcpy(&h, buf, sizeof(h));
	h.file_size = size;
	if (h.n_users <= EL_USERDB_USERS_MAX && in_file(size, h.records_off, (uint64_t)h.n_users * UDB_RECORD_SIZE) &&
	    in_file(size, h.strings_off, h.strings_len)) {
		for (uint32_t i = 0; i < h.n_users && i < MAX_WALK; i++) {
			struct udb_disk_rec rec;
			unsigned char *p = buf + h.records_off + (uint64_t)i * UDB_RECORD_SIZE;
			const unsigned char *pool = buf + h.strings_off;

			memcpy(&rec, p, sizeof(rec));
			if (!in_file(h.strings_len, rec.name_off, (uint64_t)rec.name_len + 1) ||
			    !in_file(h.strings_len, rec.display_off, (uint64_t)rec.display_len + 1))
				continue;
			sum = udb_hash64(&rec, UDB_REC_SUMMED, UDB_SEED_REC);
			sum = udb_hash64(pool + rec.name_off, (uint64_t)rec.name_len + 1, sum);
			sum = udb_hash64(pool + rec.display_off, (uint64_t)rec.display_len + 1, sum);
			/* Format v2 chains the pinned home/shell pair too. */
			if (h.version >= 2 && in_file(h.strings_len, rec.extra_off, (uint64_t)rec.extra_len + 1))
				sum = udb_hash64(pool + rec.extra_off, (uint64_t)rec.extra_len + 1, sum);
			rec.checksum = sum;
			memcpy(p, &rec, sizeof(rec));
		}
	}
	/* Format v3: the header checksum covers the header alone. */
	if (h.version >= 3) {
		h.checksum = udb_hash64(&h, UDB_HDR_SUMMED, UDB_SEED_HDR);
		memcpy(buf, &h, sizeof(h));
		return;
	}
	if (!in_file(size, h.name_table_off, (uint64_t)h.name_slots * 8) ||
	    !in_file(size, h.uid_table_off, (uint64_t)h.uid_slots * 8) ||
	    !in_file(size, h.admins_off, (uint64_t)h.n_admins * 4) ||
	    !in_file(size, h.members_off, (uint64_t)h.n_members * 4)) {
		memcpy(buf, &h, sizeof(h));
		return;
	}
	sum = udb_hash64(&h, UDB_HDR_SUMMED, UDB_SEED_HDR);
	sum = udb_hash64(buf + h.name_table_off, (uint64_t)h.name_slots * 8, sum);
	sum = udb_hash64(buf + h.uid_table_off, (uint64_t)h.uid_slots * 8, sum);
	sum = udb_hash64(buf + h.admins_off, (uint64_t)h.n_admins * 4, sum);
	sum = udb_hash64(buf + h.members_off, (uint64_t)h.n_members * 4, sum);
	h.checksum = sum;
	memcpy(buf, &h, sizeof(h));
}

static void check_user(const struct udb_user *u)
{
	size_t n = strnlen(u->name, EL_NAME_MAX + 1);

	FUZZ_CHECK(n >= 1 && n <= EL_NAME_MAX);
	FUZZ_CHECK(strnlen(u->display_name, UDB_DISPLAY_MAX + 1) <= UDB_DISPLAY_MAX);
	FUZZ_CHECK(u->role <= UDB_ROLE_ADMIN);
	FUZZ_CHECK(u->bound || u->role == UDB_ROLE_NONE);
}

static void walk(const struct udb *db)
{
	struct udb_user u, v;
	uint32_t n = udb_count(db);
	int r;

	(void)udb_superseded(db);
	(void)udb_generation(db);
	for (uint32_t i = 0; i < n && i < MAX_WALK; i++) {
		r = udb_get(db, i, &u);
		FUZZ_CHECK(r == 0 || r == EL_ERR_CORRUPT);
		if (r < 0)
			continue;
		check_user(&u);
		r = udb_lookup_name(db, u.name, &v);
		FUZZ_CHECK(r == 0 || r == EL_ERR_CORRUPT || r == EL_ERR_NOT_FOUND);
		if (r == 0) {
			check_user(&v);
			FUZZ_CHECK(strcmp(v.name, u.name) == 0);
		}
		r = udb_lookup_uid(db, u.uid, &v);
		FUZZ_CHECK(r == 0 || r == EL_ERR_CORRUPT || r == EL_ERR_NOT_FOUND);
		if (r == 0) {
			check_user(&v);
			FUZZ_CHECK(v.uid == u.uid);
		}
	}
	FUZZ_CHECK(udb_get(db, n, &u) == EL_ERR_NOT_FOUND);
	for (int g = UDB_GROUP_ADMINS; g <= UDB_GROUP_USERS; g++) {
		uint32_t m = udb_group_count(db, (enum udb_group)g);

		FUZZ_CHECK(m <= n);
		for (uint32_t i = 0; i < m && i < MAX_WALK; i++) {
			r = udb_group_get(db, (enum udb_group)g, i, &u);
			FUZZ_CHECK(r == 0 || r == EL_ERR_CORRUPT);
			if (r == 0) {
				check_user(&u);
				FUZZ_CHECK(u.role == UDB_ROLE_ADMIN || (g == UDB_GROUP_USERS && u.role == UDB_ROLE_USER));
			}
		}
	}
	r = udb_lookup_name(db, "alice@contoso.com", &u);
	FUZZ_CHECK(r == 0 || r == EL_ERR_CORRUPT || r == EL_ERR_NOT_FOUND);
	r = udb_lookup_uid(db, 1000000000u, &u);
	FUZZ_CHECK(r == 0 || r == EL_ERR_CORRUPT || r == EL_ERR_NOT_FOUND);
}

static void try_file(const unsigned char *buf, size_t size)
{
	struct udb *db = NULL;
	int r;

	fuzz_write_file(db_path, buf, size, 0644);
	r = udb_open_path(db_path, &db);
	/* NEWER_FORMAT: our magic and byte order with a version above ours (issue 20) */
	FUZZ_CHECK(r == 0 || r == EL_ERR_CORRUPT || r == EL_ERR_NOMEM || r == EL_ERR_NEWER_FORMAT);
	if (r == 0) {
		walk(db);
		udb_close(db);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *buf;

	if (size > (1u << 20))
		return 0;
	try_file(data, size);
	buf = malloc(size ? size : 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	fix_checksums(buf, size);
	if (size && memcmp(buf, data, size) != 0)
		try_file(buf, size);
	free(buf);
	return 0;
}
