/* watch_show.c — the lines of each kind of message in the human view of
 * `tryggctl watch` (watch_view.c is the frame; watch.h shows a sample):
 *
 *   status    online (since when, which tryggd), OFFLINE, or "still online"
 *             when tryggd says it again;
 *   health    the gateway's figures, losses marked;
 *   reading   value and unit, its seq, and before or instead of it what
 *             the number says (a gap, a repeat, a count started over);
 *   window    its start and length, the fields of its type (CONTRACT.md),
 *             coverage (marked below 100 %);
 *   alert     ok, or ALERT with the problem, since when, the detail and
 *             the other problems active;
 *   other     a topic tryggd does not use, with the payload as it came.
 *
 * What the lines say is also remembered in the view, for the summary. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "watch.h"
#include "watch_internal.h"

/* ---- each kind of message ------------------------------------------------------------- */

void watch_show_status(struct watch_view *view, FILE *out, struct watch_message *message)
{
	const char *state = watch_json_text(message->json, "state");
	if (!state) {
		watch_not_understood(view, out, message, "status");
		return;
	}
	int64_t ts;
	bool timed = watch_json_time(message->json, "ts", &ts);
	if (timed)
		message->at_ms = ts;
	const char *version = watch_json_text(message->json, "version");

	/* tryggd says online again on every connect and now and then
	 * meanwhile: the same state goes on since it was first seen. */
	bool again = view->has_status && strcmp(view->state, state) == 0;
	if (!again || view->since_ms > message->at_ms) {
		view->since_ms = message->at_ms;
		view->since_seen_here = !timed;
	}
	view->has_status = true;
	snprintf(view->state, sizeof(view->state), "%s", state);
	snprintf(view->version, sizeof(view->version), "%s", version ? version : "");

	bool online = strcmp(state, "online") == 0;
	enum watch_style style = online ? WATCH_GOOD : WATCH_PROBLEM;
	watch_line_begin(out, message);
	watch_paint(view, out, style);
	if (again)
		fputs("still ", out);
	if (online) {
		fputs("online", out);
	} else {
		/* OFFLINE, or whatever else it says, in capitals. */
		char shout[sizeof(view->state)];
		snprintf(shout, sizeof(shout), "%s", state);
		for (char *p = shout; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
		watch_put_string(out, shout);
	}
	if (!view->since_seen_here) {
		char since[WATCH_TIME_SIZE];
		watch_format_time(view->since_ms, message->now_ms, since);
		fprintf(out, " since %s", since);
	}
	watch_unpaint(view, out, style);
	if (version) {
		fputs(", tryggd ", out);
		watch_put_string(out, version);
	}
	watch_line_end(out, message, timed);
}

/* One figure of the health topic: uptime and memory as people read them,
 * a loss that is not zero marked. */
static void put_health_field(const struct watch_view *view, FILE *out, const cJSON *item)
{
	static const char *const losses[] = { "dropped", "lost", "problems", "spool_dropped", "rejected", "missing",
	                                      "unstamped_windows", "implausible" };
	/* An uptime as a span only when it is one: a hostile or broken message
	 * may say 1e105 or -3 (a cast of that to int64_t is undefined). */
	if (cJSON_IsNumber(item) && strcmp(item->string, "uptime_s") == 0 && item->valuedouble >= 0 &&
	    item->valuedouble < 1e12) {
		char span[WATCH_DURATION_SIZE];
		watch_format_duration((int64_t)(item->valuedouble * 1000), span);
		fprintf(out, "up %s", span);
		return;
	}
	if (cJSON_IsNumber(item) && strcmp(item->string, "memory") == 0) {
		char number[WATCH_NUMBER_SIZE];
		watch_format_number(round(item->valuedouble / 104857.6) / 10, number);
		fprintf(out, "memory %s MiB", number);
		return;
	}
	bool loss = false;
	for (size_t i = 0; i < sizeof(losses) / sizeof(losses[0]); i++)
		loss = loss || (strcmp(item->string, losses[i]) == 0 && cJSON_IsNumber(item) && item->valuedouble > 0);
	enum watch_style style = loss ? WATCH_WARN : WATCH_PLAIN;
	watch_paint(view, out, style);
	watch_put_string(out, item->string);
	fputc(' ', out);
	if (cJSON_IsNumber(item))
		watch_put_number(out, item->valuedouble);
	else if (cJSON_IsString(item))
		watch_put_string(out, item->valuestring);
	else
		fputs(cJSON_IsTrue(item) ? "yes" : "no", out);
	watch_unpaint(view, out, style);
}

void watch_show_health(struct watch_view *view, FILE *out, struct watch_message *message)
{
	int64_t ts;
	bool timed = watch_json_time(message->json, "ts", &ts);
	if (timed)
		message->at_ms = ts;
	watch_line_begin(out, message);
	fputs("health", out);
	const char *separator = ": ";
	const cJSON *item;
	cJSON_ArrayForEach(item, message->json) {
		static const char *const skipped[] = { "ts", "gateway", "district", "site" };
		bool skip = false;
		for (size_t i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++)
			skip = skip || strcmp(item->string, skipped[i]) == 0;
		if (skip || !(cJSON_IsNumber(item) || cJSON_IsString(item) || cJSON_IsBool(item)))
			continue;
		fputs(separator, out);
		separator = ", ";
		put_health_field(view, out, item);
	}
	watch_line_end(out, message, timed);
}

/* What the reading's number says, before the reading (a gap, the count
 * starting over) or instead of it (a repeat).  Returns whether the reading
 * is shown; *late tells a number that came late, after *highest. */
static bool show_seq(struct watch_view *view, FILE *out, const struct watch_message *message, uint64_t number,
                     bool *late, uint64_t *highest)
{
	struct watch_seq_verdict verdict = watch_seq_note(&view->seq, number);
	struct watch_message gateway = *message;
	gateway.subject = "gateway";
	gateway.subject_length = strlen("gateway");
	*late = false;
	*highest = verdict.previous;
	switch (verdict.kind) {
	case WATCH_SEQ_FIRST:
	case WATCH_SEQ_NEXT:
		return true;
	case WATCH_SEQ_LATE:
		*late = true;
		return true;
	case WATCH_SEQ_GAP:
		watch_line_begin(out, &gateway);
		watch_paint(view, out, WATCH_WARN);
		fprintf(out, "seq jumped from %" PRIu64 " to %" PRIu64 ": %" PRIu64 " reading%s missing", verdict.previous,
		        number, verdict.missing, verdict.missing == 1 ? "" : "s");
		watch_unpaint(view, out, WATCH_WARN);
		watch_line_end(out, &gateway, false);
		return true;
	case WATCH_SEQ_BACK:
		watch_line_begin(out, &gateway);
		watch_paint(view, out, WATCH_WARN);
		fprintf(out, "seq went back from %" PRIu64 " to %" PRIu64 ": the numbering started over", verdict.previous,
		        number);
		watch_unpaint(view, out, WATCH_WARN);
		watch_line_end(out, &gateway, false);
		return true;
	case WATCH_SEQ_REPEAT:
		watch_line_begin(out, message);
		watch_paint(view, out, WATCH_WARN);
		if (verdict.times == 2)
			fprintf(out, "seq %" PRIu64 " again (delivered twice)", number);
		else
			fprintf(out, "seq %" PRIu64 " again (delivered %u times)", number, verdict.times);
		watch_unpaint(view, out, WATCH_WARN);
		watch_line_end(out, message, false);
		return false;
	}
	return true;
}

void watch_put_reading(FILE *out, double value, const char *unit, const char *dir)
{
	if (unit && strcmp(unit, "on") == 0) {
		fputs(value != 0 ? "on" : "off", out);
		return;
	}
	if (unit && strcmp(unit, "count") == 0)
		fputc('+', out);
	watch_put_number(out, value);
	if (unit && strcmp(unit, "count") != 0) {
		fputc(' ', out);
		watch_put_string(out, unit);
	}
	if (dir) {
		fputc(' ', out);
		watch_put_string(out, dir);
	}
}

void watch_show_reading(struct watch_view *view, FILE *out, struct watch_message *message)
{
	double value, seq_value;
	int64_t ts;
	if (!message->json || !watch_json_number(message->json, "value", &value)) {
		watch_not_understood(view, out, message, "reading");
		return;
	}
	bool timed = watch_json_time(message->json, "ts", &ts);
	if (timed)
		message->at_ms = ts;
	const char *unit = watch_json_text(message->json, "unit");
	const char *dir = watch_json_text(message->json, "dir");

	bool numbered = watch_json_number(message->json, "seq", &seq_value) && seq_value >= 0 &&
	                seq_value == floor(seq_value) && seq_value < 0x1p63;
	uint64_t seq = numbered ? (uint64_t)seq_value : 0, highest = 0;
	bool late = false;
	if (numbered && !show_seq(view, out, message, seq, &late, &highest))
		return;

	struct watch_sensor *sensor = watch_view_sensor(view, message->subject, message->subject_length);
	if (sensor) {
		sensor->has_reading = true;
		sensor->value = value;
		snprintf(sensor->unit, sizeof(sensor->unit), "%s", unit ? unit : "");
		snprintf(sensor->dir, sizeof(sensor->dir), "%s", dir ? dir : "");
		sensor->reading_ms = message->at_ms;
	}

	watch_line_begin(out, message);
	watch_put_reading(out, value, unit, dir);
	if (numbered)
		fprintf(out, "  seq %" PRIu64, seq);
	if (late) {
		watch_paint(view, out, WATCH_WARN);
		fprintf(out, " (late: came after %" PRIu64 ")", highest);
		watch_unpaint(view, out, WATCH_WARN);
	}
	watch_line_end(out, message, timed);
}

/* The fields of a window by its type, as CONTRACT.md gives them. */
static void put_window_fields(FILE *out, const cJSON *json)
{
	const char *type = watch_json_text(json, "type");
	double a, b, c;
	if (type && strcmp(type, "footfall") == 0 && watch_json_number(json, "count", &a)) {
		fputs("count ", out);
		watch_put_number(out, a);
		if (watch_json_number(json, "in", &b) && watch_json_number(json, "out", &c)) {
			fputs(" (in ", out);
			watch_put_number(out, b);
			fputs(", out ", out);
			watch_put_number(out, c);
			fputc(')', out);
		}
	} else if (type && strcmp(type, "light") == 0 && watch_json_number(json, "dark_s", &c)) {
		if (watch_json_number(json, "lux_min", &a) && watch_json_number(json, "lux_max", &b)) {
			watch_put_number(out, a);
			if (b != a) {
				fputs("–", out);
				watch_put_number(out, b);
			}
			fputs(" lx", out);
			if (watch_json_number(json, "lux_mean", &a)) {
				fputs(", mean ", out);
				watch_put_number(out, a);
			}
			fputs(", ", out);
		}
		fputs("dark ", out);
		watch_put_number(out, c);
		fputs(" s", out);
	} else if (type && strcmp(type, "lamp") == 0 && watch_json_number(json, "on_s", &a) &&
	           watch_json_number(json, "fault_s", &b)) {
		fputs("on ", out);
		watch_put_number(out, a);
		fputs(" s, fault ", out);
		watch_put_number(out, b);
		fputs(" s", out);
	} else {
		/* A type this version does not know: every number but the two
		 * below, as key value. */
		const char *separator = "";
		const cJSON *item;
		cJSON_ArrayForEach(item, json) {
			if (!cJSON_IsNumber(item) || strcmp(item->string, "samples") == 0 ||
			    strcmp(item->string, "coverage") == 0)
				continue;
			fputs(separator, out);
			separator = ", ";
			watch_put_string(out, item->string);
			fputc(' ', out);
			watch_put_number(out, item->valuedouble);
		}
	}
	if ((!type || strcmp(type, "footfall") != 0) && watch_json_number(json, "samples", &a)) {
		if (a == 1)
			fputs(", 1 sample", out);
		else if (a == 0)
			fputs(", no sample", out);
		else {
			fputs(", ", out);
			watch_put_number(out, a);
			fputs(" samples", out);
		}
	}
}

void watch_show_window(struct watch_view *view, FILE *out, struct watch_message *message)
{
	int64_t start, end;
	if (!message->json || !watch_json_time(message->json, "start", &start) || !watch_json_time(message->json, "end", &end)) {
		watch_not_understood(view, out, message, "window");
		return;
	}
	message->at_ms = end;
	double coverage = NAN;
	bool covered = watch_json_number(message->json, "coverage", &coverage);

	struct watch_sensor *sensor = watch_view_sensor(view, message->subject, message->subject_length);
	if (sensor) {
		sensor->has_window = true;
		sensor->window_start_ms = start;
		sensor->coverage = coverage;
	}

	char when[WATCH_TIME_SIZE], span[WATCH_DURATION_SIZE];
	watch_format_time(start, message->now_ms, when);
	watch_format_duration(end - start, span);
	watch_line_begin(out, message);
	fprintf(out, "window %s (%s): ", when, span);
	put_window_fields(out, message->json);
	if (covered) {
		char share[WATCH_NUMBER_SIZE];
		watch_format_percent(coverage, share);
		enum watch_style style = coverage < 1 ? WATCH_WARN : WATCH_PLAIN;
		fputs(", ", out);
		watch_paint(view, out, style);
		fprintf(out, "coverage %s", share);
		watch_unpaint(view, out, style);
	}
	watch_line_end(out, message, true);
}

void watch_show_alert(struct watch_view *view, FILE *out, struct watch_message *message)
{
	const char *state = watch_json_text(message->json, "state");
	if (!state) {
		watch_not_understood(view, out, message, "alert");
		return;
	}
	int64_t ts, since = 0;
	bool timed = watch_json_time(message->json, "ts", &ts);
	if (timed)
		message->at_ms = ts;
	bool has_since = watch_json_time(message->json, "since", &since);
	const char *detail = watch_json_text(message->json, "detail");
	bool ok = strcmp(state, "ok") == 0;

	struct watch_sensor *sensor = watch_view_sensor(view, message->subject, message->subject_length);
	if (sensor) {
		sensor->has_alert = true;
		snprintf(sensor->alert, sizeof(sensor->alert), "%s", state);
		sensor->alert_since_ms = has_since ? since : 0;
	}

	watch_line_begin(out, message);
	if (ok) {
		watch_paint(view, out, WATCH_GOOD);
		fputs("alert ok", out);
		watch_unpaint(view, out, WATCH_GOOD);
		watch_line_end(out, message, timed);
		return;
	}
	watch_paint(view, out, WATCH_PROBLEM);
	fputs("ALERT ", out);
	watch_put_string(out, state);
	if (has_since) {
		char when[WATCH_TIME_SIZE];
		watch_format_time(since, message->now_ms, when);
		fprintf(out, " since %s", when);
	}
	if (detail) {
		fputs(": ", out);
		watch_put_string(out, detail);
	}
	watch_unpaint(view, out, WATCH_PROBLEM);
	/* The other active problems, after the one shown. */
	const cJSON *problems = cJSON_GetObjectItemCaseSensitive(message->json, "problems");
	const cJSON *item;
	const char *separator = " (also ";
	cJSON_ArrayForEach(item, problems) {
		if (!cJSON_IsString(item) || strcmp(item->valuestring, state) == 0)
			continue;
		fputs(separator, out);
		separator = ", ";
		watch_put_string(out, item->valuestring);
	}
	if (separator[0] == ',')
		fputc(')', out);
	watch_line_end(out, message, timed);
}

void watch_show_other(struct watch_view *view, FILE *out, struct watch_message *message)
{
	(void)view;
	watch_line_begin(out, message);
	watch_put_excerpt(out, message);
	watch_line_end(out, message, false);
}
