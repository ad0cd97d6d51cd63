/* cmd_configure.c - entra-login configure: write the configuration file.
 *
 *   entra-login [--config PATH] configure --tenant GUID --client-id GUID --domains LIST
 *               [--role-sources LIST] [--static-admins LIST] [... one flag per setting]
 *               [--force] [--no-imds] [--non-interactive]
 *
 * Values come from flags; on a terminal, the required ones that are missing
 * are asked for (the tenant's default answer is the tenant of this VM's
 * managed identity, when IMDS answers). The text is built here and parsed
 * with the real parser (cfg_parse) before anything is written: a file this
 * command writes always loads. Written atomically (temp file, fsync,
 * rename) with mode 0644; a working configuration is replaced only with
 * --force. Ends with the checks of `status` and the next steps.
 *
 * Exit: 0 written and every check passed; 1 not written because a working
 * configuration is there, or written but a check failed; 2 usage or an
 * invalid value (nothing written); 3 written but the identity provider
 * cannot be reached (as status).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmds.h"
#include "conf.h"
#include "configure_azure.h"
#include "strutil.h"

/* Flags that set a configuration key; the parser checks every value. */
struct setting {
	const char *flag;
	const char *key;
	const char *question;	/* asked on a terminal when missing; NULL = never asked */
	bool required;
	const char *help;
};

static const struct setting settings[] = {
	{ "--tenant", "tenant_id", "Tenant id (a GUID)", true, "directory (tenant) id, a GUID" },
	{ "--client-id", "client_id", "Application (client) id of the app registration", true,
	  "the app registration's application (client) id" },
	{ "--domains", "domains", "User domains (UPN suffixes, comma list)", true,
	  "UPN domain suffixes of users who may sign in, comma list" },
	{ "--role-sources", "role_sources", "Role sources (claims, static, arm) [claims, static]", false,
	  "where roles come from: claims, static, arm" },
	{ "--static-admins", "static_admins", "Administrators granted locally (UPNs, comma list) [none]", false,
	  "UPNs or group object ids made admins on this host" },
	{ "--static-users", "static_users", NULL, false, "UPNs or group object ids allowed to log in" },
	{ "--admin-role-values", "admin_role_values", NULL, false, "roles claim values meaning admin" },
	{ "--user-role-values", "user_role_values", NULL, false, "roles claim values meaning user" },
	{ "--audiences", "audiences", NULL, false, "accepted token audiences (default api://CLIENT_ID)" },
	{ "--authority", "authority", NULL, false, "issuer base URL" },
	{ "--ca-file", "ca_file", NULL, false, "PEM bundle to trust instead of the system store" },
	{ "--imds-url", "imds_url", NULL, false, "instance metadata endpoint" },
	{ "--arm-url", "arm_url", NULL, false, "Azure Resource Manager endpoint" },
	{ "--state-dir", "state_dir", NULL, false, "state directory" },
	{ "--home", "home", NULL, false, "home directory template (%u %l %d)" },
	{ "--shell", "shell", NULL, false, "login shell" },
	{ "--http-timeout", "http_timeout", NULL, false, "seconds per request" },
	{ "--login-timeout", "login_timeout", NULL, false, "seconds for a whole device-code sign-in" },
	{ "--token-max-age", "token_max_age", NULL, false, "max age of a pasted token, seconds" },
};
#define N_SETTINGS (sizeof(settings) / sizeof(settings[0]))
#define ANSWER_TRIES 3
#define VALUE_MAX 2048
#define NIL_GUID "00000000-0000-0000-0000-000000000000"

struct run {
	const char *path;
	const char *values[N_SETTINGS];	/* borrowed from argv */
	char *answers[N_SETTINGS];	/* owned: typed on the terminal */
	bool force, no_imds, non_interactive;
	bool backup;			/* a file is there: keep it as PATH.bak */
	struct azure_vm vm;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: entra-login [--config PATH] configure [--force] [--no-imds] [--non-interactive] "
		   "--tenant GUID --client-id GUID --domains LIST [SETTINGS]\n\nsettings:\n");
	for (size_t i = 0; i < N_SETTINGS; i++)
		fprintf(f, "  %-20s %-17s %s\n", settings[i].flag, settings[i].key, settings[i].help);
	fprintf(f, "\nOn a terminal, missing required settings are asked for. A working configuration\n"
		   "is replaced only with --force. Nothing is written unless the result is valid.\n");
}

