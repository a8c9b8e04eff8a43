/* SPDX-License-Identifier: ISC */
/*
 * The server: binds the listeners, drops privileges, recovers the spool
 * and runs the event loop that carries every SMTP session.  This is the
 * glue between the network (libevent) and the pure protocol core, the
 * policy, the spool and the queue.
 */
#ifndef TERN_SERVER_SERVER_H
#define TERN_SERVER_SERVER_H

#include "core/compat.h"

struct buf;
struct config;

/*
 * Loads the configuration: the same file, or the same embedded default,
 * each time it is called (startup and every reload).  0, or -1 with
 * "FILE:LINE: ..." lines in err.
 */
typedef int server_load_fn(void *arg, struct config **cfg_r,
    struct buf *err);

/*
 * Runs tern until SIGTERM or SIGINT; SIGHUP reloads the configuration,
 * users, aliases and certificates through load, keeping the old ones
 * when the new ones are invalid.  Takes ownership of cfg (the first
 * load's result).  Returns the process exit status: 0 after a clean
 * shutdown, 1 when startup failed (the reason has been logged).
 */
int server_main(struct config *cfg, server_load_fn *load, void *load_arg);

#endif
