/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the spool's envelope record parser.  Whatever
 * parses must format back to a record that parses to the same text
 * (the writer and the reader agree), and must be freed cleanly.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "core/envelope.h"
#include "core/log.h"
#include "spool/spool_envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct envelope env, again;
	struct buf out, out2, err;

	buf_init(&err, 0, 4096);
	if (spool_envelope_parse(data, size, &env, &err) == -1) {
		ASSERT(err.len > 0);
		buf_clear(&err);
		return 0;
	}
	buf_init(&out, 0, 0);
	buf_init(&out2, 0, 0);
	ASSERT(spool_envelope_format(&out, &env) == 0);
	/* The writer's output is canonical: equal to a parsed record. */
	ASSERT(out.len == size && memcmp(out.data, data, size) == 0);
	ASSERT(spool_envelope_parse(out.data, out.len, &again, NULL) == 0);
	ASSERT(spool_envelope_format(&out2, &again) == 0);
	ASSERT(
	    out2.len == out.len && memcmp(out2.data, out.data, out.len) == 0);
	envelope_clear(&again);
	envelope_clear(&env);
	buf_clear(&out);
	buf_clear(&out2);
	buf_clear(&err);
	return 0;
}
