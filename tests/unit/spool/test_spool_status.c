/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the status journal's text form: every record formats
 * and parses back to the same value, the last record per target wins,
 * the first format's "<n>" lines still mean delivered, a torn last line
 * is ignored, and each kind of garbage is rejected line by line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/compat.h"
#include "spool/spool_status.h"

#define N 3

static void
parse(const char *text, struct spool_target_status ts[N],
    struct spool_status *st)
{
	size_t i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < N; i++)
		spool_status_target_init(&ts[i]);
	st->targets = ts;
	st->n_targets = N;
	spool_status_parse((const uint8_t *)text, strlen(text), st);
}

static void
test_status_round_trip(void **state)
{
	struct spool_target_status in, out[N];
	struct spool_status st;
	struct buf b;
	size_t i;

	(void)state;
	spool_status_target_init(&in);
	in.state = SPOOL_TARGET_FAILED;
	in.attempts = 7;
	in.next_attempt = 1700000300;
	in.last_attempt = 1700000000;
	memcpy(in.dsn, "5.1.1", 6);
	memcpy(in.remote_mta, "mx.example.net", 15);
	memcpy(in.text, "550 5.1.1 <x@y>: no such user", 30);
	buf_init(&b, 0, 0);
	assert_int_equal(spool_status_format_target(&b, 1, &in), 0);
	assert_int_equal(spool_status_format_bounced(&b, 1), 0);
	assert_int_equal(spool_status_format_warned(&b), 0);
	assert_string_equal(buf_cstr(&b), "t 1 failed 7 1700000300 1700000000 "
	    "5.1.1 14:mx.example.net 29:550 5.1.1 <x@y>: no such user\n"
	    "b 1\nw\n");
	parse(buf_cstr(&b), out, &st);
	assert_int_equal(st.n_bad, 0);
	assert_true(st.delay_warned);
	assert_int_equal(out[0].state, SPOOL_TARGET_PENDING);
	assert_int_equal(out[1].state, SPOOL_TARGET_FAILED);
	assert_int_equal(out[1].attempts, 7);
	assert_int_equal(out[1].next_attempt, 1700000300);
	assert_int_equal(out[1].last_attempt, 1700000000);
	assert_string_equal(out[1].dsn, "5.1.1");
	assert_string_equal(out[1].remote_mta, "mx.example.net");
	assert_string_equal(out[1].text, "550 5.1.1 <x@y>: no such user");
	assert_true(out[1].bounced);
	buf_clear(&b);

	/* Every state, empty fields, and control bytes made printable. */
	for (i = 0; i < 4; i++) {
		spool_status_target_init(&in);
		in.state = (enum spool_target_state)i;
		memcpy(in.text, "a\r\nb\x01", 6);
		buf_init(&b, 0, 0);
		assert_int_equal(spool_status_format_target(&b, 2, &in), 0);
		parse(buf_cstr(&b), out, &st);
		assert_int_equal(st.n_bad, 0);
		assert_int_equal(out[2].state, i);
		assert_string_equal(out[2].dsn, "");
		assert_string_equal(out[2].text, "a??b?");
		assert_string_equal(spool_status_state_name(in.state),
		    i == 0 ? "pending" : i == 1 ? "deferred" :
		    i == 2 ? "delivered" : "failed");
		buf_clear(&b);
	}
}

static void
test_status_last_wins(void **state)
{
	struct spool_target_status out[N];
	struct spool_status st;

	(void)state;
	parse("t 0 deferred 1 100 50 4.4.1 0: 3:abc\n"
	    "t 0 deferred 2 400 100 4.2.0 2:mx 0:\n"
	    "2\n"
	    "7\n"				/* out of range: ignored */
	    "t 9 failed 1 0 0 5.0.0 0: 0:\n"	/* likewise */
	    "t 0 delivered 3 0 400 2.0.0 2:mx 6:250 ok\n"
	    "t 1 failed 1 0 5 5.4.6 0: 4:loop", out, &st);	/* torn */
	assert_int_equal(st.n_bad, 0);
	assert_false(st.delay_warned);
	assert_int_equal(out[0].state, SPOOL_TARGET_DELIVERED);
	assert_int_equal(out[0].attempts, 3);
	assert_string_equal(out[0].text, "250 ok");
	assert_int_equal(out[1].state, SPOOL_TARGET_PENDING);
	/* The first format: "<n>" is a delivered target. */
	assert_int_equal(out[2].state, SPOOL_TARGET_DELIVERED);
	assert_false(out[2].bounced);
}

