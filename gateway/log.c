/* log.c — see log.h.  Stateless: the debug switch is read from the
 * environment (TRYGGD_DEBUG) and where stderr goes is looked at for each
 * message, so no module needs a global. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* systemd sets JOURNAL_STREAM to "DEVICE:INODE" of the journal's stream
 * when it connects stdout or stderr to it; the variable alone is not
 * enough, since children inherit it while their stderr goes elsewhere (a
 * file, a pipe of a test).  The same check as sd_journal_stream_fd's
 * users make. */
static bool stderr_is_journal(void)
{
	const char *stream = getenv("JOURNAL_STREAM");
	uint64_t device, inode;
	char rest;
	struct stat status;
	if (!stream || sscanf(stream, "%" SCNu64 ":%" SCNu64 "%c", &device, &inode, &rest) != 2)
		return false;
	if (fstat(STDERR_FILENO, &status) < 0)
		return false;
	return (uint64_t)status.st_dev == device && (uint64_t)status.st_ino == inode;
}

void log_message(enum log_level level, const char *fmt, ...)
{
	if (level == LOG_LEVEL_DEBUG && !getenv("TRYGGD_DEBUG"))
		return;

	va_list args;
	va_start(args, fmt);
	flockfile(stderr);
	if (stderr_is_journal()) {
		/* journald reads "<N>" as the priority and stamps the time and
		 * the program's name itself. */
		fprintf(stderr, "<%d>", (int)level);
	} else {
		/* A board runs for years and its log goes to files: each line
		 * says when, in the board's local time, to the millisecond. */
		struct timespec now;
		struct tm local;
		char stamp[32] = "";
		clock_gettime(CLOCK_REALTIME, &now);
		if (localtime_r(&now.tv_sec, &local))
			strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &local);
		const char *prefix = level == LOG_LEVEL_ERROR ? "error: " : level == LOG_LEVEL_WARNING ? "warning: " : "";
		fprintf(stderr, "%s.%03ld tryggd: %s", stamp, now.tv_nsec / 1000000, prefix);
	}
	vfprintf(stderr, fmt, args);
	fputc('\n', stderr);
	funlockfile(stderr);
	va_end(args);
}
