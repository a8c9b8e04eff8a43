/* SPDX-License-Identifier: ISC */
/*
 * Writes and parses the envelope record of a spool file.  Each line is
 * "key value\n" in a fixed order; a string value is "<len>:<bytes>" so
 * it may hold any byte but NUL, "-" marks an absent optional string.
 * The parser is strict: fixed order, no leading zeros, every length
 * bounded, nothing after "end\n".  File framing is spool_file.c's job.
 */
#include "spool/spool_envelope.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "core/buf.h"
#include "core/envelope.h"
#include "core/str.h"
#include "core/xalloc.h"

#define SPOOL_ENVELOPE_MAGIC "tern-envelope 1\n"

static const char *const spool_envelope_body_names[] = {
    [ENVELOPE_BODY_7BIT] = "7bit",
    [ENVELOPE_BODY_8BITMIME] = "8bitmime",
    [ENVELOPE_BODY_BINARYMIME] = "binarymime",
};

/* ---- writing ----------------------------------------------------------- */

static int
spool_envelope_put_value(
    struct buf *out, const char *key, const char *v, bool nullable)
{
	size_t len;

	if (v == NULL && nullable)
		return buf_printf(out, "%s -\n", key);
	if (v == NULL)
		v = "";
	len = strlen(v);
	if (buf_printf(out, "%s %zu:", key, len) == -1 ||
	    buf_append(out, v, len) == -1)
		return -1;
	return buf_append(out, "\n", 1);
}

static int
spool_envelope_put_target(struct buf *out, const struct envelope_target *t)
{
	const char *f[3] = {t->address, t->domain, t->localpart};
	size_t i, len;

	if (buf_printf(out, "target %s %zu", t->is_local ? "local" : "remote",
	        t->rcpt_index) == -1)
		return -1;
	for (i = 0; i < N_ELEMENTS(f); i++) {
		const char *v = f[i] != NULL ? f[i] : "";

		len = strlen(v);
		if (buf_printf(out, " %zu:", len) == -1 ||
		    buf_append(out, v, len) == -1)
			return -1;
	}
	return buf_append(out, "\n", 1);
}

int
spool_envelope_format(struct buf *out, const struct envelope *env)
{
	size_t i;
	uint64_t arrival = env->arrival > 0 ? (uint64_t)env->arrival : 0;
	const char *body = "7bit";

	switch (env->body) {
	case ENVELOPE_BODY_7BIT:
	case ENVELOPE_BODY_8BITMIME:
	case ENVELOPE_BODY_BINARYMIME:
		body = spool_envelope_body_names[env->body];
		break;
	}
	if (buf_append_str(out, SPOOL_ENVELOPE_MAGIC) == -1 ||
	    spool_envelope_put_value(out, "id", env->id, false) == -1 ||
	    spool_envelope_put_value(out, "from", env->from, false) == -1 ||
	    buf_printf(out, "rcpts %zu\n", env->n_rcpts) == -1)
		return -1;
	for (i = 0; i < env->n_rcpts; i++)
		if (spool_envelope_put_value(
		        out, "rcpt", env->rcpts[i], false) == -1)
			return -1;
	if (buf_printf(out, "targets %zu\n", env->n_targets) == -1)
		return -1;
	for (i = 0; i < env->n_targets; i++)
		if (spool_envelope_put_target(out, &env->targets[i]) == -1)
			return -1;
	if (buf_printf(out, "body %s\nsmtputf8 %d\narrival %" PRIu64 "\n", body,
	        env->smtputf8 ? 1 : 0, arrival) == -1 ||
	    spool_envelope_put_value(out, "helo", env->helo, true) == -1 ||
	    spool_envelope_put_value(
	        out, "client_addr", env->client_addr, true) == -1 ||
	    spool_envelope_put_value(out, "auth_user", env->auth_user, true) ==
	        -1)
		return -1;
	if (env->hold_until > 0 &&
	    buf_printf(out, "hold_until %" PRIu64 "\n",
	        (uint64_t)env->hold_until) == -1)
		return -1;
	return buf_append_str(out, "end\n");
}

/* ---- parsing ----------------------------------------------------------- */

