/* SPDX-License-Identifier: ISC */
/*
 * Subcommands of the tern binary that are not the server itself.  Each
 * takes the argument vector after the subcommand name and returns the
 * process exit status (0 ok, 1 failure, 2 usage).
 */
#ifndef TERN_CLI_CLI_H
#define TERN_CLI_CLI_H

#include <stdbool.h>

struct buf;
struct config;

#define CLI_EXIT_USAGE 2
/* EX_TEMPFAIL of sysexits.h: try again later (server down, disk full). */
#define CLI_EXIT_TEMPFAIL 75
/* EX_NOPERM: the socket is not this user's to use. */
#define CLI_EXIT_NOPERM 77

/*
 * tern user add|passwd|del|list ...: edits a domain's users file
 * atomically.  cfg tells where each domain's users file is.
 */
int cli_user(const struct config *cfg, int argc, char **argv);

/*
 * tern queue ..., tern stats, tern reload: argv[0] is "queue", "stats"
 * or "reload".  Exit 0, 1 (refused), 2 (usage), 75 (server not running
 * or busy), 77 (no permission to use the control socket).
 */
int cli_ctl(const struct config *cfg, int argc, char **argv);
/* mailq (sendmail -bp): the queue in the familiar layout. */
int cli_mailq(const struct config *cfg);
/*
 * tern sendmail, or the binary called as sendmail: see cli_sendmail.c.
 * argv[0] is the name it was called by.
 */
int cli_sendmail(const struct config *cfg, int argc, char **argv);

/*
 * Sends request to the server's socket_name in cfg's spool and prints
 * the answer (the payload to stdout; the status text to stderr unless
 * it is "ok" and quiet).  who prefixes messages.  Returns the exit
 * status as above.
 */
int cli_ctl_call(const struct config *cfg, const char *socket_name,
    const struct buf *request, const char *who, bool quiet);

#endif
