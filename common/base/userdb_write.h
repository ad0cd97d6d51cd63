/* userdb_write.h - internal: the write transaction behind the userdb.h
 * writer calls (userdb_ops.c). Not for use outside userdb_*.c.
 * Single-threaded per transaction; transactions exclude each other with
 * an flock on <state_dir>/users.lock. */
#ifndef EL_USERDB_WRITE_H
#define EL_USERDB_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "userdb.h"

struct uidmap_local;

/* One record being edited. Strings are borrowed from the old mapping or
 * from copies the transaction owns. */
struct udb_wrec {
	const char *name, *display;
	size_t name_len, display_len;
	const char *home, *shell;	/* pinned, "" = none; never NULL */
	size_t home_len, shell_len;
	uint32_t uid;
	enum udb_role role;
	enum udb_source source;
	bool bound, deleted, pinned, blocked, retired;
	uint8_t oid[16], tid[16];
	int64_t first_login, last_login;
};

struct udb_ws {
	const struct el_config *cfg;
	struct udb *old;		/* the file being replaced, or NULL */
	struct uidmap_local *local;	/* /etc/passwd and /etc/group */
	struct udb_wrec *recs;
	size_t n, cap;
	uint32_t *name_tab, *uid_set;	/* open addressing over recs */
	uint32_t slots;
	uint32_t *oid_tab;		/* bound records by oid+tid, built on first use */
	uint32_t oid_slots, oid_used;
	char **owned;
	size_t n_owned, cap_owned;
	uint64_t generation;
	/* Set by op when its change is part of an access decision (a new
	 * record, a binding, a role); left false when only bookkeeping changed
	 * (last login, display name), which a tolerant transaction may fail to
	 * write without failing the caller. transact starts it true for every
	 * op but op_login, which clears it first. */
	bool decides;
};

/* Lock, load, run op, and unless op returned non-zero write the result and
 * unlock. op returns 0 (write), 1 (nothing changed) or a negative EL_ERR_*
 * (nothing written, returned). */
int udb_transact(const struct el_config *cfg, int (*op)(struct udb_ws *w, void *arg), void *arg) EL_MUST_CHECK;

/* udb_transact for a change that may be pure bookkeeping: when the database
 * cannot be written (lock or file: no space, read-only, I/O error) and op
 * left w->decides false, returns 0 with *ret_unsaved = the write error
 * (EL_ERR_DB_NOSPACE, EL_ERR_DB_READONLY, EL_ERR_DB_WRITE); otherwise as
 * udb_transact with *ret_unsaved = 0. A decision that cannot be written
 * returns that write error. */
int udb_transact_tolerant(const struct el_config *cfg, int (*op)(struct udb_ws *w, void *arg), void *arg,
			  int *ret_unsaved) EL_MUST_CHECK;

/* The same without the lock and without writing anything (op's changes are
 * dropped): dry runs, which must leave the state directory untouched. */
int udb_transact_dry(const struct el_config *cfg, int (*op)(struct udb_ws *w, void *arg), void *arg) EL_MUST_CHECK;

/* The record of name, or NULL. Pointers into w->recs stay valid until the
 * next udb_ws_add. */
struct udb_wrec *udb_ws_find(struct udb_ws *w, const char *name);

/* Append a record for name with the UID uidmap picks; role none, unbound.
 * Returns 0, EL_ERR_NOT_OURS (a local name), EL_ERR_FULL, EL_ERR_NOMEM. */
int udb_ws_add(struct udb_ws *w, const char *name, struct udb_wrec **ret) EL_MUST_CHECK;

/* Append a record for name with the given uid (pinned imports, renames):
 * the caller has checked that no live record holds name or uid and that
 * uid is allowed. Role none, unbound, no pinned fields.
 * Returns 0, EL_ERR_FULL, EL_ERR_NOMEM. */
int udb_ws_add_uid(struct udb_ws *w, const char *name, uint32_t uid, struct udb_wrec **ret) EL_MUST_CHECK;

/* True if a record has uid (one deleted in this transaction may still
 * count until the index is rebuilt: never frees too early). */
bool udb_ws_uid_taken(struct udb_ws *w, uint32_t uid);

/* Keep a copy of s[0..n) for the rest of the transaction. */
int udb_ws_strdup(struct udb_ws *w, const char *s, size_t n, const char **ret) EL_MUST_CHECK;

/* The live bound record other than except (may be NULL) whose oid+tid
 * these are, or NULL. Returns EL_ERR_NOMEM through *ret_err (else 0). */
struct udb_wrec *udb_ws_find_oid(struct udb_ws *w, const uint8_t oid[16], const uint8_t tid[16],
				 const struct udb_wrec *except, int *ret_err);
/* Call after binding rec (setting its oid/tid and bound), so that
 * udb_ws_find_oid sees it. 0 or EL_ERR_NOMEM. */
int udb_ws_note_oid(struct udb_ws *w, const struct udb_wrec *rec) EL_MUST_CHECK;

/* Set rec's display name, sanitized (no ':' or control bytes) and capped. */
int udb_ws_set_display(struct udb_ws *w, struct udb_wrec *rec, const char *display) EL_MUST_CHECK;

/* Lay the live records out as a users.db image, dropping deleted ones and
 * sorting w->recs by name; *ret_buf is malloc'ed. Returns 0, EL_ERR_INVAL
 * (a record breaks the format's rules), EL_ERR_FULL, EL_ERR_NOMEM
 * (userdb_image.c). */
int udb_ws_serialize(struct udb_ws *w, unsigned char **ret_buf, size_t *ret_len) EL_MUST_CHECK;

/* Hash table size for n entries: a power of two, at least 8, above 4n/3+1. */
uint32_t udb_pow2_above(size_t n);

#endif
