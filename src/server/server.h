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

struct config;

/*
 * Runs tern until SIGTERM or SIGINT.  Takes ownership of cfg.  Returns
 * the process exit status: 0 after a clean shutdown, 1 when startup
 * failed (the reason has been logged).
 */
int server_main(struct config *cfg);

#endif
