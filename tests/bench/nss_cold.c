/* nss_cold - what the first lookup of a fresh process costs: each lookup is
 * a whole process (spawn, exec, one lookup, exit), timed from spawn to
 * wait, so every one-time cost (loading the module, reading the
 * configuration, opening the database) is counted. Cases run interleaved
 * (one process of each per round) so that noise from the rest of the
 * machine falls on all of them alike; each figure is the median of ROUNDS.
 * tests/bench/run_nss_cold.sh sets up the namespace (passwd: files entra).
 *
 *   nss_cold ROUNDS LOCAL_USER CMD... -- CASE...
 *     CMD      the programs to time, each given NAME as its last argument
 *              (e.g. "getent passwd" and "getpw1"), ';'-separated words
 *     CASE     LABEL=CONF=NAME[=LIBDIR]: ENTRA_LOGIN_CONF=CONF, look NAME up
 *              (LD_LIBRARY_PATH=LIBDIR: another build of the module, e.g.
 *              an older one, interleaved with this one)
 *
 * The first case row is LOCAL_USER (answered by files) with the first
 * CASE's CONF: the reference every ratio is taken to. Every lookup must
 * succeed (exit 0), else the run fails.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_CMDS 4
#define MAX_CASES 32
#define MAX_WORDS 8

struct cmd {
	char *argv[MAX_WORDS + 2];
	int argc;
};

struct kase {
	char *label, *conf, *name;
	char **env;
	double *t[MAX_CMDS], *cpu[MAX_CMDS];
};

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* The environment with ENTRA_LOGIN_CONF=conf and, if libdir, LD_LIBRARY_PATH=libdir. */
static char **env_with(const char *conf, const char *libdir)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 3, sizeof(*env));
	if (!env)
		exit(2);
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "ENTRA_LOGIN_CONF=", 17) != 0 &&
		    (!libdir || strncmp(environ[i], "LD_LIBRARY_PATH=", 16) != 0))
			env[k++] = environ[i];
	if (asprintf(&env[k++], "ENTRA_LOGIN_CONF=%s", conf) < 0 ||
	    (libdir && asprintf(&env[k++], "LD_LIBRARY_PATH=%s", libdir) < 0))
		exit(2);
	return env;
}

/* Wall time of one process, spawn to exit; *cpu gets its CPU time (user +
 * system, from wait4: what the process itself cost, less sensitive to the
 * rest of the machine than the wall time). */
static double run(struct cmd *c, const struct kase *k, double *cpu)
{
	struct rusage ru;
	static posix_spawn_file_actions_t fa;
	static int fa_ready;
	pid_t pid;
	int st;
	double t0;

	if (!fa_ready) {	/* the programs' output is not part of the figures */
		if (posix_spawn_file_actions_init(&fa) != 0 ||
		    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0) != 0)
			exit(2);
		fa_ready = 1;
	}

	c->argv[c->argc] = k->name;
	c->argv[c->argc + 1] = NULL;
	t0 = now_us();
	if (posix_spawn(&pid, c->argv[0], &fa, NULL, c->argv, k->env) != 0 || wait4(pid, &st, 0, &ru) != pid) {
		perror("nss_cold: spawn");
		exit(2);
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "nss_cold: %s %s (%s) failed: status %d\n", c->argv[0], k->name, k->label, st);
		exit(1);
	}
	*cpu = ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec;
	return now_us() - t0;
}

static void table(const char *title, struct cmd *cmds, int ncmd, struct kase *cases, int ncase, int rounds,
		  int cpu);

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	struct cmd cmds[MAX_CMDS];
	struct kase cases[MAX_CASES];
	int ncmd = 0, ncase = 1, rounds, i = 3;
	double warm;

	if (argc < 6 || (rounds = atoi(argv[1])) < 1) {
		fprintf(stderr, "usage: nss_cold ROUNDS LOCAL_USER CMD... -- LABEL=CONF=NAME...\n");
		return 2;
	}
	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		struct cmd *c = &cmds[ncmd];
		char *w;

		if (ncmd == MAX_CMDS)
			return 2;
		c->argc = 0;
		for (w = strtok(argv[i], ";"); w && c->argc < MAX_WORDS; w = strtok(NULL, ";"))
			c->argv[c->argc++] = w;
		ncmd++;
	}
	for (i++; i < argc; i++) {
		struct kase *k = &cases[ncase];
		char *a = strchr(argv[i], '='), *b = a ? strchr(a + 1, '=') : NULL, *c = b ? strchr(b + 1, '=') : NULL;

		if (!b || ncase == MAX_CASES)
			return 2;
		*a = *b = '\0';
		if (c)
			*c++ = '\0';
		k->label = argv[i];
		k->conf = a + 1;
		k->name = b + 1;
		k->env = env_with(k->conf, c);
		ncase++;
	}
	if (ncmd == 0 || ncase < 2)
		return 2;
	cases[0] = (struct kase){ .label = "local user (files)", .conf = cases[1].conf, .name = argv[2], .env = cases[1].env };
	for (int k = 0; k < ncase; k++)
		for (int c = 0; c < ncmd; c++)
			if (!(cases[k].t[c] = calloc((size_t)rounds, sizeof(double))) ||
			    !(cases[k].cpu[c] = calloc((size_t)rounds, sizeof(double))))
				return 2;
	/* One warm-up process of each (page cache, dentries), then the rounds. */
	for (int k = 0; k < ncase; k++)
		for (int c = 0; c < ncmd; c++)
			(void)run(&cmds[c], &cases[k], &warm);
	for (int r = 0; r < rounds; r++)
		for (int k = 0; k < ncase; k++)
			for (int c = 0; c < ncmd; c++)
				cases[k].t[c][r] = run(&cmds[c], &cases[k], &cases[k].cpu[c][r]);
	table("wall us per process", cmds, ncmd, cases, ncase, rounds, 0);
	table("CPU us per process", cmds, ncmd, cases, ncase, rounds, 1);
	return 0;
}

static void table(const char *title, struct cmd *cmds, int ncmd, struct kase *cases, int ncase, int rounds, int cpu)
{
	double ref[MAX_CMDS];

	printf("%-26s", title);
	for (int c = 0; c < ncmd; c++) {
		const char *base = strrchr(cmds[c].argv[0], '/');

		printf(" %8.8s ratio", base ? base + 1 : cmds[c].argv[0]);
	}
	printf("\n");
	for (int k = 0; k < ncase; k++) {
		printf("%-26s", cases[k].label);
		for (int c = 0; c < ncmd; c++) {
			double m = median(cpu ? cases[k].cpu[c] : cases[k].t[c], rounds);

			if (k == 0)
				ref[c] = m;
			printf(" %8.0f %5.2f", m, m / ref[c]);
		}
		printf("\n");
	}
}
