/* watch_view.c — the human view of `tryggctl watch` (see watch.h): each
 * message becomes a line, or two, that a technician reads at a glance:
 *
 *     TIME      SUBJECT     WHAT
 *     13:18:00  sky         2961.6 lx  seq 1
 *     13:18:02  sky         window 13:18:00 (2 s): 2961.6–3040.7 lx, mean 3001.2, ...
 *     13:18:05  gateway     seq jumped from 3 to 6: 2 readings missing
 *
 * TIME is the message's own time (a reading's ts, a window's end, a
 * status's or alert's ts), so a backlog delivered after an outage shows
 * when things happened; a message without one gets the time it arrived.
 * A message the view does not understand is shown as it came.  Problems
 * (an alert, offline, a gap, coverage below 1) are written in capitals or
 * with words that say so, so they stand out without colour; on a terminal
 * they are coloured as well.
 *
 * A message over WATCH_MESSAGE_MAX is not read: its line says what it
 * was and its size, and the summary counts it.
 *
 * This file is the frame: the table of sensors (per sensor the last
 * reading, alert and window, for the summary; bounded by
 * WATCH_SENSORS_MAX, messages about the sensors left out counted), which
 * kind a topic is, the frame of a line, and the summary.  The lines of
 * each kind are in watch_show.c. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "watch.h"
#include "watch_internal.h"

#define EXCERPT_MAX 160
#define LATE_MS 10000        /* a message this much older than its arrival is said to be late */

static const char *const style_codes[] = {
	[WATCH_PLAIN] = "",
	[WATCH_GOOD] = "\033[32m",
	[WATCH_WARN] = "\033[33m",
	[WATCH_PROBLEM] = "\033[1;31m",
};

/* ---- the table of sensors ------------------------------------------------------ */

int watch_view_init(struct watch_view *view, const char *base, bool color)
{
	memset(view, 0, sizeof(*view));
	if (asprintf(&view->base, "%s/", base) < 0) {
		view->base = NULL;
		return -ENOMEM;
	}
	view->color = color;
	view->subject_width = WATCH_SUBJECT_WIDTH;
	watch_seq_init(&view->seq);
	return 0;
}

void watch_view_free(struct watch_view *view)
{
	free(view->base);
	free(view->sensors);
	memset(view, 0, sizeof(*view));
}

struct watch_sensor *watch_view_sensor(struct watch_view *view, const char *name, size_t length)
{
	if (length == 0 || length >= WATCH_NAME_SIZE) {
		view->left_out++;
		return NULL;
	}
	for (size_t i = 0; i < view->sensor_count; i++)
		if (strlen(view->sensors[i].name) == length && memcmp(view->sensors[i].name, name, length) == 0)
			return &view->sensors[i];
	if (view->sensor_count == WATCH_SENSORS_MAX) {
		view->left_out++;
		return NULL;
	}
	if (view->sensor_count == view->sensor_capacity) {
		size_t capacity = view->sensor_capacity ? 2 * view->sensor_capacity : 8;
		struct watch_sensor *grown = realloc(view->sensors, capacity * sizeof(*grown));
		if (!grown) {
			view->left_out++;
			return NULL;
		}
		view->sensors = grown;
		view->sensor_capacity = capacity;
	}
	struct watch_sensor *sensor = &view->sensors[view->sensor_count++];
	memset(sensor, 0, sizeof(*sensor));
	memcpy(sensor->name, name, length);
	sensor->coverage = NAN;
	return sensor;
}

int watch_view_add_sensor(struct watch_view *view, const char *name)
{
	size_t length = strlen(name);
	if (length == 0 || length >= WATCH_NAME_SIZE)
		return -EINVAL;
	/* Known from the start: every line can leave room for it. */
	if (length > view->subject_width)
		view->subject_width = length;
	return watch_view_sensor(view, name, length) ? 0 : -ENOMEM;
}
/* ---- writing a line ------------------------------------------------------------------ */

void watch_paint(const struct watch_view *view, FILE *out, enum watch_style style)
{
	if (view->color && style != WATCH_PLAIN)
		fputs(style_codes[style], out);
}

void watch_unpaint(const struct watch_view *view, FILE *out, enum watch_style style)
{
	if (view->color && style != WATCH_PLAIN)
		fputs("\033[0m", out);
}

void watch_line_begin(FILE *out, const struct watch_message *message)
{
	char when[WATCH_TIME_SIZE];
	watch_format_time(message->at_ms, message->now_ms, when);
	fprintf(out, "%s  ", when);
	watch_put_text(out, message->subject, message->subject_length, WATCH_NAME_SIZE);
	for (size_t i = message->subject_length; i < message->subject_width; i++)
		fputc(' ', out);
	fputs("  ", out);
}

