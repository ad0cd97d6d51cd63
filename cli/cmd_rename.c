/* cmd_rename.c - `entra-login rename [--keep-home] OLD NEW`: a directory
 * user's UPN changed (same object id). The record - oid, tid, uid, role,
 * pinned fields - moves to NEW; OLD stays as a tombstone that NSS never
 * answers and no login binds until `entra-login release OLD`. The home
 * directory is moved with rename(2) from OLD's home to NEW's template home
 * (refused if the target exists, or if the old home is not a plain
 * directory owned by the user); with --keep-home it stays where it is and is pinned as NEW's
 * home. Logins of OLD's object under NEW are refused until this is run
 * (one name per object). Run it while the user is logged out.
 * Exit 0 done, 1 refused or failed (nothing changed), 2 usage. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ak_cache.h"
#include "certgrant.h"
#include "cmds.h"
#include "conf.h"
#include "names.h"
#include "uidmap.h"
#include "userdb.h"

/* rename(2) that never replaces: RENAME_NOREPLACE where the filesystem
 * has it, else a check right before (root-only paths under /home). */
static int move_noreplace(const char *from, const char *to)
{
	struct stat st;

	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (lstat(to, &st) == 0) {
		errno = EEXIST;
		return -1;
	}
	return rename(from, to);
}

/* Decisions made for either name before the rename must not be replayed. */
static void drop_decisions(const struct el_config *cfg, const char *old_name, const char *new_name)
{
	if (ak_cache_clear(cfg) < 0)
		fprintf(stderr, "entra-login: warning: could not clear the authorized-keys cache\n");
	(void)!certgrant_clear(cfg, old_name);
	(void)!certgrant_clear(cfg, new_name);
}

/* Everything checked before anything changes: 0, or 1 with a message. */
static int precheck(const struct el_config *cfg, const char *old_name, const char *new_name, uint32_t *ret_uid,
		    char *pinned_home, size_t pinned_home_len)
{
	struct udb *db = NULL;
	struct uidmap_local *local = NULL;
	struct udb_user u, o;
	struct udb_user *old = &o;
	int r, rc = 1;

	if (!name_is_ours(cfg, new_name)) {
		fprintf(stderr, "entra-login: '%.64s' is not a directory user name of this host's domains\n", new_name);
		return 1;
	}
	if (strcmp(old_name, new_name) == 0) {
		fprintf(stderr, "entra-login: OLD and NEW are the same name\n");
		return 1;
	}
	r = uidmap_local_load(UIDMAP_PASSWD, UIDMAP_GROUP, &local);
	if (r == 0 && uidmap_local_has_name(local, new_name)) {
		fprintf(stderr, "entra-login: %s is a local user or group\n", new_name);
		goto out;
	}
	r = udb_open(cfg, &db);
	if (r < 0) {
		fprintf(stderr, "entra-login: cannot read the user database in %s: %s\n", cfg->state_dir,
			el_strerror(r));
		goto out;
	}
	r = udb_lookup_name(db, old_name, old);
	if (r == EL_ERR_NOT_FOUND || (r == 0 && !old->bound)) {
		fprintf(stderr, "entra-login: %.64s is not a bound user in the user database\n", old_name);
		goto out;
	}
	if (r == 0)
		r = udb_lookup_name(db, new_name, &u);
	if (r == 0) {
		fprintf(stderr, "entra-login: %s is already in the user database (uid %u%s); if it is stale, "
			"%s'entra-login release %s' first\n", new_name, u.uid,
			u.retired ? ", retired" : u.bound ? "" : ", forgotten",
			u.bound ? "'entra-login forget' it and " : "", new_name);
		goto out;
	}
	if (r != EL_ERR_NOT_FOUND) {
		fprintf(stderr, "entra-login: cannot read the user database: %s\n", el_strerror(r));
		goto out;
	}
	/* old's strings point into the mapping: copy what the caller needs. */
	*ret_uid = old->uid;
	snprintf(pinned_home, pinned_home_len, "%s", old->home);
	rc = 0;
out:
	udb_close(db);
	uidmap_local_free(local);
	return rc;
}

int cmd_rename(const struct el_config *cfg, int argc, char **argv)
{
	const char *old_name = NULL, *new_name = NULL;
	bool keep = false, bad = false, moved = false;
	uint32_t uid = 0;
	char pinned[4096], old_home[4096], new_home[4096];
	struct stat st;
	int r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--keep-home") == 0 && !keep)
			keep = true;
		else if (argv[i][0] != '-' && !old_name)
			old_name = argv[i];
		else if (argv[i][0] != '-' && !new_name)
			new_name = argv[i];
		else
			bad = true;
	}
	if (!old_name || !new_name || bad) {
		fprintf(stderr, "usage: entra-login rename [--keep-home] OLD NEW\n");
		return 2;
	}
	if (precheck(cfg, old_name, new_name, &uid, pinned, sizeof(pinned)) != 0)
		return 1;
	if (pinned[0])
		snprintf(old_home, sizeof(old_home), "%s", pinned);
	else if (name_home(cfg->home, old_name, old_home, sizeof(old_home)) < 0)
		return 1;
	if (name_home(cfg->home, new_name, new_home, sizeof(new_home)) < 0)
		return 1;
	if (keep) {
		r = udb_rename(cfg, old_name, new_name, old_home);
		if (r < 0) {
			fprintf(stderr, "entra-login: cannot rename %s: %s\n", old_name, el_strerror(r));
			return 1;
		}
		drop_decisions(cfg, old_name, new_name);
		printf("%s renamed to %s: uid %u kept, home stays %s (pinned; whoever is given %s later gets "
		       "another home)\n", old_name, new_name, uid, old_home, old_name);
		return 0;
	}
	if (lstat(old_home, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			fprintf(stderr, "entra-login: %s is not a directory (a symbolic link?); move it yourself or "
				"use --keep-home\n", old_home);
			return 1;
		}
		/* Only a home that is the user's own is moved: a pinned home from an
		 * import could name any directory (/etc, /srv). */
		if (st.st_uid != uid) {
			fprintf(stderr, "entra-login: %s is owned by uid %u, not by the user (uid %u); move it yourself "
				"or use --keep-home\n", old_home, (unsigned)st.st_uid, uid);
			return 1;
		}
		if (lstat(new_home, &st) == 0 || errno != ENOENT) {
			fprintf(stderr, "entra-login: %s already exists; nothing changed (move it away, or use "
				"--keep-home)\n", new_home);
			return 1;
		}
		if (move_noreplace(old_home, new_home) < 0) {
			fprintf(stderr, "entra-login: cannot move %s to %s: %s; nothing changed\n", old_home, new_home,
				strerror(errno));
			return 1;
		}
		moved = true;
	}
	r = udb_rename(cfg, old_name, new_name, "");
	if (r < 0) {
		fprintf(stderr, "entra-login: cannot rename %s: %s\n", old_name, el_strerror(r));
		if (moved && move_noreplace(new_home, old_home) < 0)
			fprintf(stderr, "entra-login: and cannot move %s back to %s: %s\n", new_home, old_home,
				strerror(errno));
		return 1;
	}
	drop_decisions(cfg, old_name, new_name);
	if (moved)
		printf("%s renamed to %s: uid %u kept, home moved from %s to %s\n", old_name, new_name, uid,
		       old_home, new_home);
	else
		printf("%s renamed to %s: uid %u kept; there was no home at %s, %s gets %s at its next login\n",
		       old_name, new_name, uid, old_home, new_name, new_home);
	return 0;
}
