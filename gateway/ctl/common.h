/* common.h — what every tryggctl subcommand shares: the entry point each
 * one provides, the exit statuses, and the small helpers for messages and
 * output, in the manner of libgpiod's tools-common.
 *
 * Every subcommand runs as SUBCOMMAND(argc, argv) with argv[0] its own name
 * ("probe"), parses its options with getopt_long, and returns an exit
 * status from <sysexits.h>.  Nothing here keeps a pointer to its arguments. */
#ifndef TRYGGCTL_COMMON_H
#define TRYGGCTL_COMMON_H

#include <stdio.h>
#include <sysexits.h>

#define CTL_PROGRAM "tryggctl"

/* A subcommand's entry: argv[0] is the subcommand's name. */
typedef int (*ctl_command)(int argc, char *argv[]);

/* The subcommands of this version (one file each). */
int ctl_probe(int argc, char *argv[]);
int ctl_watch(int argc, char *argv[]);

/* "tryggctl COMMAND: message" on stderr ("tryggctl: message" when command
 * is NULL, for the program itself). */
void ctl_error(const char *command, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* The same, then where to find the usage; returns EX_USAGE for the caller
 * to return. */
int ctl_usage_error(const char *command, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* getopt_long just refused an option (returned '?' or ':' with opterr
 * off, so that the messages are ours): say which, as the user wrote it,
 * and where to find the usage; returns EX_USAGE for the caller to return.
 * option is what getopt_long returned; short_options its optstring. */
int ctl_option_error(const char *command, int option, char *argv[], const char *short_options);

/* The exit status for a negative errno that stopped a subcommand: EX_IOERR
 * for input and output errors, EX_OSERR for a lack of memory or another
 * resource, EX_SOFTWARE otherwise. */
int ctl_status_of_error(int error);

/* What a subcommand that asks the store (setup-influx, report) exits with
 * when it stopped with error, 0 or a negative errno as influx_query()
 * gives them: 0 for 0; CTL_EX_REFUSED for -EREMOTEIO (a statement refused,
 * its reason shown); EX_UNAVAILABLE for -EHOSTUNREACH, -EACCES and -EPROTO
 * (no answer, credentials refused, not the store it should be);
 * EX_NOINPUT for -ENOENT (a credentials file that cannot be read);
 * EX_USAGE for -EINVAL; otherwise "cannot go on" with the reason on stderr
 * and ctl_status_of_error(). */
#define CTL_EX_REFUSED 1
int ctl_status_of_store_error(const char *command, int error);

/* Flush out and tell whether everything written reached it: status, or
 * EX_IOERR with a message when it did not (a full disk, a closed pipe). */
int ctl_finish_output(const char *command, FILE *out, int status);

/* path made absolute against the current directory when it is relative
 * (without resolving links, so it reads as the user wrote it), and without
 * trailing slashes.  0 with *absolute allocated (the caller frees it), or a
 * negative errno. */
int ctl_absolute_path(const char *path, char **absolute);

#endif
