/* configure_azure.h - what `entra-login configure` learns from Azure: the
 * tenant of this VM's managed identity (IMDS), and whether that identity
 * may read its own role assignments (ARM), which role source `arm` needs.
 */
#ifndef EL_CONFIGURE_AZURE_H
#define EL_CONFIGURE_AZURE_H

#include <stdbool.h>

#include "conf.h"
#include "el_limits.h"

#define CONFIGURE_IMDS_TIMEOUT 2	/* seconds: a host off Azure must not wait long */
#define CONFIGURE_ARM_TIMEOUT 10

struct azure_vm {
	bool found;				/* IMDS gave a managed-identity token */
	char tid[EL_GUID_LEN + 1];		/* the identity's tenant (lower-case GUID) */
	char oid[EL_GUID_LEN + 1];		/* the identity's object id */
	char resource_id[1025];			/* the VM, when IMDS said */
	char why[160];				/* when !found: what went wrong */
};

/* Ask IMDS (imds_url and ca_file as given; NULL = defaults) within
 * CONFIGURE_IMDS_TIMEOUT seconds, never from a cached token. Fills *ret_vm either way; never
 * fails the command. The token's claims are read unverified: they only
 * offer a default to the admin, who confirms it. */
void azure_probe(const char *imds_url, const char *ca_file, struct azure_vm *ret_vm);

/* With role source arm: may the VM identity read role assignments on the
 * VM? Prints one line and returns 0 (yes) or a negative EL_ERR_*. */
int azure_check_arm(const struct el_config *cfg, const struct azure_vm *vm);

#endif
