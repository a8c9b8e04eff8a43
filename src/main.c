/* SPDX-License-Identifier: ISC */
/*
 * tern's command line: parses the subcommand and its options and hands
 * over to the module that does the work.  Nothing else lives here.
 *
 *   tern serve [-c FILE]        run the server in the foreground
 *   tern check-config [-c FILE] validate a config file
 *   tern user VERB ... [-c FILE] manage a domain's users
 *   tern queue|stats|reload ... talk to the running server
 *   tern sendmail ..., mailq     (also as argv[0]) local submission
 *   tern version | help
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "cli/cli.h"
#include "config/config.h"
#include "server/server.h"

#define TERN_VERSION "0.1.0"
#define TERN_DEFAULT_CONFIG "/etc/tern/tern.conf"
/*
 * The embedded default offers TLS and a submission port when these
 * exist; `make run` creates them (a self-signed certificate and a demo
 * account).
 */
#define TERN_DEMO_CERT "./var/tls/cert.pem"
#define TERN_DEMO_KEY "./var/tls/key.pem"
#define TERN_DEMO_USERS "./var/localhost.users"

#define EXIT_USAGE 2

static void
main_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: tern serve [-c FILE]         run the mail server "
	    "(foreground, logs to stderr)\n"
	    "       tern check-config [-c FILE]  check a configuration "
	    "file\n"
	    "       tern user add|passwd|del DOMAIN NAME [--password-stdin] "
	    "[-c FILE]\n"
	    "       tern user list DOMAIN [-c FILE]\n"
	    "       tern queue list [--json] | show ID [--json] [-c FILE]\n"
	    "       tern queue flush [ID | --domain DOMAIN] [-c FILE]\n"
	    "       tern queue hold|release|delete|bounce ID [-c FILE]\n"
	    "       tern queue reschedule ID TIME [-c FILE]\n"
	    "       tern stats [--json] [-c FILE]\n"
	    "       tern reload [-c FILE]        re-read config, users, "
	    "certificates\n"
	    "       tern sendmail [-t] [-i] [-f FROM] [-F NAME] [--at TIME] "
	    "[-C FILE] [RCPT...]\n"
	    "       tern mailq [-c FILE]         the queue, sendmail style\n"
	    "       tern version                 print the version\n"
	    "       tern help                    show this help\n"
	    "\n"
	    "serve without -c runs the embedded default configuration: an "
	    "MX on\n127.0.0.1:2525 for the domain localhost, state in "
	    "./var/.\nIf " TERN_DEMO_CERT " and " TERN_DEMO_KEY " exist "
	    "(make run creates them), it also\noffers STARTTLS and "
	    "submission on 127.0.0.1:2587 for the users in\n"
	    TERN_DEMO_USERS ".\n"
	    "The other commands read -c FILE, or $TERN_CONFIG, or "
	    TERN_DEFAULT_CONFIG ",\nor else the embedded default. TIME is "
	    "RFC 3339 (2026-12-01T09:00:00Z) or\nrelative (+90s, +30m, +2h, "
	    "+1d).\n");
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

/* What serve loaded at startup, so that a reload loads the same. */
struct main_source {
	const char *path;	/* NULL: the embedded default */
};

static bool
main_file_exists(const char *path)
{
	return access(path, R_OK) == 0;
}

static int
main_load(void *arg, struct config **cfg_r, struct buf *err)
{
	const struct main_source *src = arg;

	if (src->path != NULL)
		return config_load(src->path, cfg_r, err);
	if (main_file_exists(TERN_DEMO_CERT) && main_file_exists(TERN_DEMO_KEY))
		return config_load_default_tls(TERN_DEMO_CERT, TERN_DEMO_KEY,
		    main_file_exists(TERN_DEMO_USERS) ? TERN_DEMO_USERS : NULL,
		    cfg_r, err);
	return config_load_default(cfg_r, err);
}

static int
main_serve(int argc, char **argv)
{
	static struct main_source src;
	struct config *cfg = NULL;
	struct buf err;

	if (main_parse_config_opt(argc, argv, &src.path) == -1)
		return EXIT_USAGE;
	buf_init(&err, 256, 0);
	if (main_load(&src, &cfg, &err) == -1) {
		fprintf(stderr, "%s", buf_cstr(&err));
		fprintf(stderr, "tern: not started: configuration errors\n");
		buf_clear(&err);
		return 1;
	}
	buf_clear(&err);
	log_set_level(main_log_level(cfg->log_level));
	return server_main(cfg, main_load, &src);
}

/* The config file for commands other than serve: -c, $TERN_CONFIG, or the default. */
static const char *
main_config_path(void)
{
	const char *path = getenv("TERN_CONFIG");

	return path != NULL && *path != '\0' ? path : TERN_DEFAULT_CONFIG;
}

