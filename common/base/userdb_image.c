/* userdb_image.c - lay a transaction's live records out as a users.db
 * image (userdb_format.h): records sorted by name, name and uid hash
 * tables, admin and member lists, the string pool, checksums. The write
 * itself (lock, rename, superseded flag) is userdb_write.c's. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "el_limits.h"
#include "userdb.h"
#include "userdb_format.h"
#include "userdb_write.h"

static int cmp_wrec(const void *a, const void *b)
{
	return strcmp(((const struct udb_wrec *)a)->name, ((const struct udb_wrec *)b)->name);
}

#define ALIGN8(x) (((x) + 7) & ~(uint64_t)7)

/* Bytes of a record's pinned pair without its final NUL (format v2). */
static size_t extra_len(const struct udb_wrec *s)
{
	return s->home_len || s->shell_len ? s->home_len + 1 + s->shell_len : 0;
}

static void put_slot(struct udb_disk_slot *tab, uint32_t mask, uint32_t start, uint32_t key, uint32_t rec)
{
	uint32_t j;

	for (j = start & mask; tab[j].rec1; j = (j + 1) & mask)
		;
	tab[j].key = key;
	tab[j].rec1 = rec + 1;
}

/* userdb_write.h */
int udb_ws_serialize(struct udb_ws *w, unsigned char **ret_buf, size_t *ret_len)
{
	struct udb_disk_hdr *h;
	unsigned char *buf;
	uint64_t off, strings = 0, size, sp = 0;
	uint32_t n = 0, n_adm = 0, n_mem = 0, slots, a = 0, m = 0;

	for (size_t i = 0; i < w->n; i++) {
		if (w->recs[i].deleted)
			continue;
		w->recs[n++] = w->recs[i];
	}
	w->n = n;
	qsort(w->recs, n, sizeof(*w->recs), cmp_wrec);
	for (uint32_t i = 0; i < n; i++) {
		if (!udb_path_field_ok(w->recs[i].home, w->recs[i].home_len) ||
		    !udb_path_field_ok(w->recs[i].shell, w->recs[i].shell_len) ||
		    (w->recs[i].pinned && w->recs[i].uid < UDB_PINNED_ID_MIN) ||
		    (w->recs[i].retired ? w->recs[i].bound : w->recs[i].uid == 0) ||
		    (!w->recs[i].bound && w->recs[i].role != UDB_ROLE_NONE))
			return EL_ERR_INVAL;
		strings += w->recs[i].name_len + 1 + w->recs[i].display_len + 1 + extra_len(&w->recs[i]) + 1;
		n_adm += w->recs[i].role == UDB_ROLE_ADMIN;
		n_mem += w->recs[i].role != UDB_ROLE_NONE;
	}
	slots = udb_pow2_above(n);
	off = UDB_HEADER_SIZE + (uint64_t)n * UDB_RECORD_SIZE;
	off += 2 * (uint64_t)slots * 8;
	off = ALIGN8(off + (uint64_t)n_adm * 4);
	off = ALIGN8(off + (uint64_t)n_mem * 4);
	size = ALIGN8(off + strings);
	if (size > EL_USERDB_SIZE_MAX || strings > UINT32_MAX)
		return EL_ERR_FULL;
	buf = calloc(1, size);
	if (!buf)
		return EL_ERR_NOMEM;
	h = (struct udb_disk_hdr *)buf;
	memcpy(h->magic, UDB_MAGIC, 8);
	h->version = UDB_VERSION;
	h->bom = UDB_BOM;
	h->file_size = size;
	h->n_users = n;
	h->record_size = UDB_RECORD_SIZE;
	h->records_off = UDB_HEADER_SIZE;
	h->name_slots = h->uid_slots = slots;
	h->name_table_off = h->records_off + (uint64_t)n * UDB_RECORD_SIZE;
	h->uid_table_off = h->name_table_off + (uint64_t)slots * 8;
	h->n_admins = n_adm;
	h->n_members = n_mem;
	h->admins_off = h->uid_table_off + (uint64_t)slots * 8;
	h->members_off = ALIGN8(h->admins_off + (uint64_t)n_adm * 4);
	h->strings_off = off;
	h->strings_len = strings;
	h->generation = w->generation + 1;
	for (uint32_t i = 0; i < n; i++) {
		const struct udb_wrec *s = &w->recs[i];
		struct udb_disk_rec *r = (struct udb_disk_rec *)(buf + h->records_off) + i;
		char *pool = (char *)buf + h->strings_off;
		uint64_t sum;

		r->uid = s->uid;
		r->role = (uint8_t)((unsigned)s->role | (unsigned)s->source << UDB_SRC_SHIFT);
		r->flags = (uint8_t)((s->bound ? UDB_FLAG_BOUND : 0) | (s->pinned ? UDB_FLAG_PINNED : 0) |
				     (s->blocked ? UDB_FLAG_BLOCKED : 0) | (s->retired ? UDB_FLAG_RETIRED : 0));
		r->name_len = (uint16_t)s->name_len;
		r->name_off = (uint32_t)sp;
		memcpy(pool + sp, s->name, s->name_len + 1);
		sp += s->name_len + 1;
		r->display_len = (uint16_t)s->display_len;
		r->display_off = (uint32_t)sp;
		memcpy(pool + sp, s->display, s->display_len + 1);
		sp += s->display_len + 1;
		r->extra_len = (uint16_t)extra_len(s);
		r->extra_off = (uint32_t)sp;
		if (r->extra_len) {
			memcpy(pool + sp, s->home, s->home_len + 1);
			memcpy(pool + sp + s->home_len + 1, s->shell, s->shell_len + 1);
		} else {
			pool[sp] = '\0';
		}
		r->first_login = s->first_login;
		r->last_login = s->last_login;
		memcpy(r->oid, s->oid, 16);
		memcpy(r->tid, s->tid, 16);
		sum = udb_hash64(r, UDB_REC_SUMMED, UDB_SEED_REC);
		sum = udb_hash64(s->name, s->name_len + 1, sum);
		sum = udb_hash64(s->display, s->display_len + 1, sum);
		r->checksum = udb_hash64(pool + sp, (uint64_t)r->extra_len + 1, sum);
		sp += (uint64_t)r->extra_len + 1;
		{
			uint64_t nh = udb_hash64(s->name, s->name_len, UDB_SEED_NAME);

			put_slot((struct udb_disk_slot *)(buf + h->name_table_off), slots - 1, (uint32_t)nh,
				 (uint32_t)(nh >> 32), i);
			if (s->uid != 0)	/* a rename tombstone: its uid moved on */
				put_slot((struct udb_disk_slot *)(buf + h->uid_table_off), slots - 1,
					 udb_mix32(s->uid), s->uid, i);
		}
		if (s->role == UDB_ROLE_ADMIN)
			((uint32_t *)(buf + h->admins_off))[a++] = i;
		if (s->role != UDB_ROLE_NONE)
			((uint32_t *)(buf + h->members_off))[m++] = i;
	}
	/* Version 3: the header alone, so that readers verify O(1) at open;
	 * table entries are verified through the records they point to. */
	h->checksum = udb_hash64(h, UDB_HDR_SUMMED, UDB_SEED_HDR);
	*ret_buf = buf;
	*ret_len = size;
	return 0;
}
