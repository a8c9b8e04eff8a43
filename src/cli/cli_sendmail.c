/* SPDX-License-Identifier: ISC */
/*
 * tern sendmail, and the binary called as sendmail: the interface cron,
 * PHP's mail() and git send-email expect.  It reads a message on stdin
 * and hands it to the running server through <spool>/submit.sock,
 * exiting 0 only once the server has committed it to the spool.  When
 * the server is down it fails with EX_TEMPFAIL (75) and says so; there
 * is no drop directory, so nothing is ever queued where no server
 * looks.  Options are the ones programs use:
 *
 *   -t          recipients from To, Cc and Bcc too (Bcc is removed)
 *   -i, -oi     a line with a single "." does not end the message
 *   -f ADDR     envelope sender (also -r); default login@hostname
 *   -F NAME     full name for a From: header added when it is missing
 *   -C FILE     configuration file
 *   --at TIME   leave at TIME (RFC 3339 or +90s, +30m, +2h, +1d)
 *   -bp         list the queue, as mailq; -bm (default) and other
 *               -o, -v, -B, -N options are accepted and ignored
 *
 * Missing From, Date and Message-ID header fields are added (RFC 5322
 * 3.6 requires From and Date).
 */
#include "cli/cli.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/compat.h"
#include "core/log.h"
#include "core/str.h"
#include "core/when.h"
#include "core/xalloc.h"
#include "config/config.h"
#include "ctl/ctl.h"
#include "mail/mail.h"

/* sysexits.h values sendmail callers test for. */
#define CLI_SM_EX_USAGE 64
#define CLI_SM_EX_DATAERR 65
#define CLI_SM_EX_NOUSER 67

struct cli_sm {
	const struct config *cfg;
	const char *who;
	const char *from;	/* -f, or NULL */
	const char *full_name;	/* -F, or NULL */
	bool from_headers;	/* -t */
	bool dot_ends;		/* no -i */
	time_t at;		/* --at, or 0 */
	char **rcpts;
	size_t n_rcpts;
	bool bad;		/* a recipient could not be used */
};

static void
cli_sm_usage(const char *who)
{
	fprintf(stderr, "usage: %s [-t] [-i] [-f sender] [-F name] [-C file] "
	    "[--at TIME] [recipient ...]\n", who);
}

/* Adds a recipient; a bare name gets @hostname, as sendmail does. */
static void
cli_sm_add_rcpt(struct cli_sm *sm, const char *addr, size_t len)
{
	struct buf b;

	buf_init(&b, len + 64, CTL_LINE_MAX_BYTES);
	if (buf_append(&b, addr, len) == -1 ||
	    (memchr(addr, '@', len) == NULL &&
	    buf_printf(&b, "@%s", sm->cfg->hostname) == -1) ||
	    !ctl_addr_is_valid(buf_cstr(&b))) {
		fprintf(stderr, "%s: unusable recipient: %.*s\n", sm->who,
		    (int)(len > 200 ? 200 : len), addr);
		sm->bad = true;
		buf_clear(&b);
		return;
	}
	sm->rcpts = xreallocarray(sm->rcpts, sm->n_rcpts + 1,
	    sizeof(*sm->rcpts));
	sm->rcpts[sm->n_rcpts++] = buf_steal(&b);
}

static int
cli_sm_on_header_rcpt(void *arg, const char *addr, size_t len)
{
	cli_sm_add_rcpt(arg, addr, len);
	return 0;
}

/* The value of "-f ADDR" or "-fADDR"; advances *i. */
static const char *
cli_sm_optarg(int argc, char **argv, int *i)
{
	if (argv[*i][2] != '\0')
		return argv[*i] + 2;
	if (*i + 1 < argc)
		return argv[++*i];
	return NULL;
}

