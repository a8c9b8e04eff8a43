/* SPDX-License-Identifier: ISC */
/*
 * Line-oriented logging to stderr.  Each line is formatted into a local
 * buffer and written with a single write(2), so lines from the event
 * loop and from worker threads never interleave.
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX_BYTES 2048

static enum log_level log_min_level = LOG_LEVEL_INFO;

static const char *const log_level_names[] = {
	[LOG_LEVEL_DEBUG] = "debug",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_NOTICE] = "notice",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_ERR] = "err",
};

void
log_set_level(enum log_level level)
{
	log_min_level = level;
}

bool
log_enabled(enum log_level level)
{
	return level >= log_min_level;
}

ATTR_FORMAT(2, 0) static void
log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX_BYTES];
	struct timespec ts;
	struct tm tm;
	size_t off;
	int n;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	(void)gmtime_r(&ts.tv_sec, &tm);
	off = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line + off, sizeof(line) - off, ".%03ldZ %s ",
	    ts.tv_nsec / 1000000, log_level_names[level]);
	if (n > 0)
		off += (size_t)n;
	n = vsnprintf(line + off, sizeof(line) - off - 1, fmt, ap);
	if (n < 0)
		n = 0;
	off += (size_t)n;
	if (off > sizeof(line) - 2)
		off = sizeof(line) - 2;
	line[off++] = '\n';
	(void)!write(STDERR_FILENO, line, off);
}

#define LOG_FN(name, level)                                                 \
	void name(const char *fmt, ...)                                     \
	{                                                                   \
		va_list ap;                                                 \
		if (!log_enabled(level))                                    \
			return;                                             \
		va_start(ap, fmt);                                          \
		log_vwrite(level, fmt, ap);                                 \
		va_end(ap);                                                 \
	}

LOG_FN(log_debug, LOG_LEVEL_DEBUG)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_notice, LOG_LEVEL_NOTICE)
LOG_FN(log_warn, LOG_LEVEL_WARN)
LOG_FN(log_err, LOG_LEVEL_ERR)

void
log_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERR, fmt, ap);
	va_end(ap);
	abort();
}
