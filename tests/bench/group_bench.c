/* group_bench - nanoseconds per group lookup through glibc (issue 21:
 * mapped Entra groups; tests/bench/run_groups.sh sets up nsswitch.conf in
 * a namespace). Kept apart from nss_bench.c so both can change alone.
 *
 *   group_bench LABEL GROUP GID MISS_GROUP USER [MS]
 *
 * Prints: getgrnam hit/miss, getgrgid hit/miss (miss: gid 4000000000),
 * getgrouplist(USER) and the number of groups it returned. Best of 5
 * rounds of MS milliseconds each.
 */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char buf[1 << 20];
static const char *group, *miss_group, *user;
static gid_t gid, user_gid;
static volatile unsigned long sink;
static int n_groups;

static void op(int which)
{
	struct group gr, *res = NULL;
	gid_t list[1024];
	int n = 1024;

	switch (which) {
	case 0:
		getgrnam_r(group, &gr, buf, sizeof(buf), &res);
		break;
	case 1:
		getgrnam_r(miss_group, &gr, buf, sizeof(buf), &res);
		break;
	case 2:
		getgrgid_r(gid, &gr, buf, sizeof(buf), &res);
		break;
	case 3:
		getgrgid_r(4000000000u, &gr, buf, sizeof(buf), &res);
		break;
	default:
		getgrouplist(user, user_gid, list, &n);
		n_groups = n;
		sink += (unsigned long)n;
		return;
	}
	sink += (unsigned long)(res != NULL);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double measure(int which, double ms)
{
	double best = 1e18;

	for (int round = 0; round < 5; round++) {
		unsigned long iters = 0;
		double t0 = now(), t;

		do {
			for (int i = 0; i < 64; i++)
				op(which);
			iters += 64;
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

	if (argc < 6) {
		fprintf(stderr, "usage: group_bench LABEL GROUP GID MISS_GROUP USER [MS]\n");
		return 2;
	}
	group = argv[2];
	gid = (gid_t)strtoul(argv[3], NULL, 10);
	miss_group = argv[4];
	user = argv[5];
	ms = argc > 6 ? atof(argv[6]) : 200;
	if (getgrnam_r(group, &gr, buf, sizeof(buf), &gres) != 0 || !gres || gres->gr_gid != gid ||
	    getpwnam_r(user, &pw, buf, sizeof(buf), &pr) != 0 || !pr) {
		fprintf(stderr, "group_bench: %s: group %s (%u) or user %s is not resolvable\n", argv[1], group,
			(unsigned)gid, user);
		return 1;
	}
	user_gid = pw.pw_gid;
	printf("%-26s", argv[1]);
	for (int which = 0; which < 5; which++)
		printf(" %8.0f", measure(which, ms));
	printf(" %8d\n", n_groups);
	return 0;
}
