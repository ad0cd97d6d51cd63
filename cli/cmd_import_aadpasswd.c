/* cmd_import_aadpasswd.c - `entra-login import-aadpasswd [--apply]
 * [--group FILE] FILE`: bring the users Microsoft's extension kept in
 * /etc/aadpasswd into the user database with their old uid (= gid), home
 * and shell pinned, bound to oid + this host's tenant_id, so their files
 * stay theirs.
 *
 * Dry run by default: one line per entry (would import / unchanged /
 * skipped and why), nothing written. --apply writes every importable entry
 * in one atomic write; entries that are skipped are never written, and the
 * verdicts are those of the dry run (same code, under the database lock).
 * A second --apply changes nothing and says so. Then it reads the group
 * file (/etc/group, or --group FILE) and says how to keep the GIDs of
 * aad_admins / aad_users.
 * Exit 0 done (skipped entries included), 1 unreadable file or database
 * error, 2 usage. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aadpasswd.h"
#include "cmds.h"
#include "conf.h"
#include "strutil.h"
#include "uidmap.h"
#include "userdb.h"

#define FILE_MAX (16u * 1024 * 1024)

struct line_res {
	size_t lineno;
	enum aadpasswd_verdict verdict;
	size_t entry;		/* index into the entries when AADPASSWD_OK */
	char shown[EL_NAME_MAX + 1];	/* first field, made printable */
};

/* Untrusted text for the terminal: printable ASCII only, capped. */
static void printable(char *buf, size_t buflen, const char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < buflen; i++)
		buf[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[o] = '\0';
}

static const char *import_text(const struct udb_import_status *st, char *buf, size_t len)
{
	switch (st->result) {
	case UDB_IMPORT_NEW: return "";
	case UDB_IMPORT_UNCHANGED: return "already imported, unchanged";
	case UDB_IMPORT_INVALID: return "invalid entry";
	case UDB_IMPORT_ID_RESERVED: return "uid is 0, a system id (< 1000) or a role group id (admin_gid, user_gid)";
	case UDB_IMPORT_NAME_LOCAL: return "name clashes with a local user or group (/etc/passwd, /etc/group)";
	case UDB_IMPORT_ID_LOCAL: return "uid clashes with a local uid or gid (/etc/passwd, /etc/group)";
	case UDB_IMPORT_NAME_TAKEN:
		snprintf(buf, len, "name already in the user database with uid %u or another object id "
			 "(entra-login show %s)", st->other_uid, st->other);
		return buf;
	case UDB_IMPORT_UID_TAKEN:
		snprintf(buf, len, "uid already belongs to %s in the user database", st->other);
		return buf;
	case UDB_IMPORT_OID_TAKEN:
		snprintf(buf, len, "object id already bound to %s (one name per object; see entra-login rename)",
			 st->other);
		return buf;
	case UDB_IMPORT_DUP_NAME:
		snprintf(buf, len, "duplicate name: an earlier line has %s", st->other);
		return buf;
	case UDB_IMPORT_DUP_OID:
		snprintf(buf, len, "duplicate object id: an earlier line has it for %s", st->other);
		return buf;
	case UDB_IMPORT_DUP_UID:
		snprintf(buf, len, "duplicate uid: an earlier line gives it to %s", st->other);
		return buf;
	}
	return "unknown";
}

/* Say how to keep the GIDs of the role groups the extension created. */
static void group_advice(const struct el_config *cfg, const char *group_path)
{
	char *text = NULL, *line, *next;
	size_t len;
	const char *names[2] = { cfg->admin_group, cfg->user_group };
	const char *keys[2] = { "admin_gid", "user_gid" };
	uint32_t now[2] = { cfg->admin_gid, cfg->user_gid };
	bool found[2] = { false, false };

	if (file_read_capped(group_path, FILE_MAX, &text, &len) < 0) {
		printf("\ngroups: cannot read %s; check aad_admins/aad_users yourself\n", group_path);
		return;
	}
	printf("\ngroups (%s):\n", group_path);
	for (line = text; line && *line; line = next) {
		char *colon, *gid_s, *end;
		uint64_t gid;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		for (int g = 0; g < 2; g++) {
			if (strcmp(line, names[g]) != 0 || found[g])
				continue;
			gid_s = strchr(colon + 1, ':');
			end = gid_s ? strchr(gid_s + 1, ':') : NULL;
			if (!gid_s || !end)
				continue;
			*end = '\0';
			if (parse_uint(gid_s + 1, 1, UINT32_MAX - 1, &gid) < 0)
				continue;
			found[g] = true;
			if (gid == now[g])
				printf("  %s has gid %llu locally, as configured (%s = %u): remove the local group "
				       "(groupdel %s) so that entra-login serves it with its members\n",
				       names[g], (unsigned long long)gid, keys[g], now[g], names[g]);
			else
				printf("  %s has gid %llu locally; files owned by that group stay reachable if you add\n"
				       "      %s = %llu\n  to %s, then remove the local group (groupdel %s) so that "
				       "entra-login serves it\n", names[g], (unsigned long long)gid, keys[g],
				       (unsigned long long)gid, cfg->path ? cfg->path : "the configuration", names[g]);
			printf("  (while the local group exists, its members come from /etc/group, not from Entra roles)\n");
		}
	}
	for (int g = 0; g < 2; g++)
		if (!found[g])
			printf("  %s: not a local group; nothing to keep (entra-login serves it with gid %u)\n",
			       names[g], now[g]);
	free(text);
}