static const char *value_of(const struct run *run, size_t i)
{
	return run->answers[i] ? run->answers[i] : run->values[i];
}

/* The value set for a key (flag or answer), or NULL. */
static const char *value_for(const struct run *run, const char *key)
{
	for (size_t i = 0; i < N_SETTINGS; i++)
		if (strcmp(settings[i].key, key) == 0)
			return value_of(run, i);
	return NULL;
}

static bool value_ok(const struct setting *st, const char *v)
{
	/* One setting, one line: a newline would smuggle in another key. */
	if (strlen(v) > VALUE_MAX || str_has_ctl(v)) {
		fprintf(stderr, "entra-login: %s: control characters and values over %d bytes are not allowed\n",
			st->flag, VALUE_MAX);
		return false;
	}
	/* The parser takes the nil GUID (the shipped file's placeholder); a real setup never has it. */
	if ((strcmp(st->key, "tenant_id") == 0 || strcmp(st->key, "client_id") == 0) && strcmp(v, NIL_GUID) == 0) {
		fprintf(stderr, "entra-login: %s: %s is a placeholder, not an id\n", st->flag, NIL_GUID);
		return false;
	}
	return true;
}

static int parse_args(struct run *run, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq = strchr(a, '=');
		size_t flen = eq ? (size_t)(eq - a) : strlen(a), s;

		if (strcmp(a, "--force") == 0) {
			run->force = true;
			continue;
		}
		if (strcmp(a, "--no-imds") == 0) {
			run->no_imds = true;
			continue;
		}
		if (strcmp(a, "--non-interactive") == 0) {
			run->non_interactive = true;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 1;
		}
		for (s = 0; s < N_SETTINGS; s++)
			if (strlen(settings[s].flag) == flen && strncmp(a, settings[s].flag, flen) == 0)
				break;
		if (s == N_SETTINGS) {
			fprintf(stderr, "entra-login: configure: unknown option '%.64s'\n", a);
			return -1;
		}
		if (!eq && i + 1 >= argc) {
			fprintf(stderr, "entra-login: %s needs a value\n", settings[s].flag);
			return -1;
		}
		if (run->values[s]) {
			fprintf(stderr, "entra-login: %s given twice\n", settings[s].flag);
			return -1;
		}
		run->values[s] = eq ? eq + 1 : argv[++i];
		if (!value_ok(&settings[s], run->values[s]))
			return -1;
	}
	return 0;
}

/* The file's text from the values set; placeholders stand in for missing
 * required keys when only one answer is being checked. */