void watch_line_end(FILE *out, const struct watch_message *message, bool timed)
{
	if (message->retained) {
		fputs(" (retained)", out);
	} else if (timed) {
		char span[WATCH_DURATION_SIZE];
		int64_t late = message->now_ms - message->at_ms;
		watch_format_duration(late, span);
		if (late >= LATE_MS)
			fprintf(out, " (arrived %s late)", span);
		else if (late <= -LATE_MS)
			fprintf(out, " (%s ahead of this computer's clock)", span);
	}
	fputc('\n', out);
}

void watch_put_string(FILE *out, const char *text)
{
	watch_put_text(out, text, (size_t)-1, EXCERPT_MAX);
}

void watch_put_number(FILE *out, double value)
{
	char text[WATCH_NUMBER_SIZE];
	watch_format_number(value, text);
	fputs(text, out);
}

void watch_put_excerpt(FILE *out, const struct watch_message *message)
{
	if (message->length == 0)
		fputs("(empty)", out);
	else
		watch_put_text(out, message->payload, message->length, EXCERPT_MAX);
}

void watch_not_understood(const struct watch_view *view, FILE *out, const struct watch_message *message,
                           const char *what)
{
	watch_line_begin(out, message);
	watch_paint(view, out, WATCH_WARN);
	fprintf(out, "%s not understood: ", what);
	watch_put_excerpt(out, message);
	watch_unpaint(view, out, WATCH_WARN);
	watch_line_end(out, message, false);
}
/* ---- a message ----------------------------------------------------------------------- */

static void classify(const struct watch_view *view, const char *topic, struct watch_message *message)
{
	size_t base_length = strlen(view->base);
	message->kind = WATCH_KIND_OTHER;
	message->subject = topic;
	message->subject_length = strlen(topic);
	if (strncmp(topic, view->base, base_length) != 0)
		return;
	const char *rest = topic + base_length;
	message->subject = rest;
	message->subject_length = strlen(rest);
	if (strcmp(rest, "status") == 0 || strcmp(rest, "health") == 0) {
		message->kind = rest[0] == 's' ? WATCH_KIND_STATUS : WATCH_KIND_HEALTH;
		message->subject = "gateway";
		message->subject_length = strlen("gateway");
		return;
	}
	const char *slash = strchr(rest, '/');
	if (!slash || slash == rest || strchr(slash + 1, '/'))
		return;
	static const struct {
		const char *leaf;
		enum watch_kind kind;
	} leaves[] = { { "reading", WATCH_KIND_READING }, { "window", WATCH_KIND_WINDOW }, { "alert", WATCH_KIND_ALERT } };
	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		if (strcmp(slash + 1, leaves[i].leaf) == 0) {
			message->kind = leaves[i].kind;
			message->subject_length = (size_t)(slash - rest);
		}
	}
}

static const char *const kind_names[] = {
	[WATCH_KIND_STATUS] = "status", [WATCH_KIND_HEALTH] = "health", [WATCH_KIND_READING] = "reading",
	[WATCH_KIND_WINDOW] = "window", [WATCH_KIND_ALERT] = "alert", [WATCH_KIND_OTHER] = "message",
};

/* A message over WATCH_MESSAGE_MAX: what it was and its size, on one line. */
static void show_too_large(struct watch_view *view, FILE *out, const struct watch_message *message)
{
	view->too_large++;
	watch_line_begin(out, message);
	watch_paint(view, out, WATCH_WARN);
	fprintf(out, "%s too large, not read: %zu bytes (at most %u)", kind_names[message->kind], message->length,
	        WATCH_MESSAGE_MAX);
	watch_unpaint(view, out, WATCH_WARN);
	watch_line_end(out, message, false);
}

int watch_view_message(struct watch_view *view, const char *topic, const void *payload, size_t length,
                       bool retained, int64_t now_ms, FILE *out)
{
	struct watch_message message = {
		.payload = payload,
		.length = length,
		.retained = retained,
		.now_ms = now_ms,
		.at_ms = now_ms,
		.subject_width = view->subject_width,
	};
	view->messages++;
	classify(view, topic, &message);
	if (length > WATCH_MESSAGE_MAX) {
		show_too_large(view, out, &message);
		return 0;
	}
	if (message.kind != WATCH_KIND_OTHER && length > 0) {
		message.json = cJSON_ParseWithLength(payload, length);
		if (message.json && !cJSON_IsObject(message.json)) {
			cJSON_Delete(message.json);
			message.json = NULL;
		}
	}
	if (message.kind != WATCH_KIND_OTHER && !message.json)
		watch_not_understood(view, out, &message, kind_names[message.kind]);
	else if (message.kind == WATCH_KIND_STATUS)
		watch_show_status(view, out, &message);
	else if (message.kind == WATCH_KIND_HEALTH)
		watch_show_health(view, out, &message);
	else if (message.kind == WATCH_KIND_READING)
		watch_show_reading(view, out, &message);
	else if (message.kind == WATCH_KIND_WINDOW)
		watch_show_window(view, out, &message);
	else if (message.kind == WATCH_KIND_ALERT)
		watch_show_alert(view, out, &message);
	else
		watch_show_other(view, out, &message);
	cJSON_Delete(message.json);
	return 0;
}

