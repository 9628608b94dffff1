/* payload.c — the JSON payloads tryggd publishes on MQTT (see payload.h and
 * CONTRACT.md).  Objects and strings go through cJSON, so no district or
 * site, however hostile, can break out of its string.  The window payload
 * carries the same fields and values as the store point (lineproto.c), so a
 * subscriber and a store query see the same window; the health payload
 * carries the fields of the store's gateway point (health.h) likewise.
 *
 * Numbers are handed to cJSON already printed (cJSON_AddRawToObject):
 * cJSON's own printer tries 15 digits and keeps them when they read back
 * merely within an epsilon of the value (0.1 + 0.2 comes out as 0.3), and it
 * goes through a double, so a 64-bit counter would lose digits.  Here an
 * integer is printed as an integer and a double with the fewest digits that
 * read back to exactly the same double, as in the line protocol.  Printing
 * relies on the "C" numeric locale, which tryggd never changes. */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "number.h"
#include "payload.h"
#include "timefmt.h"

/* cJSON reports out of memory by returning NULL from each Add call; the
 * builders below collect that in one flag instead of checking every line. */
struct json_builder {
	cJSON *object;
	bool failed;
};

static void add_raw(struct json_builder *json, const char *key, const char *number)
{
	if (cJSON_AddRawToObject(json->object, key, number) == NULL)
		json->failed = true;
}

static void add_string(struct json_builder *json, const char *key, const char *value)
{
	if (cJSON_AddStringToObject(json->object, key, value) == NULL)
		json->failed = true;
}

static void add_number(struct json_builder *json, const char *key, double value)
{
	/* JSON has no NaN or infinity; the store leaves such a field out, and
	 * so does the payload, rather than send null. */
	if (!isfinite(value))
		return;
	char text[NUMBER_TEXT_SIZE];
	number_format_double(value, text);
	add_raw(json, key, text);
}

static void add_unsigned(struct json_builder *json, const char *key, uint64_t value)
{
	char text[24];
	snprintf(text, sizeof(text), "%" PRIu64, value);
	add_raw(json, key, text);
}

static void add_integer(struct json_builder *json, const char *key, int64_t value)
{
	char text[24];
	snprintf(text, sizeof(text), "%" PRId64, value);
	add_raw(json, key, text);
}

static void add_time(struct json_builder *json, const char *key, int64_t t_ms)
{
	char text[TIMEFMT_RFC3339_SIZE];
	timefmt_rfc3339(t_ms, text);
	add_string(json, key, text);
}

/* The fields of a store point (window_fields(), health_fields()), in order. */
static void add_fields(struct json_builder *json, const struct window_field *fields, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (fields[i].kind == WINDOW_FIELD_INTEGER)
			add_integer(json, fields[i].key, fields[i].integer);
		else
			add_number(json, fields[i].key, fields[i].number);
	}
}

static void add_identity(struct json_builder *json, const struct identity *id, const char *sensor,
                         enum sensor_type type)
{
	add_string(json, "gateway", id->gateway);
	add_string(json, "district", id->district);
	if (id->site != NULL)
		add_string(json, "site", id->site);
	add_string(json, "sensor", sensor);
	add_string(json, "type", sensor_type_name(type));
}

static bool builder_begin(struct json_builder *json)
{
	json->object = cJSON_CreateObject();
	json->failed = json->object == NULL;
	return !json->failed;
}

static char *builder_finish(struct json_builder *json)
{
	char *text = json->failed ? NULL : cJSON_PrintUnformatted(json->object);
	cJSON_Delete(json->object);
	return text;
}

char *payload_reading(const struct identity *id, const char *sensor, enum sensor_type type,
                      const struct reading *r)
{
	struct json_builder json;
	if (!builder_begin(&json))
		return NULL;
	add_time(&json, "ts", r->ts_ms);
	add_unsigned(&json, "seq", r->seq);
	add_identity(&json, id, sensor, type);
	add_number(&json, "value", r->value);
	add_string(&json, "unit", sensor_type_unit(type));
	if (r->direction == DIRECTION_IN)
		add_string(&json, "dir", "in");
	else if (r->direction == DIRECTION_OUT)
		add_string(&json, "dir", "out");
	return builder_finish(&json);
}

char *payload_window(const struct identity *id, const char *sensor, const struct window_result *w)
{
	struct json_builder json;
	if (!builder_begin(&json))
		return NULL;
	add_time(&json, "start", w->start_ms);
	add_time(&json, "end", w->end_ms);
	add_identity(&json, id, sensor, w->type);
	/* Exactly the fields of the store point, with the same values. */
	struct window_field fields[WINDOW_FIELDS_MAX];
	add_fields(&json, fields, window_fields(w, fields));
	return builder_finish(&json);
}

char *payload_health(const struct identity *id, int64_t ts_ms, const struct health *health)
{
	struct json_builder json;
	if (!builder_begin(&json))
		return NULL;
	add_time(&json, "ts", ts_ms);
	add_string(&json, "gateway", id->gateway);
	add_string(&json, "district", id->district);
	if (id->site != NULL)
		add_string(&json, "site", id->site);
	/* Exactly the fields of the store's gateway point. */
	struct window_field fields[HEALTH_FIELDS_MAX];
	add_fields(&json, fields, health_fields(health, fields));
	return builder_finish(&json);
}

char *payload_status(const char *state, const char *version, int64_t ts_ms)
{
	struct json_builder json;
	if (!builder_begin(&json))
		return NULL;
	/* The will is published by the broker when tryggd is gone: it has no
	 * time to give, and a version there would only be stale. */
	if (ts_ms < 0) {
		add_string(&json, "state", state != NULL ? state : "offline");
		return builder_finish(&json);
	}
	add_string(&json, "state", state != NULL ? state : "online");
	if (version != NULL)
		add_string(&json, "version", version);
	add_time(&json, "ts", ts_ms);
	return builder_finish(&json);
}

char *payload_alert(const struct identity *id, const char *sensor, enum sensor_type type,
                    const struct alerts *alerts, int64_t ts_ms)
{
	struct json_builder json;
	if (!builder_begin(&json))
		return NULL;
	enum alert_kind kind;
	const struct alert_problem *shown = alert_shown(alerts, &kind);
	add_string(&json, "state", shown ? alert_kind_name(kind) : "ok");
	if (shown) {
		add_time(&json, "since", shown->since_ms);
		add_string(&json, "detail", shown->detail);
	}
	add_time(&json, "ts", ts_ms);
	add_identity(&json, id, sensor, type);
	/* Every active problem, most serious first: the state above is only
	 * the first of them. */
	if (shown) {
		cJSON *problems = cJSON_AddArrayToObject(json.object, "problems");
		if (!problems)
			json.failed = true;
		for (unsigned i = 0; problems && i < ALERT_KIND_COUNT; i++) {
			if (!alerts->problems[i].active)
				continue;
			cJSON *name = cJSON_CreateString(alert_kind_name((enum alert_kind)i));
			if (!name || !cJSON_AddItemToArray(problems, name))
				json.failed = true;
		}
	}
	return builder_finish(&json);
}
