/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the SMTP client's reply parser and session: the
 * input is a server's byte stream, fed in chunks whose sizes come from
 * the first byte, to the parser (with EHLO parsing and formatting of
 * every reply) and to a session carrying a two-recipient message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "smtpc/smtpc_ehlo.h"
#include "smtpc/smtpc_reply.h"
#include "smtpc/smtpc_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_smtpc_reply_parser(const uint8_t *data, size_t size, size_t chunk)
{
	struct smtpc_reply_parser p;
	const struct smtpc_reply *r;
	struct smtpc_ext ext;
	const char *err;
	char line[256];
	size_t off = 0;
	int rc;

	smtpc_reply_parser_init(&p);
	for (;;) {
		while ((rc = smtpc_reply_parser_next(&p, &r, &err)) == 1) {
			if (r->code < 200 || r->code > 559 || r->n_lines == 0 ||
			    r->n_lines > SMTPC_REPLY_MAX_LINES ||
			    r->text.len > SMTPC_REPLY_MAX_BYTES ||
			    strlen(r->enh) > SMTPC_ENH_MAX)
				abort();
			if (r->enh[0] != '\0' &&
			    r->enh[0] != (char)('0' + r->code / 100))
				abort();
			smtpc_ehlo_parse(r, &ext);
			smtpc_reply_format(r, line, sizeof(line));
			if (strlen(line) >= sizeof(line))
				abort();
		}
		if (rc == -1 || off == size)
			break;
		size_t n = size - off < chunk ? size - off : chunk;
		size_t took = smtpc_reply_parser_feed(&p, data + off, n);

		if (took == 0)
			abort(); /* next() must have drained room */
		off += took;
	}
	smtpc_reply_parser_clear(&p);
}

static void
fuzz_smtpc_reply_session(
    const uint8_t *data, size_t size, size_t chunk, enum smtpc_tls tls)
{
	static const char *const rcpts[] = {"a@x.test", "b@x.test"};
	struct smtpc_session_params sp = {
	    .helo = "me.test",
	    .tls = tls,
	    .auth_user = "u",
	    .auth_password = "p",
	};
	struct smtpc_message m = {
	    .from = "f@me.test",
	    .rcpts = rcpts,
	    .n_rcpts = 2,
	    .size = 10,
	    .body = ENVELOPE_BODY_8BITMIME,
	};
	struct smtpc_session *s;
	struct buf out;
	size_t off = 0, i, messages = 0;
	bool closed = false;

	if (tls != SMTPC_TLS_ACTIVE)
		sp.auth_user = NULL;
	buf_init(&out, 0, 0);
	s = smtpc_session_new(&sp);
	smtpc_session_start_message(s, &m, &out);
	while (!closed) {
		enum smtpc_event ev = smtpc_session_next(s, &out);

		switch (ev) {
		case SMTPC_EV_NONE:
			break;
		case SMTPC_EV_STARTTLS:
			smtpc_session_tls_started(s, &out);
			continue;
		case SMTPC_EV_CONTENT:
			smtpc_session_content_sent(s);
			continue;
		case SMTPC_EV_DONE:
			for (i = 0; i < 2; i++) {
				if (smtpc_session_rcpt(s, i)->status ==
				    SMTPC_PENDING)
					abort();
			}
			if (smtpc_session_is_idle(s) && messages++ < 3)
				smtpc_session_start_message(s, &m, &out);
			continue;
		case SMTPC_EV_CLOSE:
			closed = true;
			continue;
		}
		buf_reset(&out);
		if (off == size)
			break;
		size_t n = size - off < chunk ? size - off : chunk;
		size_t took = smtpc_session_feed(s, data + off, n);

		if (took == 0)
			abort();
		off += took;
	}
	smtpc_session_free(&s);
	buf_clear(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t chunk;

	if (size == 0)
		return 0;
	chunk = (size_t)(data[0] % 64) + 1;
	data++;
	size--;
	fuzz_smtpc_reply_parser(data, size, chunk);
	fuzz_smtpc_reply_session(data, size, chunk, SMTPC_TLS_OPPORTUNISTIC);
	fuzz_smtpc_reply_session(data, size, size + 1, SMTPC_TLS_ACTIVE);
	return 0;
}
