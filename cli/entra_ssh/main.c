/* main.c - entra-ssh: subcommands cert, ensure and config; anything else is the
 * access-token mode of token.c (entra-ssh [--client-id ID] ... [ssh arguments]). */
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "es.h"
#include "http.h"
#include "names.h"
#include "strutil.h"

#define ES_SETTINGS_MAX 8192

/* jansson holds the token endpoint's answers (refresh token included) in its own strings:
 * wipe every block it frees. */
static void wiping_free(void *p)
{
	if (p) {
		explicit_bzero(p, malloc_usable_size(p));
		free(p);
	}
}

static const char usage_text[] =
	"usage: entra-ssh cert [--tenant T] [--out DIR] [--agent] [options]\n"
	"       entra-ssh ensure [--agent] [--quiet] [options]\n"
	"       entra-ssh config HOST [options]\n"
	"       entra-ssh [--client-id ID] [--tenant T] [--token-file FILE] [--resource URI] [ssh arguments...]\n"
	"options: --authority URL (ENTRA_SSH_AUTHORITY), --tenant T (ENTRA_SSH_TENANT), --ca-file FILE\n"
	"         (ENTRA_SSH_CA_FILE), --client-id ID, --dir DIR (ENTRA_SSH_DIR: the private state directory)\n"
	"See entra-ssh(1).\n";

static bool chars_ok(const char *s, const char *extra)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      strchr(extra, *s)))
			return false;
	return true;
}

/* Safe inside ssh_config (no %, quotes, spaces) and in a shell command line. */
static bool path_ok(const char *s)
{
	return s[0] == '/' && chars_ok(s, "/._+-@");
}

static int set_field(char *dst, size_t len, const char *what, const char *v)
{
	if (str_copy(dst, len, v) < 0 || str_has_ctl(v)) {
		es_say(NULL, "%s is too long or holds control characters", what);
		return EL_ERR_INVAL;
	}
	return 0;
}

static int set_opt(struct es_opts *o, const char *key, const char *v)
{
	if (strcmp(key, "authority") == 0) {
		size_t n;

		if (strncmp(v, "https://", 8) != 0 || !chars_ok(v + 8, ":/._-[]")) {
			es_say(NULL, "--authority must be an https:// URL, got '%.100s'", v);
			return EL_ERR_INVAL;
		}
		if (set_field(o->authority, sizeof(o->authority), "--authority", v) < 0)
			return EL_ERR_INVAL;
		n = strlen(o->authority);
		while (n > 8 && o->authority[n - 1] == '/')
			o->authority[--n] = '\0';
		return 0;
	}
	if (strcmp(key, "tenant") == 0) {
		if (strlen(v) > 64 || !chars_ok(v, ".-")) {
			es_say(NULL, "--tenant must be a tenant id (a GUID) or domain, got '%.64s'", v);
			return EL_ERR_INVAL;
		}
		return set_field(o->tenant, sizeof(o->tenant), "--tenant", v);
	}
	if (strcmp(key, "client_id") == 0) {
		if (!name_is_guid(v)) {
			es_say(NULL, "--client-id must be an application id (a GUID)");
			return EL_ERR_INVAL;
		}
		return set_field(o->client_id, sizeof(o->client_id), "--client-id", v);
	}
	if (strcmp(key, "ca_file") == 0)
		return set_field(o->ca_file, sizeof(o->ca_file), "--ca-file", v);
	if (strcmp(key, "out") == 0) {
		if (!path_ok(v)) {
			es_say(NULL, "--out must be an absolute path of letters, digits and / . _ + - @");
			return EL_ERR_INVAL;
		}
		return set_field(o->out, sizeof(o->out), "--out", v);
	}
	if (strcmp(key, "dir") == 0) {
		if (!path_ok(v)) {
			es_say(NULL, "--dir must be an absolute path of letters, digits and / . _ + - @");
			return EL_ERR_INVAL;
		}
		return set_field(o->dir, sizeof(o->dir), "--dir", v);
	}
	return 0;	/* unknown keys in the settings file: from a newer entra-ssh */
}

