/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the status journal parser.  Any input must parse
 * without a crash; every target it sets must format to a line that
 * parses back to the same status (the writer and the reader agree).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "spool/spool_status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_TARGETS 4

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spool_target_status ts[FUZZ_TARGETS], again[FUZZ_TARGETS];
	struct spool_status st = { .targets = ts, .n_targets = FUZZ_TARGETS };
	struct spool_status st2 = { .targets = again, .n_targets = FUZZ_TARGETS };
	struct buf out;
	size_t i;

	for (i = 0; i < FUZZ_TARGETS; i++) {
		spool_status_target_init(&ts[i]);
		spool_status_target_init(&again[i]);
	}
	spool_status_parse(data, size, &st);
	buf_init(&out, 0, 0);
	for (i = 0; i < FUZZ_TARGETS; i++) {
		ASSERT(spool_status_format_target(&out, i, &ts[i]) == 0);
		if (ts[i].bounced)
			ASSERT(spool_status_format_bounced(&out, i) == 0);
	}
	if (st.delay_warned)
		ASSERT(spool_status_format_warned(&out) == 0);
	ASSERT(spool_status_format_held(&out, st.held) == 0);
	if (st.has_release)
		ASSERT(spool_status_format_release(&out, st.release_at) == 0);
	spool_status_parse(out.data, out.len, &st2);
	ASSERT(st2.n_bad == 0);
	ASSERT(st2.delay_warned == st.delay_warned);
	ASSERT(st2.held == st.held);
	ASSERT(st2.has_release == st.has_release);
	ASSERT(st2.release_at == st.release_at);
	for (i = 0; i < FUZZ_TARGETS; i++) {
		ASSERT(again[i].state == ts[i].state);
		ASSERT(again[i].attempts == ts[i].attempts);
		ASSERT(again[i].next_attempt == ts[i].next_attempt);
		ASSERT(again[i].last_attempt == ts[i].last_attempt);
		ASSERT(again[i].bounced == ts[i].bounced);
		ASSERT(strcmp(again[i].dsn, ts[i].dsn) == 0);
		ASSERT(strcmp(again[i].remote_mta, ts[i].remote_mta) == 0);
		ASSERT(strcmp(again[i].text, ts[i].text) == 0);
	}
	buf_clear(&out);
	return 0;
}
