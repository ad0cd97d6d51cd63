/* conv.h - talking to the user through the PAM conversation. */
#ifndef EL_PAM_CONV_H
#define EL_PAM_CONV_H

#include <stddef.h>

#include "hctx.h"
#include "strutil.h"

/* One prompt with echo off; *ret_answer is malloc'ed (caller frees with
 * freezero-style wiping). Returns 0, EL_ERR_ABORTED (conversation failed or
 * the client went away), EL_ERR_NOMEM. */
int conv_prompt(const struct hctx *ctx, const char *prompt, char **ret_answer);

/* Info / error text (the module drops both under PAM_SILENT). Best effort. */
void conv_info(const struct hctx *ctx, const char *text);
void conv_error(const struct hctx *ctx, const char *text);

/* Collect a token given in parts: first_part may hold an answer already
 * read (ownership passes to this function), then prompts
 * "Entra ID token (part N, empty line to finish): " until an empty answer.
 * Each answer is at most EL_TOKEN_PART_MAX bytes, the whole at most
 * EL_TOKEN_MAX. *ret_token is malloc'ed; caller wipes and frees it.
 * Returns 0, EL_ERR_ABORTED, EL_ERR_TOKEN_TOO_LONG, EL_ERR_TOKEN_FORMAT (nothing given). */
int conv_read_token(const struct hctx *ctx, char *first_part, char **ret_token, size_t *ret_len);


#endif
