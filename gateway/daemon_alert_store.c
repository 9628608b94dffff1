/* daemon_alert_store.c — sensors' problems in the store: a point of
 * measurement `alert` (lineproto_alert()) each time one is raised and each
 * time it clears, per sensor and kind, so that a planner can list every
 * episode (from, to, kind, detail) per site with InfluxQL.
 *
 * A sensor only says that what its alert topic shows changed
 * (daemon_on_alert), and a problem less serious than the one shown comes
 * and goes beneath it unseen; so each entry keeps a copy of what the store
 * was last told (struct daemon_sensor.stored), and every kind is compared
 * with it:
 *   - raised (active, and not in the copy or there with another since): a
 *     point active=true at the problem's since, with its detail;
 *   - cleared (in the copy, no longer active): active=false now, with the
 *     detail of what cleared, so that a clear whose raise lies before a
 *     query's period still says what it was.
 * The store stamps to the second (precision=s), and a point on the second
 * of the last one of its series would replace it (stuck raised again from
 * the very pass that cleared it; a device failing again in the second it
 * came back): such a point goes one second after the last one of its
 * series in this run.
 *
 * A stop writes nothing for a problem still active: it is still active.
 * The next run raises it again if it is still there; with the same since
 * that is the same point, which the store keeps once.  A sensor that a
 * reload removes has each of its problems the store holds as active
 * cleared (daemon_store_alerts_gone), as its retained alert is emptied.
 * While the clock may not be trusted nothing is written (a since or a now
 * read off it is wrong), but the copy follows, so a problem raised then
 * shows in the store only by its clear.  Without a store the copy does not
 * follow: a store that a reload adds hears of the problems active then.
 *
 * The points of one comparison go to the spool in one transaction, as a
 * window close's do, and are counted the same way (spooled, sent,
 * spool_dropped).  It only uses what daemon.c set up. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_internal.h"
#include "log.h"
#include "schedule.h"
#include "store_dialect.h"

/* An alert point is its tags and a detail of less than ALERT_DETAIL_SIZE
 * bytes, each written as at most two. */
#define ALERT_LINE_MAX_BYTES 2048

static int64_t floor_seconds(int64_t ms)
{
	return ms / 1000 - (ms % 1000 < 0);
}

/* One point of entry's problem kind into *line (the caller's to free).
 * 0, -ENOSPC or -ENOMEM. */
static int alert_line(struct daemon *daemon, struct daemon_sensor *entry, enum alert_kind kind, bool active,
                      const char *detail, int64_t ts_ms, char **line)
{
	char text[ALERT_LINE_MAX_BYTES];
	int64_t ts_s = floor_seconds(ts_ms);
	if (entry->stored_at_s[kind] != 0 && ts_s <= entry->stored_at_s[kind]) {
		ts_s = entry->stored_at_s[kind] + 1;
		ts_ms = ts_s * 1000;
	}
	/* VictoriaMetrics would keep the text as a meaningless 0. */
	bool text_kept = store_dialect_of(daemon->config->influx.api)->string_fields;
	struct lineproto_alert alert = {
		.sensor = sensor_config(entry->sensor)->name,
		.problem = alert_kind_name(kind),
		.active = active,
		.detail = text_kept ? detail : NULL,
		.ts_ms = ts_ms,
	};
	int r = lineproto_alert(daemon->backslash, &daemon->identity, &alert, text, sizeof(text));
	if (r < 0)
		return r;
	*line = strdup(text);
	if (!*line)
		return -ENOMEM;
	entry->stored_at_s[kind] = ts_s;
	return 0;
}

/* The point of one raise or clear into lines[*count], when the clock
 * allows; the copy follows either way. */
static void alert_tell(struct daemon *daemon, struct daemon_sensor *entry, enum alert_kind kind,
                       const struct alert_problem *now, int64_t now_ms, char **lines, size_t *count)
{
	const char *name = sensor_config(entry->sensor)->name;
	struct alert_problem *told = &entry->stored.problems[kind];
	bool raised = now->active;
	if (!daemon->clock_trusted) {
		log_info("sensor %s: %s %s while the clock is not synchronised: not written to the store", name,
		         alert_kind_name(kind), raised ? "raised" : "cleared");
	} else {
		int r = alert_line(daemon, entry, kind, raised, now->detail, raised ? now->since_ms : now_ms,
		                   &lines[*count]);
		if (r < 0)
			log_error("sensor %s: the store's point for %s %s is lost: %s", name, alert_kind_name(kind),
			          raised ? "raised" : "cleared", strerror(-r));
		else
			(*count)++;
	}
	*told = *now;
}

static bool alert_changed(const struct alert_problem *now, const struct alert_problem *told)
{
	if (now->active)
		return !told->active || told->since_ms != now->since_ms;
	return told->active;
}

static bool alerts_changed(const struct daemon_sensor *entry)
{
	/* A reload empties the entries it has moved on. */
	if (!entry->sensor)
		return false;
	const struct alerts *alerts = sensor_alerts(entry->sensor);
	for (unsigned kind = 0; kind < ALERT_KIND_COUNT; kind++)
		if (alert_changed(&alerts->problems[kind], &entry->stored.problems[kind]))
			return true;
	return false;
}

static void alert_lines_spool(struct daemon *daemon, char **lines, size_t count)
{
	if (count > 0)
		daemon_spool(daemon, lines, count);
	for (size_t i = 0; i < count; i++)
		free(lines[i]);
}

void daemon_store_alerts(struct daemon *daemon)
{
	if (!daemon->store)
		return;
	size_t changed = 0;
	for (size_t i = 0; i < daemon->sensor_count; i++)
		changed += alerts_changed(&daemon->sensors[i]);
	if (changed == 0)
		return;
	char **lines = calloc(changed * ALERT_KIND_COUNT, sizeof(*lines));
	size_t count = 0;
	if (!lines) {
		/* The copy stays: the next comparison tries again. */
		log_error("out of memory writing sensor problems to the store");
		return;
	}
	int64_t now_ms = schedule_now(daemon->schedule);
	for (size_t i = 0; i < daemon->sensor_count; i++) {
		struct daemon_sensor *entry = &daemon->sensors[i];
		if (!alerts_changed(entry))
			continue;
		const struct alerts *alerts = sensor_alerts(entry->sensor);
		for (unsigned kind = 0; kind < ALERT_KIND_COUNT; kind++)
			if (alert_changed(&alerts->problems[kind], &entry->stored.problems[kind]))
				alert_tell(daemon, entry, (enum alert_kind)kind, &alerts->problems[kind], now_ms, lines, &count);
	}
	alert_lines_spool(daemon, lines, count);
	free(lines);
}

void daemon_store_alerts_gone(struct daemon *daemon, struct daemon_sensor *entry)
{
	char *lines[ALERT_KIND_COUNT];
	size_t count = 0;
	if (!daemon->store || !entry->sensor)
		return;
	int64_t now_ms = schedule_now(daemon->schedule);
	for (unsigned kind = 0; kind < ALERT_KIND_COUNT; kind++) {
		struct alert_problem cleared = entry->stored.problems[kind];
		if (!cleared.active)
			continue;
		cleared.active = false;
		alert_tell(daemon, entry, (enum alert_kind)kind, &cleared, now_ms, lines, &count);
	}
	alert_lines_spool(daemon, lines, count);
}
