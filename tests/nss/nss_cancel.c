/* nss_cancel - a thread cancelled while the module reloads must not leave
 * the reload lock held: afterwards the process must still fork (the
 * module's atfork handler takes that lock) and answer.
 *
 *   nss_cancel SO NAME first              the cancelled call is the first
 *                                         one of the process (initial load)
 *   nss_cancel SO NAME reload CMD         one lookup, then CMD (system())
 *                                         rewrites the database, then the
 *                                         cancelled call (a reload)
 *
 * The thread's cancellation is made pending before it enters the module, so
 * it acts at the first cancellation point inside (open() of a file during
 * the reload) unless the module holds cancellation off there. A 10 s alarm
 * turns a hang into a failure. Prints "cancelled=<0|1> child=ok main=ok".
 */
#include <pthread.h>
#include <semaphore.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nss_common.h"

static struct nss_fns f;
static const char *name;
static sem_t cancel_sent;

static int lookup(void)
{
	static char buf[1 << 16];
	struct passwd pw;
	int err = 0;

	return f.getpwnam_r(name, &pw, buf, sizeof(buf), &err) == NSS_STATUS_SUCCESS ? 0 : 1;
}

static void *victim(void *arg)
{
	static char buf[1 << 16];
	struct passwd pw;
	int err = 0, old;

	(void)arg;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	while (sem_wait(&cancel_sent) != 0)
		;
	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);	/* now pending */
	(void)f.getpwnam_r(name, &pw, buf, sizeof(buf), &err);
	pthread_testcancel();
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th;
	void *ret = NULL;
	pid_t pid;
	int status = 0;

	if (argc < 4 || (strcmp(argv[3], "reload") == 0 && argc < 5)) {
		fprintf(stderr, "usage: nss_cancel SO NAME first | nss_cancel SO NAME reload CMD\n");
		return 2;
	}
	alarm(10);
	nss_load(argv[1], &f);
	name = argv[2];
	sem_init(&cancel_sent, 0, 0);
	if (strcmp(argv[3], "reload") == 0) {
		if (lookup() != 0 || system(argv[4]) != 0) {
			fprintf(stderr, "setup failed\n");
			return 1;
		}
	}
	pthread_create(&th, NULL, victim, NULL);
	pthread_cancel(th);
	sem_post(&cancel_sent);
	pthread_join(th, &ret);
	printf("cancelled=%d", ret == PTHREAD_CANCELED);
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(lookup());
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		printf(" child=failed\n");
		return 1;
	}
	printf(" child=ok");
	if (lookup() != 0) {
		printf(" main=failed\n");
		return 1;
	}
	printf(" main=ok\n");
	return 0;
}
