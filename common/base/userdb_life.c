/* userdb_life.c - users over their whole life: one name per directory
 * object (the refusal text), renames, and imports with pinned uids
 * (import-aadpasswd). Writer calls are one transaction each. libc only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "strutil.h"
#include "uidmap.h"
#include "userdb.h"
#include "userdb_format.h"
#include "userdb_write.h"

int udb_name_of_oid(const struct el_config *cfg, const char *oid, const char *tid, char *buf, size_t buflen)
{
	struct udb *db = NULL;
	struct udb_user u;
	uint8_t o[16], t[16];
	int r;

	if (!cfg || !buf || udb_guid_parse(oid, o) < 0 || udb_guid_parse(tid, t) < 0)
		return EL_ERR_INVAL;
	r = udb_open(cfg, &db);
	if (r < 0)
		return r;
	r = udb_lookup_oid(db, o, t, &u);
	if (r == 0)
		r = str_copy(buf, buflen, u.name);
	udb_close(db);
	return r;
}

int udb_oid_other_name_message(char *buf, size_t buflen, const char *bound_name, const char *new_name)
{
	const char *old_s = bound_name && name_syntax_ok(bound_name) ? bound_name : "(invalid name)";
	const char *new_s = new_name && name_syntax_ok(new_name) ? new_name : "(invalid name)";
	int n;

	if (!buf || buflen == 0)
		return EL_ERR_RANGE;
	n = snprintf(buf, buflen,
		     "Sign-in refused: your directory account is already set up on this host as %s. "
		     "If your user name changed, ask an administrator to run: entra-login rename %s %s",
		     old_s, old_s, new_s);
	return n < 0 || (size_t)n >= buflen ? EL_ERR_RANGE : 0;
}

/* ---- rename ---- */

struct rename_op {
	const char *old_name, *new_name, *home;
};

static int op_rename(struct udb_ws *w, void *arg)
{
	const struct rename_op *op = arg;
	struct udb_wrec *old = udb_ws_find(w, op->old_name), *nrec;
	struct udb_wrec saved;
	int r;

	if (!old || !old->bound || old->blocked)
		return EL_ERR_NOT_FOUND;
	if (uidmap_local_has_name(w->local, op->new_name))
		return EL_ERR_NOT_OURS;
	if (udb_ws_find(w, op->new_name))
		return EL_ERR_BOUND_OTHER;
	saved = *old;
	/* The old name stays as a tombstone without a uid (its uid moves on):
	 * nobody else is given it until an administrator releases it. */
	old->uid = 0;
	old->bound = false;
	old->retired = true;
	old->pinned = false;
	old->role = UDB_ROLE_NONE;
	old->source = UDB_SRC_UNKNOWN;
	old->display = old->home = old->shell = "";
	old->display_len = old->home_len = old->shell_len = 0;
	/* The uid stays with the record: add it under the new name. */
	r = udb_ws_add_uid(w, op->new_name, saved.uid, &nrec);
	if (r < 0)
		return r;
	nrec->source = saved.source;
	nrec->display = saved.display;
	nrec->display_len = saved.display_len;
	nrec->shell = saved.shell;
	nrec->shell_len = saved.shell_len;
	nrec->home = saved.home;
	nrec->home_len = saved.home_len;
	nrec->role = saved.role;
	nrec->bound = true;
	nrec->pinned = saved.pinned;
	memcpy(nrec->oid, saved.oid, 16);
	memcpy(nrec->tid, saved.tid, 16);
	nrec->first_login = saved.first_login;
	nrec->last_login = saved.last_login;
	if (op->home) {
		r = udb_ws_strdup(w, op->home, strlen(op->home), &nrec->home);
		if (r < 0)
			return r;
		nrec->home_len = strlen(op->home);
	}
	return udb_ws_note_oid(w, nrec);
}

int udb_rename(const struct el_config *cfg, const char *old_name, const char *new_name, const char *home)
{
	struct rename_op op = { old_name, new_name, home };

	if (!cfg || !old_name || !new_name || strlen(old_name) == 0)
		return EL_ERR_INVAL;
	if (!name_is_ours(cfg, new_name))
		return EL_ERR_NOT_OURS;
	if (strcmp(old_name, new_name) == 0 || (home && !udb_path_field_ok(home, strlen(home))))
		return EL_ERR_INVAL;
	return udb_transact(cfg, op_rename, &op);
}

/* ---- import with pinned uids ---- */

struct import_entry {
	uint8_t oid[16], tid[16];
	bool valid;
};

struct import_op {
	const struct el_config *cfg;
	const struct udb_pinned *in;
	const struct import_entry *parsed;
	size_t n;
	bool apply;
	struct udb_import_status *status;
};

static void verdict(struct udb_import_status *st, enum udb_import_result res, const char *other, uint32_t uid)
{
	st->result = res;
	st->other_uid = uid;
	if (str_copy(st->other, sizeof(st->other), other ? other : "") < 0)
		st->other[0] = '\0';
}

