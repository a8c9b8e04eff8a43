/* SPDX-License-Identifier: ISC */
/*
 * Logging.  One line per event, written to stderr with a timestamp and
 * level.  Lines about a session or message start with its id and carry
 * key=value fields (STYLE.md section 7):
 *   "<sid> smtp connect ip=192.0.2.1"
 *   "<qid> deliver rcpt=<a@b> mailbox=... status=sent delay=0.02"
 * Peer-supplied text must go through str_sanitize() first.
 * Safe to call from any thread: each line is written with one write(2).
 */
#ifndef TERN_CORE_LOG_H
#define TERN_CORE_LOG_H

#include <stdbool.h>

#include "core/compat.h"

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERR,
};

/* Sets the lowest level written (default INFO). */
void log_set_level(enum log_level level);
bool log_enabled(enum log_level level);

ATTR_FORMAT(1, 2) void log_debug(const char *fmt, ...);
ATTR_FORMAT(1, 2) void log_info(const char *fmt, ...);
ATTR_FORMAT(1, 2) void log_notice(const char *fmt, ...);
ATTR_FORMAT(1, 2) void log_warn(const char *fmt, ...);
ATTR_FORMAT(1, 2) void log_err(const char *fmt, ...);
/* Internal inconsistency: logs and abort()s for a core dump. */
ATTR_FORMAT(1, 2) ATTR_NORETURN void log_panic(const char *fmt, ...);

/* Always compiled in, whatever NDEBUG says. */
#define ASSERT(expr)                                                        \
	do {                                                                \
		if (!(expr))                                                \
			log_panic("assertion failed: %s (%s:%d)", #expr,    \
			    __FILE__, __LINE__);                            \
	} while (0)

#endif
