/* fuzz_nss - the NSS entry points of libnss_entra.so.2 (nss/ sources), called
 * directly (no dlopen), with fuzzed names, ids and buffer sizes, against a
 * configuration and a user database this harness writes at start-up:
 *
 *   alice@contoso.com  admin      display "Alice Example"
 *   bob@contoso.com    user       display "Bob: evil\nname,x" (the writer and
 *                                 pack_passwd must keep ':' and newlines out)
 *   carol@fabrikam.example  none (bound, no role)
 *   dave@contoso.com   forgotten (uid kept, no binding)
 *   erin@contoso.com   imported (import-aadpasswd): pinned uid PINNED_UID,
 *                      below uid_min, pinned home /home/erin_1 and shell
 *
 * Input: byte 0 = operation, bytes 1-2 = buffer size (little endian, mod
 * 8192), the rest = the name (up to the first NUL) or a 4-byte id.
 *
 * Properties: every field of a SUCCESS answer lies inside the caller's
 * buffer (exact-size heap block: ASan sees a byte past it), has no ':' or
 * newline (a passwd/group line stays one line of seven/four fields), ids
 * are never 0 and never below uid_min except erin's pinned one, the name answered is the name asked,
 * TRYAGAIN comes with ERANGE, and errno is left as it was.
 */
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <shadow.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fuzz_common.h"
#include "userdb.h"

#define UID_MIN 1000000000u
#define PINNED_UID 1000005u
#define ERRNO_MARK 4242

enum nss_status _nss_entra_getpwnam_r(const char *, struct passwd *, char *, size_t, int *);
enum nss_status _nss_entra_getpwuid_r(uid_t, struct passwd *, char *, size_t, int *);
enum nss_status _nss_entra_getspnam_r(const char *, struct spwd *, char *, size_t, int *);
enum nss_status _nss_entra_getgrnam_r(const char *, struct group *, char *, size_t, int *);
enum nss_status _nss_entra_getgrgid_r(gid_t, struct group *, char *, size_t, int *);
enum nss_status _nss_entra_initgroups_dyn(const char *, gid_t, long *, long *, gid_t **, long, int *);
enum nss_status _nss_entra_setpwent(int);
enum nss_status _nss_entra_getpwent_r(struct passwd *, char *, size_t, int *);
enum nss_status _nss_entra_endpwent(void);
enum nss_status _nss_entra_setgrent(int);
enum nss_status _nss_entra_getgrent_r(struct group *, char *, size_t, int *);
enum nss_status _nss_entra_endgrent(void);

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const tid = FUZZ_TENANT;
	const struct udb_login logins[] = {
		{ "alice@contoso.com", "11111111-1111-4111-8111-111111111111", tid, "Alice Example", UDB_ROLE_ADMIN },
		{ "bob@contoso.com", "22222222-2222-4222-8222-222222222222", tid, "Bob: evil\nname,x", UDB_ROLE_USER },
		{ "carol@fabrikam.example", "33333333-3333-4333-8333-333333333333", tid, "", UDB_ROLE_NONE },
		{ "dave@contoso.com", "44444444-4444-4444-8444-444444444444", tid, "Dave", UDB_ROLE_USER },
	};
	const struct udb_pinned pinned = { "erin@contoso.com", "55555555-5555-4555-8555-555555555555", tid,
					   "Erin: imported", "/home/erin_1", "/bin/sh", PINNED_UID };
	struct udb_import_status st;
	char path[512], text[2048], err[512];
	struct el_config *cfg = NULL;
	const char *dir = fuzz_scratch();

	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "%s/entra-login.conf", dir);
	snprintf(text, sizeof(text), "%sstate_dir = %s\nhome = /home/%%l.%%d\n", fuzz_config_text(), dir);
	fuzz_write_file(path, text, strlen(text), 0644);
	if (cfg_load(path, &cfg, err, sizeof(err)) < 0 ||
	    udb_record_logins(cfg, logins, sizeof(logins) / sizeof(logins[0]), FUZZ_NOW) < 0 ||
	    udb_forget(cfg, "dave@contoso.com", false) < 0 || udb_import(cfg, &pinned, 1, true, &st) < 0 ||
	    st.result != UDB_IMPORT_NEW) {
		fprintf(stderr, "fuzz_nss: set-up failed: %s\n", err);
		abort();
	}
	cfg_free(cfg);
	setenv("ENTRA_LOGIN_CONF", path, 1);
	return 0;
}

