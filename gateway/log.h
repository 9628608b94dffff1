/* log.h — messages to stderr, one line each.  Under journald (stderr is
 * the stream JOURNAL_STREAM names) a line starts with its syslog priority,
 * "<4>", so the journal keeps it and adds the time itself; anywhere else
 * (a terminal, a file a shell redirected to) with the local time to the
 * millisecond and "tryggd: ", then "error: " or "warning: " for those:
 *
 *     2026-11-30 14:03:05.123 tryggd: warning: store: ...
 *
 * Debug messages only when TRYGGD_DEBUG is set (main.c sets it for -v). */
#ifndef TRYGGD_LOG_H
#define TRYGGD_LOG_H

enum log_level { LOG_LEVEL_ERROR = 3, LOG_LEVEL_WARNING = 4, LOG_LEVEL_INFO = 6, LOG_LEVEL_DEBUG = 7 };

void log_message(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_message(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_message(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_info(...) log_message(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_message(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
