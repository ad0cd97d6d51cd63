/* test_conf.c - the configuration parser: every key, every error names file, line and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "names.h"

#define BASE "tenant_id = 6E2D6A5C-7f3b-4a8e-9c41-2b5d8f0e1a37\n" \
	     "client_id = 3f8a1c2e-5b6d-4e7f-9a0b-1c2d3e4f5a6b\n" \
	     "domains = Contoso.com, fabrikam.example\n"

static int parse(const char *text, struct el_config **cfg, char *err)
{
	return cfg_parse("/etc/entra-login.conf", text, strlen(text), cfg, err, 256);
}

static void expect_error(const char *text, const char *message)
{
	struct el_config *cfg = NULL;
	char err[256];

	if (parse(text, &cfg, err) != EL_ERR_CONFIG)
		fail_msg("accepted: %s", text);
	assert_null(cfg);
	if (!strstr(err, message))
		fail_msg("error '%s' lacks '%s'", err, message);
}

static void test_cfg_parse_defaults(void **state)
{
	struct el_config *cfg = NULL;
	char err[256];

	(void)state;
	assert_int_equal(parse(BASE, &cfg, err), 0);
	assert_string_equal(cfg->tenant_id, "6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a37");
	assert_string_equal(cfg->authority, "https://login.microsoftonline.com");
	assert_string_equal(cfg->issuer, "https://login.microsoftonline.com/6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a37/v2.0");
	assert_string_equal(cfg->issuer_v1, "https://sts.windows.net/6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a37/");
	assert_int_equal(cfg->audiences.n, 1);
	assert_string_equal(cfg->audiences.items[0], "api://3f8a1c2e-5b6d-4e7f-9a0b-1c2d3e4f5a6b");
	assert_int_equal(cfg->domains.n, 2);
	assert_string_equal(cfg->domains.items[0], "contoso.com");
	assert_int_equal(cfg->uid_min, 1879048192);	/* above systemd's container range (issue 19) */
	assert_int_equal(cfg->uid_floor, 1000000000);	/* users of the former default keep their uids */
	assert_int_equal(cfg->uid_max, 1999999999);
	assert_string_equal(cfg->admin_group, "aad_admins");
	assert_int_equal(cfg->admin_gid, 999999001);
	assert_string_equal(cfg->user_group, "aad_users");
	assert_int_equal(cfg->user_gid, 999999002);
	assert_string_equal(cfg->home, "/home/%u");
	assert_string_equal(cfg->shell, "/bin/bash");
	assert_int_equal(cfg->n_role_sources, 2);
	assert_int_equal(cfg->role_sources[0], EL_SRC_CLAIMS);
	assert_int_equal(cfg->role_sources[1], EL_SRC_STATIC);
	assert_string_equal(cfg->admin_role_values.items[0], "VirtualMachineAdministratorLogin");
	assert_string_equal(cfg->user_role_values.items[0], "VirtualMachineUserLogin");
	assert_int_equal(cfg->static_admins.n, 0);
	assert_string_equal(cfg->arm_url, "https://management.azure.com");
	assert_string_equal(cfg->imds_url, "http://169.254.169.254");
	assert_int_equal(cfg->token_max_age, 600);
	assert_int_equal(cfg->clock_skew, 120);
	assert_int_equal(cfg->http_timeout, 10);
	assert_int_equal(cfg->login_timeout, 110);
	assert_null(cfg->ca_file);
	cfg_free(cfg);
}

