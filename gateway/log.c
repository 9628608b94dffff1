/* log.c — see log.h.  Stateless: the debug switch is read from the
 * environment (TRYGGD_DEBUG) so no module needs a global. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

void log_message(enum log_level level, const char *fmt, ...)
{
	if (level == LOG_LEVEL_DEBUG && !getenv("TRYGGD_DEBUG"))
		return;

	/* journald reads "<N>" as the priority; on a terminal it is noise. */
	const char *prefix = "";
	if (getenv("JOURNAL_STREAM")) {
		static const char *const priorities[] = { "<0>", "<1>", "<2>", "<3>", "<4>", "<5>", "<6>", "<7>" };
		prefix = priorities[level];
	} else if (level == LOG_LEVEL_ERROR) {
		prefix = "error: ";
	} else if (level == LOG_LEVEL_WARNING) {
		prefix = "warning: ";
	}

	va_list args;
	va_start(args, fmt);
	flockfile(stderr);
	fprintf(stderr, "tryggd: %s", prefix);
	vfprintf(stderr, fmt, args);
	fputc('\n', stderr);
	funlockfile(stderr);
	va_end(args);
}
