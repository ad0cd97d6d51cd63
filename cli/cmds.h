/* cmds.h - the CLI's subcommands. Each takes the loaded configuration and
 * its own arguments (argv[0] is the subcommand name) and returns the
 * process exit code: 0 success, 1 a negative answer, 2 usage or config
 * error, 3 identity provider or keys unavailable. One file per command. */
#ifndef EL_CMDS_H
#define EL_CMDS_H

#include <stdbool.h>

struct el_config;

/* status_sshca.c: refresh, merge and (print) report the SSH CA key set; -1 if it trusts nothing. */
int sshca_status(const struct el_config *cfg, bool print);

int cmd_verify_token(const struct el_config *cfg, int argc, char **argv);
int cmd_status(const struct el_config *cfg, int argc, char **argv);
int cmd_users(const struct el_config *cfg, int argc, char **argv);
int cmd_show(const struct el_config *cfg, int argc, char **argv);
int cmd_forget(const struct el_config *cfg, int argc, char **argv);
int cmd_refresh(const struct el_config *cfg, int argc, char **argv);
/* configure runs without a loaded configuration: path is the file to write. */
int cmd_configure(const char *path, int argc, char **argv);
int cmd_import_aadpasswd(const struct el_config *cfg, int argc, char **argv);
int cmd_rename(const struct el_config *cfg, int argc, char **argv);
int cmd_authorized_keys(const struct el_config *cfg, int argc, char **argv);
int cmd_verify_cert(const struct el_config *cfg, int argc, char **argv);
int cmd_block(const struct el_config *cfg, int argc, char **argv);
int cmd_unblock(const struct el_config *cfg, int argc, char **argv);
int cmd_release(const struct el_config *cfg, int argc, char **argv);

#endif
