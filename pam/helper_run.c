/* helper_run.c - start the root-owned helper and relay its conversation.
 *
 * pam_entra.so runs inside whatever loaded it: sshd, but also setuid su,
 * sudo, chfn and cron, whose environment, umask, rlimits, signal state and
 * open descriptors a less privileged caller chose. None of that may reach
 * code that talks to the network or writes the state directory, so that
 * code lives in a separate executable (pamhelper/) started here with
 *   - a fixed argv and a fixed environment (PATH only),
 *   - umask 022, sane rlimits (core 0), default signal dispositions, an
 *     empty signal mask, no supplementary groups, real/effective/saved
 *     uid and gid 0 (so the caller can neither signal nor ptrace it
 *     directly),
 *   - its own session (setsid: terminal signals and kill(-pgrp) of the
 *     caller's job miss it), cwd "/", default nice, scheduling policy, I/O
 *     priority and oom_score_adj (the caller could set those on the setuid
 *     process before it forked us),
 *   - fds 0 and 1 = one end of a socketpair to us, fd 2 = /dev/null, no
 *     other descriptor,
 * and everything it says is checked (proto.h) and bounded: frame size,
 * number of prompts and frames, total time. A helper that dies, overruns
 * or says anything unexpected is killed and the answer is
 * PAM_AUTHINFO_UNAVAIL. SIGCHLD is set to SIG_DFL while the helper runs
 * (a host that ignores it would have the child reaped behind our back)
 * and restored after, as pam_unix does for unix_chkpwd.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sched.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <security/pam_ext.h>

#include "names.h"
#include "pam_ctx.h"
#include "proto.h"

/* linux/ioprio.h: "no class set" = the default, the best-effort level derived from nice. */
#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_DEFAULT 0

static const struct {
	int res;
	rlim_t cur, max;
} helper_limits[] = {
	{ RLIMIT_CORE, 0, 0 },
	{ RLIMIT_NOFILE, 1024, 1024 },
	{ RLIMIT_STACK, 8u << 20, RLIM_INFINITY },
	{ RLIMIT_FSIZE, RLIM_INFINITY, RLIM_INFINITY },
	{ RLIMIT_AS, RLIM_INFINITY, RLIM_INFINITY },
	{ RLIMIT_DATA, RLIM_INFINITY, RLIM_INFINITY },
	{ RLIMIT_CPU, RLIM_INFINITY, RLIM_INFINITY },
	{ RLIMIT_NPROC, RLIM_INFINITY, RLIM_INFINITY },
	{ RLIMIT_MEMLOCK, 8u << 20, 8u << 20 },
};

/* The helper must be a regular file owned by root that nobody else may change. */
static int helper_ok(const struct pam_ctx *ctx)
{
	struct stat st;

	if (ctx->helper[0] != '/' || stat(ctx->helper, &st) < 0) {
		pam_syslog(ctx->pamh, LOG_ERR, "helper %.200s: cannot be used: %s", ctx->helper,
			   ctx->helper[0] == '/' ? strerror(errno) : "not an absolute path");
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) || !(st.st_mode & S_IXUSR)) {
		pam_syslog(ctx->pamh, LOG_ERR, "helper %.200s refused: not a root-owned executable regular file "
			   "writable by root only", ctx->helper);
		return -1;
	}
	return 0;
}