static void test_cfg_parse_all_keys(void **state)
{
	struct el_config *cfg = NULL;
	char err[256];
	const char *text = BASE
		"# comment\n\n"
		"authority = https://127.0.0.1:8443/\n"
		"audiences = api://x, https://contoso.com/ssh\n"
		"ca_file = /tmp/ca.pem\n"
		"uid_min = 2000000\n uid_max=3000000 \n"
		"admin_group = admins\nadmin_gid = 5001\nuser_group = users2\nuser_gid = 5002\n"
		"home = /home/%d/%l\nshell = /bin/sh\n"
		"role_sources = arm, claims\n"
		"admin_role_values = A,B\nuser_role_values = C\n"
		"static_admins = Bob@Contoso.com, 11111111-2222-3333-4444-555555555555\n"
		"static_users = carol@contoso.com\n"
		"arm_url = https://127.0.0.1:9\nimds_url = http://127.0.0.1:8\n"
		"token_max_age = 60\nclock_skew = 0\nhttp_timeout = 2\nlogin_timeout = 30\n"
		"state_dir = /tmp/state\n";

	(void)state;
	if (parse(text, &cfg, err) != 0)
		fail_msg("%s", err);
	assert_string_equal(cfg->authority, "https://127.0.0.1:8443");
	assert_string_equal(cfg->issuer, "https://127.0.0.1:8443/6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a37/v2.0");
	assert_int_equal(cfg->audiences.n, 2);
	assert_string_equal(cfg->ca_file, "/tmp/ca.pem");
	assert_int_equal(cfg->uid_min, 2000000);
	assert_int_equal(cfg->uid_max, 3000000);
	assert_int_equal(cfg->admin_gid, 5001);
	assert_string_equal(cfg->home, "/home/%d/%l");
	assert_int_equal(cfg->role_sources[0], EL_SRC_ARM);
	assert_int_equal(cfg->n_role_sources, 2);
	assert_int_equal(cfg->admin_role_values.n, 2);
	assert_true(cfg_list_has(&cfg->static_admins, "bob@contoso.com"));
	assert_string_equal(cfg->imds_url, "http://127.0.0.1:8");
	assert_int_equal(cfg->clock_skew, 0);
	assert_int_equal(cfg->login_timeout, 30);
	assert_string_equal(cfg->state_dir, "/tmp/state");
	cfg_free(cfg);
}

static void test_cfg_parse_errors_name_line_and_key(void **state)
{
	(void)state;
	expect_error(BASE "bogus = 1\n", "/etc/entra-login.conf:4: key 'bogus': unknown key");
	expect_error(BASE "uid_min = 12x\n", ":4: key 'uid_min': expected 1000-4294967294, got '12x'");
	expect_error(BASE "clock_skew = -1\n", ":4: key 'clock_skew'");
	expect_error(BASE "http_timeout = 0\n", "key 'http_timeout': expected 1-300");
	expect_error(BASE "http_timeout = 99999999999999999999999\n", "key 'http_timeout'");
	expect_error(BASE "domains = a.com\n", ":4: key 'domains': set twice");
	expect_error("client_id = 3f8a1c2e-5b6d-4e7f-9a0b-1c2d3e4f5a6b\ndomains = a.com\n",
		     "key 'tenant_id': required key is missing");
	expect_error("tenant_id = common\n", ":1: key 'tenant_id': a tenant GUID; multi-tenant 'common' is refused");
	expect_error("tenant_id = organizations\n", "multi-tenant 'organizations'");
	expect_error("tenant_id = consumers\n", "multi-tenant 'consumers'");
	expect_error("tenant_id = 6e2d6a5c7f3b4a8e9c412b5d8f0e1a37\n", "key 'tenant_id': a GUID");
	expect_error(BASE "authority = http://login.microsoftonline.com\n", "key 'authority': an https:// URL");
	expect_error(BASE "arm_url = https://x/?a=b\n", "key 'arm_url'");
	expect_error(BASE "role_sources = claims, ldap\n", "expected claims, static, arm or groups, got 'ldap'");
	expect_error(BASE "role_sources = claims, claims\n", "'claims' listed twice");
	expect_error(BASE "admin_group = Admins\n", "key 'admin_group': a group name");
	expect_error(BASE "static_admins = a@b.com,,c@d.com\n", "empty entry");
	expect_error(BASE "admin_role_values = a:b\n", "forbidden character");
	expect_error(BASE "admin_role_values = 100%\n", "forbidden character");
	expect_error(BASE "shell = bash\n", "key 'shell': an absolute path");
	/* passwd fields: an unknown escape or a ':' would break every lookup. */
	expect_error(BASE "home = /home/%U\n", "/etc/entra-login.conf:4: key 'home': unknown escape '%U'");
	expect_error(BASE "home = /home/%\n", ":4: key 'home': unknown escape");
	expect_error(BASE "home = /home/%x%u\n", ":4: key 'home': unknown escape '%x'");
	expect_error(BASE "home = /home/a:b/%u\n", ":4: key 'home': no ':'");
	expect_error(BASE "shell = /bin/ba:sh\n", ":4: key 'shell': no ':'");
	expect_error(BASE "shell = /bin/bash\t-x\n", ":4: key 'shell': control characters");
	{
		struct el_config *cfg = NULL;
		char err[256];

		assert_int_equal(parse(BASE "home = /srv/%d/%l%%x/%u\n", &cfg, err), 0);
		assert_string_equal(cfg->home, "/srv/%d/%l%%x/%u");
		cfg_free(cfg);
	}
	expect_error(BASE "no equals sign\n", ":4: expected 'key = value'");
	expect_error(BASE "home =\n", "key 'home': a value");
	expect_error(BASE "uid_min = 5000\nuid_max = 4000\n", "key 'uid_min': must not exceed");
	expect_error(BASE "admin_gid = 1900000005\n", "outside uid_min..uid_max");
	expect_error(BASE "user_gid = 999999001\n", "must differ from admin_gid");
	expect_error("tenant_id = 6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a37\n"
		     "client_id = 3f8a1c2e-5b6d-4e7f-9a0b-1c2d3e4f5a6b\ndomains = bad..com\n",
		     "'bad..com' is not a domain name");
}