int cmd_import_aadpasswd(const struct el_config *cfg, int argc, char **argv)
{
	const char *file = NULL, *group_path = UIDMAP_GROUP;
	bool apply = false, bad = false;
	char *text = NULL, *line;
	size_t len, n_lines = 0, n_entries = 0, cap = 0;
	struct line_res *lines = NULL;
	struct aadpasswd_entry *entries = NULL;
	struct udb_pinned *pinned = NULL;
	struct udb_import_status *status = NULL;
	unsigned n_new = 0, n_same = 0, n_skip = 0;
	int r, rc = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--apply") == 0 && !apply)
			apply = true;
		else if (strcmp(argv[i], "--group") == 0 && i + 1 < argc)
			group_path = argv[++i];
		else if (argv[i][0] != '-' && !file)
			file = argv[i];
		else
			bad = true;
	}
	if (!file || bad) {
		fprintf(stderr, "usage: entra-login import-aadpasswd [--apply] [--group FILE] FILE\n");
		return 2;
	}
	r = file_read_capped(file, FILE_MAX, &text, &len);
	if (r < 0) {
		fprintf(stderr, "entra-login: cannot read %s: %s\n", file, el_strerror(r));
		return 1;
	}
	for (size_t i = 0; i < len; i++)
		cap += text[i] == '\n';
	cap++;
	lines = calloc(cap, sizeof(*lines));
	entries = calloc(cap, sizeof(*entries));
	pinned = calloc(cap, sizeof(*pinned));
	status = calloc(cap, sizeof(*status));
	if (!lines || !entries || !pinned || !status) {
		fprintf(stderr, "entra-login: out of memory\n");
		goto out;
	}
	/* Split by hand: the text may hold NUL bytes, which make a line malformed. */
	for (size_t pos = 0, lineno = 1; pos < len; lineno++) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - (text + pos)) : len - pos;
		struct line_res *lr = &lines[n_lines];
		const char *colon;

		line = text + pos;
		pos += l + (nl ? 1 : 0);
		lr->lineno = lineno;
		lr->verdict = aadpasswd_parse_line(cfg, line, l, &entries[n_entries]);
		if (lr->verdict == AADPASSWD_BLANK)
			continue;
		colon = memchr(line, ':', l);
		printable(lr->shown, sizeof(lr->shown), line, colon ? (size_t)(colon - line) : l);
		if (lr->verdict == AADPASSWD_OK) {
			struct aadpasswd_entry *e = &entries[n_entries];

			lr->entry = n_entries;
			pinned[n_entries] = (struct udb_pinned){ e->name, e->oid, cfg->tenant_id, e->gecos, e->home,
								 e->shell, e->uid };
			n_entries++;
		}
		n_lines++;
	}
	r = udb_import(cfg, pinned, n_entries, apply, status);
	if (r < 0) {
		fprintf(stderr, "entra-login: cannot %s the user database in %s: %s\n", apply ? "write" : "read",
			cfg->state_dir, el_strerror(r));
		goto out;
	}
	for (size_t i = 0; i < n_lines; i++) {
		const struct line_res *lr = &lines[i];
		char why[160];

		if (lr->verdict != AADPASSWD_OK) {
			printf("line %zu: %s: skipped: %s\n", lr->lineno, lr->shown[0] ? lr->shown : "(empty)",
			       aadpasswd_verdict_text(lr->verdict));
			n_skip++;
			continue;
		}
		{
			const struct udb_pinned *p = &pinned[lr->entry];
			const struct udb_import_status *st = &status[lr->entry];

			if (st->result == UDB_IMPORT_NEW) {
				printf("line %zu: %s: %s uid %u, home %s\n", lr->lineno, p->name,
				       apply ? "imported with" : "would import with", p->uid, p->home);
				n_new++;
			} else if (st->result == UDB_IMPORT_UNCHANGED) {
				printf("line %zu: %s: %s (uid %u)\n", lr->lineno, p->name, import_text(st, why, sizeof(why)),
				       p->uid);
				n_same++;
			} else {
				printf("line %zu: %s: skipped: %s\n", lr->lineno, p->name, import_text(st, why, sizeof(why)));
				n_skip++;
			}
		}
	}
	if (!apply)
		printf("\ndry run: %u to import, %u already imported, %u skipped; nothing written "
		       "(run again with --apply)\n", n_new, n_same, n_skip);
	else if (n_new)
		printf("\n%u imported, %u already imported, %u skipped\n", n_new, n_same, n_skip);
	else
		printf("\nnothing changed: %u already imported, %u skipped\n", n_same, n_skip);
	group_advice(cfg, group_path);
	rc = 0;
out:
	free(text);
	free(lines);
	free(entries);
	free(pinned);
	free(status);
	return rc;
}
