/* fuzz_aadpasswd - the /etc/aadpasswd line parser (common/base/aadpasswd.c)
 * that `entra-login import-aadpasswd` runs on the file Microsoft's
 * extension left behind.
 *
 * The input is split into lines as the CLI splits it (NUL bytes included).
 * Properties: no read outside the line (ASan); an accepted entry has a name
 * that is ours and lower case, a lower-case GUID object id, gid = uid, a
 * home that passes udb_path_field_ok and is not empty, a shell that passes
 * it, a GECOS of at most UDB_DISPLAY_MAX bytes; every verdict has a text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aadpasswd.h"
#include "conf.h"
#include "fuzz_common.h"
#include "names.h"
#include "userdb.h"

static struct el_config *cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char text[] = "tenant_id = " FUZZ_TENANT "\nclient_id = " FUZZ_CLIENT "\n"
				   "domains = contoso.com, fabrikam.example\n";

	(void)argc;
	(void)argv;
	if (cfg_parse("fuzz.conf", text, sizeof(text) - 1, &cfg, NULL, 0) < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (size_t pos = 0; pos < size;) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;
		/* An exact-size copy: ASan sees any read past the line. */
		char *line = malloc(len ? len : 1);
		struct aadpasswd_entry e;
		enum aadpasswd_verdict v;

		FUZZ_CHECK(line != NULL);
		memcpy(line, data + pos, len);
		v = aadpasswd_parse_line(cfg, line, len, &e);
		FUZZ_CHECK(aadpasswd_verdict_text(v) != NULL && strcmp(aadpasswd_verdict_text(v), "unknown") != 0);
		if (v == AADPASSWD_OK) {
			FUZZ_CHECK(name_is_ours(cfg, e.name));
			FUZZ_CHECK(name_is_guid(e.oid));
			for (const char *c = e.oid; *c; c++)
				FUZZ_CHECK(!(*c >= 'A' && *c <= 'Z'));
			FUZZ_CHECK(e.uid == e.gid);
			FUZZ_CHECK(e.home[0] == '/' && udb_path_field_ok(e.home, strlen(e.home)));
			FUZZ_CHECK(udb_path_field_ok(e.shell, strlen(e.shell)));
			FUZZ_CHECK(strlen(e.gecos) <= UDB_DISPLAY_MAX);
		}
		free(line);
		pos += len + (nl ? 1 : 0);
	}
	return 0;
}
