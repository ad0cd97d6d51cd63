/* Temporary until pam/authorize.c and pam/account.c land (roles issue):
 * account refuses every directory user (fail closed); auth checks only the
 * token. */
#include "auth.h"
