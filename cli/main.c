/* main.c - entra-login, the admin tool: option parsing and dispatch. */
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
WEAK int cmd_authorized_keys(const struct el_config *cfg, int argc, char **argv);
WEAK int cmd_verify_cert(const struct el_config *cfg, int argc, char **argv);

static const struct command commands[] = {
	{ "status", cmd_status, "check the configuration, discovery and the key cache" },
	{ "verify-token", cmd_verify_token, "validate a token read on stdin [--id-token] [--user NAME]" },
	{ "users", cmd_users, "list directory users known to this host" },
	{ "show", cmd_show, "show one user: show NAME" },
	{ "forget", cmd_forget, "remove a user's binding: forget NAME [--purge]" },
	{ "refresh", cmd_refresh, "re-resolve every user's role" },
	{ "authorized-keys", cmd_authorized_keys, "sshd AuthorizedKeysCommand: authorized-keys USER TYPE KEY" },
	{ "verify-cert", cmd_verify_cert, "check an SSH certificate read on stdin [--user NAME] [--at UNIX_TIME]" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: entra-login [--config PATH] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].run)
			fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv)
{
	const char *config = NULL;
	struct el_config *cfg = NULL;
	char err[512];
	int i = 1, rc;

	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			config = argv[i] + 9;
			i++;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (strcmp(commands[c].name, argv[i]) != 0 || !commands[c].run)
			continue;
		if (cfg_load(cfg_default_path(config), &cfg, err, sizeof(err)) < 0) {
			fprintf(stderr, "entra-login: %s\n", err);
			return 2;
		}
		rc = commands[c].run(cfg, argc - i, argv + i);
		cfg_free(cfg);
		return rc;
	}
	fprintf(stderr, "entra-login: unknown command '%.64s'\n", argv[i]);
	usage(stderr);
	return 2;
}
