/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for control requests (ctl/ctl.h), which local users
 * send to submit.sock.  Any input parses or fails without a crash or a
 * leak; a parsed request keeps its limits and its fields are clean.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "ctl/ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct ctl_limits lim = { .max_data = 4096, .max_rcpts = 8 };
	struct ctl_request req;
	struct buf err;
	size_t i;
	int rc;

	buf_init(&err, 0, 512);
	ctl_request_init(&req);
	rc = ctl_request_parse(data, size, &lim, &req, &err);
	ASSERT(rc >= -1 && rc <= 1);
	if (rc == 1) {
		ASSERT(req.head_len <= size);
		ASSERT(req.verb[0] != '\0' && strchr(req.verb, ' ') == NULL);
		ASSERT(req.argc <= CTL_ARGS_MAX);
		for (i = 0; i < req.argc; i++)
			ASSERT(ctl_word_is_valid(req.argv[i]));
		if (strcmp(req.verb, "submit") == 0) {
			ASSERT(req.from != NULL);
			ASSERT(req.n_rcpts >= 1 && req.n_rcpts <= lim.max_rcpts);
			ASSERT(req.data_len <= lim.max_data);
			for (i = 0; i < req.n_rcpts; i++)
				ASSERT(ctl_addr_is_valid(req.rcpts[i]));
		}
	} else {
		ASSERT(req.argc == 0 && req.from == NULL && req.rcpts == NULL);
	}
	ctl_request_clear(&req);
	buf_clear(&err);
	return 0;
}
