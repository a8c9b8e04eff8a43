/* SPDX-License-Identifier: ISC */
/*
 * Builds delivery status notifications: a multipart/report message
 * (RFC 6522) with a human-readable part, a message/delivery-status part
 * (RFC 3464 2.2 per-message and 2.3 per-recipient fields) and the
 * original header section as text/rfc822-headers.  Everything written
 * is 7-bit with CRLF line ends; peer-supplied text is made printable,
 * so a hostile reply cannot add fields or end a part.  Injection into
 * the spool and the null envelope sender are the queue's business.
 */
#include "deliver/deliver_dsn.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/when.h"

/* Longest field value copied from a peer, before the line is folded. */
#define DELIVER_DSN_VALUE_MAX_BYTES 900

size_t
deliver_dsn_header_len(const uint8_t *content, size_t len)
{
	size_t i = 0;

	/* A line that is empty (CRLF or LF alone) ends the header. */
	while (i < len) {
		if (content[i] == '\n')
			return i + 1;
		if (content[i] == '\r' && i + 1 < len && content[i + 1] == '\n')
			return i + 2;
		while (i < len && content[i] != '\n')
			i++;
		if (i < len)
			i++;
	}
	return len;
}

/* Appends s[len] with bytes outside printable ASCII and tab as '?'. */
static int
deliver_dsn_put(struct buf *out, const char *s, size_t len)
{
	size_t i, start = 0;
	int rc = 0;

	for (i = 0; rc == 0 && i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		/* A tab is kept: folded header lines start with one. */
		if ((ch >= 0x20 && ch < 0x7f) || ch == '\t')
			continue;
		rc = buf_append(out, s + start, i - start);
		if (rc == 0)
			rc = buf_append(out, "?", 1);
		start = i + 1;
	}
	return rc == 0 ? buf_append(out, s + start, len - start) : rc;
}

/* Appends peer text made printable and capped at max bytes. */
static int
deliver_dsn_text(struct buf *out, const char *s, size_t max)
{
	return deliver_dsn_put(out, s, strnlen(s, max));
}

/* A field "Name: <prefix><value>\r\n", the value made safe and capped. */
static int
deliver_dsn_field(struct buf *out, const char *name, const char *prefix,
    const char *value)
{
	if (buf_printf(out, "%s: %s", name, prefix) == -1 ||
	    deliver_dsn_text(out, value, DELIVER_DSN_VALUE_MAX_BYTES) == -1)
		return -1;
	return buf_append(out, "\r\n", 2);
}

static bool
deliver_dsn_set(const char *s)
{
	return s != NULL && *s != '\0';
}

/* A reply starting with a 3-digit code is SMTP's; else tern's reason. */
static bool
deliver_dsn_is_smtp_reply(const char *s)
{
	return s[0] >= '2' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9' &&
	    s[2] >= '0' && s[2] <= '9' && (s[3] == ' ' || s[3] == '-' ||
	    s[3] == '\0');
}

static int
deliver_dsn_header(const struct deliver_dsn *d, const char *boundary,
    struct buf *out)
{
	char date[WHEN_RFC5322_SIZE];

	when_format_rfc5322(d->now, date, sizeof(date));
	if (buf_printf(out, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n"
	    "To: <", d->hostname) == -1 ||
	    deliver_dsn_text(out, d->to, DELIVER_DSN_VALUE_MAX_BYTES) == -1)
		return -1;
	return buf_printf(out, ">\r\nSubject: %s\r\n"
	    "Date: %s\r\n"
	    "Message-ID: <%lld.%s.dsn@%s>\r\n"
	    "Auto-Submitted: auto-replied\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	    "\tboundary=\"%s\"\r\n"
	    "\r\n"
	    "This is a MIME-encapsulated message.\r\n"
	    "\r\n", d->delayed ? "Delayed Mail (still being retried)" :
	    "Undelivered Mail Returned to Sender", date, (long long)d->now,
	    d->queue_id, d->hostname, boundary);
}

/* Part 1: what happened, for people. */
static int
deliver_dsn_human(const struct deliver_dsn *d, const char *boundary,
    struct buf *out)
{
	char until[WHEN_RFC5322_SIZE];
	size_t i;

	if (buf_printf(out, "--%s\r\n"
	    "Content-Description: Notification\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "\r\n"
	    "This is the mail system at host %s.\r\n"
	    "\r\n", boundary, d->hostname) == -1)
		return -1;
	if (d->delayed) {
		if (buf_append_str(out, "Your message could not be delivered "
		    "yet to the recipients below.\r\nThe mail system will "
		    "keep trying; you do not need to send it again.\r\n") ==
		    -1)
			return -1;
		if (d->retry_until != 0) {
			when_format_rfc5322(d->retry_until, until,
			    sizeof(until));
			if (buf_printf(out, "It gives up after %s.\r\n",
			    until) == -1)
				return -1;
		}
	} else if (buf_append_str(out, "I'm sorry to have to inform you "
	    "that your message could not be delivered\r\nto one or more "
	    "recipients. The details are below.\r\n") == -1) {
		return -1;
	}
	for (i = 0; i < d->n_rcpts; i++) {
		const struct deliver_dsn_rcpt *r = &d->rcpts[i];
		const char *why = deliver_dsn_set(r->diagnostic) ?
		    r->diagnostic : r->status;

		/* "<addr>: host mx said: 550 ..." */
		if (buf_append_str(out, "\r\n<") == -1 ||
		    deliver_dsn_text(out, r->final,
		    DELIVER_DSN_VALUE_MAX_BYTES) == -1 ||
		    buf_append_str(out, ">: ") == -1)
			return -1;
		if (deliver_dsn_set(r->remote_mta) &&
		    (buf_append_str(out, "host ") == -1 ||
		    deliver_dsn_text(out, r->remote_mta, 255) == -1 ||
		    buf_append_str(out, " said: ") == -1))
			return -1;
		if (deliver_dsn_text(out, why, DELIVER_DSN_VALUE_MAX_BYTES) ==
		    -1 || buf_append_str(out, "\r\n") == -1)
			return -1;
	}
	return buf_append_str(out, "\r\n");
}