/* Between fork and exec: async-signal-safe calls only. Never returns. */
static void child_exec(const char *path, int sock, int devnull)
{
	static char *const argv[] = { "entra-login-pam-helper", NULL };
	static char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	struct sigaction dfl;
	sigset_t none;
	int s, n;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &dfl, NULL);	/* SIGKILL/SIGSTOP and glibc's own fail: fine */
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		_exit(127);
	/* Move both above 2 first: a caller may have closed 0-2, so either may be one of them. */
	s = fcntl(sock, F_DUPFD_CLOEXEC, 3);
	n = fcntl(devnull, F_DUPFD_CLOEXEC, 3);
	if (s < 0 || n < 0 || dup2(s, 0) != 0 || dup2(s, 1) != 1 || dup2(n, 2) != 2)
		_exit(127);
	if (close_range(3, ~0u, 0) < 0) {
		for (int fd = 3; fd < 65536; fd++)
			(void)close(fd);
	}
	umask(022);
	for (size_t i = 0; i < sizeof(helper_limits) / sizeof(helper_limits[0]); i++) {
		struct rlimit rl = { helper_limits[i].cur, helper_limits[i].max };

		/* Raising a hard limit needs CAP_SYS_RESOURCE, which a container's root may lack:
		 * then the soft limit goes as high as the hard one allows. Lowering never fails. */
		if (setrlimit(helper_limits[i].res, &rl) < 0) {
			struct rlimit cur;

			if (getrlimit(helper_limits[i].res, &cur) < 0)
				_exit(127);
			rl.rlim_max = cur.rlim_max;
			if (rl.rlim_cur > rl.rlim_max)
				rl.rlim_cur = rl.rlim_max;
			if (setrlimit(helper_limits[i].res, &rl) < 0)
				_exit(127);
		}
	}
	if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		_exit(127);
	/* Out of the caller's reach: a session and process group of its own (a
	 * terminal's SIGTSTP/SIGINT or kill(-pgrp) from the caller of setuid su
	 * never reach it), no cwd of theirs, and the default nice value,
	 * scheduling policy, I/O priority and OOM score, whatever they set on
	 * the process that became su (nice 19, SCHED_IDLE, ionice idle,
	 * oom_score_adj 1000 would let them slow it or have it killed while it
	 * holds users.lock). */
	if (setsid() < 0 || chdir("/") < 0)
		_exit(127);
	{
		struct sched_param sp = { .sched_priority = 0 };
		int fd;

		if (setpriority(PRIO_PROCESS, 0, 0) < 0 || sched_setscheduler(0, SCHED_OTHER, &sp) < 0 ||
		    syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO_DEFAULT) < 0)
			_exit(127);
		fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		/* No /proc (a chroot): nothing to reset, nobody to set it either. */
		if (fd >= 0 && write(fd, "0", 1) != 1)
			_exit(127);
		if (fd >= 0)
			close(fd);
	}
	execve(path, argv, envp);
	_exit(127);
}

struct run {
	struct pam_ctx *ctx;
	pid_t pid;
	int fd;
	uint64_t deadline;
	char buf[PROTO_FRAME_MAX + 1];
};

/* PAM items are the host's (rhost may come from reverse DNS): printable and short on the wire,
 * so that the helper's strict check never fails a login over a log field. */
