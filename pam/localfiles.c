/* localfiles.c - is a name a local user or group (see localfiles.h). */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "localfiles.h"

bool local_user_exists(const char *name)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	bool found = false;
	FILE *f = fopen("/etc/passwd", "re");

	if (!f)
		return false;
	while (fgetpwent_r(f, &pw, buf, sizeof(buf), &res) == 0) {
		if (strcmp(pw.pw_name, name) == 0) {
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

bool local_group_exists(const char *name)
{
	struct group gr, *res = NULL;
	char buf[16384];
	bool found = false;
	FILE *f = fopen("/etc/group", "re");

	if (!f)
		return false;
	while (fgetgrent_r(f, &gr, buf, sizeof(buf), &res) == 0) {
		if (strcmp(gr.gr_name, name) == 0) {
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}
