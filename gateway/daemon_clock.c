/* daemon_clock.c — the daemon's side of clock sanity (clock_trust.h): may a
 * window closing now be stamped with its time, and what a step of the
 * clock does to the open window.
 *
 * Drop with a count, not hold and restamp: a window opened or closed
 * while the clock is untrusted has no time it could be given later (the
 * step that corrects the clock is not always one, and need not come), so
 * it is not stamped: no message, no point, counted in unstamped_windows.
 * Readings are not published meanwhile either (counted in the log).  The
 * trust is polled at every window boundary and at every step.
 *
 * A step cuts the open window at the step (its coverage says how much of
 * it was read) and opens the window that holds the new time; the window
 * timer moves to that window's end.  Forward: the windows jumped over did
 * not happen and are not sent.  Back: a window starting before the end of
 * the last one sent would replace a point already stored (same series and
 * timestamp), so windows are not stamped, and counted, until the clock
 * has passed it again.
 *
 * It only uses what daemon.c set up: the daemon owns everything here. */
#include <stdio.h>
#include <stdlib.h>

#include "daemon_internal.h"
#include "log.h"
#include "schedule.h"
#include "timefmt.h"

void daemon_clock_start(struct daemon *daemon)
{
	const struct config *config = daemon->config;
	daemon->clock_trust = (struct clock_trust){
		.mode = config->gateway.clock,
		.floor_ms = clock_trust_build_floor_ms(),
		.simulated = config->has_simulation,
		.synchronised_at_ms = config->simulation.clock_synchronised_at_ms,
	};
	daemon->clock_trusted = true;
	daemon_clock_poll(daemon, schedule_now(daemon->schedule));
	daemon->window_opened_trusted = daemon->clock_trusted;
}

void daemon_clock_poll(struct daemon *daemon, int64_t now_ms)
{
	bool trusted = clock_trust_now(&daemon->clock_trust, now_ms);
	if (trusted == daemon->clock_trusted)
		return;
	daemon->clock_trusted = trusted;
	char now[TIMEFMT_RFC3339_SIZE];
	timefmt_rfc3339(now_ms, now);
	if (!trusted) {
		daemon->untrusted_windows_episode = 0;
		daemon->untrusted_readings_episode = 0;
		log_warning("the clock is not synchronised (it reads %s); windows are not stamped and readings not "
		            "published until it is (dropped, counted in unstamped_windows)", now);
	} else {
		/* Said once the windows closing now are counted. */
		daemon->trusted_since_ms = now_ms;
		daemon->trust_to_announce = true;
	}
	daemon_notify_status(daemon);
}

void daemon_clock_announce(struct daemon *daemon)
{
	if (!daemon->trust_to_announce)
		return;
	daemon->trust_to_announce = false;
	char since[TIMEFMT_RFC3339_SIZE];
	timefmt_rfc3339(daemon->trusted_since_ms, since);
	log_info("the clock is synchronised (it read %s): windows are stamped again from the next one; "
	         "%llu windows were not stamped, %llu readings not published",
	         since, (unsigned long long)daemon->untrusted_windows_episode,
	         (unsigned long long)daemon->untrusted_readings_episode);
}

bool daemon_clock_may_stamp(struct daemon *daemon, int64_t start_ms, bool count)
{
	bool trusted = daemon->window_opened_trusted && daemon->clock_trusted;
	/* Only a step back makes a window start again where one was sent;
	 * otherwise a window stamped for one sensor (a reload cut it) is
	 * still open for the others. */
	bool after_last = start_ms >= daemon->step_guard_until_ms;
	if (trusted && after_last) {
		if (daemon->step_dropped_episode > 0)
			log_info("the clock has passed the last window sent before it stepped back; "
			         "%llu windows in between were not stamped", (unsigned long long)daemon->step_dropped_episode);
		daemon->step_dropped_episode = 0;
		if (start_ms + daemon->window_ms > daemon->stamped_until_ms)
			daemon->stamped_until_ms = start_ms + daemon->window_ms;
		return true;
	}
	if (count) {
		daemon->unstamped_windows++;
		if (!trusted)
			daemon->untrusted_windows_episode++;
		else
			daemon->step_dropped_episode++;
	}
	return false;
}

bool daemon_clock_may_publish(struct daemon *daemon)
{
	if (daemon->clock_trusted)
		return true;
	daemon->untrusted_readings_episode++;
	return false;
}

void daemon_on_clock_step(void *userdata, int64_t step_ms, int64_t before_ms, int64_t now_ms)
{
	struct daemon *daemon = userdata;
	char before[TIMEFMT_RFC3339_SIZE], now[TIMEFMT_RFC3339_SIZE];
	timefmt_rfc3339(before_ms, before);
	timefmt_rfc3339(now_ms, now);
	/* Rounded: a step is measured against the monotonic clock, so one of
	 * 120 s set by hand reads 119.999 s, and "119 s" would mislead. */
	int64_t size_s = ((step_ms < 0 ? -step_ms : step_ms) + 500) / 1000;
	log_warning("the clock stepped %s by %lld s, from %s to %s: the open window is cut at the step, and the "
	            "next one opens on the new clock",
	            step_ms < 0 ? "back" : "forward", (long long)size_s, before, now);
	/* Uptime is time run, not a reading of the clock. */
	if (daemon->config->has_simulation)
		daemon->started_ms += step_ms;
	if (daemon->phase != PHASE_RUNNING)
		return;
	daemon_close_windows(daemon, true, before_ms);
	for (size_t i = 0; i < daemon->sensor_count; i++)
		sensor_clock_stepped(daemon->sensors[i].sensor, step_ms, now_ms);
	if (daemon->window_timer)
		schedule_move(daemon->schedule, daemon->window_timer, window_align(now_ms, daemon->window_ms) + daemon->window_ms);
	daemon_clock_poll(daemon, now_ms);
	daemon_clock_announce(daemon);
	daemon->window_opened_trusted = daemon->clock_trusted;
	if (step_ms < 0 && now_ms < daemon->stamped_until_ms) {
		daemon->step_guard_until_ms = daemon->stamped_until_ms;
		char until[TIMEFMT_RFC3339_SIZE];
		timefmt_rfc3339(daemon->stamped_until_ms, until);
		log_warning("windows up to %s were sent before the step: the windows until the clock reaches it again "
		            "are not stamped (they would replace stored points), counted in unstamped_windows", until);
	}
	daemon_notify_status(daemon);
}

/* For STATUS=: what the clock keeps from being stamped, or "". */
void daemon_clock_status(const struct daemon *daemon, char *out, size_t size)
{
	if (!daemon->clock_trusted)
		snprintf(out, size, "the clock is not synchronised; windows are not stamped (%llu dropped); ",
		         (unsigned long long)daemon->unstamped_windows);
	else if (daemon->step_dropped_episode > 0)
		snprintf(out, size, "the clock stepped back; windows already sent are not stamped again (%llu dropped); ",
		         (unsigned long long)daemon->unstamped_windows);
	else
		out[0] = '\0';
}
