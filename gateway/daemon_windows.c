/* daemon_windows.c — closing windows: each sensor's window message and
 * store point, the gateway's own point, all into the spool in one
 * transaction; at every window's end, at a stop (cut short, and kept for a
 * start within it: daemon_resume.c) and when a reload removes a sensor. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_internal.h"
#include "health.h"
#include "lineproto.h"
#include "log.h"
#include "payload.h"
#include "sensor.h"
#include "spool.h"
#include "store_forward.h"

#define LINE_MAX_BYTES 2048

int64_t daemon_next_multiple(int64_t now_ms, int64_t step_ms)
{
	return window_align(now_ms, step_ms) + step_ms;
}

/* Into the spool, and say what went wrong once per episode: the spool
 * keeps what the database refuses in memory, and drops the oldest to keep
 * its bound, counting both. */
void daemon_spool(struct daemon *daemon, char **lines, size_t count)
{
	struct spool_counters before = spool_counters(daemon->spool);
	if (spool_append(daemon->spool, lines, count) < 0)
		log_error("out of memory: %zu points not spooled", count);
	struct spool_counters after = spool_counters(daemon->spool);
	if (after.write_failures > before.write_failures && before.held == 0)
		log_error("spool: the state database refuses writes (full disk?); keeping points in memory "
		          "(up to %u MiB) and trying again", SPOOL_HELD_MAX_BYTES >> 20);
	else if (after.held == 0 && before.held > 0)
		log_info("spool: the points kept in memory are written");
	if (spool_take_drop_warning(daemon->spool))
		log_warning("spool: full (spool_max_mb = %llu); dropping the oldest points to keep the newest, "
		            "counted in spool_dropped",
		            (unsigned long long)(daemon->config->influx.spool_max_bytes >> 20));
	store_forward_kick(daemon->store);
}

/* One closed window: its message, and its point into lines. */
static void daemon_emit_window(struct daemon *daemon, struct daemon_sensor *entry, const struct window_result *result,
                               char **lines, size_t *line_count)
{
	const struct sensor_config *sc = sensor_config(entry->sensor);
	daemon->windows++;
	if (daemon->mqtt)
		daemon_publish(daemon, entry->topic_window, payload_window(&daemon->identity, sc->name, result), false,
		               false);
	if (!daemon->store)
		return;
	char line[LINE_MAX_BYTES];
	if (lineproto_window(daemon->backslash, &daemon->identity, sc->name, result, line, sizeof(line)) < 0) {
		log_error("sensor %s: window %lld does not fit a line", sc->name, (long long)result->start_ms);
		return;
	}
	if ((lines[*line_count] = strdup(line)) != NULL)
		(*line_count)++;
}

void daemon_cut_sensor_window(struct daemon *daemon, struct daemon_sensor *entry)
{
	struct window_result result;
	char *lines[1];
	size_t line_count = 0;
	if (!sensor_cut_window(entry->sensor, schedule_now(daemon->schedule), &result, NULL))
		return;
	/* One sensor's part of a window: the others' close counts it. */
	if (!daemon_clock_may_stamp(daemon, result.start_ms, false))
		return;
	daemon_emit_window(daemon, entry, &result, lines, &line_count);
	if (line_count > 0) {
		daemon_spool(daemon, lines, line_count);
		free(lines[0]);
	}
}

/* Close the open window of every sensor: one window message each, and all
 * points in one spool transaction, with the gateway's own point for the
 * window (its figures as they stood when the window closed, before its
 * messages and points were added).  A window the clock may not stamp
 * (daemon_clock.c) is closed all the same, and dropped. */
void daemon_close_windows(struct daemon *daemon, bool partial, int64_t cut_ms)
{
	struct health health = daemon_health(daemon);
	bool closed = false, stamp = false;
	int64_t start_ms = 0;
	char **lines = calloc(daemon->sensor_count + 1, sizeof(*lines));
	size_t line_count = 0;
	if (!lines) {
		log_error("out of memory closing windows");
		return;
	}
	/* A stop's cut windows are also kept, for a start within them. */
	bool stopping = partial && daemon->phase == PHASE_DRAINING;
	if (stopping)
		daemon_forget_cut_windows(daemon);
	for (size_t i = 0; i < daemon->sensor_count; i++) {
		struct daemon_sensor *entry = &daemon->sensors[i];
		struct window_result result;
		struct window cut;
		if (!partial)
			sensor_close_window(entry->sensor, &result);
		else if (!sensor_cut_window(entry->sensor, cut_ms, &result, stopping ? &cut : NULL))
			continue;
		if (stopping)
			daemon_keep_cut_window(daemon, entry, &cut, cut_ms);
		if (!closed)
			stamp = daemon_clock_may_stamp(daemon, result.start_ms, true);
		closed = true;
		start_ms = result.start_ms;
		if (stamp)
			daemon_emit_window(daemon, entry, &result, lines, &line_count);
	}
	/* A window no sensor has (a stop right at a boundary) gets no
	 * gateway point either: one gateway point per window. */
	if (daemon->store && closed && stamp) {
		char line[LINE_MAX_BYTES];
		if (lineproto_gateway(daemon->backslash, &daemon->identity, start_ms, &health, line, sizeof(line)) < 0)
			log_error("the gateway's point for window %lld does not fit a line", (long long)start_ms);
		else if ((lines[line_count] = strdup(line)) != NULL)
			line_count++;
	}
	if (line_count > 0)
		daemon_spool(daemon, lines, line_count);
	for (size_t i = 0; i < line_count; i++)
		free(lines[i]);
	free(lines);
	/* Catches a change no callback could take (a sensor failing as it
	 * opens, before it is among the daemon's). */
	daemon_store_alerts(daemon);
}

int64_t daemon_on_window_end(void *userdata, int64_t now_ms)
{
	struct daemon *daemon = userdata;
	daemon_clock_poll(daemon, now_ms);
	/* More than one boundary may have passed (a suspended board): close
	 * each window in turn. */
	while (daemon->sensor_count > 0 && sensor_window_end(daemon->sensors[0].sensor) <= now_ms)
		daemon_close_windows(daemon, false, now_ms);
	daemon_clock_announce(daemon);
	daemon->window_opened_trusted = daemon->clock_trusted;
	daemon_notify_status(daemon);
	return daemon_next_multiple(now_ms, daemon->window_ms);
}
