/* SPDX-License-Identifier: ISC */
/*
 * Names for the values shared by the auth module, for log lines.  The
 * real work lives in the auth_*.c files, one concern each.
 */
#include "auth/auth.h"

#include "core/log.h"

const char *
auth_result_name(enum auth_result result)
{
	switch (result) {
	case AUTH_OK:
		return "ok";
	case AUTH_FAIL:
		return "fail";
	case AUTH_TEMPFAIL:
		return "tempfail";
	}
	log_panic("auth_result_name: bad value %d", (int)result);
}