/* issue 19: one home per person, and a default UID range outside systemd's
 * container range that still answers users allocated under the former one. */
static void test_cfg_identity_home_and_uid_range(void **state)
{
	struct el_config *cfg = NULL;
	char err[256];

	(void)state;
	/* Two domains, %l alone: alice@contoso.com and alice@fabrikam.example
	 * would share /home/alice. The error names the line. */
	expect_error(BASE "shell = /bin/sh\nhome = /home/%l\n", "entra-login.conf:5: key 'home'");
	expect_error(BASE "home = /srv/%l/x%%u\n", "without %u or %d");
	assert_int_equal(parse(BASE "home = /home/%d/%l\n", &cfg, err), 0);
	cfg_free(cfg);
	assert_int_equal(parse("tenant_id = 6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a37\n"
			       "client_id = 3f8a1c2e-5b6d-4e7f-9a0b-1c2d3e4f5a6b\ndomains = contoso.com\n"
			       "home = /home/%l\n", &cfg, err), 0);
	cfg_free(cfg);
	/* The default range lies above 1879048191 (systemd-nspawn's last id). */
	assert_int_equal(parse(BASE, &cfg, err), 0);
	assert_true(cfg->uid_min > 1879048191u && cfg->uid_max <= 1999999999u);
	assert_int_equal(cfg->uid_floor, 1000000000u);
	cfg_free(cfg);
	/* An explicit uid_min is the floor too. */
	assert_int_equal(parse(BASE "uid_min = 1500000000\n", &cfg, err), 0);
	assert_int_equal(cfg->uid_floor, 1500000000u);
	cfg_free(cfg);
	assert_int_equal(parse(BASE "uid_min = 5000\nuid_max = 6000\n", &cfg, err), 0);
	assert_int_equal(cfg->uid_floor, 5000u);
	cfg_free(cfg);
	/* A uid_max written for the former default keeps the former uid_min. */
	assert_int_equal(parse(BASE "uid_max = 1500000000\n", &cfg, err), 0);
	assert_int_equal(cfg->uid_min, 1000000000u);
	assert_int_equal(cfg->uid_floor, 1000000000u);
	cfg_free(cfg);
}

static void test_cfg_parse_rejects_nul_and_long_lines(void **state)
{
	struct el_config *cfg = NULL;
	char err[256], big[5000];
	static const char withnul[] = BASE "shell = /bin/sh\0x\n";

	(void)state;
	assert_int_equal(cfg_parse("f", withnul, sizeof(withnul) - 1, &cfg, err, sizeof(err)), EL_ERR_CONFIG);
	assert_non_null(strstr(err, "NUL"));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(cfg_parse("f", big, strlen(big), &cfg, err, sizeof(err)), EL_ERR_CONFIG);
	assert_non_null(strstr(err, "f:1: line longer than"));
	assert_int_equal(parse(BASE "home = /home/\x01x\n", &cfg, err), EL_ERR_CONFIG);
	assert_non_null(strstr(err, "control characters"));
}

static void test_cfg_load_refuses_unsafe_file(void **state)
{
	struct el_config *cfg = NULL;
	char path[] = "/tmp/el-conf-XXXXXX", err[256];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, BASE, strlen(BASE)), (ssize_t)strlen(BASE));
	close(fd);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(cfg_load(path, &cfg, err, sizeof(err)), 0);
	cfg_free(cfg);
	cfg = NULL;
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(cfg_load(path, &cfg, err, sizeof(err)), EL_ERR_INSECURE);
	assert_non_null(strstr(err, "owned by root"));
	unlink(path);
	assert_int_equal(cfg_load(path, &cfg, err, sizeof(err)), EL_ERR_IO);
	assert_non_null(strstr(err, "cannot read"));
}

