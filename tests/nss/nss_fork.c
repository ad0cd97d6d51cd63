/* nss_fork - fork while other threads are inside the module and while a
 * writer keeps replacing the database, so that forks land in the middle of
 * lookups and reloads; every child must still answer and exit.
 *
 *   nss_fork SO NAME FORKS -- WRITER [ARGS...]
 *
 * NAME must be a database user. Each child looks NAME up (passwd, group,
 * initgroups) under a 10 s alarm; a deadlock or failure fails the test.
 * Exit 0 when all children succeeded.
 */
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nss_common.h"

extern char **environ;

static struct nss_fns f;
static const char *name;
static atomic_bool stop;

static bool lookup(char *buf, size_t len)
{
	struct passwd pw;
	struct group gr;
	int err = 0;
	long start = 1, size = 4;
	gid_t *groups = malloc(4 * sizeof(gid_t));
	bool ok;

	ok = f.getpwnam_r(name, &pw, buf, len, &err) == NSS_STATUS_SUCCESS && strcmp(pw.pw_name, name) == 0;
	ok = ok && f.getgrgid_r(pw.pw_uid, &gr, buf, len, &err) == NSS_STATUS_SUCCESS;
	ok = ok && f.getgrnam_r("aad_users", &gr, buf, len, &err) == NSS_STATUS_SUCCESS;
	groups[0] = 1;
	ok = ok && f.initgroups_dyn(name, 1, &start, &size, &groups, 0, &err) == NSS_STATUS_SUCCESS;
	free(groups);
	return ok;
}

static void *spin(void *arg)
{
	static _Thread_local char buf[1 << 16];

	(void)arg;
	while (!atomic_load(&stop))
		(void)lookup(buf, sizeof(buf));
	return NULL;
}

int main(int argc, char **argv)
{
	static char buf[1 << 16];
	pthread_t th[4];
	pid_t writer;
	unsigned forks, bad = 0;
	int status = 0;

	if (argc < 6 || strcmp(argv[4], "--") != 0) {
		fprintf(stderr, "usage: nss_fork SO NAME FORKS -- WRITER [ARGS]\n");
		return 2;
	}
	nss_load(argv[1], &f);
	name = argv[2];
	forks = (unsigned)strtoul(argv[3], NULL, 10);
	if (!lookup(buf, sizeof(buf))) {
		fprintf(stderr, "initial lookup of %s failed\n", name);
		return 1;
	}
	for (int t = 0; t < 4; t++)
		pthread_create(&th[t], NULL, spin, NULL);
	if (posix_spawn(&writer, argv[5], NULL, NULL, argv + 5, environ) != 0)
		return 1;
	for (unsigned i = 0; i < forks; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			alarm(10);
			_exit(lookup(buf, sizeof(buf)) ? 0 : 1);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			if (bad++ < 10)
				fprintf(stderr, "child %u: status %d\n", i, status);
		}
	}
	atomic_store(&stop, true);
	for (int t = 0; t < 4; t++)
		pthread_join(th[t], NULL);
	waitpid(writer, &status, 0);
	printf("forks=%u failed=%u writer_status=%d\n", forks, bad, status);
	return bad || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ? 1 : 0;
}
