/* configure_azure.c - the Azure part of `entra-login configure`.
 *
 * IMDS answers on a link-local address without authentication, so on a
 * network that is not Azure anyone could answer in its place: what it says
 * is only offered (the tenant as the default answer of a question) and
 * never written without the admin's confirmation or flag.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arm.h"
#include "b64url.h"
#include "configure_azure.h"
#include "http.h"
#include "imds.h"
#include "names.h"
#include "strutil.h"

/* tid and oid of a JWT's payload, unverified. */
static int token_ids(const char *token, struct azure_vm *vm)
{
	const char *p1 = strchr(token, '.'), *p2 = p1 ? strchr(p1 + 1, '.') : NULL;
	unsigned char *payload = NULL;
	size_t len = 0;
	json_t *root = NULL;
	const char *tid, *oid;
	int r;

	if (!p2)
		return EL_ERR_TOKEN_FORMAT;
	r = b64url_decode_alloc(p1 + 1, (size_t)(p2 - p1 - 1), &payload, &len);
	if (r < 0)
		return r;
	root = json_loadb((const char *)payload, len, JSON_REJECT_DUPLICATES, NULL);
	tid = json_string_value(json_object_get(root, "tid"));
	oid = json_string_value(json_object_get(root, "oid"));
	if (!tid || !oid || !name_is_guid(tid) || !name_is_guid(oid)) {
		r = EL_ERR_TOKEN_CLAIMS;
		goto out;
	}
	r = str_lower(vm->tid, sizeof(vm->tid), tid);
	if (r == 0)
		r = str_lower(vm->oid, sizeof(vm->oid), oid);
out:
	json_decref(root);
	free(payload);
	return r;
}

void azure_probe(const char *imds_url, const char *ca_file, struct azure_vm *ret_vm)
{
	struct el_config *cfg = NULL;
	struct imds_identity *id = NULL;
	char text[4096], err[512], dir[] = "/tmp/entra-login-configure.XXXXXX", cache[sizeof(dir) + 32];
	const char *state_dir;
	int n, r;

	memset(ret_vm, 0, sizeof(*ret_vm));
	/* A state directory of its own: what IMDS says now, not a token cached earlier. */
	state_dir = mkdtemp(dir);
	if (!state_dir) {
		snprintf(ret_vm->why, sizeof(ret_vm->why), "cannot create a temporary directory");
		return;
	}
	/* A throw-away configuration: only imds_url, ca_file, state_dir and the timeout matter. */
	n = snprintf(text, sizeof(text),
		     "tenant_id = 00000000-0000-0000-0000-000000000000\n"
		     "client_id = 00000000-0000-0000-0000-000000000000\n"
		     "domains = example.invalid\nhttp_timeout = %d\n%s%s%s%s%s%s%s%s%s",
		     CONFIGURE_IMDS_TIMEOUT, imds_url ? "imds_url = " : "", imds_url ? imds_url : "",
		     imds_url ? "\n" : "", ca_file ? "ca_file = " : "", ca_file ? ca_file : "", ca_file ? "\n" : "",
		     state_dir ? "state_dir = " : "", state_dir ? state_dir : "", state_dir ? "\n" : "");
	if (n < 0 || (size_t)n >= sizeof(text)) {
		snprintf(ret_vm->why, sizeof(ret_vm->why), "settings too long");
		goto out;
	}
	r = cfg_parse("(imds probe)", text, (size_t)n, &cfg, err, sizeof(err));
	if (r < 0) {
		snprintf(ret_vm->why, sizeof(ret_vm->why), "%.150s", err);
		goto out;
	}
	r = imds_identity_get(cfg, http_deadline_in(CONFIGURE_IMDS_TIMEOUT + 1), time(NULL), &id);
	if (r == 0)
		r = token_ids(id->access_token, ret_vm);
	if (r < 0) {
		snprintf(ret_vm->why, sizeof(ret_vm->why), "instance metadata service: %s", el_strerror(r));
		goto out;
	}
	if (id->resource_id && str_copy(ret_vm->resource_id, sizeof(ret_vm->resource_id), id->resource_id) < 0)
		ret_vm->resource_id[0] = '\0';
	ret_vm->found = true;
out:
	imds_identity_free(id);
	cfg_free(cfg);
	snprintf(cache, sizeof(cache), "%s/%s", dir, IMDS_CACHE_FILE);
	unlink(cache);
	rmdir(dir);
}

int azure_check_arm(const struct el_config *cfg, const struct azure_vm *vm)
{
	enum el_role role = EL_ROLE_NONE;
	int r;

	if (!vm->found) {
		printf("  arm role source: WARNING: no managed identity answered (%s); role source arm needs the "
		       "VM's system-assigned identity with Reader on the VM\n", vm->why);
		return EL_ERR_ROLE_UNAVAILABLE;
	}
	r = arm_vm_role(cfg, vm->oid, http_deadline_in(CONFIGURE_ARM_TIMEOUT), time(NULL), &role);
	if (r == 0) {
		printf("  arm role source: the VM identity %s can read role assignments: ok\n", vm->oid);
		return 0;
	}
	if (r == EL_ERR_ARM_FORBIDDEN)
		printf("  arm role source: WARNING: the VM identity %s may not read role assignments; grant it:\n"
		       "    az role assignment create --assignee-object-id %s --assignee-principal-type ServicePrincipal"
		       " --role Reader --scope %s\n",
		       vm->oid, vm->oid, vm->resource_id[0] ? vm->resource_id : "<the VM's resource id>");
	else
		printf("  arm role source: WARNING: Azure Resource Manager check failed: %s: %s\n", el_errname(r),
		       el_strerror(r));
	return r;
}
