/* SPDX-License-Identifier: ISC */
/*
 * tern's command line: parses the subcommand and its options and hands
 * over to the module that does the work.  Nothing else lives here.
 *
 *   tern serve [-c FILE]        run the server in the foreground
 *   tern check-config [-c FILE] validate a config file
 *   tern version | help
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "config/config.h"
#include "server/server.h"

#define TERN_VERSION "0.1.0"
#define TERN_DEFAULT_CONFIG "/etc/tern/tern.conf"

#define EXIT_USAGE 2

static void
main_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: tern serve [-c FILE]         run the mail server "
	    "(foreground, logs to stderr)\n"
	    "       tern check-config [-c FILE]  check a configuration "
	    "file\n"
	    "       tern version                 print the version\n"
	    "       tern help                    show this help\n"
	    "\n"
	    "serve without -c runs the embedded default configuration: an "
	    "MX on\n127.0.0.1:2525 for the domain localhost, state in "
	    "./var/.\ncheck-config without -c checks $TERN_CONFIG, or "
	    TERN_DEFAULT_CONFIG ".\n");
}

/*
 * Parses "-c FILE" (the only option the subcommands take so far).
 * Returns 0, or -1 after printing usage.
 */
static int
main_parse_config_opt(int argc, char **argv, const char **path_r)
{
	int ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt(argc, argv, "+c:")) != -1) {
		switch (ch) {
		case 'c':
			*path_r = optarg;
			break;
		default:
			fprintf(stderr, "tern %s: unknown option or missing "
			    "argument: -%c\n", argv[0], optopt);
			main_usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "tern %s: unexpected argument: %s\n", argv[0],
		    argv[optind]);
		main_usage(stderr);
		return -1;
	}
	return 0;
}

static enum log_level
main_log_level(const char *name)
{
	static const struct {
		const char *name;
		enum log_level level;
	} levels[] = {
		{ "debug", LOG_LEVEL_DEBUG },
		{ "info", LOG_LEVEL_INFO },
		{ "notice", LOG_LEVEL_NOTICE },
		{ "warn", LOG_LEVEL_WARN },
		{ "err", LOG_LEVEL_ERR },
	};
	size_t i;

	for (i = 0; name != NULL && i < N_ELEMENTS(levels); i++) {
		if (strcmp(levels[i].name, name) == 0)
			return levels[i].level;
	}
	return LOG_LEVEL_INFO;
}

static int
main_serve(int argc, char **argv)
{
	const char *path = NULL;
	struct config *cfg = NULL;
	struct buf err;
	int rc;

	if (main_parse_config_opt(argc, argv, &path) == -1)
		return EXIT_USAGE;
	buf_init(&err, 256, 0);
	rc = path != NULL ? config_load(path, &cfg, &err) :
	    config_load_default(&cfg, &err);
	if (rc == -1) {
		fprintf(stderr, "%s", buf_cstr(&err));
		fprintf(stderr, "tern: not started: configuration errors\n");
		buf_clear(&err);
		return 1;
	}
	buf_clear(&err);
	log_set_level(main_log_level(cfg->log_level));
	return server_main(cfg);
}

static int
main_check_config(int argc, char **argv)
{
	const char *path = getenv("TERN_CONFIG");
	struct config *cfg = NULL;
	struct buf err;
	int rc;

	if (path == NULL || *path == '\0')
		path = TERN_DEFAULT_CONFIG;
	if (main_parse_config_opt(argc, argv, &path) == -1)
		return EXIT_USAGE;
	buf_init(&err, 256, 0);
	rc = config_load(path, &cfg, &err);
	if (rc == -1) {
		fprintf(stdout, "%s", buf_cstr(&err));
		buf_clear(&err);
		return 1;
	}
	printf("ok\n");
	config_free(&cfg);
	buf_clear(&err);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		main_usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "serve") == 0)
		return main_serve(argc - 1, argv + 1);
	if (strcmp(cmd, "check-config") == 0)
		return main_check_config(argc - 1, argv + 1);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("tern %s\n", TERN_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "-h") == 0) {
		main_usage(stdout);
		return 0;
	}
	fprintf(stderr, "tern: unknown command: %s\n", cmd);
	main_usage(stderr);
	return EXIT_USAGE;
}
