/* auth_device.c - the device-code half of pam_sm_authenticate.
 *
 * sshd delivers PAM info text only together with the next prompt, so the
 * sign-in message is followed by "Press Enter after signing in"; polling
 * starts once the user answers. A failed conversation (Ctrl-C, closed
 * connection) ends the login at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "auth.h"
#include "conv.h"
#include "devcode.h"
#include "http.h"
#include "jwt.h"
#include "jwks.h"
#include "oidc.h"

static void host_name(char *buf, size_t len)
{
	if (gethostname(buf, len) < 0 || buf[0] == '\0')
		snprintf(buf, len, "this host");
	buf[len - 1] = '\0';
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
			*p = '?';
}

int auth_device(struct hctx *ctx, struct jwt_claims **ret_claims)
{
	uint64_t deadline = http_deadline_in(ctx->cfg->login_timeout);
	struct oidc_meta *meta = NULL;
	struct devcode_grant *grant = NULL;
	struct el_keys *keys = NULL;
	char *answer = NULL, *id_token = NULL;
	char host[256], msg[768];
	int r;

	r = oidc_discover(ctx->cfg, deadline, &meta);
	if (r < 0)
		goto out;
	r = devcode_start(ctx->cfg, meta, deadline, &grant);
	if (r < 0)
		goto out;
	host_name(host, sizeof(host));
	/* Our own wording, not the IdP's "message": every piece in it was checked. */
	/* One prompt, not info + prompt: the code is what the user needs to go on, and
	 * PAM_SILENT (sudo's default pam_silent) would drop an info message. */
	snprintf(msg, sizeof(msg), "To sign in to %.64s as %.64s, open %s and enter the code %s\n"
		 "Press Enter after signing in: ", host, ctx->user, grant->verification_uri, grant->user_code);
	r = conv_prompt(ctx, msg, &answer);
	if (r < 0)
		goto out;
	r = devcode_wait(ctx->cfg, meta, grant, deadline, &id_token);
	if (r < 0)
		goto out;
	r = keys_open_deadline(ctx->cfg, deadline, &keys);
	if (r < 0)
		goto out;
	r = jwt_validate(ctx->cfg, keys, id_token, strlen(id_token), JWT_ID_TOKEN, ctx->user, time(NULL), ret_claims);
	if (ctx->debug)
		hlog(ctx, LOG_DEBUG, "device flow: %u token requests", grant->polls);
out:
	secret_free(answer);
	secret_free(id_token);
	keys_free(keys);
	devcode_grant_free(grant);
	oidc_meta_free(meta);
	return r;
}
