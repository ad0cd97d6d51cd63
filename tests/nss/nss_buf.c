/* nss_buf - every entry point with buffer sizes from 0 upward.
 *
 *   nss_buf SO PWNAME GRNAME    (PWNAME: a user the module answers for;
 *                                GRNAME: a group it answers for)
 *
 * For each call, buflen runs 0, 1, 2, ... until SUCCESS. Every smaller size
 * must give TRYAGAIN with ERANGE, and no call may write past buflen: the
 * buffer is followed by guard bytes that must stay intact (ASan builds
 * also catch reads). Prints one line per call with the size that fitted;
 * exit 1 on any violation.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "nss_common.h"

#define GUARD 64
#define LIMIT (1u << 20)

static struct nss_fns f;
static const char *pwname, *grname;
static uid_t uid;
static gid_t gid;
static int failures;

enum which { PWNAM, PWUID, GRNAM, GRGID, SPNAM, PWENT, GRENT };
static const char *const names[] = { "getpwnam", "getpwuid", "getgrnam", "getgrgid", "getspnam", "getpwent",
				     "getgrent" };

static bool inside(const void *p, const char *buf, size_t len)
{
	return (const char *)p >= buf && (const char *)p < buf + len;
}

static enum nss_status call(enum which w, char *buf, size_t len, int *err, bool *ok)
{
	struct passwd pw;
	struct group gr;
	struct spwd sp;
	enum nss_status s;

	*ok = true;
	switch (w) {
	case PWNAM: case PWUID: case PWENT:
		s = w == PWNAM ? f.getpwnam_r(pwname, &pw, buf, len, err)
		  : w == PWUID ? f.getpwuid_r(uid, &pw, buf, len, err) : f.getpwent_r(&pw, buf, len, err);
		if (s == NSS_STATUS_SUCCESS) {
			*ok = inside(pw.pw_name, buf, len) && inside(pw.pw_dir, buf, len) &&
			      inside(pw.pw_shell, buf, len) && inside(pw.pw_gecos, buf, len) &&
			      inside(pw.pw_passwd, buf, len) && strlen(pw.pw_dir) < len;
			if (w == PWNAM)
				uid = pw.pw_uid;
		}
		return s;
	case GRNAM: case GRGID: case GRENT:
		s = w == GRNAM ? f.getgrnam_r(grname, &gr, buf, len, err)
		  : w == GRGID ? f.getgrgid_r(gid, &gr, buf, len, err) : f.getgrent_r(&gr, buf, len, err);
		if (s == NSS_STATUS_SUCCESS) {
			*ok = inside(gr.gr_name, buf, len) && inside(gr.gr_mem, buf, len);
			for (char **m = gr.gr_mem; *ok && *m; m++)
				*ok = inside(*m, buf, len) && inside(m + 1, buf, len);
			if (w == GRNAM)
				gid = gr.gr_gid;
		}
		return s;
	case SPNAM:
		s = f.getspnam_r(pwname, &sp, buf, len, err);
		if (s == NSS_STATUS_SUCCESS)
			*ok = inside(sp.sp_namp, buf, len) && inside(sp.sp_pwdp, buf, len);
		return s;
	}
	return NSS_STATUS_UNAVAIL;
}

static void loop(enum which w)
{
	for (size_t len = 0; len < LIMIT; len++) {
		/* Guard bytes after buflen show any write past it. */
		char *mem = malloc(len + GUARD);
		int err = 0;
		bool ok;
		enum nss_status s;

		memset(mem, 0xa5, len + GUARD);
		s = call(w, mem, len, &err, &ok);
		for (size_t i = len; i < len + GUARD; i++) {
			if ((unsigned char)mem[i] != 0xa5) {
				printf("%s: wrote past buflen %zu\n", names[w], len);
				failures++;
				break;
			}
		}
		free(mem);
		if (s == NSS_STATUS_SUCCESS) {
			if (!ok) {
				printf("%s: pointers outside the buffer at %zu\n", names[w], len);
				failures++;
			}
			printf("%s fits %zu\n", names[w], len);
			return;
		}
		if (s != NSS_STATUS_TRYAGAIN || err != ERANGE) {
			printf("%s: buflen %zu gave %s errno %d\n", names[w], len, nss_status_name(s), err);
			failures++;
			return;
		}
	}
	printf("%s: never fitted\n", names[w]);
	failures++;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: nss_buf SO PWNAME GRNAME\n");
		return 2;
	}
	nss_load(argv[1], &f);
	pwname = argv[2];
	grname = argv[3];
	loop(PWNAM);	/* sets uid */
	loop(PWUID);
	loop(GRNAM);	/* sets gid */
	loop(GRGID);
	loop(SPNAM);
	f.setpwent(0);
	loop(PWENT);
	f.endpwent();
	f.setgrent(0);
	loop(GRENT);
	f.endgrent();
	return failures ? 1 : 0;
}