static char *build_text(const struct run *run, bool placeholders)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	time_t now = time(NULL);
	char when[32] = "";
	struct tm tm;

	if (!f)
		return NULL;
	if (gmtime_r(&now, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", &tm);
	fprintf(f, "# entra-login configuration, written by `entra-login configure` on %s.\n"
		   "# Every key is described in the annotated file the package installs (kept as\n"
		   "# %s.bak when this command replaced it). Check with `entra-login status`.\n", when,
		run->path);
	for (size_t i = 0; i < N_SETTINGS; i++) {
		const char *v = value_of(run, i);

		if (!v && placeholders && settings[i].required)
			v = strcmp(settings[i].key, "domains") == 0 ? "example.invalid" : NIL_GUID;
		if (v && *v)
			fprintf(f, "%s = %s\n", settings[i].key, v);
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* Parse text with the real parser; prints the parser's message on error. */
static int validate(const char *path, const char *text)
{
	struct el_config *cfg = NULL;
	char err[512];
	int r = cfg_parse(path, text, strlen(text), &cfg, err, sizeof(err));

	if (r < 0)
		fprintf(stderr, "entra-login: not written: %s\n", err[0] ? err : el_strerror(r));
	cfg_free(cfg);
	return r;
}

static char *ask_line(const char *question, const char *dflt)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (dflt)
		printf("%s [%s]: ", question, dflt);
	else
		printf("%s: ", question);
	fflush(stdout);
	n = getline(&line, &cap, stdin);
	if (n < 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (n == 0 && dflt) {
		free(line);
		return strdup(dflt);
	}
	return line;
}

/* Ask for setting i until the parser takes it (ANSWER_TRIES times). */
static int ask(struct run *run, size_t i, const char *dflt)
{
	for (int t = 0; t < ANSWER_TRIES; t++) {
		char *text;
		int r;

		free(run->answers[i]);
		run->answers[i] = ask_line(settings[i].question, dflt);
		if (!run->answers[i]) {
			fprintf(stderr, "\nentra-login: no answer: nothing written\n");
			return EL_ERR_ABORTED;
		}
		if (!run->answers[i][0] && !settings[i].required)
			return 0;
		if (!value_ok(&settings[i], run->answers[i]))
			continue;
		text = build_text(run, true);
		if (!text)
			return EL_ERR_NOMEM;
		r = validate(run->path, text);
		free(text);
		if (r == 0)
			return 0;
		if (r == EL_ERR_NOMEM)
			return r;
	}
	fprintf(stderr, "entra-login: giving up after %d answers: nothing written\n", ANSWER_TRIES);
	return EL_ERR_CONFIG;
}

static int ask_missing(struct run *run)
{
	bool interactive = !run->non_interactive && isatty(STDIN_FILENO);
	int missing = 0, r;

	for (size_t i = 0; i < N_SETTINGS; i++) {
		if (value_of(run, i) || !settings[i].question)
			continue;
		if (!interactive) {
			if (!settings[i].required)
				continue;
			fprintf(stderr, "entra-login: configure: %s is required", settings[i].flag);
			if (strcmp(settings[i].key, "tenant_id") == 0 && run->vm.found)
				fprintf(stderr, " (this VM's managed identity is in tenant %s)", run->vm.tid);
			fprintf(stderr, "\n");
			missing++;
			continue;
		}
		r = ask(run, i, strcmp(settings[i].key, "tenant_id") == 0 && run->vm.found ? run->vm.tid : NULL);
		if (r < 0)
			return r;
	}
	return missing ? EL_ERR_CONFIG : 0;
}

/* Keep the file about to be replaced as PATH.bak (the package's annotated
 * example, or the admin's own work). */
static int keep_backup(const struct run *run)
{
	char bak[4096], *old = NULL;
	size_t len = 0;
	int r;

	if (snprintf(bak, sizeof(bak), "%s.bak", run->path) >= (int)sizeof(bak))
		return EL_ERR_RANGE;
	r = file_read_capped(run->path, EL_CONF_SIZE_MAX, &old, &len);
	if (r == 0)
		r = file_write_atomic(bak, old, len, 0644);
	if (r == 0)
		printf("the previous file is kept as %s\n", bak);
	else
		fprintf(stderr, "entra-login: cannot keep a copy of %s as %s: not replaced\n", run->path, bak);
	free(old);
	return r;
}

/* 0 if path may be written: absent, a placeholder, not loading, or --force. */
static int check_existing(struct run *run)
{
	struct el_config *old = NULL;
	struct stat st;
	char err[512];
	bool placeholder;

	if (lstat(run->path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "entra-login: %s: %s\n", run->path, strerror(errno));
		return EL_ERR_IO;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "entra-login: %s is not a regular file: not replaced\n", run->path);
		return EL_ERR_INSECURE;
	}
	if (cfg_load(run->path, &old, err, sizeof(err)) < 0) {
		printf("replacing %s, which does not load: %s\n", run->path, err);
		run->backup = true;
		return 0;
	}
	placeholder = strcmp(old->tenant_id, NIL_GUID) == 0 || strcmp(old->client_id, NIL_GUID) == 0;
	cfg_free(old);
	if (placeholder) {
		printf("replacing %s, which holds placeholder ids\n", run->path);
		run->backup = true;
		return 0;
	}
	if (run->force) {
		printf("replacing the working configuration %s (--force)\n", run->path);
		run->backup = true;
		return 0;
	}
	fprintf(stderr, "entra-login: %s is a working configuration; not replaced (use --force)\n", run->path);
	return EL_ERR_CONFIG;
}

static bool has_source(const struct el_config *cfg, enum el_role_source s)
{
	for (size_t i = 0; i < cfg->n_role_sources; i++)
		if (cfg->role_sources[i] == s)
			return true;
	return false;
}

static void next_steps(const struct el_config *cfg)
{
	printf("\nnext steps:\n"
	       "  1. Users and roles: assign the app roles VirtualMachineAdministratorLogin /\n"
	       "     VirtualMachineUserLogin of app %s to users or groups (role source claims),\n"
	       "     or the Azure roles \"Virtual Machine Administrator Login\" / \"Virtual Machine User\n"
	       "     Login\" on this VM or its resource group (role source arm).\n"
	       "  2. Sign in: ssh USER@%s@THIS-HOST, then open the URL shown and enter the code\n"
	       "     (or paste a token: entra-ssh --client-id %s USER@%s@THIS-HOST).\n"
	       "  3. Check again any time: entra-login status\n",
	       cfg->client_id, cfg->domains.n ? cfg->domains.items[0] : "DOMAIN", cfg->client_id,
	       cfg->domains.n ? cfg->domains.items[0] : "DOMAIN");
}

/* Load what was written and run the status checks (plus arm's). */
static int check_written(struct run *run)
{
	struct el_config *cfg = NULL;
	char err[512], *status_argv[] = { "status", NULL };
	int rc, r;

	r = cfg_load(run->path, &cfg, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "entra-login: written, but it does not load: %s\n", err);
		return 2;
	}
	printf("\nchecks:\n");
	rc = cmd_status(cfg, 1, status_argv);
	if (has_source(cfg, EL_SRC_ARM) && azure_check_arm(cfg, &run->vm) < 0 && rc == 0)
		rc = 1;
	next_steps(cfg);
	cfg_free(cfg);
	return rc;
}

int cmd_configure(const char *path, int argc, char **argv)
{
	struct run run = { .path = path };
	char *text = NULL;
	int r, rc = 2;

	if (str_has_ctl(path)) {
		fprintf(stderr, "entra-login: configure: the path has control characters\n");
		return 2;
	}
	r = parse_args(&run, argc, argv);
	if (r != 0)
		return r > 0 ? 0 : 2;
	/* The flags alone first: a bad one is reported before any question. */
	text = build_text(&run, true);
	if (!text || validate(run.path, text) < 0)
		goto out;
	free(text);
	text = NULL;
	r = check_existing(&run);
	if (r < 0) {
		rc = r == EL_ERR_CONFIG ? 1 : 2;
		goto out;
	}
	if (!run.no_imds) {
		azure_probe(value_for(&run, "imds_url"), value_for(&run, "ca_file"), &run.vm);
		if (run.vm.found)
			printf("Azure VM: managed identity %s in tenant %s\n", run.vm.oid, run.vm.tid);
		else
			printf("no Azure managed identity (%s)\n", run.vm.why);
	}
	r = ask_missing(&run);
	if (r < 0)
		goto out;
	text = build_text(&run, false);
	if (!text) {
		fprintf(stderr, "entra-login: out of memory\n");
		goto out;
	}
	if (validate(run.path, text) < 0)
		goto out;
	if (run.backup && keep_backup(&run) < 0)
		goto out;
	if (file_write_atomic(run.path, text, strlen(text), 0644) < 0) {
		fprintf(stderr, "entra-login: cannot write %s: %s\n", run.path, strerror(errno));
		goto out;
	}
	printf("wrote %s\n", run.path);
	rc = check_written(&run);
out:
	for (size_t i = 0; i < N_SETTINGS; i++)
		free(run.answers[i]);
	free(text);
	return rc;
}
