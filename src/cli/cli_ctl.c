/* SPDX-License-Identifier: ISC */
/*
 * The client side of the control sockets: tern queue ..., tern stats,
 * tern reload and mailq send one request (ctl/ctl.h) to the running
 * server and print its answer.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/compat.h"
#include "core/log.h"
#include "core/str.h"
#include "core/when.h"
#include "config/config.h"
#include "ctl/ctl.h"

/* How long a command waits for the server's answer. */
#define CLI_CTL_TIMEOUT_S 120

static int
cli_ctl_write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;
	ssize_t n;

	while (len > 0) {
		/* A server that refuses early closes: no SIGPIPE here. */
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
cli_ctl_call(const struct config *cfg, const char *socket_name,
    const struct buf *request, const char *who, bool quiet)
{
	struct sockaddr_un sun;
	struct timeval tv = { CLI_CTL_TIMEOUT_S, 0 };
	struct buf in;
	char chunk[65536];
	const char *nl, *sp;
	ssize_t n;
	int fd, st, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s",
	    cfg->spool, socket_name) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "%s: spool path too long: %s\n", who,
		    cfg->spool);
		return CLI_EXIT_TEMPFAIL;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sun,
	    sizeof(sun)) == -1) {
		int e = errno;

		if (e == EACCES || e == EPERM)
			fprintf(stderr, "%s: %s: permission denied (the control "
			    "socket is for the server's owner and root)\n", who,
			    sun.sun_path);
		else
			fprintf(stderr, "%s: the tern server is not running "
			    "(%s: %s)\n", who, sun.sun_path, strerror(e));
		if (fd != -1)
			(void)close(fd);
		return e == EACCES || e == EPERM ? CLI_EXIT_NOPERM :
		    CLI_EXIT_TEMPFAIL;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* If the server stops reading early, its answer says why. */
	if (cli_ctl_write_all(fd, request->data, request->len) == 0)
		(void)shutdown(fd, SHUT_WR);
	buf_init(&in, sizeof(chunk), 0);
	rc = 0;
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == -1)
				rc = -1;
			break;
		}
		if (buf_append(&in, chunk, (size_t)n) == -1)
			log_panic("cli_ctl: answer buffer");
	}
	(void)close(fd);
	nl = in.len > 0 ? memchr(in.data, '\n', in.len) : NULL;
	if (rc == -1 || nl == NULL) {
		fprintf(stderr, "%s: no answer from the server%s%s\n", who,
		    rc == -1 ? ": " : "", rc == -1 ? strerror(errno) : "");
		buf_clear(&in);
		return CLI_EXIT_TEMPFAIL;
	}
	sp = memchr(in.data, ' ', (size_t)(nl - (const char *)in.data));
	st = sp == NULL ? -1 : ctl_status_parse((const char *)in.data,
	    (size_t)(sp - (const char *)in.data));
	if (st == -1) {
		fprintf(stderr, "%s: unexpected answer from the server\n", who);
		buf_clear(&in);
		return CLI_EXIT_TEMPFAIL;
	}
	/* The payload goes to stdout, as it is. */
	(void)!fwrite(nl + 1, 1, in.len - (size_t)(nl + 1 -
	    (const char *)in.data), stdout);
	if (st != CTL_OK || !quiet)
		fprintf(st == CTL_OK ? stdout : stderr, "%s%s%.*s\n",
		    st == CTL_OK ? "" : who, st == CTL_OK ? "" : ": ",
		    (int)(nl - sp - 1), sp + 1);
	buf_clear(&in);
	switch ((enum ctl_status)st) {
	case CTL_OK:
		return 0;
	case CTL_TEMP:
		return CLI_EXIT_TEMPFAIL;
	case CTL_USAGE:
		return CLI_EXIT_USAGE;
	case CTL_PERM:
		break;
	}
	return 1;
}

static void
cli_ctl_usage(void)
{
	fprintf(stderr,
	    "usage: tern queue list [--json] [-c FILE]\n"
	    "       tern queue show ID [--json] [-c FILE]\n"
	    "       tern queue flush [ID | --domain DOMAIN] [-c FILE]\n"
	    "       tern queue hold|release|delete|bounce ID [-c FILE]\n"
	    "       tern queue reschedule ID TIME [-c FILE]\n"
	    "       tern stats [--json] [-c FILE]\n"
	    "       tern reload [-c FILE]\n"
	    "TIME is RFC 3339 (2026-12-01T09:00:00Z) or relative (+90s, "
	    "+30m, +2h, +1d).\n");
}