static void test_cfg_load_fifo_and_symlinks(void **state)
{
	struct el_config *cfg = NULL;
	char dir[] = "/tmp/el-conf-XXXXXX", fifo[64], real[64], bad[64], link1[64], link2[64], err[256];
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(real, sizeof(real), "%s/real", dir);
	snprintf(bad, sizeof(bad), "%s/bad", dir);
	snprintf(link1, sizeof(link1), "%s/link1", dir);
	snprintf(link2, sizeof(link2), "%s/link2", dir);
	/* A FIFO as config: refused at once, not a process blocked in open(). */
	assert_int_equal(mkfifo(fifo, 0644), 0);
	alarm(10);
	assert_int_equal(cfg_load(fifo, &cfg, err, sizeof(err)), EL_ERR_INSECURE);
	alarm(0);
	assert_non_null(strstr(err, "must be a regular file"));
	/* A link is followed; the file it leads to is what must be safe. */
	fd = open(real, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, BASE, strlen(BASE)), (ssize_t)strlen(BASE));
	close(fd);
	assert_int_equal(chmod(real, 0644), 0);
	fd = open(bad, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, BASE, strlen(BASE)), (ssize_t)strlen(BASE));
	close(fd);
	assert_int_equal(chmod(bad, 0666), 0);
	assert_int_equal(symlink(real, link1), 0);
	assert_int_equal(symlink(bad, link2), 0);
	assert_int_equal(cfg_load(link1, &cfg, err, sizeof(err)), 0);
	cfg_free(cfg);
	cfg = NULL;
	assert_int_equal(cfg_load(link2, &cfg, err, sizeof(err)), EL_ERR_INSECURE);
	assert_null(cfg);
	unlink(fifo);
	unlink(real);
	unlink(bad);
	unlink(link1);
	unlink(link2);
	rmdir(dir);
}

static void test_names(void **state)
{
	struct el_config *cfg = NULL;
	char err[256], buf[128];
	static const char *const bad[] = {
		"Alice@contoso.com", "alice@Contoso.com", "alice", "@contoso.com", "alice@",
		"alice@other.com", "al:ice@contoso.com", "al/ice@contoso.com", "../x@contoso.com",
		".alice@contoso.com", "-alice@contoso.com", "al ice@contoso.com", "al\nice@contoso.com",
		"a@b@contoso.com", "root", "12345", "alice@contoso.com.", "alice@sub.contoso.com",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@contoso.com", "",
		"al\xc3\xa9@contoso.com", "alice@contoso..com",
	};

	(void)state;
	assert_int_equal(parse(BASE, &cfg, err), 0);
	assert_true(name_is_ours(cfg, "alice@contoso.com"));
	assert_true(name_is_ours(cfg, "o'neil+x_y-z.1@fabrikam.example"));
	assert_true(name_is_ours(cfg, "1234@contoso.com"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (name_is_ours(cfg, bad[i]))
			fail_msg("'%s' accepted", bad[i]);
	assert_int_equal(name_from_upn("Alice@Contoso.COM", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "alice@contoso.com");
	assert_int_equal(name_from_upn("al ice@contoso.com", buf, sizeof(buf)), EL_ERR_NOT_OURS);
	assert_int_equal(name_home("/home/%u", "alice@contoso.com", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/home/alice@contoso.com");
	assert_int_equal(name_home("/h/%d/%l/%%", "alice@contoso.com", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/h/contoso.com/alice/%");
	assert_int_equal(name_home("/h/%u", "alice@contoso.com", buf, 10), EL_ERR_RANGE);
	assert_int_equal(name_home("/h/%x", "alice@contoso.com", buf, sizeof(buf)), EL_ERR_INVAL);
	assert_true(name_is_guid("6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a37"));
	assert_false(name_is_guid("6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a3"));
	assert_false(name_is_guid("6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a3g"));
	cfg_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cfg_identity_home_and_uid_range),
		cmocka_unit_test(test_cfg_parse_defaults),
		cmocka_unit_test(test_cfg_parse_all_keys),
		cmocka_unit_test(test_cfg_parse_errors_name_line_and_key),
		cmocka_unit_test(test_cfg_parse_rejects_nul_and_long_lines),
		cmocka_unit_test(test_cfg_load_refuses_unsafe_file),
		cmocka_unit_test(test_cfg_load_fifo_and_symlinks),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