/* ---- the summary -------------------------------------------------------------------- */

void watch_view_summary(const struct watch_view *view, int64_t now_ms, FILE *out)
{
	char when[WATCH_TIME_SIZE], span[WATCH_DURATION_SIZE];
	watch_format_time(now_ms, now_ms, when);
	fprintf(out, "== %s  ", when);
	watch_put_text(out, view->base, strlen(view->base) - 1, EXCERPT_MAX);
	if (!view->has_status) {
		fputs(": no status yet\n", out);
	} else {
		bool online = strcmp(view->state, "online") == 0;
		enum watch_style style = online ? WATCH_GOOD : WATCH_PROBLEM;
		watch_format_time(view->since_ms, now_ms, when);
		fputs(": ", out);
		watch_paint(view, out, style);
		watch_put_string(out, view->state);
		fprintf(out, " since %s%s", when, view->since_seen_here ? " (seen here)" : "");
		watch_unpaint(view, out, style);
		if (view->version[0]) {
			fputs(", tryggd ", out);
			watch_put_string(out, view->version);
		}
		fputc('\n', out);
	}

	for (size_t i = 0; i < view->sensor_count; i++) {
		const struct watch_sensor *sensor = &view->sensors[i];
		fputs("   ", out);
		watch_put_text(out, sensor->name, strlen(sensor->name), WATCH_NAME_SIZE);
		size_t length = strlen(sensor->name);
		fprintf(out, "%*s  ", (int)(length < view->subject_width ? view->subject_width - length : 0), "");
		if (sensor->has_reading) {
			watch_put_reading(out, sensor->value, sensor->unit, sensor->dir[0] ? sensor->dir : NULL);
			watch_format_duration(now_ms - sensor->reading_ms, span);
			fprintf(out, ", %s%s", span, now_ms >= sensor->reading_ms ? " ago" : " ahead");
		} else {
			fputs("no reading yet", out);
		}
		if (sensor->has_alert) {
			bool ok = strcmp(sensor->alert, "ok") == 0;
			enum watch_style style = ok ? WATCH_GOOD : WATCH_PROBLEM;
			fputs("; ", out);
			watch_paint(view, out, style);
			fputs(ok ? "alert ok" : "ALERT ", out);
			if (!ok)
				watch_put_string(out, sensor->alert);
			if (!ok && sensor->alert_since_ms) {
				watch_format_time(sensor->alert_since_ms, now_ms, when);
				fprintf(out, " since %s", when);
			}
			watch_unpaint(view, out, style);
		}
		if (sensor->has_window) {
			watch_format_time(sensor->window_start_ms, now_ms, when);
			fprintf(out, "; last window %s", when);
			if (isfinite(sensor->coverage)) {
				char share[WATCH_NUMBER_SIZE];
				watch_format_percent(sensor->coverage, share);
				fprintf(out, ", coverage %s", share);
			}
		}
		fputc('\n', out);
	}
	if (view->left_out > 0) {
		/* The table is bounded (WATCH_SENSORS_MAX): say what it misses. */
		fprintf(out, "   %" PRIu64 " message%s about sensors not in this summary (it keeps %d, with names up to "
		        "%d bytes)\n", view->left_out, view->left_out == 1 ? "" : "s", WATCH_SENSORS_MAX,
		        WATCH_NAME_SIZE - 1);
	}

	const struct watch_seq *seq = &view->seq;
	fprintf(out, "   %-*s  ", (int)view->subject_width, "readings");
	if (!seq->started) {
		fputs("none numbered yet", out);
	} else {
		enum watch_style style = seq->missing || seq->repeated || seq->restarts ? WATCH_WARN : WATCH_PLAIN;
		fprintf(out, "%" PRIu64 " numbered, up to seq %" PRIu64 ": ", seq->received, seq->highest);
		watch_paint(view, out, style);
		fprintf(out, "%" PRIu64 " missing, %" PRIu64 " delivered again", seq->missing, seq->repeated);
		if (seq->restarts)
			fprintf(out, ", numbering started over %" PRIu64 " time%s", seq->restarts, seq->restarts == 1 ? "" : "s");
		watch_unpaint(view, out, style);
	}
	fprintf(out, "; %" PRIu64 " message%s", view->messages, view->messages == 1 ? "" : "s");
	if (view->too_large > 0) {
		watch_paint(view, out, WATCH_WARN);
		fprintf(out, ", %" PRIu64 " too large to read", view->too_large);
		watch_unpaint(view, out, WATCH_WARN);
	}
	fputc('\n', out);
}
