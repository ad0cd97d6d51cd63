/* nss_call - call one entry point of the NSS module and print the answer.
 *
 *   nss_call SO getpwnam NAME | getpwuid UID | getgrnam NAME | getgrgid GID
 *              | getspnam NAME | initgroups NAME GID | pwent | grent
 *
 * Prints "SUCCESS <fields>" (passwd/group/shadow lines as in the files,
 * initgroups: the gids), or the status name; "errno-clobbered" if errno
 * changed across a call; "ns=<elapsed>" of the first call on stderr.
 * The configuration comes from ENTRA_LOGIN_CONF as in any process.
 *
 *   nss_call SO -     one call per line of stdin ("getpwnam alice@x"), and
 *                     "!command" lines run through system() in between: what
 *                     one long-lived process sees while the database changes;
 *                     "rlimit N" lines set this process's RLIMIT_NOFILE soft
 *                     limit (N=3: every open() fails with EMFILE);
 *                     "repeat MS NAME" calls getpwnam NAME for MS milliseconds
 *                     and prints "repeat SUCCESS=<n> UNAVAIL=<n> other=<n>".
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "nss_common.h"

static char buf[1 << 22];

static long long ns_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void print_pw(const struct passwd *pw)
{
	printf("SUCCESS %s:%s:%u:%u:%s:%s:%s\n", pw->pw_name, pw->pw_passwd, (unsigned)pw->pw_uid,
	       (unsigned)pw->pw_gid, pw->pw_gecos, pw->pw_dir, pw->pw_shell);
}

static void print_gr(const struct group *gr)
{
	printf("SUCCESS %s:%s:%u:", gr->gr_name, gr->gr_passwd, (unsigned)gr->gr_gid);
	for (char **m = gr->gr_mem; *m; m++)
		printf("%s%s", m == gr->gr_mem ? "" : ",", *m);
	printf("\n");
}

static void print_status(enum nss_status s, int err)
{
	if (s == NSS_STATUS_TRYAGAIN || s == NSS_STATUS_UNAVAIL)
		printf("%s %s\n", nss_status_name(s), strerrorname_np(err) ? strerrorname_np(err) : "?");
	else
		printf("%s\n", nss_status_name(s));
}

static struct nss_fns f;

static int one_call(int argc, char **argv)
{
	struct passwd pw;
	struct group gr;
	struct spwd sp;
	enum nss_status s;
	long long t0, t1;
	int err = 0, saved;

	errno = saved = 4242;
	t0 = ns_now();
	if (strcmp(argv[2], "getpwnam") == 0 && argc > 3) {
		s = f.getpwnam_r(argv[3], &pw, buf, sizeof(buf), &err);
		t1 = ns_now();
		if (s == NSS_STATUS_SUCCESS)
			print_pw(&pw);
	} else if (strcmp(argv[2], "getpwuid") == 0 && argc > 3) {
		s = f.getpwuid_r((uid_t)strtoul(argv[3], NULL, 10), &pw, buf, sizeof(buf), &err);
		t1 = ns_now();
		if (s == NSS_STATUS_SUCCESS)
			print_pw(&pw);
	} else if (strcmp(argv[2], "getgrnam") == 0 && argc > 3) {
		s = f.getgrnam_r(argv[3], &gr, buf, sizeof(buf), &err);
		t1 = ns_now();
		if (s == NSS_STATUS_SUCCESS)
			print_gr(&gr);
	} else if (strcmp(argv[2], "getgrgid") == 0 && argc > 3) {
		s = f.getgrgid_r((gid_t)strtoul(argv[3], NULL, 10), &gr, buf, sizeof(buf), &err);
		t1 = ns_now();
		if (s == NSS_STATUS_SUCCESS)
			print_gr(&gr);
	} else if (strcmp(argv[2], "getspnam") == 0 && argc > 3) {
		s = f.getspnam_r(argv[3], &sp, buf, sizeof(buf), &err);
		t1 = ns_now();
		if (s == NSS_STATUS_SUCCESS)
			printf("SUCCESS %s:%s:%ld:%ld:%ld:%ld:%ld:%ld:%lu\n", sp.sp_namp, sp.sp_pwdp, sp.sp_lstchg,
			       sp.sp_min, sp.sp_max, sp.sp_warn, sp.sp_inact, sp.sp_expire, sp.sp_flag);
	} else if (strcmp(argv[2], "initgroups") == 0 && argc > 4) {
		long start = 1, size = 1;
		gid_t *groups = malloc(sizeof(gid_t));

		groups[0] = (gid_t)strtoul(argv[4], NULL, 10);
		s = f.initgroups_dyn(argv[3], groups[0], &start, &size, &groups, 0, &err);
		t1 = ns_now();
		if (s == NSS_STATUS_SUCCESS) {
			printf("SUCCESS");
			for (long i = 1; i < start; i++)
				printf(" %u", (unsigned)groups[i]);
			printf("\n");
		}
		free(groups);
	} else if (strcmp(argv[2], "pwent") == 0 || strcmp(argv[2], "grent") == 0) {
		bool is_pw = argv[2][0] == 'p';

		if (is_pw)
			f.setpwent(0);
		else
			f.setgrent(0);
		for (;;) {
			s = is_pw ? f.getpwent_r(&pw, buf, sizeof(buf), &err) : f.getgrent_r(&gr, buf, sizeof(buf), &err);
			if (s != NSS_STATUS_SUCCESS)
				break;
			if (is_pw)
				print_pw(&pw);
			else
				print_gr(&gr);
		}
		if (is_pw)
			f.endpwent();
		else
			f.endgrent();
		t1 = ns_now();
	} else {
		fprintf(stderr, "nss_call: bad call\n");
		return 2;
	}
	if (errno != saved)
		printf("errno-clobbered %d\n", errno);
	if (s != NSS_STATUS_SUCCESS || strstr(argv[2], "ent"))
		print_status(s, err);
	fprintf(stderr, "ns=%lld\n", t1 - t0);
	return 0;
}

int main(int argc, char **argv)
{
	char line[1024];

	if (argc < 3) {
		fprintf(stderr, "usage: nss_call SO CALL [ARGS] | nss_call SO -\n");
		return 2;
	}
	nss_load(argv[1], &f);
	if (strcmp(argv[2], "-") != 0)
		return one_call(argc, argv);
	while (fgets(line, sizeof(line), stdin)) {
		char *args[8] = { argv[0], argv[1] }, *save = NULL;
		int n = 2;

		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "repeat ", 7) == 0) {
			char *rname = strchr(line + 7, ' ');
			long long end = ns_now() + strtoll(line + 7, NULL, 10) * 1000000;
			unsigned long cnt[3] = { 0, 0, 0 };
			struct passwd pw;
			int err;

			if (!rname)
				return 2;
			rname++;
			while (ns_now() < end) {
				enum nss_status st = f.getpwnam_r(rname, &pw, buf, sizeof(buf), &err);

				cnt[st == NSS_STATUS_SUCCESS ? 0 : st == NSS_STATUS_UNAVAIL ? 1 : 2]++;
			}
			printf("repeat SUCCESS=%lu UNAVAIL=%lu other=%lu\n", cnt[0], cnt[1], cnt[2]);
			fflush(stdout);
			continue;
		}
		if (strncmp(line, "rlimit ", 7) == 0) {
			struct rlimit rl;

			getrlimit(RLIMIT_NOFILE, &rl);
			rl.rlim_cur = (rlim_t)strtoul(line + 7, NULL, 10);
			if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
				printf("setrlimit failed\n");
			continue;
		}
		if (line[0] == '!') {
			fflush(stdout);
			if (system(line + 1) != 0)
				printf("command failed: %s\n", line + 1);
			continue;
		}
		for (char *t = strtok_r(line, " ", &save); t && n < 7; t = strtok_r(NULL, " ", &save))
			args[n++] = t;
		if (n > 2 && one_call(n, args) != 0)
			return 2;
		fflush(stdout);
	}
	return 0;
}
