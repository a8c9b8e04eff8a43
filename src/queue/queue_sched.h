/* SPDX-License-Identifier: ISC */
/*
 * The queue's scheduling decisions as pure functions of their inputs
 * (times are passed in), so that unit tests can check them without a
 * spool, a loop or a network: retry backoff, expiry, the delay-warning
 * moment, grouping of remote targets per domain and the count of
 * Received header fields for loop detection.
 */
#ifndef TERN_QUEUE_QUEUE_SCHED_H
#define TERN_QUEUE_QUEUE_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/compat.h"

/* Largest header section read to count Received fields. */
#define QUEUE_SCHED_HEADER_MAX_BYTES ((size_t)256 * 1024)

/*
 * The delay before the next attempt after attempts (>= 1) attempts that
 * failed temporarily: min_retry, doubled for each further attempt,
 * capped at max_retry (RFC 5321 4.5.4.1).  Never below 1 second.
 */
uint64_t queue_sched_backoff(uint64_t min_retry, uint64_t max_retry,
    uint32_t attempts);

/* Whether a message that arrived at arrival is too old at now. */
bool queue_sched_is_expired(time_t arrival, time_t now, uint64_t max_age);

/*
 * Whether the one delay warning is due at now: enabled (delay_warning >
 * 0), not sent yet, some target deferred, and the message old enough.
 */
bool queue_sched_is_delay_due(time_t arrival, time_t now,
    uint64_t delay_warning, bool warned, bool any_deferred);

/*
 * Groups n domains (compared ignoring ASCII case): group_r[i] is the
 * number of the group of domains[i], numbered in order of first
 * appearance.  Returns the number of groups.
 */
size_t queue_sched_group(const char *const *domains, size_t n,
    size_t *group_r);

/*
 * Counts "Received:" header fields (name matched ignoring case, at the
 * start of a line; folded continuation lines do not count) in the
 * header section at the start of content[len]; counting stops at the
 * empty line that ends it.
 */
size_t queue_sched_count_received(const uint8_t *content, size_t len);

#endif
