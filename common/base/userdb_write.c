/* userdb_write.c - change users.db: lock, re-read, modify, write whole.
 *
 * Every change runs as a transaction: flock the lock file, map the current
 * database, copy its records into memory, apply the change, serialize a new
 * file (userdb_format.h), replace the old one atomically, then flag the old
 * inode superseded so processes that still map it reload at once.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "el_limits.h"
#include "names.h"
#include "strutil.h"
#include "uidmap.h"
#include "userdb.h"
#include "userdb_format.h"
#include "userdb_write.h"

static void ws_free(struct udb_ws *w)
{
	for (size_t i = 0; i < w->n_owned; i++)
		free(w->owned[i]);
	free(w->owned);
	free(w->recs);
	free(w->name_tab);
	free(w->uid_set);
	free(w->oid_tab);
	uidmap_local_free(w->local);
	udb_close(w->old);
}

/* Keep a copy of s (at most max bytes) alive until the transaction ends. */
int udb_ws_strdup(struct udb_ws *w, const char *s, size_t n, const char **ret)
{
	char *copy;

	if (w->n_owned == w->cap_owned) {
		size_t ncap = w->cap_owned ? w->cap_owned * 2 : 16;
		char **p = realloc(w->owned, ncap * sizeof(*p));

		if (!p)
			return EL_ERR_NOMEM;
		w->owned = p;
		w->cap_owned = ncap;
	}
	copy = malloc(n + 1);
	if (!copy)
		return EL_ERR_NOMEM;
	memcpy(copy, s, n);
	copy[n] = '\0';
	w->owned[w->n_owned++] = copy;
	*ret = copy;
	return 0;
}

uint32_t udb_pow2_above(size_t n)
{
	uint32_t s = 8;

	while (s <= n + n / 3 + 1)
		s <<= 1;
	return s;
}

/* Indexes over w->recs: name -> index+1, and the set of uids in use. Sized
 * for cap records, rebuilt when the record array grows. */
static int ws_index(struct udb_ws *w)
{
	uint32_t ns = udb_pow2_above(w->cap);
	uint32_t *nt = calloc(ns, sizeof(uint32_t)), *us = calloc(ns, sizeof(uint32_t));

	if (!nt || !us) {
		free(nt);
		free(us);
		return EL_ERR_NOMEM;
	}
	free(w->name_tab);
	free(w->uid_set);
	w->name_tab = nt;
	w->uid_set = us;
	w->slots = ns;
	for (size_t i = 0; i < w->n; i++) {
		uint32_t h = (uint32_t)udb_hash64(w->recs[i].name, w->recs[i].name_len, UDB_SEED_NAME);
		uint32_t j;

		if (w->recs[i].deleted)
			continue;	/* gone in this transaction (purge, rename) */

		for (j = h & (ns - 1); nt[j]; j = (j + 1) & (ns - 1))
			if (strcmp(w->recs[nt[j] - 1].name, w->recs[i].name) == 0)
				return EL_ERR_CORRUPT;	/* a name twice */
		nt[j] = (uint32_t)i + 1;
		if (w->recs[i].uid == 0)
			continue;
		for (j = udb_mix32(w->recs[i].uid) & (ns - 1); us[j]; j = (j + 1) & (ns - 1))
			if (us[j] == w->recs[i].uid)
				return EL_ERR_CORRUPT;	/* a uid twice */
		us[j] = w->recs[i].uid;
	}
	return 0;
}

struct udb_wrec *udb_ws_find(struct udb_ws *w, const char *name)
{
	uint32_t h = (uint32_t)udb_hash64(name, strlen(name), UDB_SEED_NAME);

	for (uint32_t j = h & (w->slots - 1); w->name_tab[j]; j = (j + 1) & (w->slots - 1)) {
		struct udb_wrec *rec = &w->recs[w->name_tab[j] - 1];

		if (!rec->deleted && strcmp(rec->name, name) == 0)
			return rec;
	}
	return NULL;
}

bool udb_ws_uid_taken(struct udb_ws *w, uint32_t uid)
{
	for (uint32_t j = udb_mix32(uid) & (w->slots - 1); w->uid_set[j]; j = (j + 1) & (w->slots - 1))
		if (w->uid_set[j] == uid)
			return true;
	return false;
}

/* uidmap's view of the database: every uid any record holds, bound or
 * forgotten, pinned or mapped, is taken. */
