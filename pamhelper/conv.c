/* conv.c - prompts, info text and the multi-part token answer, relayed by
 * pam_entra.so (proto.h): the helper never sees the PAM conversation itself.
 *
 * OpenSSH's client cuts a keyboard-interactive answer at 1023 bytes and
 * Entra tokens are 1.5-3 KB, so a token arrives in parts (design 3).
 */
#include <stdarg.h>
#include <syslog.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "conv.h"
#include "el_limits.h"
#include "err.h"
#include "proto.h"
#include "strutil.h"

/* Text frames longer than a frame are cut (prompts and messages are ours, all short). */
static void send_text(const struct hctx *ctx, uint8_t type, const char *text)
{
	size_t len = strlen(text);

	(void)proto_write(ctx->out, type, text, len > PROTO_FRAME_MAX ? PROTO_FRAME_MAX : len);
}

int conv_prompt(const struct hctx *ctx, const char *prompt, char **ret_answer)
{
	char *buf = NULL;
	uint8_t type = 0;
	size_t len = 0;
	int r = EL_ERR_ABORTED;

	buf = malloc(PROTO_FRAME_MAX + 1);
	if (!buf)
		return EL_ERR_NOMEM;
	send_text(ctx, PROTO_PROMPT_OFF, prompt);
	/* The module enforces the time limit; a module gone is the end of stream. */
	if (proto_read(ctx->in, 0, &type, buf, PROTO_FRAME_MAX + 1, &len) != 0 || type != PROTO_ANSWER ||
	    !proto_text_ok(buf, len))
		goto out;	/* CONV_FAIL, end of stream, anything else: the conversation failed */
	*ret_answer = buf;
	buf = NULL;
	r = 0;
out:
	if (buf) {
		explicit_bzero(buf, PROTO_FRAME_MAX + 1);
		free(buf);
	}
	return r;
}

void conv_info(const struct hctx *ctx, const char *text)
{
	send_text(ctx, PROTO_INFO, text);
}

void conv_error(const struct hctx *ctx, const char *text)
{
	/* The module drops it under PAM_SILENT. */
	send_text(ctx, PROTO_ERROR, text);
}

void hlog(const struct hctx *ctx, int prio, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	if (prio < 0 || prio > 7)
		prio = LOG_ERR;
	buf[0] = (char)('0' + prio);
	buf[1] = '\0';
	va_start(ap, fmt);
	n = vsnprintf(buf + 2, sizeof(buf) - 3, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* No NUL inside the text: it would make a third field. */
	for (char *p = buf + 2; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = '?';
	(void)proto_write(ctx->out, PROTO_LOG, buf, 2 + strlen(buf + 2) + 1);
}

int conv_read_token(const struct hctx *ctx, char *first_part, char **ret_token, size_t *ret_len)
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
