/* nss_bench - nanoseconds per lookup through glibc (nsswitch.conf decides
 * which module answers; tests/bench/run_nss.sh sets it up in a namespace),
 * or, with --direct, straight into a module's _nss_<SERVICE>_* functions
 * (dlopen; what the module itself costs, without glibc's dispatch).
 *
 *   nss_bench [--direct SO SERVICE] LABEL USER MISS_USER GROUP MISS_GROUP [MS]
 *
 * Prints one row: getpwnam, getpwuid, getgrnam and getgrouplist (direct:
 * initgroups_dyn), each for a hit (USER, its uid, GROUP) and a miss
 * (MISS_USER, uid 4000000000, MISS_GROUP). Each figure is the best of 5
 * rounds of a fixed duration.
 */
#include <dlfcn.h>
#include <errno.h>
#include <nss.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MISS_ID 4000000000u

static char buf[1 << 20];
static const char *user, *miss_user, *group, *miss_group;
static uid_t uid;
static volatile unsigned long sink;

/* --direct: the module's entry points. */
static enum nss_status (*d_pwnam)(const char *, struct passwd *, char *, size_t, int *);
static enum nss_status (*d_pwuid)(uid_t, struct passwd *, char *, size_t, int *);
static enum nss_status (*d_grnam)(const char *, struct group *, char *, size_t, int *);
static enum nss_status (*d_initgroups)(const char *, gid_t, long *, long *, gid_t **, long, int *);

static void *sym(void *h, const char *service, const char *fn)
{
	char name[128];
	void *p;

	snprintf(name, sizeof(name), "_nss_%s_%s", service, fn);
	p = dlsym(h, name);
	if (!p) {
		fprintf(stderr, "nss_bench: no %s\n", name);
		exit(2);
	}
	return p;
}

static void load_direct(const char *so, const char *service)
{
	void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		fprintf(stderr, "nss_bench: %s\n", dlerror());
		exit(2);
	}
	*(void **)&d_pwnam = sym(h, service, "getpwnam_r");
	*(void **)&d_pwuid = sym(h, service, "getpwuid_r");
	*(void **)&d_grnam = sym(h, service, "getgrnam_r");
	*(void **)&d_initgroups = sym(h, service, "initgroups_dyn");
}

static void op_direct(int which, int hit)
{
	struct passwd pw;
	struct group gr;
	int err = 0;

	switch (which) {
	case 0:
		sink += (unsigned long)d_pwnam(hit ? user : miss_user, &pw, buf, sizeof(buf), &err);
		break;
	case 1:
		sink += (unsigned long)d_pwuid(hit ? uid : MISS_ID, &pw, buf, sizeof(buf), &err);
		break;
	case 2:
		sink += (unsigned long)d_grnam(hit ? group : miss_group, &gr, buf, sizeof(buf), &err);
		break;
	default: {
		static gid_t *groups;
		long start = 1, size = 64;

		if (!groups)
			groups = malloc(64 * sizeof(gid_t));
		groups[0] = hit ? uid : MISS_ID;
		sink += (unsigned long)d_initgroups(hit ? user : miss_user, groups[0], &start, &size, &groups, 0, &err);
		sink += (unsigned long)start;
	}
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void op(int which, int hit)
{
	struct passwd pw, *pr = NULL;
	struct group gr, *gres = NULL;
	gid_t groups[64];
	int n = 64;

	if (d_pwnam) {
		op_direct(which, hit);
		return;
	}
	switch (which) {
	case 0:
		getpwnam_r(hit ? user : miss_user, &pw, buf, sizeof(buf), &pr);
		break;
	case 1:
		getpwuid_r(hit ? uid : MISS_ID, &pw, buf, sizeof(buf), &pr);
		break;
	case 2:
		getgrnam_r(hit ? group : miss_group, &gr, buf, sizeof(buf), &gres);
		break;
	default:
		getgrouplist(hit ? user : miss_user, hit ? uid : MISS_ID, groups, &n);
		sink += (unsigned long)n;
		return;
	}
	sink += (unsigned long)(pr != NULL) + (unsigned long)(gres != NULL);
}

static double measure(int which, int hit, double ms)
{
	double best = 1e18;

	for (int round = 0; round < 5; round++) {
		unsigned long iters = 0;
		double t0 = now(), t;

		do {
			for (int i = 0; i < 256; i++)
				op(which, hit);
			iters += 256;
			t = now();
		} while (t - t0 < ms * 1e6);
		if ((t - t0) / (double)iters < best)
			best = (t - t0) / (double)iters;
	}
	return best;
}

int main(int argc, char **argv)
{
	struct passwd pw, *pr = NULL;
	struct group gr, *gres = NULL;
	double ms;

	if (argc > 3 && strcmp(argv[1], "--direct") == 0) {
		load_direct(argv[2], argv[3]);
		argc -= 3;
		argv += 3;
	}
	if (argc < 6) {
		fprintf(stderr, "usage: nss_bench [--direct SO SERVICE] LABEL USER MISS_USER GROUP MISS_GROUP [MS]\n");
		return 2;
	}
	user = argv[2];
	miss_user = argv[3];
	group = argv[4];
	miss_group = argv[5];
	ms = argc > 6 ? atof(argv[6]) : 200;
	if (d_pwnam) {
		int err = 0;

		if (d_pwnam(user, &pw, buf, sizeof(buf), &err) != NSS_STATUS_SUCCESS ||
		    d_grnam(group, &gr, buf, sizeof(buf), &err) != NSS_STATUS_SUCCESS) {
			fprintf(stderr, "nss_bench: %s: the module does not answer %s / %s\n", argv[1], user, group);
			return 1;
		}
	} else if (getpwnam_r(user, &pw, buf, sizeof(buf), &pr) != 0 || !pr ||
		   getgrnam_r(group, &gr, buf, sizeof(buf), &gres) != 0 || !gres) {
		fprintf(stderr, "nss_bench: %s: %s or group %s is not resolvable\n", argv[1], user, group);
		return 1;
	}
	uid = pw.pw_uid;
	printf("%-22s", argv[1]);
	for (int which = 0; which < 4; which++)
		for (int hit = 1; hit >= 0; hit--)
			printf(" %7.0f", measure(which, hit, ms));
	printf("\n");
	return 0;
}
