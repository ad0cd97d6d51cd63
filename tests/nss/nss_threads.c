/* nss_threads - many threads look users up while another process rewrites
 * the database.
 *
 *   nss_threads SO N_USERS THREADS -- WRITER [ARGS...]
 *
 * The database must hold users u000000@contoso.com .. u<N-1>, all with the
 * same role, display name "gen <k>" (udb_tool bulk + flip). WRITER (e.g.
 * udb_tool CONF flip 1000) is started, and until it exits every thread
 * checks that each answer is whole: the right uid for the name, a gecos of
 * the form "gen <k>", role groups holding all users or none, initgroups
 * giving both role groups or only aad_users. Prints the counts; exit 1 on
 * any failure.
 */
#include <errno.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nss_common.h"

#define MAX_GEN 4096
#define ADMIN_GID 999999001u
#define USER_GID 999999002u

extern char **environ;

static struct nss_fns f;
static unsigned n_users;
static uid_t *uids;
static atomic_bool stop;
static atomic_ulong lookups, failures;
static atomic_uchar gen_seen[MAX_GEN];

static void failed(const char *what, unsigned i)
{
	if (atomic_fetch_add(&failures, 1) < 20)
		fprintf(stderr, "FAIL %s (user %u)\n", what, i);
}

static void check_pw(const struct passwd *pw, unsigned i, const char *name)
{
	char home[128];
	unsigned g = 0;

	snprintf(home, sizeof(home), "/home/%s", name);
	if (strcmp(pw->pw_name, name) != 0 || pw->pw_uid != uids[i] || pw->pw_gid != uids[i] ||
	    strcmp(pw->pw_dir, home) != 0 || strcmp(pw->pw_passwd, "*") != 0)
		failed("passwd fields", i);
	if (sscanf(pw->pw_gecos, "gen %u", &g) != 1 || g == 0 || g >= MAX_GEN)
		failed("gecos", i);
	else
		atomic_store(&gen_seen[g], 1);
}

static void *reader(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	size_t len = 1 << 20;
	char *buf = malloc(len);

	while (!atomic_load(&stop)) {
		unsigned i = (unsigned)rand_r(&seed) % n_users;
		char name[64];
		struct passwd pw;
		struct group gr;
		int err = 0;
		long start = 1, size = 4;
		gid_t *groups = malloc(4 * sizeof(gid_t));
		unsigned members = 0;

		snprintf(name, sizeof(name), "u%06u@contoso.com", i);
		if (f.getpwnam_r(name, &pw, buf, len, &err) != NSS_STATUS_SUCCESS)
			failed("getpwnam", i);
		else
			check_pw(&pw, i, name);
		if (f.getpwuid_r(uids[i], &pw, buf, len, &err) != NSS_STATUS_SUCCESS)
			failed("getpwuid", i);
		else
			check_pw(&pw, i, name);
		if (f.getgrnam_r(rand_r(&seed) % 2 ? "aad_admins" : "aad_users", &gr, buf, len, &err) !=
		    NSS_STATUS_SUCCESS) {
			failed("getgrnam", i);
		} else {
			for (char **m = gr.gr_mem; *m; m++)
				if (strncmp(*m, "u", 1) == 0 && strstr(*m, "@contoso.com"))
					members++;
			if (members != 0 && members != n_users)
				failed("torn role group", i);
			if (gr.gr_gid == USER_GID && members != n_users)
				failed("aad_users incomplete", i);
		}
		if (f.getgrgid_r(uids[i], &gr, buf, len, &err) != NSS_STATUS_SUCCESS || strcmp(gr.gr_name, name) != 0)
			failed("getgrgid", i);
		groups[0] = uids[i];
		if (f.initgroups_dyn(name, uids[i], &start, &size, &groups, 0, &err) != NSS_STATUS_SUCCESS)
			failed("initgroups", i);
		else if (!(start == 2 && groups[1] == USER_GID) &&
			 !(start == 3 && groups[1] == ADMIN_GID && groups[2] == USER_GID))
			failed("initgroups groups", i);
		free(groups);
		atomic_fetch_add(&lookups, 5);
	}
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	static char buf[1 << 16];
	pthread_t *th;
	unsigned n_threads, gens = 0;
	pid_t writer;
	int status = 0, dash = 4;

	if (argc < 6 || strcmp(argv[4], "--") != 0) {
		fprintf(stderr, "usage: nss_threads SO N_USERS THREADS -- WRITER [ARGS]\n");
		return 2;
	}
	nss_load(argv[1], &f);
	n_users = (unsigned)strtoul(argv[2], NULL, 10);
	n_threads = (unsigned)strtoul(argv[3], NULL, 10);
	uids = calloc(n_users, sizeof(*uids));
	th = calloc(n_threads, sizeof(*th));
	for (unsigned i = 0; i < n_users; i++) {
		char name[64];
		struct passwd pw;
		int err = 0;

		snprintf(name, sizeof(name), "u%06u@contoso.com", i);
		if (f.getpwnam_r(name, &pw, buf, sizeof(buf), &err) != NSS_STATUS_SUCCESS) {
			fprintf(stderr, "initial lookup of %s failed\n", name);
			return 1;
		}
		uids[i] = pw.pw_uid;
	}
	for (unsigned t = 0; t < n_threads; t++)
		pthread_create(&th[t], NULL, reader, (void *)(uintptr_t)(t + 1));
	if (posix_spawn(&writer, argv[dash + 1], NULL, NULL, argv + dash + 1, environ) != 0) {
		fprintf(stderr, "cannot start %s\n", argv[dash + 1]);
		return 1;
	}
	waitpid(writer, &status, 0);
	atomic_store(&stop, true);
	for (unsigned t = 0; t < n_threads; t++)
		pthread_join(th[t], NULL);
	for (unsigned g = 0; g < MAX_GEN; g++)
		gens += atomic_load(&gen_seen[g]);
	printf("lookups=%lu failures=%lu generations_seen=%u writer_status=%d\n", atomic_load(&lookups),
	       atomic_load(&failures), gens, status);
	free(th);
	free(uids);
	return atomic_load(&failures) || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ? 1 : 0;
}
