/* main.c - entra-login, the admin tool: option parsing and dispatch. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "conf.h"

struct command {
	const char *name;
	int (*run)(const struct el_config *cfg, int argc, char **argv);
	const char *help;
};

/* Weak so a command still being written does not break the build. */
#define WEAK __attribute__((weak))
WEAK int cmd_verify_token(const struct el_config *cfg, int argc, char **argv);
WEAK int cmd_status(const struct el_config *cfg, int argc, char **argv);
WEAK int cmd_users(const struct el_config *cfg, int argc, char **argv);
WEAK int cmd_show(const struct el_config *cfg, int argc, char **argv);
WEAK int cmd_forget(const struct el_config *cfg, int argc, char **argv);
WEAK int cmd_refresh(const struct el_config *cfg, int argc, char **argv);
WEAK int cmd_configure(const char *path, int argc, char **argv);
WEAK int cmd_import_aadpasswd(const struct el_config *cfg, int argc, char **argv);
WEAK int cmd_rename(const struct el_config *cfg, int argc, char **argv);
WEAK int cmd_authorized_keys(const struct el_config *cfg, int argc, char **argv);
WEAK int cmd_verify_cert(const struct el_config *cfg, int argc, char **argv);
WEAK int cmd_block(const struct el_config *cfg, int argc, char **argv);
WEAK int cmd_unblock(const struct el_config *cfg, int argc, char **argv);
WEAK int cmd_release(const struct el_config *cfg, int argc, char **argv);

static const struct command commands[] = {
	{ "status", cmd_status, "check the configuration, discovery and the key cache" },
	{ "verify-token", cmd_verify_token, "validate a token read on stdin [--id-token] [--user NAME]" },
	{ "users", cmd_users, "list directory users known to this host" },
	{ "show", cmd_show, "show one user: show NAME" },
	{ "forget", cmd_forget, "remove a user's binding and block the name: forget NAME [--purge]" },
	{ "block", cmd_block, "refuse every login of a name: block NAME" },
	{ "unblock", cmd_unblock, "allow a blocked name again (same account, same uid): unblock NAME" },
	{ "release", cmd_release, "free a forgotten, purged or renamed-away name (new uid): release NAME" },
	{ "refresh", cmd_refresh, "re-resolve every user's role" },
	{ "import-aadpasswd", cmd_import_aadpasswd, "import users of Microsoft's extension: [--apply] [--group FILE] FILE" },
	{ "rename", cmd_rename, "a user's UPN changed: rename [--keep-home] OLD NEW" },
	{ "authorized-keys", cmd_authorized_keys, "sshd AuthorizedKeysCommand: authorized-keys USER TYPE KEY" },
	{ "verify-cert", cmd_verify_cert, "check an SSH certificate read on stdin [--user NAME] [--at UNIX_TIME]" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: entra-login [--config PATH] COMMAND [ARGS]\n       entra-login --version\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].run)
			fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].help);
	if (cmd_configure)
		fprintf(f, "  %-14s %s\n", "configure", "write the configuration: configure --help");
}

/* Take the global options out of argv wherever they stand ("entra-login
 * verify-token --config PATH" as well as "entra-login --config PATH status"),
 * so each command sees only its own arguments. Stops at "--". Returns the
 * new argc, or -1 after printing a usage error. */
static int take_global_options(int argc, char **argv, const char **ret_config, bool *ret_help)
{
	int out = 1, i = 1;

	for (; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--config") == 0) {
			if (i + 1 >= argc || argv[i + 1][0] == '\0') {
				fprintf(stderr, "entra-login: --config needs a path\n");
				return -1;
			}
			*ret_config = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			if (argv[i][9] == '\0') {
				fprintf(stderr, "entra-login: --config needs a path\n");
				return -1;
			}
			*ret_config = argv[i] + 9;
		} else if (out == 1 && (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)) {
			*ret_help = true;	/* before the command only: "cmd --help" is the command's */
		} else {
			argv[out++] = argv[i];
		}
	}
	for (; i < argc; i++)
		argv[out++] = argv[i];
	argv[out] = NULL;
	return out;
}

int main(int argc, char **argv)
{
	const char *config = NULL;
	struct el_config *cfg = NULL;
	bool help = false;
	char err[512];
	int rc;

	argc = take_global_options(argc, argv, &config, &help);
	if (argc < 0) {
		usage(stderr);
		return 2;
	}
	if (help) {
		usage(stdout);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("entra-login %s\n", EL_VERSION);
		return 0;
	}
	if (argc < 2 || argv[1][0] == '-') {
		usage(stderr);
		return 2;
	}
	/* configure writes the configuration: it must run without a working one. */
	if (strcmp(argv[1], "configure") == 0 && cmd_configure)
		return cmd_configure(cfg_default_path(config), argc - 1, argv + 1);
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (strcmp(commands[c].name, argv[1]) != 0 || !commands[c].run)
			continue;
		if (cfg_load(cfg_default_path(config), &cfg, err, sizeof(err)) < 0) {
			fprintf(stderr, "entra-login: %s\n", err);
			return 2;
		}
		rc = commands[c].run(cfg, argc - 1, argv + 1);
		cfg_free(cfg);
		return rc;
	}
	fprintf(stderr, "entra-login: unknown command '%.64s'\n", argv[1]);
	usage(stderr);
	return 2;
}