/* Part 2: RFC 3464 2.2 and 2.3 fields, for programs. */
static int
deliver_dsn_status(const struct deliver_dsn *d, const char *boundary,
    struct buf *out)
{
	char date[WHEN_RFC5322_SIZE];
	size_t i;

	when_format_rfc5322(d->arrival, date, sizeof(date));
	if (buf_printf(out, "--%s\r\n"
	    "Content-Description: Delivery report\r\n"
	    "Content-Type: message/delivery-status\r\n"
	    "\r\n"
	    "Reporting-MTA: dns; %s\r\n"
	    "X-Tern-Queue-ID: %s\r\n"
	    "Arrival-Date: %s\r\n", boundary, d->hostname, d->queue_id,
	    date) == -1)
		return -1;
	for (i = 0; i < d->n_rcpts; i++) {
		const struct deliver_dsn_rcpt *r = &d->rcpts[i];

		/* Each recipient's group follows a blank line (RFC 3464 2.1). */
		if (buf_append_str(out, "\r\n") == -1)
			return -1;
		if (deliver_dsn_set(r->original) &&
		    deliver_dsn_field(out, "Original-Recipient", "rfc822;",
		    r->original) == -1)
			return -1;
		if (deliver_dsn_field(out, "Final-Recipient", "rfc822;",
		    r->final) == -1 ||
		    buf_printf(out, "Action: %s\r\n", d->delayed ? "delayed" :
		    "failed") == -1 ||
		    deliver_dsn_field(out, "Status", "", r->status) == -1)
			return -1;
		if (deliver_dsn_set(r->remote_mta) &&
		    deliver_dsn_field(out, "Remote-MTA", "dns; ",
		    r->remote_mta) == -1)
			return -1;
		if (deliver_dsn_set(r->diagnostic) &&
		    deliver_dsn_field(out, "Diagnostic-Code",
		    deliver_dsn_is_smtp_reply(r->diagnostic) ? "smtp; " :
		    "X-tern; ", r->diagnostic) == -1)
			return -1;
		if (r->last_attempt != 0) {
			when_format_rfc5322(r->last_attempt, date,
			    sizeof(date));
			if (buf_printf(out, "Last-Attempt-Date: %s\r\n",
			    date) == -1)
				return -1;
		}
		if (d->delayed && d->retry_until != 0) {
			when_format_rfc5322(d->retry_until, date, sizeof(date));
			if (buf_printf(out, "Will-Retry-Until: %s\r\n",
			    date) == -1)
				return -1;
		}
	}
	return buf_append_str(out, "\r\n");
}

/* Part 3: the original header section, lines normalised to CRLF. */
static int
deliver_dsn_headers(const struct deliver_dsn *d, const char *boundary,
    struct buf *out)
{
	size_t len = d->headers_len, i = 0, eol;
	const char *p = (const char *)d->headers;

	if (buf_printf(out, "--%s\r\n"
	    "Content-Description: Undelivered Message Headers\r\n"
	    "Content-Type: text/rfc822-headers\r\n"
	    "\r\n", boundary) == -1)
		return -1;
	if (p == NULL)
		len = 0;
	if (len > DELIVER_DSN_HEADERS_MAX_BYTES)
		len = DELIVER_DSN_HEADERS_MAX_BYTES;
	while (i < len) {
		for (eol = i; eol < len && p[eol] != '\n'; eol++)
			continue;
		/* The blank line that ends the header is not copied. */
		if (eol == i || (eol == i + 1 && p[i] == '\r'))
			break;
		if (deliver_dsn_put(out, p + i, eol - i - (eol > i &&
		    p[eol - 1] == '\r' && eol < len ? 1 : 0)) == -1 ||
		    buf_append_str(out, "\r\n") == -1)
			return -1;
		i = eol + 1;
	}
	return buf_printf(out, "\r\n--%s--\r\n", boundary);
}

int
deliver_dsn_build(const struct deliver_dsn *d, struct buf *out)
{
	char boundary[128];
	struct buf b;
	int rc;

	/* Unique per report; a peer's text cannot start a line with it. */
	(void)snprintf(boundary, sizeof(boundary), "%lld/%s/%s",
	    (long long)d->now, d->queue_id, d->hostname);
	buf_init(&b, 4096, DELIVER_DSN_MAX_BYTES);
	rc = deliver_dsn_header(d, boundary, &b) == -1 ||
	    deliver_dsn_human(d, boundary, &b) == -1 ||
	    deliver_dsn_status(d, boundary, &b) == -1 ||
	    deliver_dsn_headers(d, boundary, &b) == -1 ? -1 :
	    buf_append(out, b.data, b.len);
	buf_clear(&b);
	return rc;
}
