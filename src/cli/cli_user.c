/* SPDX-License-Identifier: ISC */
/*
 * tern user add DOMAIN NAME, passwd DOMAIN NAME, del DOMAIN NAME,
 * list DOMAIN: manage the users of a domain's Dovecot passwd-file.
 * Passwords are read from the terminal twice with echo off, or once
 * from stdin with --password-stdin, and wiped after hashing.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth/auth.h"
#include "auth/auth_userfile.h"
#include "core/buf.h"
#include "core/compat.h"
#include "core/str.h"
#include "config/config.h"

#define CLI_USER_EXIT_USAGE 2

static void
cli_user_usage(void)
{
	fprintf(stderr,
	    "usage: tern user add DOMAIN NAME [--password-stdin] [-c FILE]\n"
	    "       tern user passwd DOMAIN NAME [--password-stdin] "
	    "[-c FILE]\n"
	    "       tern user del DOMAIN NAME [-c FILE]\n"
	    "       tern user list DOMAIN [-c FILE]\n");
}

/* Reads one line without its newline; -1 at EOF or if it is too long. */
static int
cli_user_read_line(FILE *fp, char *line, size_t size)
{
	size_t len;

	if (fgets(line, (int)size, fp) == NULL)
		return -1;
	len = strlen(line);
	if (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	else if (!feof(fp))
		return -1;
	return 0;
}

/* Prompts on the terminal with echo off. */
static int
cli_user_prompt(const char *prompt, char *line, size_t size)
{
	struct termios old, quiet;
	int rc;

	fprintf(stderr, "%s", prompt);
	fflush(stderr);
	if (tcgetattr(STDIN_FILENO, &old) == -1)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == -1)
		return -1;
	rc = cli_user_read_line(stdin, line, size);
	(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fprintf(stderr, "\n");
	return rc;
}

/* The new password: twice from a terminal, or once from stdin. */
static int
cli_user_get_password(bool from_stdin, char *pw, size_t size)
{
	char again[AUTH_PASSWORD_MAX_BYTES + 2];
	int rc = -1;

	if (from_stdin || !isatty(STDIN_FILENO)) {
		if (cli_user_read_line(stdin, pw, size) == -1) {
			fprintf(stderr, "tern user: no password on stdin\n");
			return -1;
		}
		return 0;
	}
	if (cli_user_prompt("Password: ", pw, size) == -1 ||
	    cli_user_prompt("Password again: ", again, sizeof(again)) == -1)
		fprintf(stderr, "tern user: cannot read the password\n");
	else if (strcmp(pw, again) != 0)
		fprintf(stderr, "tern user: the passwords differ\n");
	else
		rc = 0;
	explicit_bzero(again, sizeof(again));
	return rc;
}

static void
cli_user_print(void *arg, const char *name, const char *scheme)
{
	(void)arg;
	printf("%s%s%s\n", name, *scheme != '\0' ? " " : " (no login)",
	    scheme);
}

/* Sets a password for add and passwd. */
static int
cli_user_set_password(const struct config_domain *d, const char *name,
    enum auth_userfile_mode mode, bool from_stdin, struct buf *err)
{
	char pw[AUTH_PASSWORD_MAX_BYTES + 2];
	struct buf hash;
	int rc = -1;

	buf_init(&hash, 256, 1024);
	if (cli_user_get_password(from_stdin, pw, sizeof(pw)) == -1)
		goto out;
	if (pw[0] == '\0' || auth_userfile_hash_password(pw, &hash) == -1) {
		fprintf(stderr, "tern user: empty or unusable password\n");
		goto out;
	}
	rc = auth_userfile_set(
	    d->users_path, d->name, name, buf_cstr(&hash), mode, err);
out:
	explicit_bzero(pw, sizeof(pw));
	buf_clear_secret(&hash);
	return rc;
}

int
cli_user(const struct config *cfg, int argc, char **argv)
{
	const struct config_domain *d;
	const char *verb, *name = NULL;
	bool from_stdin = false;
	struct buf err;
	int i, rc, nargs;

	/* argv[0] is "user"; options may come anywhere. */
	for (i = 1, nargs = 0; i < argc; i++) {
		if (strcmp(argv[i], "--password-stdin") == 0)
			from_stdin = true;
		else
			argv[++nargs] = argv[i];
	}
	if (nargs < 2) {
		cli_user_usage();
		return CLI_USER_EXIT_USAGE;
	}
	verb = argv[1];
	if ((strcmp(verb, "list") == 0) != (nargs == 2) || nargs > 3) {
		cli_user_usage();
		return CLI_USER_EXIT_USAGE;
	}
	d = config_find_domain(cfg, argv[2]);
	if (d == NULL) {
		fprintf(stderr, "tern user: %s: not a domain of %s\n", argv[2],
		    cfg->path);
		return 1;
	}
	if (d->users_path == NULL) {
		fprintf(stderr, "tern user: domain %s has no users file "
		    "(set users = ... in [domain %s])\n", d->name, d->name);
		return 1;
	}
	if (nargs == 3) {
		name = argv[3];
		if (!auth_userfile_name_is_valid(name)) {
			fprintf(stderr, "tern user: %s: invalid name (use "
			    "a-z, 0-9, '.', '_', '-')\n", name);
			return 1;
		}
	}
	buf_init(&err, 128, 0);
	if (strcmp(verb, "add") == 0)
		rc = cli_user_set_password(d, name,
		    AUTH_USERFILE_ADD, from_stdin, &err);
	else if (strcmp(verb, "passwd") == 0)
		rc = cli_user_set_password(d, name,
		    AUTH_USERFILE_CHANGE, from_stdin, &err);
	else if (strcmp(verb, "del") == 0)
		rc = auth_userfile_del(d->users_path, d->name, name, &err);
	else if (strcmp(verb, "list") == 0)
		rc = auth_userfile_list(d->users_path, cli_user_print, NULL,
		    &err);
	else {
		buf_clear(&err);
		cli_user_usage();
		return CLI_USER_EXIT_USAGE;
	}
	if (rc == -1 && err.len > 0)
		fprintf(stderr, "tern user: %s\n", buf_cstr(&err));
	else if (rc == 0 && strcmp(verb, "list") != 0)
		printf("%s %s@%s: done\n", verb, name, d->name);
	buf_clear(&err);
	return rc == 0 ? 0 : 1;
}