static void check_str(const char *s, const char *buf, size_t buflen, bool group_member)
{
	size_t n;

	FUZZ_CHECK(s >= buf && s < buf + buflen);
	n = strnlen(s, (size_t)(buf + buflen - s));
	FUZZ_CHECK(s + n < buf + buflen);	/* NUL inside the buffer */
	FUZZ_CHECK(!memchr(s, ':', n) && !memchr(s, '\n', n));
	if (group_member)
		FUZZ_CHECK(!memchr(s, ',', n));
}

static void check_pw(const struct passwd *pw, const char *buf, size_t buflen, const char *asked)
{
	check_str(pw->pw_name, buf, buflen, false);
	check_str(pw->pw_passwd, buf, buflen, false);
	check_str(pw->pw_gecos, buf, buflen, false);
	check_str(pw->pw_dir, buf, buflen, false);
	check_str(pw->pw_shell, buf, buflen, false);
	FUZZ_CHECK(pw->pw_uid != 0 && (pw->pw_uid >= UID_MIN || pw->pw_uid == PINNED_UID) && pw->pw_gid == pw->pw_uid);
	FUZZ_CHECK(strcmp(pw->pw_passwd, "*") == 0);
	if (asked)
		FUZZ_CHECK(strcmp(pw->pw_name, asked) == 0);
}

static void check_gr(const struct group *gr, const char *buf, size_t buflen, const char *asked)
{
	check_str(gr->gr_name, buf, buflen, true);
	check_str(gr->gr_passwd, buf, buflen, false);
	FUZZ_CHECK(gr->gr_gid != 0);
	FUZZ_CHECK((const char *)gr->gr_mem >= buf && (const char *)gr->gr_mem < buf + buflen);
	for (size_t i = 0;; i++) {
		FUZZ_CHECK((const char *)&gr->gr_mem[i] + sizeof(char *) <= buf + buflen);
		if (!gr->gr_mem[i])
			break;
		check_str(gr->gr_mem[i], buf, buflen, true);
	}
	if (asked)
		FUZZ_CHECK(strcmp(gr->gr_name, asked) == 0);
}

static void check_status(enum nss_status st, int err)
{
	FUZZ_CHECK(st == NSS_STATUS_SUCCESS || st == NSS_STATUS_NOTFOUND || st == NSS_STATUS_TRYAGAIN ||
		   st == NSS_STATUS_UNAVAIL);
	if (st == NSS_STATUS_TRYAGAIN)
		FUZZ_CHECK(err == ERANGE || err == ENOMEM);
	FUZZ_CHECK(errno == ERRNO_MARK);
}