static int default_dir(struct es_opts *o)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	const struct passwd *pw;
	int n;

	if (getenv("ENTRA_SSH_DIR") && *getenv("ENTRA_SSH_DIR"))
		return set_opt(o, "dir", getenv("ENTRA_SSH_DIR"));
	if (xdg && xdg[0] == '/')
		n = snprintf(o->dir, sizeof(o->dir), "%s/entra-ssh", xdg);
	else {
		if (!home || home[0] != '/') {
			pw = getpwuid(geteuid());
			home = pw ? pw->pw_dir : NULL;
		}
		if (!home) {
			es_say(NULL, "no home directory: set HOME or ENTRA_SSH_DIR");
			return EL_ERR_INVAL;
		}
		n = snprintf(o->dir, sizeof(o->dir), "%s/.config/entra-ssh", home);
	}
	if (n < 0 || (size_t)n >= sizeof(o->dir) || !path_ok(o->dir)) {
		es_say(NULL, "the state directory '%.200s' is not a plain absolute path: set ENTRA_SSH_DIR", o->dir);
		return EL_ERR_INVAL;
	}
	return 0;
}

/* key=value lines written by save_settings; flags and environment win over them. */
static int load_settings(struct es_opts *o, const bool *given)
{
	static const char *const keys[] = { "authority", "tenant", "client_id", "ca_file", "out" };
	char path[PATH_MAX], *text = NULL, *line, *save = NULL, *eq;
	size_t len = 0, i;
	int r;

	snprintf(path, sizeof(path), "%s/%s", o->dir, ES_SETTINGS_FILE);
	r = es_private_read(path, ES_SETTINGS_MAX, &text, &len);
	if (r == EL_ERR_NOT_FOUND)
		return 0;
	if (r < 0) {
		es_say(o, "cannot read %s: %s", path, el_strerror(r));
		return r;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strcmp(line, keys[i]) == 0 && !given[i] && set_opt(o, keys[i], eq + 1) < 0)
				r = EL_ERR_CONFIG;
	}
	free(text);
	return r;
}

static int save_settings(const struct es_opts *o)
{
	char path[PATH_MAX], *text = NULL;
	int n, r;

	snprintf(path, sizeof(path), "%s/%s", o->dir, ES_SETTINGS_FILE);
	n = asprintf(&text, "authority=%s\ntenant=%s\nclient_id=%s\nca_file=%s\nout=%s\n", o->authority, o->tenant,
		     o->client_id, o->ca_file, o->out);
	if (n < 0)
		return EL_ERR_NOMEM;
	r = file_write_atomic(path, text, (size_t)n, 0600);
	free(text);
	return r;
}

/* dir exists, is ours and private (0700); made if missing (its parent too, 0700). */
static int make_private_dir(const char *dir)
{
	char parent[PATH_MAX], *slash;

	if (str_copy(parent, sizeof(parent), dir) < 0)
		return EL_ERR_RANGE;
	slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		if (mkdir(parent, 0700) < 0 && errno != EEXIST)
			return EL_ERR_IO;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return EL_ERR_IO;
	return dir_private(dir) ? 0 : EL_ERR_INSECURE;
}

static int prepare_dirs(struct es_opts *o, int *ret_lock)
{
	char lock[PATH_MAX];
	struct stat st;
	int r, fd;

	r = make_private_dir(o->dir);
	if (r < 0) {
		es_say(o, r == EL_ERR_INSECURE ? "%s must be a directory of yours that only you can use: chmod 700 %s"
					    : "cannot create the directory %s (%s)", o->dir,
		       r == EL_ERR_INSECURE ? o->dir : strerror(errno));
		return r;
	}
	if (!o->out[0])
		snprintf(o->out, sizeof(o->out), "%s", o->dir);
	if (strcmp(o->out, o->dir) != 0) {
		if (mkdir(o->out, 0700) < 0 && errno != EEXIST)
			return EL_ERR_IO;
		/* the private key goes there: others must not be able to swap it */
		if (lstat(o->out, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)) {
			es_say(o, "%s must be a directory of yours that others cannot write", o->out);
			return EL_ERR_INSECURE;
		}
	}
	snprintf(lock, sizeof(lock), "%s/lock", o->dir);
	fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		if (fd >= 0)
			close(fd);
		es_say(o, "cannot lock %s", lock);
		return EL_ERR_LOCK;
	}
	*ret_lock = fd;
	return 0;
}

static void out_path(const struct es_opts *o, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", o->out, name);
}