struct spool_envelope_cursor {
	const uint8_t *start;
	const uint8_t *p;
	const uint8_t *end;
	struct buf *err;
};

static int
spool_envelope_fail(struct spool_envelope_cursor *c, const char *what)
{
	if (c->err != NULL)
		(void)!buf_printf(c->err, "envelope offset %zu: %s",
		    (size_t)(c->p - c->start), what);
	return -1;
}

/* Consumes the literal lit, or fails naming it. */
static int
spool_envelope_expect(struct spool_envelope_cursor *c, const char *lit)
{
	size_t len = strlen(lit);

	if ((size_t)(c->end - c->p) < len || memcmp(c->p, lit, len) != 0)
		return spool_envelope_fail(c, "bad or missing field");
	c->p += len;
	return 0;
}

/* Consumes the literal lit if it is next; no error either way. */
static bool
spool_envelope_accept(struct spool_envelope_cursor *c, const char *lit)
{
	size_t len = strlen(lit);

	if ((size_t)(c->end - c->p) < len || memcmp(c->p, lit, len) != 0)
		return false;
	c->p += len;
	return true;
}

/* A decimal number in [0, max], without sign or leading zeros. */
static int
spool_envelope_number(
    struct spool_envelope_cursor *c, uint64_t max, uint64_t *val_r)
{
	const uint8_t *s = c->p;
	uint64_t v = 0;

	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		unsigned d = (unsigned)(*c->p - '0');

		if (d > max || v > (max - d) / 10 || (c->p > s && v == 0))
			return spool_envelope_fail(c, "number out of range");
		v = v * 10 + d;
		c->p++;
	}
	if (c->p == s)
		return spool_envelope_fail(c, "number expected");
	*val_r = v;
	return 0;
}

/*
 * A string value "<len>:<bytes>", or "-" (*v_r = NULL) if nullable.  The
 * result is a heap string; NUL bytes are refused since C strings hold it.
 */
static int
spool_envelope_string(
    struct spool_envelope_cursor *c, bool nullable, char **v_r)
{
	uint64_t len = 0;

	*v_r = NULL;
	if (nullable && c->p < c->end && *c->p == '-') {
		c->p++;
		return 0;
	}
	if (spool_envelope_number(c, SPOOL_ENVELOPE_VALUE_MAX_BYTES, &len) ==
	        -1 ||
	    spool_envelope_expect(c, ":") == -1)
		return -1;
	if (len > (uint64_t)(c->end - c->p))
		return spool_envelope_fail(c, "value runs past the record");
	if (memchr(c->p, '\0', (size_t)len) != NULL)
		return spool_envelope_fail(c, "NUL byte in value");
	*v_r = xstrndup((const char *)c->p, (size_t)len);
	c->p += len;
	return 0;
}

/* "key <string>\n" */
static int
spool_envelope_field(
    struct spool_envelope_cursor *c, const char *key, bool nullable, char **v_r)
{
	*v_r = NULL;
	if (spool_envelope_expect(c, key) == -1 ||
	    spool_envelope_expect(c, " ") == -1 ||
	    spool_envelope_string(c, nullable, v_r) == -1 ||
	    spool_envelope_expect(c, "\n") == -1) {
		free(*v_r);
		*v_r = NULL;
		return -1;
	}
	return 0;
}

/* "key <number>\n" */
static int
spool_envelope_number_field(struct spool_envelope_cursor *c, const char *key,
    uint64_t max, uint64_t *val_r)
{
	if (spool_envelope_expect(c, key) == -1 ||
	    spool_envelope_expect(c, " ") == -1 ||
	    spool_envelope_number(c, max, val_r) == -1)
		return -1;
	return spool_envelope_expect(c, "\n");
}

static int
spool_envelope_parse_target(
    struct spool_envelope_cursor *c, struct envelope *env)
{
	char *f[3] = {NULL, NULL, NULL};
	uint64_t idx;
	bool is_local;
	size_t i;
	int rc = -1;

