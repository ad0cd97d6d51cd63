/* token.c - entra-ssh's access-token mode (what the shell script did before):
 *
 *   entra-ssh [--client-id ID] [--tenant TENANT] [--token-file FILE] [--resource URI] [ssh arguments...]
 *
 * The token comes from FILE ("-" for stdin) or from the Azure CLI
 * (az account get-access-token --scope api://ID/user_impersonation --query accessToken -o tsv).
 * OpenSSH cuts a keyboard-interactive answer at 1023 bytes, so the host asks for the
 * token in parts; ssh runs us again as SSH_ASKPASS with the prompt as argv[1] and
 * ENTRA_SSH_TOKEN_FILE set, and we print part n (1000 bytes), empty past the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "es.h"
#include "names.h"
#include "strutil.h"

#define TOKEN_FILE_MAX (64 * 1024)
#define PART 1000

static int askpass(const char *file, const char *prompt)
{
	const char *p = strstr(prompt, "(part ");
	char *text = NULL;
	size_t len = 0, i, j = 0, part = 1, start;

	if (!strstr(prompt, "token (part "))
		return 1;	/* not ours (host key question, password): refuse rather than guess */
	p += 6;
	if (*p >= '0' && *p <= '9') {
		part = 0;
		for (; *p >= '0' && *p <= '9' && part < 100000; p++)
			part = part * 10 + (size_t)(*p - '0');
	}
	if (part == 0 || file_read_capped(file, TOKEN_FILE_MAX, &text, &len) < 0)
		return 1;
	for (i = 0; i < len; i++)
		if (text[i] != '\n' && text[i] != '\r' && text[i] != ' ')
			text[j++] = text[i];
	start = (part - 1) * PART;
	if (start < j)
		fwrite(text + start, 1, j - start < PART ? j - start : PART, stdout);
	fputc('\n', stdout);
	explicit_bzero(text, len);
	free(text);
	return 0;
}

