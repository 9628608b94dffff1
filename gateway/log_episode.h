/* log_episode.h — a failure that repeats, said once an episode rather than
 * once a try: a full disk refuses every write until space is freed, and
 * a line per batch or per retry would fill the very log that should say so.
 *
 *   - the first failure of an episode is logged at the caller's level;
 *     the ones after it are counted and logged at debug (-v);
 *   - a success ends the episode with one info line: the caller's text
 *     and how many times it failed;
 *   - a disk that is nearly full takes one write and refuses the next, and
 *     each turn would be an episode: a beginning is said at most once
 *     every LOG_EPISODE_QUIET_US.  An episode that begins sooner is not
 *     said, nor is its end; its failures go into the count of the next
 *     end that is said.
 *
 * Times are CLOCK_MONOTONIC in µs, the loop's (sd_event_now); log volume
 * is a matter of real time, also in a simulation.  A struct log_episode
 * is a plain value, zeroed to start. */
#ifndef TRYGGD_LOG_EPISODE_H
#define TRYGGD_LOG_EPISODE_H

#include <stdbool.h>
#include <stdint.h>

#include "log.h"

#define LOG_EPISODE_QUIET_US (60 * UINT64_C(1000000))

struct log_episode {
	bool failing;                /* an episode is under way */
	bool said;                   /* the beginning of the one under way, or of one since the last end said */
	uint64_t failures;           /* since the last end that was said */
	uint64_t said_us;            /* when a beginning was last said; 0: never */
};

/* A failure at now_us: the message at level when it begins an episode
 * (and may be said), at debug otherwise. */
void log_episode_failed(struct log_episode *episode, uint64_t now_us, enum log_level level, const char *format, ...)
	__attribute__((format(printf, 4, 5)));

/* A success: when it ends an episode that was said, the message at info
 * with ", after N failures" added.  Nothing otherwise. */
void log_episode_ended(struct log_episode *episode, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* Whether an episode is under way. */
bool log_episode_failing(const struct log_episode *episode);

#endif
