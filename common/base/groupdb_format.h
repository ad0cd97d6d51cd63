/* groupdb_format.h - the on-disk layout of the mapped-groups database
 * (<state_dir>/groups.db): Entra groups as Linux groups (issue 21).
 *
 * A file of its own, next to users.db and independent of its layout:
 * written whole by groupdb_write.c (under <state_dir>/groups.lock, temp
 * file, fsync, rename), mapped read-only (MAP_SHARED) by NSS and the CLI.
 * Native byte order with a byte order mark; offsets from the start of the
 * file, 8-aligned. Members are uids of users.db: a reader names them
 * through users.db, so a forgotten user drops out of every group at once.
 *
 * Header, 128 bytes:
 *
 *    0 magic "ENTRAGDB"    8 version (u32)   12 bom (u32)
 *   16 file_size (u64)
 *   24 n_groups (u32)      28 n_users (u32)
 *   32 groups_off (u64)    n_groups x struct gdb_disk_group, sorted by gid
 *   40 name_slots (u32)    44 reserved (u32, 0)
 *   48 name_table_off (u64) name_slots x { u32 tag, u32 group+1 }: open
 *                          addressing, slot = hash & (name_slots-1),
 *                          linear probing, 0 = empty, tag = hash >> 32,
 *                          hash = udb_hash64(name, GDB_SEED_NAME)
 *   56 users_off (u64)     n_users x struct gdb_disk_user, sorted by uid
 *   64 ids_off (u64)       n_ids x u32: member uid lists and user gid lists
 *   72 n_ids (u64)
 *   80 strings_off (u64)   NUL-terminated group names
 *   88 strings_len (u64)
 *   96 generation (u64)    counts writes (humans, tests)
 *  104 reserved (u64, 0)
 *  112 reserved (u64, 0)
 *  120 checksum (u64)      udb_hash64 over bytes 0..119 (GDB_SEED_HDR),
 *                          then chained over the name table
 *
 * Group record, 48 bytes:
 *
 *    0 gid (u32)   4 n_members (u32)   8 members (u32 index into ids)
 *   12 name_off (u32, from strings_off)   16 name_len (u16)  18 flags (u16, 0)
 *   20 reserved (u32, 0)   24 oid (16 bytes, GUID text order)
 *   40 checksum (u64): udb_hash64 over bytes 0..39 (GDB_SEED_REC), chained
 *                      over the name and its NUL, then the member uids
 *
 * User record, 24 bytes: 0 uid (u32)  4 n_groups (u32)  8 gids (u32 index
 * into ids)  12 reserved (u32, 0)  16 checksum (u64): bytes 0..15, chained
 * over the gid list.
 *
 * Lookups: by gid a binary search over the group records, by name the
 * hash table, a user's groups (initgroups) a binary search over the user
 * records: O(log n) or O(1), nothing copied. The header is verified when
 * the file is mapped, a record each time it is used; a flipped byte gives
 * EL_ERR_CORRUPT, never a wrong answer.
 */
#ifndef EL_GROUPDB_FORMAT_H
#define EL_GROUPDB_FORMAT_H

#include <stdint.h>

#include "userdb_format.h"	/* udb_hash64: the same hash, other seeds */

#define GDB_FILE "groups.db"
#define GDB_LOCK_FILE "groups.lock"
#define GDB_MAGIC "ENTRAGDB"
#define GDB_VERSION 1u
#define GDB_BOM 0x01020304u
#define GDB_HEADER_SIZE 128u
#define GDB_HDR_SUMMED 120u
#define GDB_GROUP_SIZE 48u
#define GDB_USER_SIZE 24u
#define GDB_NAME_MAX 32		/* bytes of a sanitized group name */
#define GDB_GROUPS_MAX 200000u	/* mapped groups in one file */
#define GDB_IDS_MAX 16000000u	/* memberships in one file */
#define GDB_SIZE_MAX (256u * 1024 * 1024)
#define GDB_SEED_NAME 0x67726e6d00000001ull
#define GDB_SEED_HDR 0x6764687200000001ull
#define GDB_SEED_REC 0x6772656300000001ull
#define GDB_SEED_USER 0x6775737200000001ull
#define GDB_SEED_GID 0x6767696400000001ull

struct gdb_disk_hdr {
	char magic[8];
	uint32_t version;
	uint32_t bom;
	uint64_t file_size;
	uint32_t n_groups;
	uint32_t n_users;
	uint64_t groups_off;
	uint32_t name_slots;
	uint32_t reserved0;
	uint64_t name_table_off;
	uint64_t users_off;
	uint64_t ids_off;
	uint64_t n_ids;
	uint64_t strings_off;
	uint64_t strings_len;
	uint64_t generation;
	uint64_t reserved1;
	uint64_t reserved2;
	uint64_t checksum;
};
_Static_assert(sizeof(struct gdb_disk_hdr) == GDB_HEADER_SIZE, "header layout");

struct gdb_disk_group {
	uint32_t gid;
	uint32_t n_members;
	uint32_t members;
	uint32_t name_off;
	uint16_t name_len;
	uint16_t flags;
	uint32_t reserved;
	uint8_t oid[16];
	uint64_t checksum;
};
_Static_assert(sizeof(struct gdb_disk_group) == GDB_GROUP_SIZE, "group layout");

struct gdb_disk_user {
	uint32_t uid;
	uint32_t n_groups;
	uint32_t gids;
	uint32_t reserved;
	uint64_t checksum;
};
_Static_assert(sizeof(struct gdb_disk_user) == GDB_USER_SIZE, "user layout");

#endif