static int uid_taken(void *userdata, uint32_t uid)
{
	return udb_ws_uid_taken(userdata, uid) ? 1 : 0;
}

int udb_ws_add(struct udb_ws *w, const char *name, struct udb_wrec **ret)
{
	uint32_t uid;
	int r;

	if (w->n >= EL_USERDB_USERS_MAX)
		return EL_ERR_FULL;
	r = uidmap_pick(w->cfg, w->local, name, uid_taken, w, w->n, &uid);
	if (r < 0)
		return r;
	return udb_ws_add_uid(w, name, uid, ret);
}

int udb_ws_add_uid(struct udb_ws *w, const char *name, uint32_t uid, struct udb_wrec **ret)
{
	struct udb_wrec *rec;
	int r;

	if (w->n >= EL_USERDB_USERS_MAX || uid == 0)
		return uid == 0 ? EL_ERR_INVAL : EL_ERR_FULL;
	if (w->n == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 64;
		struct udb_wrec *p = realloc(w->recs, ncap * sizeof(*p));

		if (!p)
			return EL_ERR_NOMEM;
		w->recs = p;
		w->cap = ncap;
	}
	rec = &w->recs[w->n];
	memset(rec, 0, sizeof(*rec));
	r = udb_ws_strdup(w, name, strlen(name), &rec->name);
	if (r < 0)
		return r;
	rec->name_len = strlen(name);
	rec->display = rec->home = rec->shell = "";
	rec->uid = uid;
	w->n++;
	if (w->n >= w->cap || w->slots <= w->n + w->n / 3 + 1) {
		r = ws_index(w);
		if (r < 0)
			return r;
	} else {
		uint32_t h = (uint32_t)udb_hash64(name, rec->name_len, UDB_SEED_NAME), j;

		for (j = h & (w->slots - 1); w->name_tab[j]; j = (j + 1) & (w->slots - 1))
			;
		w->name_tab[j] = (uint32_t)w->n;
		for (j = udb_mix32(uid) & (w->slots - 1); w->uid_set[j]; j = (j + 1) & (w->slots - 1))
			;
		w->uid_set[j] = uid;
	}
	*ret = &w->recs[w->n - 1];
	return 0;
}

static uint32_t oid_hash(const uint8_t oid[16], const uint8_t tid[16])
{
	return (uint32_t)udb_hash64(oid, 16, udb_hash64(tid, 16, UDB_SEED_NAME));
}

static void oid_put(struct udb_ws *w, uint32_t idx)
{
	const struct udb_wrec *rec = &w->recs[idx];
	uint32_t j;

	for (j = oid_hash(rec->oid, rec->tid) & (w->oid_slots - 1); w->oid_tab[j]; j = (j + 1) & (w->oid_slots - 1))
		;
	w->oid_tab[j] = idx + 1;
	w->oid_used++;
}

/* (Re)build the oid index with room for at least need more entries. */
static int oid_build(struct udb_ws *w, size_t need)
{
	uint32_t slots = udb_pow2_above(2 * (w->n + need));

	free(w->oid_tab);
	w->oid_tab = calloc(slots, sizeof(uint32_t));
	if (!w->oid_tab)
		return EL_ERR_NOMEM;
	w->oid_slots = slots;
	w->oid_used = 0;
	for (size_t i = 0; i < w->n; i++)
		if (w->recs[i].bound && !w->recs[i].deleted)
			oid_put(w, (uint32_t)i);
	return 0;
}

struct udb_wrec *udb_ws_find_oid(struct udb_ws *w, const uint8_t oid[16], const uint8_t tid[16],
				 const struct udb_wrec *except, int *ret_err)
{
	*ret_err = 0;
	if (!w->oid_tab && (*ret_err = oid_build(w, 64)) < 0)
		return NULL;
	for (uint32_t j = oid_hash(oid, tid) & (w->oid_slots - 1); w->oid_tab[j]; j = (j + 1) & (w->oid_slots - 1)) {
		struct udb_wrec *rec = &w->recs[w->oid_tab[j] - 1];

		/* Entries go stale when a record is forgotten, deleted or
		 * rebound in this transaction: check the record itself. */
		if (rec != except && rec->bound && !rec->deleted && memcmp(rec->oid, oid, 16) == 0 &&
		    memcmp(rec->tid, tid, 16) == 0)
			return rec;
	}
	return NULL;
}