/* Appends " word", checking that the protocol can carry it. */
static int
cli_ctl_add_word(struct buf *req, const char *word)
{
	if (!ctl_word_is_valid(word)) {
		fprintf(stderr, "tern: invalid argument: %s\n", word);
		return -1;
	}
	if (buf_printf(req, " %s", word) == -1)
		log_panic("cli_ctl: request");
	return 0;
}

int
cli_ctl(const struct config *cfg, int argc, char **argv)
{
	const char *args[4] = { NULL };
	const char *domain = NULL, *verb;
	bool json = false, quiet = true;
	struct buf req;
	size_t n = 0, want, i;
	time_t when;
	char num[32];
	int k, rc;

	/* argv[0] is "queue", "stats" or "reload"; options anywhere. */
	for (k = 1; k < argc; k++) {
		if (strcmp(argv[k], "--json") == 0)
			json = true;
		else if (strcmp(argv[k], "--domain") == 0 && k + 1 < argc)
			domain = argv[++k];
		else if (argv[k][0] == '-' && argv[k][1] != '\0' &&
		    argv[k][0] != '+') {
			cli_ctl_usage();
			return CLI_EXIT_USAGE;
		} else if (n < N_ELEMENTS(args))
			args[n++] = argv[k];
		else {
			cli_ctl_usage();
			return CLI_EXIT_USAGE;
		}
	}
	buf_init(&req, 128, CTL_LINE_MAX_BYTES);
	if (strcmp(argv[0], "stats") == 0 || strcmp(argv[0], "reload") == 0) {
		if (n != 0 || domain != NULL ||
		    (json && strcmp(argv[0], "reload") == 0)) {
			cli_ctl_usage();
			buf_clear(&req);
			return CLI_EXIT_USAGE;
		}
		(void)!buf_append_str(&req, argv[0]);
		quiet = strcmp(argv[0], "stats") == 0;
		goto send;
	}
	if (n == 0) {
		cli_ctl_usage();
		buf_clear(&req);
		return CLI_EXIT_USAGE;
	}
	verb = args[0];
	if (strcmp(verb, "list") == 0)
		want = 1;
	else if (strcmp(verb, "show") == 0 || strcmp(verb, "hold") == 0 ||
	    strcmp(verb, "release") == 0 || strcmp(verb, "delete") == 0 ||
	    strcmp(verb, "bounce") == 0)
		want = 2;
	else if (strcmp(verb, "reschedule") == 0)
		want = 3;
	else if (strcmp(verb, "flush") == 0)
		want = domain != NULL ? 1 : n;
	else
		want = 0;
	if (want == 0 || n != want || (domain != NULL &&
	    strcmp(verb, "flush") != 0) || (json && strcmp(verb, "list") != 0 &&
	    strcmp(verb, "show") != 0) || (strcmp(verb, "flush") == 0 && n > 2)) {
		cli_ctl_usage();
		buf_clear(&req);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(verb, "flush") == 0 && domain != NULL) {
		(void)!buf_append_str(&req, "flush-domain");
		if (cli_ctl_add_word(&req, domain) == -1)
			goto bad;
	} else {
		(void)!buf_append_str(&req, verb);
		for (i = 1; i < n; i++) {
			if (i == 2 && strcmp(verb, "reschedule") == 0) {
				if (when_parse(args[2], time(NULL), &when) ==
				    -1) {
					fprintf(stderr, "tern: bad time: %s "
					    "(RFC 3339, or +90s +30m +2h +1d)\n",
					    args[2]);
					goto bad;
				}
				(void)snprintf(num, sizeof(num), "%lld",
				    (long long)when);
				if (cli_ctl_add_word(&req, num) == -1)
					goto bad;
				continue;
			}
			if (cli_ctl_add_word(&req, args[i]) == -1)
				goto bad;
		}
	}
	quiet = strcmp(verb, "list") == 0 || strcmp(verb, "show") == 0;
send:
	if (json && cli_ctl_add_word(&req, "json") == -1)
		goto bad;
	(void)!buf_append_str(&req, "\n");
	rc = cli_ctl_call(cfg, CTL_CONTROL_SOCKET, &req, "tern", quiet);
	buf_clear(&req);
	return rc;
bad:
	buf_clear(&req);
	return CLI_EXIT_USAGE;
}

int
cli_mailq(const struct config *cfg)
{
	struct buf req;
	int rc;

	buf_init(&req, 16, 0);
	(void)!buf_append_str(&req, "mailq\n");
	rc = cli_ctl_call(cfg, CTL_CONTROL_SOCKET, &req, "mailq", true);
	buf_clear(&req);
	return rc;
}
