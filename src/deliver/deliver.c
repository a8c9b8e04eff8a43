/* SPDX-License-Identifier: ISC */
/*
 * Delivery results: construction, the errno → class mapping shared by
 * every agent (a single table, as Postfix's mbox_dsn() does), and the
 * words the log uses.  Local failures are temporary unless retrying
 * can never help: mail is not bounced for a full disk or a wrong mode.
 */
#include "deliver/deliver.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/str.h"

void
deliver_result_set(struct deliver_result *res, enum deliver_status status,
    const char *enh, const char *fmt, ...)
{
	va_list ap;

	res->status = status;
	if (str_copy(res->enh, enh, sizeof(res->enh)) == -1)
		log_panic("deliver: bad enhanced code %s", enh);
	va_start(ap, fmt);
	(void)vsnprintf(res->text, sizeof(res->text), fmt, ap);
	va_end(ap);
}

void
deliver_result_errno(struct deliver_result *res, int error, const char *what)
{
	enum deliver_status st = DELIVER_TEMPFAIL;
	const char *enh;

	switch (error) {
	case ENOSPC:
		enh = "4.3.1"; /* mail system full */
		break;
	case EDQUOT:
	case EFBIG:
		enh = "4.2.2"; /* mailbox full */
		break;
	case EACCES:
	case EPERM:
	case ENOENT:
	case ENOTDIR:
	case ELOOP:
	case EISDIR:
		enh = "4.2.0"; /* something about the mailbox; fixable */
		break;
	case ENAMETOOLONG:
		/* The path can never exist: retrying will not help. */
		st = DELIVER_PERMFAIL;
		enh = "5.1.3";
		break;
	default:
		/* EIO, EAGAIN, EROFS, EMFILE, ENOMEM, ESTALE, ... */
		enh = "4.3.0";
		break;
	}
	deliver_result_set(res, st, enh, "%s: %s", what, strerror(error));
}

const char *
deliver_status_name(enum deliver_status status)
{
	switch (status) {
	case DELIVER_OK:
		return "sent";
	case DELIVER_TEMPFAIL:
		return "deferred";
	case DELIVER_PERMFAIL:
		return "bounced";
	}
	log_panic("deliver: bad status %d", (int)status);
}