/* Enumerate like glibc: grow the buffer on TRYAGAIN, stop at NOTFOUND. */
static void enumerate(bool groups, size_t buflen)
{
	size_t len = buflen ? buflen : 1;
	char *buf = malloc(len);
	int n = 0;

	if (!buf)
		abort();
	groups ? _nss_entra_setgrent(0) : _nss_entra_setpwent(0);
	while (n < 64) {
		struct passwd pw;
		struct group gr;
		int err = 0;
		enum nss_status st;

		errno = ERRNO_MARK;
		st = groups ? _nss_entra_getgrent_r(&gr, buf, len, &err) : _nss_entra_getpwent_r(&pw, buf, len, &err);
		check_status(st, err);
		if (st == NSS_STATUS_TRYAGAIN && len < (1u << 16)) {
			free(buf);
			len *= 2;
			buf = malloc(len);
			if (!buf)
				abort();
			continue;
		}
		if (st != NSS_STATUS_SUCCESS)
			break;
		groups ? check_gr(&gr, buf, len, NULL) : check_pw(&pw, buf, len, NULL);
		n++;
	}
	FUZZ_CHECK(n < 64);	/* four users and two groups: enumeration ends */
	groups ? _nss_entra_endgrent() : _nss_entra_endpwent();
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct passwd pw;
	struct group gr;
	struct spwd sp;
	enum nss_status st;
	size_t buflen;
	uint32_t id = 0;
	char *buf, *name;
	int err = 0, op;

	if (size < 3)
		return 0;
	op = data[0] % 10;
	buflen = ((size_t)data[1] | (size_t)data[2] << 8) % 8192;
	data += 3;
	size -= 3;
	if (size >= 4)
		memcpy(&id, data, 4);
	name = fuzz_strndup(data, strnlen((const char *)data, size));
	buf = malloc(buflen ? buflen : 1);
	if (!buf)
		abort();
	errno = ERRNO_MARK;
	switch (op) {
	case 0:
		st = _nss_entra_getpwnam_r(name, &pw, buf, buflen, &err);
		check_status(st, err);
		if (st == NSS_STATUS_SUCCESS) {
			uint32_t uid;
			char *buf2 = malloc(4096);

			check_pw(&pw, buf, buflen, name);
			/* By uid: the same user, or nothing for a provisional one. */
			uid = pw.pw_uid;
			errno = ERRNO_MARK;
			st = _nss_entra_getpwuid_r(uid, &pw, buf2, 4096, &err);
			check_status(st, err);
			if (st == NSS_STATUS_SUCCESS)
				FUZZ_CHECK(strcmp(pw.pw_name, name) == 0 && pw.pw_uid == uid);
			free(buf2);
		}
		break;
	case 1:
		st = _nss_entra_getpwuid_r(id, &pw, buf, buflen, &err);
		check_status(st, err);
		if (st == NSS_STATUS_SUCCESS) {
			check_pw(&pw, buf, buflen, NULL);
			FUZZ_CHECK(pw.pw_uid == id);
		}
		break;
	case 2:
		st = _nss_entra_getspnam_r(name, &sp, buf, buflen, &err);
		check_status(st, err);
		if (st == NSS_STATUS_SUCCESS) {
			check_str(sp.sp_namp, buf, buflen, false);
			FUZZ_CHECK(strcmp(sp.sp_namp, name) == 0 && strcmp(sp.sp_pwdp, "*") == 0);
		}
		break;
	case 3:
		st = _nss_entra_getgrnam_r(name, &gr, buf, buflen, &err);
		check_status(st, err);
		if (st == NSS_STATUS_SUCCESS)
			check_gr(&gr, buf, buflen, name);
		break;
	case 4:
		st = _nss_entra_getgrgid_r(id, &gr, buf, buflen, &err);
		check_status(st, err);
		if (st == NSS_STATUS_SUCCESS) {
			check_gr(&gr, buf, buflen, NULL);
			FUZZ_CHECK(gr.gr_gid == id);
		}
		break;
	case 5: {
		long start = 1, cap = (long)(buflen % 4) + 1, limit = (long)(buflen / 4 % 4);
		gid_t *groups = malloc((size_t)cap * sizeof(gid_t));

		if (!groups)
			abort();
		groups[0] = 4242;
		st = _nss_entra_initgroups_dyn(name, 4242, &start, &cap, &groups, limit, &err);
		check_status(st, err);
		FUZZ_CHECK(start >= 1 && start <= cap);
		for (long i = 1; i < start; i++)
			FUZZ_CHECK(groups[i] != 0 && groups[i] != 4242);
		free(groups);
		break;
	}
	case 6:
		enumerate(false, buflen);
		break;
	case 7:
		enumerate(true, buflen);
		break;
	default: {
		/* Names with the database's spelling but changed: prefix or suffix. */
		static const char *const known[] = { "alice@contoso.com", "bob@contoso.com",
						     "carol@fabrikam.example", "dave@contoso.com" };
		char mixed[256];

		if (op == 8)
			snprintf(mixed, sizeof(mixed), "%s%s", known[id % 4], name);
		else
			snprintf(mixed, sizeof(mixed), "%s%s", name, known[id % 4]);
		st = _nss_entra_getpwnam_r(mixed, &pw, buf, buflen, &err);
		check_status(st, err);
		if (st == NSS_STATUS_SUCCESS)
			check_pw(&pw, buf, buflen, mixed);
		errno = ERRNO_MARK;
		st = _nss_entra_getgrnam_r(mixed, &gr, buf, buflen, &err);
		check_status(st, err);
		if (st == NSS_STATUS_SUCCESS)
			check_gr(&gr, buf, buflen, mixed);
		break;
	}
	}
	free(buf);
	free(name);
	return 0;
}
