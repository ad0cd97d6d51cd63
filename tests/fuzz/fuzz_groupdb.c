/* fuzz_groupdb - the mapped-groups database reader (common/base/groupdb_read.c),
 * which NSS runs in every process that resolves a group (issue 21).
 *
 * Each input is tried twice: as is, and with file_size and every checksum
 * recomputed (as the writer would), so mutations get past the checksums
 * into the bounds checks, the name-table probes and the id lists. Both are
 * written to a root-owned 0644 file and mapped through gdb_open_path, as
 * NSS maps groups.db.
 *
 * Properties: no read outside the mapping (ASan), and whatever the reader
 * returns is self-consistent: a group found by index is found again by its
 * name and by its gid (or the database reports CORRUPT), names are
 * NUL-terminated and at most GDB_NAME_MAX bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "groupdb.h"

#define MAX_WALK 256

static char db_path[512];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(db_path, sizeof(db_path), "%s/groups.db", fuzz_scratch());
	return 0;
}

static bool in_file(size_t size, uint64_t off, uint64_t bytes)
{
	return off <= size && bytes <= size - off;
}

static void fix_checksums(unsigned char *buf, size_t size)
{
	struct gdb_disk_hdr h;

	if (size < GDB_HEADER_SIZE)
		return;
	memcpy(&h, buf, sizeof(h));
	h.file_size = size;
	if (h.n_groups <= GDB_GROUPS_MAX && in_file(size, h.groups_off, (uint64_t)h.n_groups * GDB_GROUP_SIZE) &&
	    in_file(size, h.strings_off, h.strings_len) && h.n_ids <= GDB_IDS_MAX && in_file(size, h.ids_off, h.n_ids * 4)) {
		for (uint32_t i = 0; i < h.n_groups && i < MAX_WALK; i++) {
			struct gdb_disk_group g;
			unsigned char *p = buf + h.groups_off + (uint64_t)i * GDB_GROUP_SIZE;
			uint64_t sum;

			memcpy(&g, p, sizeof(g));
			if (!in_file(h.strings_len, g.name_off, (uint64_t)g.name_len + 1) ||
			    !in_file(h.n_ids, g.members, g.n_members))
				continue;
			sum = udb_hash64(&g, offsetof(struct gdb_disk_group, checksum), GDB_SEED_REC);
			sum = udb_hash64(buf + h.strings_off + g.name_off, (uint64_t)g.name_len + 1, sum);
			g.checksum = udb_hash64(buf + h.ids_off + (uint64_t)g.members * 4, (uint64_t)g.n_members * 4, sum);
			memcpy(p, &g, sizeof(g));
		}
		if (h.n_users <= EL_USERDB_USERS_MAX && in_file(size, h.users_off, (uint64_t)h.n_users * GDB_USER_SIZE))
			for (uint32_t i = 0; i < h.n_users && i < MAX_WALK; i++) {
				struct gdb_disk_user u;
				unsigned char *p = buf + h.users_off + (uint64_t)i * GDB_USER_SIZE;

				memcpy(&u, p, sizeof(u));
				if (!in_file(h.n_ids, u.gids, u.n_groups))
					continue;
				u.checksum = udb_hash64(buf + h.ids_off + (uint64_t)u.gids * 4, (uint64_t)u.n_groups * 4,
							udb_hash64(&u, offsetof(struct gdb_disk_user, checksum), GDB_SEED_USER));
				memcpy(p, &u, sizeof(u));
			}
	}
	h.checksum = udb_hash64(&h, GDB_HDR_SUMMED, GDB_SEED_HDR);
	if (h.name_slots <= (1u << 24) && in_file(size, h.name_table_off, (uint64_t)h.name_slots * 8))
		h.checksum = udb_hash64(buf + h.name_table_off, (uint64_t)h.name_slots * 8, h.checksum);
	memcpy(buf, &h, sizeof(h));
}

static void walk(void)
{
	struct gdb *db = NULL;

	if (gdb_open_path(db_path, &db) < 0)
		return;
	for (uint32_t i = 0; i < gdb_count(db) && i < MAX_WALK; i++) {
		struct gdb_group g, again;
		const uint32_t *gids;
		uint32_t n;
		int r;

		if (gdb_get(db, i, &g) < 0)
			continue;
		FUZZ_CHECK(strlen(g.name) >= 1 && strlen(g.name) <= GDB_NAME_MAX);
		r = gdb_lookup_name(db, g.name, &again);
		FUZZ_CHECK(r == 0 || r == EL_ERR_NOT_FOUND || r == EL_ERR_CORRUPT);
		if (r == 0)
			FUZZ_CHECK(strcmp(again.name, g.name) == 0);
		r = gdb_lookup_gid(db, g.gid, &again);
		FUZZ_CHECK(r == 0 || r == EL_ERR_NOT_FOUND || r == EL_ERR_CORRUPT);
		if (r == 0)
			FUZZ_CHECK(again.gid == g.gid);
		for (uint32_t k = 0; k < g.n_members && k < 16; k++)
			if (gdb_user_gids(db, g.members[k], &gids, &n) == 0)
				for (uint32_t j = 0; j < n && j < 16; j++)
					(void)gdb_lookup_gid(db, gids[j], &again);
	}
	gdb_close(db);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *copy;

	if (size > 1 << 20)
		return 0;
	fuzz_write_file(db_path, data, size, 0644);
	walk();
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	fix_checksums(copy, size);
	fuzz_write_file(db_path, copy, size, 0644);
	walk();
	free(copy);
	return 0;
}
