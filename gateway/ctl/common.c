/* common.c — see common.h: messages, exit statuses and paths shared by the
 * tryggctl subcommands.  Nothing here is allocated but the path
 * ctl_absolute_path() hands to its caller. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

static void verror(const char *command, const char *format, va_list arguments)
{
	if (command)
		fprintf(stderr, "%s %s: ", CTL_PROGRAM, command);
	else
		fprintf(stderr, "%s: ", CTL_PROGRAM);
	vfprintf(stderr, format, arguments);
	fputc('\n', stderr);
}

void ctl_error(const char *command, const char *format, ...)
{
	va_list arguments;
	va_start(arguments, format);
	verror(command, format, arguments);
	va_end(arguments);
}

int ctl_usage_error(const char *command, const char *format, ...)
{
	va_list arguments;
	va_start(arguments, format);
	verror(command, format, arguments);
	va_end(arguments);
	fprintf(stderr, "Try '%s %s --help'.\n", CTL_PROGRAM, command);
	return EX_USAGE;
}

/* The refused option as the user wrote it: "-x" for an unknown short
 * one, spelled into buffer, else the word at argv[optind - 1]. */
static const char *bad_option(char *argv[], const char *short_options, char buffer[3])
{
	/* An unknown short option leaves its character in optopt, and optind
	 * may still be on its word (a bundle such as "-qx").  A refused long
	 * option leaves 0 or its value in optopt, which may be the character
	 * of a known short option ("--help=1" gives 'h'), with optind past its
	 * word. */
	if (optopt > ' ' && optopt < 0x7f && !strchr(short_options, optopt)) {
		buffer[0] = '-';
		buffer[1] = (char)optopt;
		buffer[2] = '\0';
		return buffer;
	}
	return optind > 0 ? argv[optind - 1] : "?";
}

int ctl_option_error(const char *command, int option, char *argv[], const char *short_options)
{
	char spelled[3];
	const char *word = bad_option(argv, short_options, spelled);
	if (option == ':')
		return ctl_usage_error(command, "option %s needs a value", word);
	return ctl_usage_error(command, "unknown option %s", word);
}

int ctl_status_of_error(int error)
{
	switch (error) {
	case -EIO:
	case -ENOSPC:
	case -EPIPE:
		return EX_IOERR;
	case -ENOMEM:
	case -EMFILE:
	case -ENFILE:
		return EX_OSERR;
	default:
		return EX_SOFTWARE;
	}
}

int ctl_status_of_store_error(const char *command, int error)
{
	switch (error) {
	case 0:
		return 0;
	case -EREMOTEIO:
		return CTL_EX_REFUSED;
	case -EHOSTUNREACH:
	case -EACCES:
	case -EPROTO:
		return EX_UNAVAILABLE;
	case -ENOENT:
		return EX_NOINPUT;
	case -EINVAL:
		return EX_USAGE;
	default:
		ctl_error(command, "cannot go on: %s", strerror(-error));
		return ctl_status_of_error(error);
	}
}

int ctl_finish_output(const char *command, FILE *out, int status)
{
	/* ferror() first: a write that failed earlier is not undone by a
	 * successful flush of what came after. */
	if (ferror(out) || fflush(out) != 0) {
		ctl_error(command, "cannot write the output: %s", strerror(errno ? errno : EIO));
		return status == 0 ? EX_IOERR : status;
	}
	return status;
}

int ctl_absolute_path(const char *path, char **absolute)
{
	char *joined = NULL;
	*absolute = NULL;
	if (path[0] == '/') {
		joined = strdup(path);
	} else {
		char *directory = getcwd(NULL, 0);
		if (!directory)
			return -errno;
		while (strncmp(path, "./", 2) == 0)
			path += 2;
		if (strcmp(path, ".") == 0 || path[0] == '\0')
			joined = strdup(directory);
		else if (asprintf(&joined, "%s/%s", directory, path) < 0)
			joined = NULL;
		free(directory);
	}
	if (!joined)
		return -ENOMEM;
	size_t length = strlen(joined);
	while (length > 1 && joined[length - 1] == '/')
		joined[--length] = '\0';
	*absolute = joined;
	return 0;
}