/* The first earlier NEW entry that shares name, oid+tid or uid with entry i. */
static int earlier_clash(const struct import_op *op, size_t i)
{
	const struct udb_pinned *e = &op->in[i];

	for (size_t k = 0; k < i; k++) {
		const struct udb_pinned *f = &op->in[k];

		if (op->status[k].result != UDB_IMPORT_NEW && op->status[k].result != UDB_IMPORT_UNCHANGED)
			continue;
		if (strcmp(f->name, e->name) == 0) {
			verdict(&op->status[i], UDB_IMPORT_DUP_NAME, f->name, f->uid);
			return 1;
		}
		if (memcmp(op->parsed[k].oid, op->parsed[i].oid, 16) == 0 &&
		    memcmp(op->parsed[k].tid, op->parsed[i].tid, 16) == 0) {
			verdict(&op->status[i], UDB_IMPORT_DUP_OID, f->name, f->uid);
			return 1;
		}
		if (f->uid == e->uid) {
			verdict(&op->status[i], UDB_IMPORT_DUP_UID, f->name, f->uid);
			return 1;
		}
	}
	return 0;
}

/* Judge entry i against the database and the local files; with apply, add
 * it when NEW. */
static int judge(struct udb_ws *w, struct import_op *op, size_t i, bool *changed)
{
	const struct udb_pinned *e = &op->in[i];
	const struct import_entry *p = &op->parsed[i];
	const struct el_config *cfg = op->cfg;
	struct udb_import_status *st = &op->status[i];
	struct udb_wrec *rec, *other;
	int r;

	if (!p->valid) {
		verdict(st, UDB_IMPORT_INVALID, NULL, 0);
		return 0;
	}
	if (e->uid < UDB_PINNED_ID_MIN || e->uid == cfg->admin_gid || e->uid == cfg->user_gid) {
		verdict(st, UDB_IMPORT_ID_RESERVED, NULL, 0);
		return 0;
	}
	if (uidmap_local_has_name(w->local, e->name)) {
		verdict(st, UDB_IMPORT_NAME_LOCAL, NULL, 0);
		return 0;
	}
	if (uidmap_local_has_id(w->local, e->uid)) {
		verdict(st, UDB_IMPORT_ID_LOCAL, NULL, 0);
		return 0;
	}
	/* Before the database: in a real run earlier entries are in it already,
	 * and the verdicts must be those of the dry run. */
	if (earlier_clash(op, i))
		return 0;
	rec = udb_ws_find(w, e->name);
	if (rec && rec->bound && memcmp(rec->oid, p->oid, 16) == 0 && memcmp(rec->tid, p->tid, 16) == 0 &&
	    rec->uid == e->uid) {
		verdict(st, UDB_IMPORT_UNCHANGED, NULL, 0);
		return 0;
	}
	if (rec) {
		verdict(st, UDB_IMPORT_NAME_TAKEN, rec->name, rec->uid);
		return 0;
	}
	other = udb_ws_find_oid(w, p->oid, p->tid, NULL, &r);
	if (r < 0)
		return r;
	if (other) {
		verdict(st, UDB_IMPORT_OID_TAKEN, other->name, other->uid);
		return 0;
	}
	if (udb_ws_uid_taken(w, e->uid)) {
		const char *holder = "";

		for (size_t k = 0; k < w->n; k++)
			if (w->recs[k].uid == e->uid)
				holder = w->recs[k].name;
		verdict(st, UDB_IMPORT_UID_TAKEN, holder, e->uid);
		return 0;
	}
	verdict(st, UDB_IMPORT_NEW, NULL, 0);
	if (!op->apply)
		return 0;
	r = udb_ws_add_uid(w, e->name, e->uid, &rec);
	if (r < 0)
		return r;
	rec->bound = true;
	rec->pinned = true;
	memcpy(rec->oid, p->oid, 16);
	memcpy(rec->tid, p->tid, 16);
	r = udb_ws_set_display(w, rec, e->display);
	if (r == 0)
		r = udb_ws_strdup(w, e->home, strlen(e->home), &rec->home);
	if (r == 0)
		r = udb_ws_strdup(w, e->shell, strlen(e->shell), &rec->shell);
	if (r < 0)
		return r;
	rec->home_len = strlen(e->home);
	rec->shell_len = strlen(e->shell);
	*changed = true;
	return udb_ws_note_oid(w, rec);
}

static int op_import(struct udb_ws *w, void *arg)
{
	struct import_op *op = arg;
	bool changed = false;

	for (size_t i = 0; i < op->n; i++) {
		int r = judge(w, op, i, &changed);

		if (r < 0)
			return r;
	}
	return changed ? 0 : 1;
}

int udb_import(const struct el_config *cfg, const struct udb_pinned *in, size_t n, bool apply,
	       struct udb_import_status *status)
{
	struct import_entry *parsed;
	struct import_op op = { cfg, in, NULL, n, apply, status };
	int r;

	if (!cfg || (n && (!in || !status)))
		return EL_ERR_INVAL;
	parsed = calloc(n ? n : 1, sizeof(*parsed));
	if (!parsed)
		return EL_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct udb_pinned *e = &in[i];

		memset(&status[i], 0, sizeof(status[i]));
		parsed[i].valid = e->name && name_is_ours(cfg, e->name) && udb_guid_parse(e->oid, parsed[i].oid) == 0 &&
				  udb_guid_parse(e->tid, parsed[i].tid) == 0 && e->home && e->shell &&
				  udb_path_field_ok(e->home, strlen(e->home)) &&
				  udb_path_field_ok(e->shell, strlen(e->shell));
	}
	op.parsed = parsed;
	r = apply ? udb_transact(cfg, op_import, &op) : udb_transact_dry(cfg, op_import, &op);
	free(parsed);
	return r;
}