	if (spool_envelope_expect(c, "target ") == -1)
		return -1;
	if (spool_envelope_accept(c, "local "))
		is_local = true;
	else if (spool_envelope_accept(c, "remote "))
		is_local = false;
	else
		return spool_envelope_fail(c, "bad target kind");
	if (spool_envelope_number(c, SPOOL_ENVELOPE_ITEMS_MAX, &idx) == -1)
		return -1;
	for (i = 0; i < N_ELEMENTS(f); i++)
		if (spool_envelope_expect(c, " ") == -1 ||
		    spool_envelope_string(c, false, &f[i]) == -1)
			goto fail;
	if (spool_envelope_expect(c, "\n") == -1)
		goto fail;
	envelope_add_target(env, is_local, f[0], f[1], f[2], (size_t)idx);
	rc = 0;
fail:
	for (i = 0; i < N_ELEMENTS(f); i++)
		free(f[i]);
	return rc;
}

static int
spool_envelope_parse_body(struct spool_envelope_cursor *c, struct envelope *env)
{
	size_t i;

	if (spool_envelope_expect(c, "body ") == -1)
		return -1;
	for (i = 0; i < N_ELEMENTS(spool_envelope_body_names); i++) {
		size_t len = strlen(spool_envelope_body_names[i]);

		if ((size_t)(c->end - c->p) > len &&
		    memcmp(c->p, spool_envelope_body_names[i], len) == 0 &&
		    c->p[len] == '\n') {
			env->body = (enum envelope_body)i;
			c->p += len + 1;
			return 0;
		}
	}
	return spool_envelope_fail(c, "unknown body type");
}

static int
spool_envelope_parse_all(struct spool_envelope_cursor *c, struct envelope *env)
{
	uint64_t n, i, v;
	char *s;

	if (spool_envelope_expect(c, SPOOL_ENVELOPE_MAGIC) == -1 ||
	    spool_envelope_field(c, "id", false, &s) == -1)
		return -1;
	if (str_copy(env->id, s, sizeof(env->id)) == -1) {
		free(s);
		return spool_envelope_fail(c, "id too long");
	}
	free(s);
	free(env->from);
	if (spool_envelope_field(c, "from", false, &env->from) == -1 ||
	    spool_envelope_number_field(
	        c, "rcpts", SPOOL_ENVELOPE_ITEMS_MAX, &n) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (spool_envelope_field(c, "rcpt", false, &s) == -1)
			return -1;
		envelope_add_rcpt(env, s);
		free(s);
	}
	if (spool_envelope_number_field(
	        c, "targets", SPOOL_ENVELOPE_ITEMS_MAX, &n) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (spool_envelope_parse_target(c, env) == -1)
			return -1;
	if (spool_envelope_parse_body(c, env) == -1 ||
	    spool_envelope_number_field(c, "smtputf8", 1, &v) == -1)
		return -1;
	env->smtputf8 = v == 1;
	if (spool_envelope_number_field(c, "arrival", INT64_MAX, &v) == -1)
		return -1;
	env->arrival = (time_t)v;
	if (spool_envelope_field(c, "helo", true, &env->helo) == -1 ||
	    spool_envelope_field(c, "client_addr", true, &env->client_addr) ==
	        -1 ||
	    spool_envelope_field(c, "auth_user", true, &env->auth_user) == -1)
		return -1;
	if ((size_t)(c->end - c->p) > 11 && memcmp(c->p, "hold_until ", 11) == 0) {
		if (spool_envelope_number_field(c, "hold_until", INT64_MAX, &v) ==
		    -1)
			return -1;
		if (v == 0)
			return spool_envelope_fail(c, "hold_until 0");
		env->hold_until = (time_t)v;
	}
	if (spool_envelope_expect(c, "end\n") == -1)
		return -1;
	if (c->p != c->end)
		return spool_envelope_fail(c, "trailing bytes after end");
	return 0;
}

int
spool_envelope_parse(
    const uint8_t *data, size_t len, struct envelope *env_r, struct buf *err)
{
	struct spool_envelope_cursor c = {
	    .start = data,
	    .p = data,
	    .end = data + len,
	    .err = err,
	};

	envelope_init(env_r);
	if (len > SPOOL_ENVELOPE_MAX_BYTES) {
		envelope_clear(env_r);
		return spool_envelope_fail(&c, "record too long");
	}
	if (spool_envelope_parse_all(&c, env_r) == -1) {
		envelope_clear(env_r);
		return -1;
	}
	return 0;
}