int udb_ws_note_oid(struct udb_ws *w, const struct udb_wrec *rec)
{
	if (!w->oid_tab)
		return 0;	/* built from the records on first use */
	if ((size_t)w->oid_used + 1 >= w->oid_slots / 2)
		return oid_build(w, 64);	/* rec is already among the records */
	oid_put(w, (uint32_t)(rec - w->recs));
	return 0;
}

/* Display names end up in the GECOS field: no ':' and no control bytes,
 * capped at UDB_DISPLAY_MAX bytes without splitting a UTF-8 sequence. */
int udb_ws_set_display(struct udb_ws *w, struct udb_wrec *rec, const char *display)
{
	char buf[UDB_DISPLAY_MAX + 1];
	size_t n = display ? strnlen(display, UDB_DISPLAY_MAX + 1) : 0;
	int r;

	if (n > UDB_DISPLAY_MAX) {
		n = UDB_DISPLAY_MAX;
		while (n > 0 && ((unsigned char)display[n] & 0xc0) == 0x80)
			n--;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)display[i];

		buf[i] = (c < 0x20 || c == 0x7f || c == ':') ? ' ' : (char)c;
	}
	buf[n] = '\0';
	r = udb_ws_strdup(w, buf, n, &rec->display);
	if (r < 0)
		return r;
	rec->display_len = n;
	return 0;
}

static int load(struct udb_ws *w, const char *path)
{
	uint32_t n;
	int r;

	r = uidmap_local_load(UIDMAP_PASSWD, UIDMAP_GROUP, &w->local);
	if (r < 0)
		return r;
	r = udb_open_path(path, &w->old);
	if (r == EL_ERR_NOT_FOUND) {
		w->cap = 64;
		w->recs = calloc(w->cap, sizeof(*w->recs));
		return w->recs ? ws_index(w) : EL_ERR_NOMEM;
	}
	if (r < 0)
		return r;
	n = udb_count(w->old);
	w->cap = (size_t)n + 64;
	w->recs = calloc(w->cap, sizeof(*w->recs));
	if (!w->recs)
		return EL_ERR_NOMEM;
	for (uint32_t i = 0; i < n; i++) {
		struct udb_user u;
		struct udb_wrec *rec = &w->recs[i];

		r = udb_get(w->old, i, &u);
		if (r < 0)
			return r;
		rec->name = u.name;
		rec->name_len = strlen(u.name);
		rec->display = u.display_name;
		rec->display_len = strlen(u.display_name);
		rec->uid = u.uid;
		rec->role = u.role;
		rec->source = u.source;
		rec->bound = u.bound;
		rec->blocked = u.blocked;
		rec->retired = u.retired;
		rec->pinned = u.pinned;
		rec->home = u.home;
		rec->home_len = strlen(u.home);
		rec->shell = u.shell;
		rec->shell_len = strlen(u.shell);
		memcpy(rec->oid, u.oid, 16);
		memcpy(rec->tid, u.tid, 16);
		rec->first_login = u.first_login;
		rec->last_login = u.last_login;
	}
	w->n = n;
	w->generation = udb_generation(w->old);
	return ws_index(w);
}

/* Why the database could not be written, from errno: the text names the
 * cause for the admin and the user ("no space left on device"). */
static int write_err(int e)
{
	if (e == ENOSPC || e == EDQUOT)
		return EL_ERR_DB_NOSPACE;
	if (e == EROFS)
		return EL_ERR_DB_READONLY;
	return EL_ERR_DB_WRITE;
}

static bool is_write_err(int r)
{
	return r == EL_ERR_DB_NOSPACE || r == EL_ERR_DB_READONLY || r == EL_ERR_DB_WRITE;
}

/* Under the lock: remove the users.db.tmp.XXXXXX files of a writer killed
 * between mkostemp and rename (no writer can be using one now). Only our
 * own regular files with exactly that name shape; best effort. */
