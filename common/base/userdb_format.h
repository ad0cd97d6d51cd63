/* userdb_format.h - the on-disk layout of the user database (users.db).
 *
 * One file, written whole by userdb_write.c (temp file, fsync, rename) and
 * mapped read-only and shared by every reader (NSS in every process, PAM,
 * the CLI); never copied. Native byte order (little-endian on every
 * platform we ship); the byte order mark makes a foreign-endian file fail
 * validation instead of being misread. All offsets are from the start of
 * the file and 8-aligned.
 *
 * Header, 128 bytes:
 *
 *    0       8      12      16              24      28      32
 *    +-------+-------+-------+---------------+-------+-------+
 *    | magic "ENTRAUDB"      | version | bom | file_size     |
 *    +-----------------------+-----------------------+-------+
 *   24 n_users  28 record_size  32 records_off (u64)
 *   40 name_slots (u32)  44 uid_slots (u32)
 *   48 name_table_off (u64)  56 uid_table_off (u64)
 *   64 n_admins (u32)  68 n_members (u32)
 *   72 admins_off (u64)  80 members_off (u64)
 *   88 strings_off (u64)  96 strings_len (u64)
 *  104 generation (u64)  counts writes, for humans and tests
 *  112 superseded (u32)  0; set to 1 in place, on the old inode, after a
 *                        writer renamed a newer file over it, so readers
 *                        that map it reload at once (one memory read per
 *                        call). Not checksummed. Readers map nothing else
 *                        (users.stamp is gone: userdb.h).
 *  116 reserved (u32)    0 (version 3: checked, a file with another value
 *                        is refused)
 *  120 checksum (u64)    version 3: udb_hash64 over bytes 0..111 alone.
 *                        Versions 1 and 2: over bytes 0..111, then the
 *                        name table, uid table, admins list and members
 *                        list, chained (so opening costs O(n)).
 *
 * Then, each at its offset:
 *
 *   records      n_users x struct udb_disk_rec (80 bytes), sorted by name
 *   name table   name_slots x { u32 tag, u32 rec+1 }   open addressing,
 *                slot = hash & (name_slots-1), linear probing, rec+1 == 0
 *                is an empty slot; tag = hash >> 32 (hash = udb_hash64 of
 *                the name with UDB_SEED_NAME)
 *   uid table    uid_slots x { u32 uid, u32 rec+1 }    same, slot from
 *                udb_mix32(uid)
 *   admins       n_admins x u32 rec    role admin, name (= index) order
 *   members      n_members x u32 rec   role admin or user, name order
 *   strings      NUL-terminated strings referenced by the records
 *
 * Record, 80 bytes:
 *
 *    0 uid (u32)   4 role (u8: low nibble the role, version 3: high nibble
 *                  the source that decided it, UDB_SRC_*; 0 = unknown)
 *    5 flags (u8)  6 name_len (u16)
 *    8 name_off (u32, from strings_off)   12 display_len (u16)
 *   14 extra_len (u16)   version 2: bytes of the pinned "HOME\0SHELL" pair
 *                        without its final NUL, 0 = neither pinned (then
 *                        extra_off points at a lone NUL); version 1: 0
 *   16 display_off (u32)   20 extra_off (u32; version 1: 0)
 *   24 first_login (i64, Unix seconds, 0 = never)
 *   32 last_login (i64)
 *   40 oid (16 bytes, GUID text order, all zero when not bound)
 *   56 tid (16 bytes)
 *   72 checksum (u64): udb_hash64 over bytes 0..71, the name and its NUL,
 *                      the display name and its NUL, and (version 2) the
 *                      extra_len + 1 bytes at extra_off, chained.
 *
 * Flags: UDB_FLAG_BOUND (oid/tid valid), UDB_FLAG_PINNED (version 2: the
 * uid was imported from another system, e.g. /etc/aadpasswd, and may lie
 * outside uid_min..uid_max; it is still never 0, below UDB_PINNED_ID_MIN,
 * a role group id or a local id). A pinned home or shell (extra) replaces
 * the configured template or shell for that user; gid = uid always.
 *
 * Version 3 flags (identity over time, README "Who may log in"):
 * UDB_FLAG_BLOCKED: every login of the name is refused (EL_ERR_NAME_BLOCKED)
 * until `entra-login unblock`; set by `block` and by `forget`, which also
 * clears BOUND but keeps the oid/tid of the last holder (only that object
 * may come back, after unblock, with the same uid). UDB_FLAG_RETIRED: a
 * tombstone (`rename` leaves one under the old name, `forget --purge` turns
 * the record into one): never BOUND, never answered by NSS, every login
 * refused (EL_ERR_NAME_RETIRED) until `entra-login release`. A rename
 * tombstone has uid 0 (its uid moved on with the user) and no uid table
 * entry; `release` turns a tombstone that still holds its uid into a uid
 * reservation named "#<uid>" (never a directory name, never answered), so a
 * uid once handed out is never given to anybody else.
 *
 * Version 3 differs from version 2 only in the role source nibble and the
 * BLOCKED/RETIRED flags (a version 1 or 2 record has neither, and its role
 * counts as decided by an unknown source); version 2 from version 1 only in
 * the extra pair and the pinned flag. Version 3 also changes what the
 * header checksum covers (and the reserved word): see above. Readers accept
 * 1 to 3, writers always write 3 (so the next write upgrades an older file).
 *
 * Table sizes are powers of two larger than n_users, so every probe run
 * ends at an empty slot; readers still bound probes by the table size.
 *
 * What is verified when (version 3): at open, the header (its checksum,
 * every offset and count against the file's size, which must be
 * file_size: a file cut short is refused before any page past its end is
 * touched) - O(1), whatever the number of users. At each use, a record
 * (its checksum over itself and its strings, bounds, flags). Tables are
 * checked by indirection: a name slot leads to a record whose name must be
 * the one looked up (a record of another name counts as a collision only
 * if that name's tag is the slot's, else the slot is damaged); a uid slot
 * to a record whose uid must be the one looked up; a role-list entry to a
 * record whose role must fit the list, and each entry must lie above the
 * one before (no member twice). So a flipped byte in a record turns into
 * EL_ERR_CORRUPT, and a flipped byte in a table into EL_ERR_CORRUPT or a
 * user not found (hidden), never into a wrong answer. A hidden user is
 * answered by NSS as a provisional user (the uid its first login would
 * get); its login then fails with EL_ERR_UID_CHANGED (the writer rebuilds
 * the tables from the verified records, so it always finds the user), and
 * the next write repairs the tables.
 */