/* 0, 1 (mailq wanted), or -1 (usage). */
static int
cli_sm_parse(struct cli_sm *sm, int argc, char **argv)
{
	int i;
	const char *a, *v;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (a[0] != '-' || strcmp(a, "-") == 0)
			break;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(a, "--at") == 0) {
			if (i + 1 >= argc || when_parse(argv[++i], time(NULL),
			    &sm->at) == -1) {
				fprintf(stderr, "%s: --at needs a time: RFC "
				    "3339, or +90s +30m +2h +1d\n", sm->who);
				return -1;
			}
			continue;
		}
		switch (a[1]) {
		case 't':
			if (a[2] != '\0')
				return -1;
			sm->from_headers = true;
			break;
		case 'i':
			if (a[2] != '\0')
				return -1;
			sm->dot_ends = false;
			break;
		case 'o':
			/* -oi; -oem, -odb and the like mean nothing here. */
			if (strcmp(a, "-oi") == 0)
				sm->dot_ends = false;
			break;
		case 'f':
		case 'r':
			if ((v = cli_sm_optarg(argc, argv, &i)) == NULL)
				return -1;
			sm->from = v;
			break;
		case 'F':
			if ((v = cli_sm_optarg(argc, argv, &i)) == NULL)
				return -1;
			sm->full_name = v;
			break;
		case 'C':
			/* Read by main before the config was loaded. */
			if (cli_sm_optarg(argc, argv, &i) == NULL)
				return -1;
			break;
		case 'b':
			if (strcmp(a, "-bp") == 0)
				return 1;
			if (strcmp(a, "-bm") != 0) {
				fprintf(stderr, "%s: %s is not supported\n",
				    sm->who, a);
				return -1;
			}
			break;
		case 'B':
		case 'N':
		case 'R':
		case 'V':
		case 'X':
			/* An option with a value, ignored. */
			if (cli_sm_optarg(argc, argv, &i) == NULL)
				return -1;
			break;
		case 'v':
		case 'm':
			break;
		default:
			fprintf(stderr, "%s: unknown option %s\n", sm->who, a);
			return -1;
		}
	}
	for (; i < argc; i++)
		cli_sm_add_rcpt(sm, argv[i], strlen(argv[i]));
	return 0;
}