static void remove_stale_temps(const struct el_config *cfg)
{
	static const char prefix[] = UDB_FILE ".tmp.";
	DIR *d = opendir(cfg->state_dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		if (strncmp(e->d_name, prefix, sizeof(prefix) - 1) != 0 || strlen(e->d_name) != sizeof(prefix) - 1 + 6)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
		    st.st_uid == geteuid())
			(void)unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

static int lock_take(const struct el_config *cfg, int *ret_fd)
{
	char path[4096];
	int fd, n;

	if (mkdir(cfg->state_dir, 0755) < 0 && errno != EEXIST)
		return write_err(errno);
	/* Never write bindings where someone else could swap them. */
	n = dir_safe(cfg->state_dir, false);
	if (n < 0)
		return n == EL_ERR_NOT_FOUND ? EL_ERR_IO : n;
	n = snprintf(path, sizeof(path), "%s/%s", cfg->state_dir, UDB_LOCK_FILE);
	if (n < 0 || (size_t)n >= sizeof(path))
		return EL_ERR_RANGE;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0)
		return errno == ELOOP ? EL_ERR_INSECURE : write_err(errno);
	/* Wait while other writers make progress: a burst of first sign-ins on a
	 * loaded host waits its turn; a stopped holder fails everyone after
	 * UDB_LOCK_TIMEOUT_MS. */
	n = snprintf(path, sizeof(path), "%s/%s", cfg->state_dir, UDB_FILE);
	if (n < 0 || (size_t)n >= sizeof(path) || fd_lock_wait(fd, UDB_LOCK_TIMEOUT_MS, UDB_LOCK_MAX_WAIT_MS, path) < 0) {
		close(fd);
		return EL_ERR_LOCK;
	}
	*ret_fd = fd;
	return 0;
}

/* After the rename: tell readers that still map the old inode. */
static void mark_superseded(int old_fd)
{
	uint32_t one = 1;

	if (old_fd >= 0)
		(void)!pwrite(old_fd, &one, sizeof(one), offsetof(struct udb_disk_hdr, superseded));
}

/* ret_unsaved: NULL (every write error fails), or tolerant (udb_transact_tolerant). */
static int transact(const struct el_config *cfg, int (*op)(struct udb_ws *w, void *arg), void *arg, bool dry,
		    int *ret_unsaved)
{
	struct udb_ws w = { .cfg = cfg, .decides = true };
	char path[4096];
	unsigned char *buf = NULL;
	size_t len = 0;
	int lock_fd = -1, old_fd = -1, unsaved = 0, r;

	r = udb_path(cfg, path, sizeof(path));
	if (r < 0)
		return r;
	/* A dry run reads one consistent file (renames are atomic) and writes
	 * nothing, not even the lock file or the state directory. */
	if (!dry) {
		r = lock_take(cfg, &lock_fd);
		/* Read-only state: no lock file to open. A tolerant caller still
		 * learns, from a consistent unlocked read, whether its change was
		 * bookkeeping only; nothing is written either way. */
		if (r < 0 && !(ret_unsaved && is_write_err(r)))
			return r;
		if (r < 0) {
			unsaved = r;
			dry = true;
		} else {
			remove_stale_temps(cfg);
		}
	}
	r = load(&w, path);
	if (r < 0)
		goto out;
	r = op(&w, arg);
	if (r != 0 || (dry && !unsaved)) {
		r = r > 0 ? 0 : r;	/* > 0: nothing to change */
		unsaved = 0;
		goto out;
	}
	if (unsaved) {
		r = unsaved;
		goto out;
	}
	r = udb_ws_serialize(&w, &buf, &len);
	if (r < 0)
		goto out;
	if (w.old)
		old_fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	r = file_write_atomic(path, buf, len, 0644);
	if (r < 0) {
		r = r == EL_ERR_IO ? write_err(errno) : r;
		goto out;
	}
	mark_superseded(old_fd);
out:
	if (ret_unsaved && is_write_err(r) && !w.decides) {
		unsaved = r;	/* only bookkeeping was lost: the caller's login stands */
		r = 0;
	} else {
		unsaved = 0;
	}
	if (old_fd >= 0)
		close(old_fd);
	free(buf);
	ws_free(&w);
	if (lock_fd >= 0)
		close(lock_fd);	/* releases the flock */
	if (r == 0 && ret_unsaved)
		*ret_unsaved = unsaved;
	return r;
}

int udb_transact(const struct el_config *cfg, int (*op)(struct udb_ws *w, void *arg), void *arg)
{
	return transact(cfg, op, arg, false, NULL);
}

int udb_transact_tolerant(const struct el_config *cfg, int (*op)(struct udb_ws *w, void *arg), void *arg,
			  int *ret_unsaved)
{
	if (!ret_unsaved)
		return EL_ERR_INVAL;
	return transact(cfg, op, arg, false, ret_unsaved);
}

int udb_transact_dry(const struct el_config *cfg, int (*op)(struct udb_ws *w, void *arg), void *arg)
{
	return transact(cfg, op, arg, true, NULL);
}
