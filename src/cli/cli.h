/* SPDX-License-Identifier: ISC */
/*
 * Subcommands of the tern binary that are not the server itself.  Each
 * takes the argument vector after the subcommand name and returns the
 * process exit status (0 ok, 1 failure, 2 usage).
 */
#ifndef TERN_CLI_CLI_H
#define TERN_CLI_CLI_H

struct config;

/*
 * tern user add|passwd|del|list ...: edits a domain's users file
 * atomically.  cfg tells where each domain's users file is.
 */
int cli_user(const struct config *cfg, int argc, char **argv);

#endif