static int say_cert_error(const struct es_opts *o, int r, const struct es_cert_info *info, time_t now)
{
	if (r == EL_ERR_CERT_NOT_YET_VALID)
		es_say(o, "the new certificate is not valid yet by this computer's clock (it starts %lld s from now): "
		       "this clock is behind; fix it (timedatectl, NTP) and try again",
		       info ? (long long)(info->valid_after - (uint64_t)now) : 0LL);
	else
		es_say(o, "Entra ID's certificate is not usable: %s", el_strerror(r));
	return r;
}

/* A new certificate (refresh token first; device code if interactive), written next to key. */
static int renew(struct es_opts *o, EVP_PKEY *key, bool interactive)
{
	char cert_path[PATH_MAX + 32], key_path[PATH_MAX + 32], *b64 = NULL, until[64];
	struct es_cert_info info = { 0 };
	time_t now, t;
	struct tm tm;
	int r;

	r = es_signin(o, key, true, interactive, &b64);
	if (r < 0)
		goto out;
	now = time(NULL);
	r = es_cert_check(b64, key, now, &info);
	if (r < 0) {
		say_cert_error(o, r, &info, now);
		goto out;
	}
	out_path(o, ES_CERT_FILE, cert_path, sizeof(cert_path));
	out_path(o, ES_KEY_FILE, key_path, sizeof(key_path));
	r = es_cert_write(cert_path, b64);
	if (r < 0) {
		es_say(o, "cannot write %s", cert_path);
		goto out;
	}
	r = save_settings(o);
	if (r < 0) {
		es_say(o, "cannot write the settings in %s", o->dir);
		goto out;
	}
	if (o->agent) {
		r = es_agent_add(o, key_path, info.valid_before - (uint64_t)now);
		if (r < 0)
			goto out;
	}
	if (!o->quiet) {
		t = (time_t)info.valid_before;
		if (!localtime_r(&t, &tm) || !strftime(until, sizeof(until), "%Y-%m-%d %H:%M:%S %Z", &tm))
			until[0] = '\0';
		fprintf(stderr, "entra-ssh: certificate for %.256s valid until %s (%llu min)%s\n  key %s\n  certificate %s\n",
			info.principal, until, (unsigned long long)((info.valid_before - (uint64_t)now) / 60),
			o->agent ? ", added to ssh-agent for as long" : "", key_path, cert_path);
	}
out:
	free(b64);
	return r;
}

static int cmd_cert(struct es_opts *o, bool ensure)
{
	char key_path[PATH_MAX + 32], cert_path[PATH_MAX + 32];
	struct es_cert_info info;
	EVP_PKEY *key = NULL;
	time_t now;
	int r, lock = -1;

	r = prepare_dirs(o, &lock);
	if (r < 0)
		goto out;
	out_path(o, ES_KEY_FILE, key_path, sizeof(key_path));
	out_path(o, ES_CERT_FILE, cert_path, sizeof(cert_path));
	if (ensure && access(key_path, F_OK) < 0) {
		es_say(o, "not signed in: run 'entra-ssh cert' once");
		r = EL_ERR_NOT_FOUND;
		goto out;
	}
	r = es_key_load_or_create(key_path, &key);
	if (r < 0) {
		es_say(o, "cannot use the key %s: %s", key_path, el_strerror(r));
		goto out;
	}
	if (ensure) {
		now = time(NULL);
		r = es_cert_read(cert_path, key, &info);
		/* still good for ES_RENEW_BEFORE seconds: nothing to do */
		if (r == 0 && info.valid_after <= (uint64_t)now && info.valid_before >= (uint64_t)now + ES_RENEW_BEFORE) {
			r = 0;
			goto out;
		}
	}
	r = renew(o, key, !ensure);
out:
	EVP_PKEY_free(key);
	if (lock >= 0)
		close(lock);
	return r < 0 ? 1 : 0;
}