/* fork+exec argv with stdin from in_fd (or /dev/null), stdout/stderr into files; exit status. */
static int run(char *const argv[], int in_fd, const char *out, const char *err)
{
	pid_t pid = fork();
	int status = 0, fd;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		fd = in_fd >= 0 ? in_fd : open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, 0);
		if (out) {
			fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
			if (fd < 0)
				_exit(126);
			dup2(fd, 1);
		}
		if (err) {
			fd = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
			if (fd < 0)
				_exit(126);
			dup2(fd, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Copy what fd gives (a file, a pipe, a terminal) into a private file, at most TOKEN_FILE_MAX bytes. */
static int copy_fd_to(int in, const char *path)
{
	char *text = NULL, *t, buf[4096];
	size_t len = 0;
	ssize_t n;
	int r = 0;

	for (;;) {
		n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = EL_ERR_IO;
			goto out;
		}
		if (n == 0)
			break;
		if ((size_t)n > TOKEN_FILE_MAX - len) {
			r = EL_ERR_RANGE;
			goto out;
		}
		t = malloc(len + (size_t)n + 1);
		if (!t) {
			r = EL_ERR_NOMEM;
			goto out;
		}
		if (text)
			memcpy(t, text, len);
		memcpy(t + len, buf, (size_t)n);
		if (text) {
			explicit_bzero(text, len);
			free(text);
		}
		text = t;
		len += (size_t)n;
	}
	r = file_write_atomic(path, text ? text : "", len, 0600);
out:
	explicit_bzero(buf, sizeof(buf));
	if (text) {
		explicit_bzero(text, len);
		free(text);
	}
	return r;
}

static void show_az_err(const char *path)
{
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	int n = 0;

	if (file_read_capped(path, TOKEN_FILE_MAX, &text, &len) < 0)
		return;
	for (line = strtok_r(text, "\n", &save); line && n < 20; line = strtok_r(NULL, "\n", &save), n++)
		fprintf(stderr, "  az: %s\n", line);
	free(text);
}

static int need(int i, int argc, const char *flag)
{
	if (i + 1 >= argc) {
		fprintf(stderr, "entra-ssh: %s needs a value\n", flag);
		return -1;
	}
	return 0;
}

int es_token_main(int argc, char **argv)
{
	const char *token_file = NULL, *resource = getenv("ENTRA_SSH_RESOURCE"),
		   *client_id = getenv("ENTRA_SSH_CLIENT_ID"), *tenant = getenv("ENTRA_SSH_TENANT");
	char tmp[] = "/tmp/entra-ssh.XXXXXX", tok[64], errf[64], scope[128], self[4096];
	char **sargv = NULL;
	struct stat st;
	int i, rc = 2, fd, n;
	ssize_t sl;

	if (getenv("ENTRA_SSH_TOKEN_FILE") && *getenv("ENTRA_SSH_TOKEN_FILE") && argc >= 2)
		return askpass(getenv("ENTRA_SSH_TOKEN_FILE"), argv[1]);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], **dst = NULL, *flag = NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			printf("entra-ssh - ssh to an entra-login host with an Entra ID certificate or access token\n\n"
			       "  entra-ssh cert [--tenant T] [--out DIR] [--agent]   sign in, get a certificate\n"
			       "  entra-ssh ensure [--agent] [--quiet]                renew it if < 5 min remain\n"
			       "  entra-ssh config HOST                               ssh_config block for HOST\n"
			       "  entra-ssh [--client-id ID] [--tenant T] [--token-file FILE] [--resource URI] [ssh args...]\n"
			       "      paste an access token (FILE, '-' for stdin, or from the Azure CLI) into ssh\n\n"
			       "See entra-ssh(1).\n");
			return 0;
		}
		if (strcmp(a, "--token-file") == 0 || strncmp(a, "--token-file=", 13) == 0)
			dst = &token_file, flag = "--token-file";
		else if (strcmp(a, "--resource") == 0 || strncmp(a, "--resource=", 11) == 0)
			dst = &resource, flag = "--resource";
		else if (strcmp(a, "--client-id") == 0 || strncmp(a, "--client-id=", 12) == 0)
			dst = &client_id, flag = "--client-id";
		else if (strcmp(a, "--tenant") == 0 || strncmp(a, "--tenant=", 9) == 0)
			dst = &tenant, flag = "--tenant";
		else
			break;
		if (strchr(a, '=')) {
			*dst = strchr(a, '=') + 1;
		} else {
			if (need(i, argc, flag) < 0)
				return 2;
			*dst = argv[++i];
		}
	}
	if (!mkdtemp(tmp)) {
		fprintf(stderr, "entra-ssh: cannot create a temporary directory\n");
		return 2;
	}
	snprintf(tok, sizeof(tok), "%s/token", tmp);
	snprintf(errf, sizeof(errf), "%s/az.err", tmp);
	if (token_file) {
		fd = strcmp(token_file, "-") == 0 ? 0 : open(token_file, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || copy_fd_to(fd, tok) < 0) {
			fprintf(stderr, "entra-ssh: cannot read the token file %s\n", token_file);
			goto out;
		}
		if (fd > 0)
			close(fd);
	} else {
		char *az[4];
		int k = 0, st_az;

		if (resource && *resource) {
			az[2] = "--resource";
			az[3] = (char *)resource;
		} else if (client_id && *client_id) {
			if (!name_is_guid(client_id)) {
				fprintf(stderr, "entra-ssh: --client-id must be the app's client id (a GUID)\n");
				goto out;
			}
			snprintf(scope, sizeof(scope), "api://%s/user_impersonation", client_id);
			az[2] = "--scope";
			az[3] = scope;
		} else {
			fprintf(stderr, "entra-ssh: which app? give the host's client id: --client-id ID or "
				"ENTRA_SSH_CLIENT_ID=ID\n  (the client_id of the host's /etc/entra-login.conf), or "
				"--token-file FILE, or use a certificate: entra-ssh cert\n");
			goto out;
		}
		if (tenant && *tenant && !name_is_guid(tenant)) {
			fprintf(stderr, "entra-ssh: --tenant must be a tenant id (a GUID)\n");
			goto out;
		}
		{
			char *v[14];

			v[k++] = "az";
			v[k++] = "account";
			v[k++] = "get-access-token";
			v[k++] = az[2];
			v[k++] = az[3];
			if (tenant && *tenant) {
				v[k++] = "--tenant";
				v[k++] = (char *)tenant;
			}
			v[k++] = "--query";
			v[k++] = "accessToken";
			v[k++] = "-o";
			v[k++] = "tsv";
			v[k] = NULL;
			st_az = run(v, -1, tok, errf);
		}
		if (st_az == 127) {
			fprintf(stderr, "entra-ssh: no --token-file and no Azure CLI (az) on PATH\n");
			goto out;
		}
		if (st_az != 0) {
			char *e = NULL;
			size_t el = 0;

			if (file_read_capped(errf, TOKEN_FILE_MAX, &e, &el) == 0 &&
			    (strcasestr(e, "az login") || strcasestr(e, "not logged in") || strstr(e, "AADSTS700082") ||
			     strstr(e, "AADSTS50173")))
				fprintf(stderr, "entra-ssh: the Azure CLI is not logged in (or its sign-in expired): "
					"run 'az login%s%s' and try again\n", tenant && *tenant ? " --tenant " : "",
					tenant && *tenant ? tenant : "");
			else
				fprintf(stderr, "entra-ssh: the Azure CLI could not get a token (az exit status %d):\n", st_az);
			free(e);
			show_az_err(errf);
			goto out;
		}
	}
	if (stat(tok, &st) < 0 || st.st_size == 0) {
		fprintf(stderr, "entra-ssh: empty token\n");
		goto out;
	}
	sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (sl <= 0 || (size_t)sl >= sizeof(self) - 1)
		goto out;
	self[sl] = '\0';
	sargv = calloc((size_t)(argc - i) + 4, sizeof(*sargv));
	if (!sargv)
		goto out;
	sargv[0] = "ssh";
	sargv[1] = "-o";
	sargv[2] = "PreferredAuthentications=keyboard-interactive";
	for (n = 3; i < argc; i++)
		sargv[n++] = argv[i];
	if (setenv("ENTRA_SSH_TOKEN_FILE", tok, 1) < 0 || setenv("SSH_ASKPASS", self, 1) < 0 ||
	    setenv("SSH_ASKPASS_REQUIRE", "force", 1) < 0 || setenv("DISPLAY", getenv("DISPLAY") ? getenv("DISPLAY") : ":0", 1) < 0)
		goto out;
	rc = run(sargv, 0, NULL, NULL);
	if (rc == 127)
		fprintf(stderr, "entra-ssh: cannot run ssh\n");
out:
	free(sargv);
	(void)unlink(tok);
	(void)unlink(errf);
	(void)rmdir(tmp);
	return rc;
}