/* Hold and schedule records: the last of each kind wins. */
static void
test_status_hold_release(void **state)
{
	struct spool_target_status out[N];
	struct spool_status st;
	struct buf b;

	(void)state;
	parse("h 1\nr 1800000000\nt 0 deferred 1 9 8 4.0.0 0: 0:\n", out,
	    &st);
	assert_int_equal(st.n_bad, 0);
	assert_true(st.held);
	assert_true(st.has_release);
	assert_true(st.release_at == 1800000000);
	parse("h 1\nr 5\nh 0\nr 0\n", out, &st);
	assert_false(st.held);
	assert_true(st.has_release);
	assert_true(st.release_at == 0);
	parse("h 2\nh\nr\nr -1\nr 1099511627777\nh 1 \n", out, &st);
	assert_int_equal(st.n_bad, 6);
	assert_false(st.held);
	assert_false(st.has_release);
	buf_init(&b, 0, 0);
	assert_int_equal(spool_status_format_held(&b, true), 0);
	assert_int_equal(spool_status_format_release(&b, 42), 0);
	assert_int_equal(spool_status_format_release(&b, -1), -1);
	assert_string_equal(buf_cstr(&b), "h 1\nr 42\n");
	buf_clear(&b);
}

/* Each line is rejected alone; the good lines around it still count. */
static const char *const bad_lines[] = {
	"",
	"x",
	"01",
	"-1",
	"1 ",
	"b",
	"b 01",
	"b 1 2",
	"w ",
	"ww",
	"t",
	"t 0",
	"t 0 sent 1 0 0 - 0: 0:",
	"t 0 failed 1 0 0 - 0: 0: ",
	"t 0 failed 1 0 0 - 0: 1:",
	"t 0 failed 1 0 0 - 0: 0:x",
	"t 0 failed 1 0 0 - 1:\x01 0:",
	"t 0 failed 1 0 0 - 0: 2:a\tb",
	"t 0 failed 1 0 0 - 0: 513:",
	"t 0 failed 1 0 0 - 256: 0:",
	"t 0 failed 1 0 0 9.1.1 0: 0:",
	"t 0 failed 1 0 0 5.1 0: 0:",
	"t 0 failed 1 0 0 5.1.1234 0: 0:",
	"t 0 failed 1 0 0 5..1 0: 0:",
	"t 0 failed 1000001 0 0 - 0: 0:",
	"t 0 failed 1 1099511627777 0 - 0: 0:",
	"t 0 failed 1 0 0 - 0:  0:",
	"t  0 failed 1 0 0 - 0: 0:",
	"t 0 failed 01 0 0 - 0: 0:",
	"t 0 failed 1 0 0 - 18446744073709551616: 0:",
	"t 4294967296 failed 1 0 0 - 0: 0:",
};

static void
test_status_garbage(void **state)
{
	struct spool_target_status out[N];
	struct spool_status st;
	struct buf b;
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(bad_lines); i++) {
		buf_init(&b, 0, 0);
		assert_int_equal(buf_printf(&b, "t 1 deferred 1 9 8 4.0.0 0: "
		    "0:\n%s\nt 2 failed 1 0 0 5.0.0 0: 0:\n", bad_lines[i]),
		    0);
		parse(buf_cstr(&b), out, &st);
		if (st.n_bad != 1)
			fail_msg("line %zu \"%s\": n_bad %zu", i, bad_lines[i],
			    st.n_bad);
		assert_int_equal(out[0].state, SPOOL_TARGET_PENDING);
		assert_int_equal(out[1].state, SPOOL_TARGET_DEFERRED);
		assert_int_equal(out[2].state, SPOOL_TARGET_FAILED);
		buf_clear(&b);
	}
	/* A NUL byte inside a line. */
	{
		static const char nul[] = "t 0 failed 1 0 0 - 0: 1:\0\n";

		memset(&st, 0, sizeof(st));
		for (i = 0; i < N; i++)
			spool_status_target_init(&out[i]);
		st.targets = out;
		st.n_targets = N;
		spool_status_parse((const uint8_t *)nul, sizeof(nul) - 1, &st);
		assert_int_equal(st.n_bad, 1);
		assert_int_equal(out[0].state, SPOOL_TARGET_PENDING);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_round_trip),
		cmocka_unit_test(test_status_last_wins),
		cmocka_unit_test(test_status_garbage),
		cmocka_unit_test(test_status_hold_release),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