static const char *printable(char *buf, size_t len, const char *s)
{
	size_t i = 0;

	for (; s[i] && i + 1 < len; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

static int send_request(struct run *rn, const char *op)
{
	char uidbuf[16], frame[PROTO_FRAME_MAX], service[128], rhost[256], tty[128];
	const char *fields[PROTO_REQUEST_FIELDS];
	long len;

	/* The uid the host holds for this name (session.c: what NSS first told
	 * this process, e.g. sshd at the connection's start): what the session
	 * will run as. The helper's writer refuses to record another. 0: unknown. */
	snprintf(uidbuf, sizeof(uidbuf), "%u", (unsigned)pam_session_uid(rn->ctx->user));
	fields[0] = PROTO_VERSION;
	fields[1] = op;
	fields[2] = rn->ctx->user;
	fields[3] = printable(service, sizeof(service), rn->ctx->service);
	fields[4] = printable(rhost, sizeof(rhost), rn->ctx->rhost);
	fields[5] = printable(tty, sizeof(tty), rn->ctx->tty);
	fields[6] = rn->ctx->mode;
	fields[7] = rn->ctx->config ? rn->ctx->config : "";
	fields[8] = rn->ctx->debug ? "1" : "0";
	fields[9] = rn->ctx->silent ? "1" : "0";
	fields[10] = uidbuf;
	len = proto_pack(frame, sizeof(frame), PROTO_REQUEST_FIELDS, fields);
	if (len < 0)
		return -1;
	return proto_write(rn->fd, PROTO_REQUEST, frame, (size_t)len);
}

static int relay_prompt(struct run *rn, uint8_t type)
{
	char *resp = NULL;
	int pr, r;

	pr = pam_prompt(rn->ctx->pamh, type == PROTO_PROMPT_ON ? PAM_PROMPT_ECHO_ON : PAM_PROMPT_ECHO_OFF, &resp,
			"%s", rn->buf);
	explicit_bzero(rn->buf, sizeof(rn->buf));
	if (pr != PAM_SUCCESS || !resp) {
		r = proto_write(rn->fd, PROTO_CONV_FAIL, NULL, 0);
	} else {
		size_t len = strlen(resp);

		/* A longer answer is cut: the helper refuses anything over
		 * EL_TOKEN_PART_MAX (< PROTO_FRAME_MAX) anyway. */
		r = proto_write(rn->fd, PROTO_ANSWER, resp, len > PROTO_FRAME_MAX ? PROTO_FRAME_MAX : len);
	}
	if (resp) {
		explicit_bzero(resp, strlen(resp));
		free(resp);
	}
	return r;
}

static int parse_result(struct run *rn, size_t len, struct helper_result *ret)
{
	const char *f[PROTO_RESULT_FIELDS];
	char *end;
	long code;

	if (proto_fields(rn->buf, len, PROTO_RESULT_FIELDS, f) < 0)
		return -1;
	errno = 0;
	code = strtol(f[0], &end, 10);
	if (errno || end == f[0] || *end || code < 0 || code > 64)
		return -1;
	if (strlen(f[1]) > EL_NAME_MAX || strlen(f[2]) > EL_GUID_LEN)
		return -1;
	ret->code = (int)code;
	memcpy(ret->name, f[1], strlen(f[1]) + 1);
	memcpy(ret->oid, f[2], strlen(f[2]) + 1);
	if (strcmp(f[3], "none") == 0)
		ret->role = 0;
	else if (strcmp(f[3], "user") == 0)
		ret->role = 1;
	else if (strcmp(f[3], "admin") == 0)
		ret->role = 2;
	else
		return -1;
	/* A success is about this user, with an object id and a role, or it is nothing. */
	if (ret->code == PAM_SUCCESS && (strcmp(ret->name, rn->ctx->user) != 0 || ret->role == 0 ||
					 (ret->oid[0] && !name_is_guid(ret->oid))))
		return -1;
	return 0;
}

/* Frames until RESULT. Returns 0 (ret filled) or -1 with *why set. */
static int relay(struct run *rn, struct helper_result *ret, const char **why)
{
	unsigned prompts = 0, frames = 0;

	for (;;) {
		const char *f[PROTO_LOG_FIELDS];
		uint8_t type = 0;
		size_t len = 0;
		int r;

		r = proto_read(rn->fd, rn->deadline, &type, rn->buf, sizeof(rn->buf), &len);
		if (r != 0) {
			*why = r == 1 ? "helper ended without an answer" : "helper timed out or sent a malformed frame";
			return -1;
		}
		if (++frames > PROTO_FRAMES_MAX) {
			*why = "helper sent too many messages";
			return -1;
		}
		switch (type) {
		case PROTO_PROMPT_OFF:
		case PROTO_PROMPT_ON:
			if (++prompts > PROTO_PROMPTS_MAX || !proto_text_ok(rn->buf, len)) {
				*why = "helper sent too many or malformed prompts";
				return -1;
			}
			if (relay_prompt(rn, type) < 0) {
				*why = "helper went away during the conversation";
				return -1;
			}
			break;
		case PROTO_INFO:
		case PROTO_ERROR:
			if (!proto_text_ok(rn->buf, len)) {
				*why = "helper sent malformed text";
				return -1;
			}
			/* PAM_SILENT: nothing for the user, neither info nor errors. */
			if (!rn->ctx->silent) {
				if (type == PROTO_INFO)
					(void)pam_info(rn->ctx->pamh, "%s", rn->buf);
				else
					(void)pam_error(rn->ctx->pamh, "%s", rn->buf);
			}
			break;
		case PROTO_LOG:
			if (proto_fields(rn->buf, len, PROTO_LOG_FIELDS, f) < 0 || strlen(f[0]) != 1 || f[0][0] < '0' ||
			    f[0][0] > '7') {
				*why = "helper sent a malformed log line";
				return -1;
			}
			pam_syslog(rn->ctx->pamh, f[0][0] - '0', "%s", f[1]);
			break;
		case PROTO_RESULT:
			if (parse_result(rn, len, ret) < 0) {
				*why = "helper sent a malformed result";
				return -1;
			}
			return 0;
		default:
			*why = "helper sent an unexpected message";
			return -1;
		}
	}
}

/* After RESULT: the helper must close its end and exit 0 before the deadline. */
static int finish(struct run *rn)
{
	uint8_t type;
	size_t len;
	int st = 0;
	pid_t w;

	if (proto_read(rn->fd, rn->deadline, &type, rn->buf, sizeof(rn->buf), &len) != 1)
		return -1;
	/* Closed its end: it is exiting. Still bounded: a helper that lingers is killed. */
	for (unsigned ms = 1;; ms = ms < 64 ? ms * 2 : ms) {
		struct timespec ts = { 0, (long)ms * 1000000L };

		w = waitpid(rn->pid, &st, WNOHANG);
		if (w == rn->pid)
			break;
		if ((w < 0 && errno != EINTR) || proto_now_ms() >= rn->deadline)
			return -1;
		(void)nanosleep(&ts, NULL);
	}
	rn->pid = -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static void kill_and_reap(struct run *rn)
{
	pid_t w;

	if (rn->pid <= 0)
		return;
	(void)kill(rn->pid, SIGKILL);
	do
		w = waitpid(rn->pid, NULL, 0);
	while (w < 0 && errno == EINTR);
	rn->pid = -1;
}

int helper_run(struct pam_ctx *ctx, const char *op, struct helper_result *ret)
{
	struct sigaction dfl, old_chld;
	struct run *rn = NULL;
	const char *why = NULL;
	int sv[2] = { -1, -1 }, devnull = -1, pr = PAM_AUTHINFO_UNAVAIL;
	bool chld_saved = false;

	memset(ret, 0, sizeof(*ret));
	ret->code = PAM_AUTHINFO_UNAVAIL;
	if (helper_ok(ctx) < 0)
		return PAM_AUTHINFO_UNAVAIL;
	rn = calloc(1, sizeof(*rn));
	if (!rn)
		return PAM_BUF_ERR;
	rn->ctx = ctx;
	rn->pid = -1;
	rn->fd = -1;
	rn->deadline = proto_now_ms() + 1000u * ((uint64_t)ctx->cfg->login_timeout +
						 (uint64_t)ctx->cfg->http_timeout * PROTO_HTTP_TIMEOUTS + PROTO_MARGIN_S);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		why = "cannot create the helper's channel";
		goto out;
	}
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	if (sigaction(SIGCHLD, &dfl, &old_chld) < 0) {
		why = "cannot reset SIGCHLD";
		goto out;
	}
	chld_saved = true;
	rn->pid = fork();
	if (rn->pid < 0) {
		why = "fork failed";
		goto out;
	}
	if (rn->pid == 0)
		child_exec(ctx->helper, sv[1], devnull);
	close(sv[1]);
	sv[1] = -1;
	rn->fd = sv[0];
	sv[0] = -1;
	if (send_request(rn, op) < 0) {
		why = "helper did not take the request";
		goto out;
	}
	if (relay(rn, ret, &why) < 0)
		goto out;
	if (finish(rn) < 0) {
		why = "helper did not exit cleanly after its answer";
		goto out;
	}
	pr = ret->code;
out:
	if (why) {
		pam_syslog(ctx->pamh, LOG_ERR, "%s: user '%.64s' service=%.32s: %s", op, ctx->user, ctx->service, why);
		memset(ret, 0, sizeof(*ret));
		ret->code = pr = PAM_AUTHINFO_UNAVAIL;
	}
	if (rn) {
		kill_and_reap(rn);
		if (rn->fd >= 0)
			close(rn->fd);
		explicit_bzero(rn->buf, sizeof(rn->buf));
		free(rn);
	}
	if (chld_saved)
		(void)sigaction(SIGCHLD, &old_chld, NULL);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (devnull >= 0)
		close(devnull);
	return pr;
}