typedef int main_cli_fn(const struct config *cfg, int argc, char **argv);

/* Whether path exists (readable or not: an unreadable one is an error). */
static bool
main_path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 || errno != ENOENT;
}

/* sendmail options whose value is the next argument, not an option. */
static bool
main_sendmail_takes_value(const char *arg)
{
	static const char *const opts[] = { "-f", "-F", "-r", "-B", "-N",
	    "-R", "-V", "-X", "--at" };
	size_t i;

	for (i = 0; i < N_ELEMENTS(opts); i++) {
		if (strcmp(arg, opts[i]) == 0)
			return true;
	}
	return false;
}

/*
 * A command that talks to the server or edits its files: takes
 * "<opt> FILE" (-c, or -C for sendmail) anywhere among its arguments,
 * loads that config and runs fn with the other arguments.
 */
static int
main_with_config(int argc, char **argv, const char *opt, bool client,
    main_cli_fn *fn)
{
	struct main_source src = { .path = main_config_path() };
	const char *path = NULL;
	struct config *cfg = NULL;
	struct buf err;
	int i, n = 0, rc;

	for (i = 0; i < argc; i++) {
		if (opt[1] == 'C' && main_sendmail_takes_value(argv[i]) &&
		    i + 1 < argc) {
			argv[n++] = argv[i++];
			argv[n++] = argv[i];
			continue;
		}
		if (strcmp(argv[i], "--") == 0) {
			while (i < argc)
				argv[n++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], opt) == 0) {
			if (i + 1 >= argc) {
				main_usage(stderr);
				return EXIT_USAGE;
			}
			path = argv[++i];
			continue;
		}
		if (strncmp(argv[i], opt, 2) == 0 && opt[1] == 'C' &&
		    argv[i][2] != '\0') {
			path = argv[i] + 2;	/* sendmail's -Cfile */
			continue;
		}
		argv[n++] = argv[i];
	}
	/*
	 * Without -c, $TERN_CONFIG or the system config, the embedded
	 * default is meant (the server of make run).
	 */
	if (path != NULL)
		src.path = path;
	else if (getenv("TERN_CONFIG") == NULL &&
	    !main_path_exists(TERN_DEFAULT_CONFIG))
		src.path = NULL;
	buf_init(&err, 256, 0);
	if ((client ? (src.path != NULL ? config_load_client(src.path, &cfg,
	    &err) : config_load_default(&cfg, &err)) :
	    main_load(&src, &cfg, &err)) == -1) {
		fprintf(stderr, "%s", buf_cstr(&err));
		buf_clear(&err);
		/* The server checks the same file; it would refuse it too. */
		if (strcmp(argv[0], "reload") == 0)
			fprintf(stderr, "tern: reload refused, the old "
			    "configuration stays\n");
		return strcmp(opt, "-C") == 0 ? CLI_EXIT_TEMPFAIL : 1;
	}
	buf_clear(&err);
	rc = fn(cfg, n, argv);
	config_free(&cfg);
	return rc;
}

static int
main_mailq(const struct config *cfg, int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: mailq [-c FILE]\n");
		return EXIT_USAGE;
	}
	return cli_mailq(cfg);
}

static int
main_check_config(int argc, char **argv)
{
	const char *path = main_config_path();
	struct config *cfg = NULL;
	struct buf err;
	int rc;

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

	const char *name = strrchr(argv[0], '/');

	/* Installed as sendmail or mailq (make install-links). */
	name = name != NULL ? name + 1 : argv[0];
	if (strcmp(name, "sendmail") == 0)
		return main_with_config(argc, argv, "-C", true, cli_sendmail);
	if (strcmp(name, "mailq") == 0)
		return main_with_config(argc, argv, "-c", true, main_mailq);
	if (argc < 2) {
		main_usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "serve") == 0)
		return main_serve(argc - 1, argv + 1);
	if (strcmp(cmd, "check-config") == 0)
		return main_check_config(argc - 1, argv + 1);
	if (strcmp(cmd, "user") == 0)
		return main_with_config(argc - 1, argv + 1, "-c", false,
		    cli_user);
	if (strcmp(cmd, "queue") == 0 || strcmp(cmd, "stats") == 0 ||
	    strcmp(cmd, "reload") == 0)
		return main_with_config(argc - 1, argv + 1, "-c", true,
		    cli_ctl);
	if (strcmp(cmd, "sendmail") == 0)
		return main_with_config(argc - 1, argv + 1, "-C", true,
		    cli_sendmail);
	if (strcmp(cmd, "mailq") == 0)
		return main_with_config(argc - 1, argv + 1, "-c", true,
		    main_mailq);
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
