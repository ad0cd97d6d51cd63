/* conv.c - prompts, info text and the multi-part token answer.
 *
 * OpenSSH's client cuts a keyboard-interactive answer at 1023 bytes and
 * Entra tokens are 1.5-3 KB, so a token arrives in parts (design 3).
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <security/pam_appl.h>
#include <security/pam_ext.h>

#include "conv.h"
#include "el_limits.h"
#include "err.h"
#include "strutil.h"

int conv_prompt(const struct pam_ctx *ctx, const char *prompt, char **ret_answer)
{
	char *answer = NULL;
	int pr;

	pr = pam_prompt(ctx->pamh, PAM_PROMPT_ECHO_OFF, &answer, "%s", prompt);
	if (pr != PAM_SUCCESS || !answer) {
		secret_free(answer);
		return EL_ERR_ABORTED;
	}
	*ret_answer = answer;
	return 0;
}

void conv_info(const struct pam_ctx *ctx, const char *text)
{
	if (!ctx->silent)
		(void)pam_info(ctx->pamh, "%s", text);
}

void conv_error(const struct pam_ctx *ctx, const char *text)
{
	(void)pam_error(ctx->pamh, "%s", text);
}

int conv_read_token(const struct pam_ctx *ctx, char *first_part, char **ret_token, size_t *ret_len)
{
	char *token = NULL, *part = first_part;
	size_t len = 0;
	int r;

	token = calloc(1, EL_TOKEN_MAX + 1);
	if (!token) {
		r = EL_ERR_NOMEM;
		goto out;
	}
	for (unsigned n = first_part ? 1 : 0; ; ) {
		size_t plen;

		if (!part) {
			char prompt[80];

			if (n >= EL_TOKEN_PARTS_MAX) {
				r = EL_ERR_TOKEN_TOO_LONG;
				goto out;
			}
			snprintf(prompt, sizeof(prompt), "Entra ID token (part %u, empty line to finish): ", n + 1);
			r = conv_prompt(ctx, prompt, &part);
			if (r < 0)
				goto out;
			n++;
		}
		plen = strlen(part);
		if (plen == 0)
			break;
		if (plen > EL_TOKEN_PART_MAX || EL_TOKEN_MAX - len < plen) {
			r = EL_ERR_TOKEN_TOO_LONG;
			goto out;
		}
		memcpy(token + len, part, plen);
		len += plen;
		secret_free(part);
		part = NULL;
	}
	if (len == 0) {
		r = EL_ERR_TOKEN_FORMAT;
		goto out;
	}
	*ret_token = token;
	*ret_len = len;
	token = NULL;
	r = 0;
out:
	secret_free(part);
	if (token) {
		explicit_bzero(token, EL_TOKEN_MAX + 1);
		free(token);
	}
	return r;
}