static int cmd_config(struct es_opts *o, const char *host)
{
	char self[PATH_MAX], cert_path[PATH_MAX + 32], user[257];
	struct es_cert_info info;
	ssize_t n;
	size_t i;

	if (!chars_ok(host, ".-_*?!,:[]") || strlen(host) > 255) {
		es_say(o, "HOST must be an ssh host name or pattern (letters, digits, . - _ * ? ! , : [ ])");
		return 2;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0 || (size_t)n >= sizeof(self) - 1) {
		es_say(o, "cannot find my own path");
		return 1;
	}
	self[n] = '\0';
	if (!path_ok(self)) {
		es_say(o, "my path '%.200s' cannot go into ssh_config: install entra-ssh under a plain path", self);
		return 1;
	}
	if (!o->out[0])
		snprintf(o->out, sizeof(o->out), "%s", o->dir);
	printf("# entra-ssh: an Entra ID certificate for %s, renewed on each connection when it has\n"
	       "# less than %d minutes left (entra-ssh(1)). Sign in once: entra-ssh cert\n",
	       host, ES_RENEW_BEFORE / 60);
	printf("Match originalhost %s exec \"%s ensure --quiet --dir %s\"\n", host, self, o->dir);
	out_path(o, ES_CERT_FILE, cert_path, sizeof(cert_path));
	if (es_cert_read(cert_path, NULL, &info) == 0 && chars_ok(info.principal, "@.-_")) {
		for (i = 0; info.principal[i] && i < sizeof(user) - 1; i++)
			user[i] = (char)(info.principal[i] >= 'A' && info.principal[i] <= 'Z' ? info.principal[i] + 32
											       : info.principal[i]);
		user[i] = '\0';
		printf("\tUser %s\n", user);
	}
	printf("\tIdentityFile %s/%s\n\tCertificateFile %s\n\tIdentitiesOnly yes\n", o->out, ES_KEY_FILE, cert_path);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const keys[] = { "authority", "tenant", "client_id", "ca_file", "out", "dir" };
	static const char *const flags[] = { "--authority", "--tenant", "--client-id", "--ca-file", "--out", "--dir" };
	static const char *const envs[] = { "ENTRA_SSH_AUTHORITY", "ENTRA_SSH_TENANT", NULL, "ENTRA_SSH_CA_FILE", NULL, NULL };
	struct es_opts o;
	bool given[6] = { false };
	const char *cmd, *host = NULL;
	size_t k;
	int i;

	if (argc < 2 || (strcmp(argv[1], "cert") != 0 && strcmp(argv[1], "ensure") != 0 &&
			 strcmp(argv[1], "config") != 0))
		return es_token_main(argc, argv);
	cmd = argv[1];
	json_set_alloc_funcs(malloc, wiping_free);
	memset(&o, 0, sizeof(o));
	snprintf(o.authority, sizeof(o.authority), "%s", ES_DEFAULT_AUTHORITY);
	snprintf(o.tenant, sizeof(o.tenant), "%s", ES_DEFAULT_TENANT);
	snprintf(o.client_id, sizeof(o.client_id), "%s", ES_AZ_CLI_CLIENT_ID);
	for (i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--agent") == 0) {
			o.agent = true;
			continue;
		}
		if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
			o.quiet = true;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(usage_text, stdout);
			return 0;
		}
		for (k = 0; k < 6; k++)
			if (strcmp(a, flags[k]) == 0)
				break;
		if (k < 6) {
			if (i + 1 >= argc) {
				es_say(NULL, "%s needs a value", a);
				return 2;
			}
			if (set_opt(&o, keys[k], argv[++i]) < 0)
				return 2;
			given[k] = true;
			continue;
		}
		if (strcmp(cmd, "config") == 0 && !host && a[0] != '-') {
			host = a;
			continue;
		}
		es_say(NULL, "unknown argument '%.64s'", a);
		fputs(usage_text, stderr);
		return 2;
	}
	for (k = 0; k < 6; k++)
		if (!given[k] && envs[k] && getenv(envs[k]) && *getenv(envs[k])) {
			if (set_opt(&o, keys[k], getenv(envs[k])) < 0)
				return 2;
			given[k] = true;
		}
	if (!given[5] && default_dir(&o) < 0)
		return 2;
	if (load_settings(&o, given) < 0)
		return 2;
	/* A tool the user runs for themselves honours their proxy (https_proxy, no_proxy);
	 * the root paths (PAM helper, entra-login) never do. */
	http_use_environment_proxy();
	if (strcmp(cmd, "config") == 0) {
		if (!host) {
			es_say(NULL, "config needs a HOST (a name or pattern as in ssh_config)");
			return 2;
		}
		return cmd_config(&o, host);
	}
	return cmd_cert(&o, strcmp(cmd, "ensure") == 0);
}