#ifndef EL_USERDB_FORMAT_H
#define EL_USERDB_FORMAT_H

#include <stdint.h>

#define UDB_MAGIC "ENTRAUDB"
#define UDB_VERSION 3u		/* written */
#define UDB_VERSION_MIN 1u	/* oldest read */
#define UDB_BOM 0x01020304u
#define UDB_HEADER_SIZE 128u
#define UDB_RECORD_SIZE 80u
#define UDB_DISPLAY_MAX 256	/* bytes of display name kept, without NUL */
#define UDB_PATH_MAX 255	/* bytes of a pinned home or shell */
#define UDB_SEED_NAME 0x6e616d6500000001ull
#define UDB_SEED_HDR 0x6864720000000001ull
#define UDB_SEED_REC 0x7265630000000001ull

enum {
	UDB_FLAG_BOUND = 1,	/* oid/tid valid; clear = forgotten, uid reserved */
	UDB_FLAG_PINNED = 2,	/* uid imported, may lie outside the range (version 2) */
	UDB_FLAG_BLOCKED = 4,	/* every login refused until unblock (version 3) */
	UDB_FLAG_RETIRED = 8,	/* tombstone: renamed away or purged (version 3) */
};
#define UDB_ROLE_BITS 0x0fu	/* role byte: the role */
#define UDB_SRC_SHIFT 4		/* role byte: the source, version 3 */

struct udb_disk_hdr {
	char magic[8];
	uint32_t version;
	uint32_t bom;
	uint64_t file_size;
	uint32_t n_users;
	uint32_t record_size;
	uint64_t records_off;
	uint32_t name_slots;
	uint32_t uid_slots;
	uint64_t name_table_off;
	uint64_t uid_table_off;
	uint32_t n_admins;
	uint32_t n_members;
	uint64_t admins_off;
	uint64_t members_off;
	uint64_t strings_off;
	uint64_t strings_len;
	uint64_t generation;
	uint32_t superseded;
	uint32_t reserved;
	uint64_t checksum;
};
#define UDB_HDR_SUMMED 112u	/* bytes of the header the checksum covers */

struct udb_disk_rec {
	uint32_t uid;
	uint8_t role;
	uint8_t flags;
	uint16_t name_len;
	uint32_t name_off;
	uint16_t display_len;
	uint16_t extra_len;
	uint32_t display_off;
	uint32_t extra_off;
	int64_t first_login;
	int64_t last_login;
	uint8_t oid[16];
	uint8_t tid[16];
	uint64_t checksum;
};
#define UDB_REC_SUMMED 72u

struct udb_disk_slot {
	uint32_t key;		/* name tag or uid */
	uint32_t rec1;		/* record index + 1, 0 = empty */
};

_Static_assert(sizeof(struct udb_disk_hdr) == UDB_HEADER_SIZE, "header layout");
_Static_assert(__builtin_offsetof(struct udb_disk_hdr, superseded) == UDB_HDR_SUMMED, "header layout");
_Static_assert(__builtin_offsetof(struct udb_disk_hdr, checksum) == 120, "header layout");
_Static_assert(sizeof(struct udb_disk_rec) == UDB_RECORD_SIZE, "record layout");
_Static_assert(__builtin_offsetof(struct udb_disk_rec, checksum) == UDB_REC_SUMMED, "record layout");
_Static_assert(sizeof(struct udb_disk_slot) == 8, "slot layout");

/* The hash used for the name table and for checksums. Part of the format:
 * changing it needs a new UDB_VERSION. Word at a time, each step a
 * bijection of the state, so any single changed word changes the result. */
static inline uint64_t udb_hash64(const void *data, uint64_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ull), w;

	for (; len >= 8; len -= 8, p += 8) {
		__builtin_memcpy(&w, p, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
	}
	w = 0;
	for (uint64_t i = 0; i < len; i++)
		w |= (uint64_t)p[i] << (8 * i);
	h = (h ^ w ^ (len << 56)) * 0x94d049bb133111ebull;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return h;
}

static inline uint32_t udb_mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

#endif
