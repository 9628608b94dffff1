/* log_episode.c — see log_episode.h. */
#include <stdarg.h>
#include <stdio.h>

#include "log_episode.h"

/* Room for one message; a longer one is cut, which the log's lines allow. */
#define MESSAGE_MAX 1024

void log_episode_failed(struct log_episode *episode, uint64_t now_us, enum log_level level, const char *format, ...)
{
	char message[MESSAGE_MAX];
	va_list args;
	va_start(args, format);
	vsnprintf(message, sizeof(message), format, args);
	va_end(args);

	episode->failures++;
	episode->failing = true;
	/* Said when nothing of this failing was said yet and the last
	 * beginning said is a quiet period ago: an episode that began within
	 * it is said once the period is over, if it is still failing. */
	bool quiet_over = episode->said_us == 0 || now_us - episode->said_us >= LOG_EPISODE_QUIET_US;
	if (!episode->said && quiet_over) {
		log_message(level, "%s", message);
		episode->said = true;
		episode->said_us = now_us > 0 ? now_us : 1;
		return;
	}
	log_debug("%s (again: %llu failures so far)", message, (unsigned long long)episode->failures);
}

void log_episode_ended(struct log_episode *episode, const char *format, ...)
{
	if (!episode->failing)
		return;
	episode->failing = false;
	/* Not said: nor is its end; its failures count into the next end said. */
	if (!episode->said)
		return;
	char message[MESSAGE_MAX];
	va_list args;
	va_start(args, format);
	vsnprintf(message, sizeof(message), format, args);
	va_end(args);
	log_info("%s, after %llu failure%s", message, (unsigned long long)episode->failures,
	         episode->failures == 1 ? "" : "s");
	episode->said = false;
	episode->failures = 0;
}

bool log_episode_failing(const struct log_episode *episode)
{
	return episode->failing;
}
