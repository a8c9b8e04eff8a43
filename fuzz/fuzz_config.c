/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the config loader (inih pass, typing pass and
 * combination checks) through config_load_string().  A load either
 * succeeds with the invariants the rest of tern relies on, or fails with
 * at least one "NAME:LINE: ..." line; either way nothing leaks.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Bounded input: a config is small, and inih's cost is linear. */
#define FUZZ_CONFIG_MAX_BYTES 65536

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = NULL;
	struct buf err;
	char *text;
	size_t i;

	if (size > FUZZ_CONFIG_MAX_BYTES)
		return 0;
	text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	buf_init(&err, 0, 0);
	if (config_load_string("fuzz.conf", text, &cfg, &err) == -1) {
		ASSERT(cfg == NULL);
		ASSERT(strncmp(buf_cstr(&err), "fuzz.conf:", 10) == 0);
		ASSERT(err.data[err.len - 1] == '\n');
	} else {
		ASSERT(err.len == 0);
		ASSERT(cfg->n_listens > 0 && cfg->n_domains > 0);
		ASSERT(cfg->primary_domain != NULL);
		ASSERT(cfg->max_line_length >= 512);
		for (i = 0; i < cfg->n_listens; i++)
			ASSERT(cfg->listens[i].host != NULL &&
			    cfg->listens[i].port != NULL);
		for (i = 0; i < cfg->n_domains; i++) {
			ASSERT(i == 0 || strcmp(cfg->domains[i - 1].name,
			    cfg->domains[i].name) < 0);
			ASSERT(config_find_domain(cfg,
			    cfg->domains[i].name) == &cfg->domains[i]);
		}
	}
	config_free(&cfg);
	buf_clear(&err);
	free(text);
	return 0;
}