static int
cli_sm_read_stdin(struct buf *in, const char *who)
{
	char chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
		if (buf_append(in, chunk, n) == -1) {
			fprintf(stderr, "%s: message too big (max_message_size)\n",
			    who);
			return -1;
		}
	}
	if (ferror(stdin)) {
		fprintf(stderr, "%s: cannot read the message: %s\n", who,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* From, Date and Message-ID, for the ones the message lacks. */
static int
cli_sm_missing_headers(const struct cli_sm *sm, const struct buf *msg,
    const char *sender, struct buf *out)
{
	char date[WHEN_RFC5322_SIZE], name[200];
	uint8_t rnd[8];
	time_t now = time(NULL);
	size_t i, o = 0;

	if (!mail_header_has(msg->data, msg->len, "From")) {
		if (sm->full_name != NULL) {
			/* A quoted string: no quote, backslash or control. */
			for (i = 0; sm->full_name[i] != '\0' &&
			    o + 1 < sizeof(name); i++) {
				unsigned char c = (unsigned char)sm->full_name[i];

				if (c >= 0x20 && c != '"' && c != '\\' &&
				    c != 0x7f)
					name[o++] = (char)c;
			}
			name[o] = '\0';
			if (buf_printf(out, "From: \"%s\" <%s>\r\n", name,
			    sender) == -1)
				return -1;
		} else if (buf_printf(out, "From: %s\r\n", sender) == -1) {
			return -1;
		}
	}
	if (!mail_header_has(msg->data, msg->len, "Date")) {
		when_format_rfc5322(now, date, sizeof(date));
		if (buf_printf(out, "Date: %s\r\n", date) == -1)
			return -1;
	}
	if (!mail_header_has(msg->data, msg->len, "Message-ID")) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			memset(rnd, 0, sizeof(rnd));
		if (buf_printf(out, "Message-ID: <%lld.%02x%02x%02x%02x%02x%02x"
		    "%02x%02x@%s>\r\n", (long long)now, rnd[0], rnd[1], rnd[2],
		    rnd[3], rnd[4], rnd[5], rnd[6], rnd[7],
		    sm->cfg->hostname) == -1)
			return -1;
	}
	return 0;
}

static char *
cli_sm_default_sender(const struct cli_sm *sm)
{
	struct passwd *pw = getpwuid(getuid());
	struct buf b;

	buf_init(&b, 64, 0);
	if (buf_printf(&b, "%s@%s", pw != NULL ? pw->pw_name : "nobody",
	    sm->cfg->hostname) == -1)
		log_panic("cli_sendmail: sender");
	return buf_steal(&b);
}

/* Maps cli_ctl_call()'s status to what sendmail callers expect. */
static int
cli_sm_exit(int rc)
{
	switch (rc) {
	case 0:
	case CLI_EXIT_TEMPFAIL:
	case CLI_EXIT_NOPERM:
		return rc;
	case CLI_EXIT_USAGE:
		/* The server found the request malformed or too big. */
		return CLI_SM_EX_DATAERR;
	default:
		return CLI_SM_EX_NOUSER;
	}
}

int
cli_sendmail(const struct config *cfg, int argc, char **argv)
{
	struct cli_sm sm = { .cfg = cfg, .who = "sendmail", .dot_ends = true };
	struct buf raw, msg, clean, req;
	char *sender = NULL, *slash;
	size_t used, i;
	int rc;

	if ((slash = strrchr(argv[0], '/')) != NULL)
		sm.who = slash + 1;
	else
		sm.who = argv[0];
	if (strcmp(sm.who, "sendmail") != 0)
		sm.who = "tern sendmail";
	rc = cli_sm_parse(&sm, argc, argv);
	if (rc == 1)
		return cli_mailq(cfg);
	buf_init(&raw, 65536, cfg->max_message_size + 1);
	buf_init(&msg, 65536, 2 * cfg->max_message_size + 4096);
	buf_init(&clean, 4096, 2 * cfg->max_message_size + 4096);
	buf_init(&req, 4096, 0);
	if (rc == -1) {
		cli_sm_usage(sm.who);
		rc = CLI_SM_EX_USAGE;
		goto out;
	}
	rc = CLI_SM_EX_DATAERR;
	if (cli_sm_read_stdin(&raw, sm.who) == -1)
		goto out;
	if (mail_lines_normalize(raw.data, raw.len, sm.dot_ends, &msg,
	    &used) == -1) {
		fprintf(stderr, "%s: message too big\n", sm.who);
		goto out;
	}
	if (sm.from_headers) {
		if (mail_header_recipients(msg.data, msg.len,
		    cli_sm_on_header_rcpt, &sm) == -1) {
			fprintf(stderr, "%s: cannot parse the To, Cc or Bcc "
			    "header field\n", sm.who);
			goto out;
		}
	}
	if (sm.bad)
		goto out;
	if (sm.n_rcpts == 0) {
		fprintf(stderr, "%s: no recipients (give them as arguments, "
		    "or -t to take them from the header)\n", sm.who);
		rc = CLI_SM_EX_USAGE;
		goto out;
	}
	sender = sm.from != NULL ? xstrdup(sm.from) :
	    cli_sm_default_sender(&sm);
	if (strcmp(sender, "<>") == 0)
		sender[0] = '\0';
	if (!ctl_addr_is_valid(sender)) {
		fprintf(stderr, "%s: unusable sender\n", sm.who);
		goto out;
	}
	if (cli_sm_missing_headers(&sm, &msg, sender[0] != '\0' ? sender :
	    "MAILER-DAEMON", &clean) == -1 ||
	    mail_header_remove(msg.data, msg.len, "Bcc", &clean) == -1) {
		fprintf(stderr, "%s: message too big\n", sm.who);
		goto out;
	}
	if (buf_printf(&req, "submit\nfrom %s\n", sender) == -1)
		log_panic("cli_sendmail: request");
	for (i = 0; i < sm.n_rcpts; i++)
		if (buf_printf(&req, "rcpt %s\n", sm.rcpts[i]) == -1)
			log_panic("cli_sendmail: request");
	if ((sm.at > time(NULL) && buf_printf(&req, "at %lld\n",
	    (long long)sm.at) == -1) ||
	    buf_printf(&req, "data %zu\n", clean.len) == -1 ||
	    buf_append(&req, clean.data, clean.len) == -1)
		log_panic("cli_sendmail: request");
	rc = cli_sm_exit(cli_ctl_call(cfg, CTL_SUBMIT_SOCKET, &req, sm.who,
	    true));
out:
	for (i = 0; i < sm.n_rcpts; i++)
		free(sm.rcpts[i]);
	free(sm.rcpts);
	free(sender);
	buf_clear(&raw);
	buf_clear(&msg);
	buf_clear(&clean);
	buf_clear(&req);
	return rc;
}
