/* fuzz_lineproto.c — libFuzzer target: the line-protocol encoder
 * (gateway/lineproto.c) on hostile tag values, numbers and alert details
 * taken from the input, each point read back with lineproto_decode.c in
 * both backslash dialects.
 *
 * What must hold: every point is exactly one valid point ending in '\n';
 * its measurement, tag keys, fields and timestamp are those that went in;
 * a tag value comes back byte for byte whenever the dialect promises it
 * (always when backslashes are doubled; with InfluxDB 1.x's rule when
 * lineproto_tag_value_exact() says so, which is what config validation
 * asks of a district and a site); an alert's detail comes back exactly
 * when it is UTF-8 without control characters, and as UTF-8 without them
 * otherwise; and a buffer one byte too small gives -ENOSPC and an empty
 * string, never half a point.
 *
 * Tag values hold no control characters: config validation refuses them
 * in district, site, gateway and sensor names (lineproto.h's contract). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "health.h"
#include "lineproto.h"
#include "lineproto_decode.h"
#include "sensor_type.h"
#include "window.h"

#define POINT_SIZE 8192

/* A tag value as config validation would let it through: control
 * characters dropped.  The caller frees it. */
static char *take_tag_text(struct fuzz_input *input)
{
	char *text = fuzz_take_text(input, 0xff);
	if (!text)
		return NULL;
	char *out = text;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		if (*p >= 0x20 && *p != 0x7f)
			*out++ = (char)*p;
	*out = '\0';
	return text;
}

/* What a tag value must come back as, or NULL when only its presence can
 * be promised; *present whether the tag is written at all. */
static const char *expected_tag(enum lineproto_backslash backslash, const char *value, bool *present)
{
	if (!value) {
		*present = false;
		return NULL;
	}
	size_t end = strlen(value);
	if (backslash == LINEPROTO_BACKSLASH_AS_IS)
		while (end > 0 && value[end - 1] == '\\')
			end--;   /* lineproto.h: a trailing backslash cannot be written */
	*present = end > 0;
	if (backslash == LINEPROTO_BACKSLASH_DOUBLED || lineproto_tag_value_exact(value))
		return value;
	return NULL;
}

static void check_tag(enum lineproto_backslash backslash, const struct lineproto_point *point, const char *key,
                      const char *value, const char *line)
{
	bool present;
	const char *expected = expected_tag(backslash, value, &present);
	const char *found = lineproto_point_tag(point, key);
	FUZZ_CHECK(present == (found != NULL), "tag %s %s in %s", key, present ? "missing" : "unexpected", line);
	if (found && expected)
		FUZZ_CHECK(strcmp(found, expected) == 0, "tag %s is '%s', not '%s', in %s", key, found, expected, line);
}

static void check_fields(const struct lineproto_point *point, const struct window_field *fields, size_t count,
                         const char *line)
{
	FUZZ_CHECK(point->field_count == count, "%zu fields, not %zu, in %s", point->field_count, count, line);
	for (size_t i = 0; i < count; i++) {
		const struct decoded_field *found = &point->fields[i];
		FUZZ_CHECK(strcmp(found->key, fields[i].key) == 0, "field %zu is %s, not %s", i, found->key, fields[i].key);
		if (fields[i].kind == WINDOW_FIELD_INTEGER) {
			FUZZ_CHECK(found->kind == DECODED_INTEGER && found->integer == fields[i].integer,
			           "field %s is not the integer %" PRId64 " in %s", found->key, fields[i].integer, line);
		} else {
			FUZZ_CHECK(found->kind == DECODED_FLOAT && found->number == fields[i].number &&
			           signbit(found->number) == signbit(fields[i].number),
			           "field %s is not the float %.17g in %s", found->key, fields[i].number, line);
		}
	}
}

static int64_t seconds_of(int64_t ms)
{
	return ms / 1000 - (ms % 1000 < 0);
}

/* The point in out (of result bytes) read back; also: one byte less of
 * room is -ENOSPC with nothing written. */
static void decode_checked(enum lineproto_backslash backslash, int result, const char *out,
                           struct lineproto_point *point,
                           int (*again)(void *context, char *buffer, size_t size), void *context)
{
	FUZZ_CHECK(result > 0 && (size_t)result < POINT_SIZE, "encoding failed: %d", result);
	FUZZ_CHECK(strlen(out) == (size_t)result, "length %d but %zu bytes", result, strlen(out));
	const char *why;
	int r = lineproto_decode(backslash, out, (size_t)result, point, &why);
	if (r == -ENOMEM)
		abort();
	FUZZ_CHECK(r == 0, "not one valid point (%s): %s", why, out);

	char *small = malloc((size_t)result);
	if (!small)
		abort();
	memset(small, 'x', (size_t)result);
	FUZZ_CHECK(again(context, small, (size_t)result) == -ENOSPC && small[0] == '\0',
	           "a buffer of %d bytes was not refused for %s", result, out);
	free(small);
}

struct window_call {
	enum lineproto_backslash backslash;
	const struct identity *id;
	const char *sensor;
	const struct window_result *window;
	const struct health *health;
	const struct lineproto_alert *alert;
	int64_t start_ms;
};

static int window_again(void *context, char *buffer, size_t size)
{
	const struct window_call *call = context;
	return lineproto_window(call->backslash, call->id, call->sensor, call->window, buffer, size);
}

static int gateway_again(void *context, char *buffer, size_t size)
{
	const struct window_call *call = context;
	return lineproto_gateway(call->backslash, call->id, call->start_ms, call->health, buffer, size);
}

static int alert_again(void *context, char *buffer, size_t size)
{
	const struct window_call *call = context;
	return lineproto_alert(call->backslash, call->id, call->alert, buffer, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input input = { .data = data, .size = size };
	uint8_t switches = fuzz_take_byte(&input);
	struct window_result window = {
		.type = (enum sensor_type)(switches % SENSOR_TYPE_COUNT),
		.has_direction = switches & 0x04,
		.start_ms = (int64_t)fuzz_take_u64(&input),
		.coverage = fuzz_take_finite(&input),
		.samples = (unsigned)fuzz_take_u64(&input),
		.count = fuzz_take_u64(&input),
		.in = fuzz_take_u64(&input),
		.out = fuzz_take_u64(&input),
		.lux_min = fuzz_take_finite(&input),
		.lux_mean = fuzz_take_finite(&input),
		.lux_max = fuzz_take_finite(&input),
		.dark_s = (int64_t)fuzz_take_u64(&input),
		.on_s = (int64_t)fuzz_take_u64(&input),
		.fault_s = (int64_t)fuzz_take_u64(&input),
	};
	struct health health = {
		.readings = fuzz_take_u64(&input),
		.dropped = fuzz_take_u64(&input),
		.uptime_s = (int64_t)fuzz_take_u64(&input),
		.memory = (int64_t)fuzz_take_u64(&input),
	};
	char *district = take_tag_text(&input);
	char *site = take_tag_text(&input);
	char *gateway = take_tag_text(&input);
	char *sensor = take_tag_text(&input);
	char *detail = fuzz_take_text(&input, 0xff);
	char *out = malloc(POINT_SIZE);
	if (!district || !site || !gateway || !sensor || !detail || !out)
		abort();
	struct identity id = { .gateway = gateway, .district = district, .site = switches & 0x08 ? NULL : site };
	struct lineproto_alert alert = {
		.sensor = sensor, .problem = "covered", .active = switches & 0x10,
		.detail = switches & 0x20 ? NULL : detail, .ts_ms = window.start_ms,
	};

	for (int dialect = 0; dialect < 2; dialect++) {
		enum lineproto_backslash backslash = dialect ? LINEPROTO_BACKSLASH_DOUBLED : LINEPROTO_BACKSLASH_AS_IS;
		struct window_call call = {
			.backslash = backslash, .id = &id, .sensor = sensor, .window = &window, .health = &health,
			.alert = &alert, .start_ms = window.start_ms,
		};
		struct lineproto_point point;

		/* A sensor's window. */
		int result = lineproto_window(backslash, &id, sensor, &window, out, POINT_SIZE);
		decode_checked(backslash, result, out, &point, window_again, &call);
		FUZZ_CHECK(strcmp(point.measurement, sensor_type_name(window.type)) == 0, "measurement %s", point.measurement);
		check_tag(backslash, &point, "district", id.district, out);
		check_tag(backslash, &point, "gateway", id.gateway, out);
		check_tag(backslash, &point, "sensor", sensor, out);
		check_tag(backslash, &point, "site", id.site, out);
		struct window_field fields[WINDOW_FIELDS_MAX];
		check_fields(&point, fields, window_fields(&window, fields), out);
		FUZZ_CHECK(point.timestamp == seconds_of(window.start_ms), "timestamp in %s", out);
		lineproto_point_free(&point);

		/* The gateway's own point. */
		result = lineproto_gateway(backslash, &id, window.start_ms, &health, out, POINT_SIZE);
		decode_checked(backslash, result, out, &point, gateway_again, &call);
		FUZZ_CHECK(strcmp(point.measurement, "gateway") == 0, "measurement %s", point.measurement);
		check_tag(backslash, &point, "district", id.district, out);
		check_tag(backslash, &point, "gateway", id.gateway, out);
		check_tag(backslash, &point, "sensor", NULL, out);
		check_tag(backslash, &point, "site", id.site, out);
		struct window_field health_list[HEALTH_FIELDS_MAX];
		check_fields(&point, health_list, health_fields(&health, health_list), out);
		FUZZ_CHECK(point.timestamp == seconds_of(window.start_ms), "timestamp in %s", out);
		lineproto_point_free(&point);

		/* A problem raised or cleared, with a hostile detail. */
		result = lineproto_alert(backslash, &id, &alert, out, POINT_SIZE);
		decode_checked(backslash, result, out, &point, alert_again, &call);
		FUZZ_CHECK(strcmp(point.measurement, "alert") == 0, "measurement %s", point.measurement);
		check_tag(backslash, &point, "district", id.district, out);
		check_tag(backslash, &point, "gateway", id.gateway, out);
		check_tag(backslash, &point, "problem", alert.problem, out);
		check_tag(backslash, &point, "sensor", sensor, out);
		check_tag(backslash, &point, "site", id.site, out);
		FUZZ_CHECK(point.field_count == (alert.detail ? 2u : 1u), "alert fields in %s", out);
		FUZZ_CHECK(strcmp(point.fields[0].key, "active") == 0 && point.fields[0].kind == DECODED_BOOLEAN &&
		           point.fields[0].boolean == alert.active, "active in %s", out);
		if (alert.detail) {
			const struct decoded_field *found = &point.fields[1];
			FUZZ_CHECK(strcmp(found->key, "detail") == 0 && found->kind == DECODED_STRING, "detail in %s", out);
			FUZZ_CHECK(fuzz_utf8_valid(found->text, false), "detail not clean UTF-8 in %s", out);
			if (fuzz_utf8_valid(alert.detail, false))
				FUZZ_CHECK(strcmp(found->text, alert.detail) == 0, "detail changed in %s", out);
			else
				FUZZ_CHECK(strlen(found->text) <= strlen(alert.detail), "detail grew in %s", out);
		}
		FUZZ_CHECK(point.timestamp == seconds_of(alert.ts_ms), "timestamp in %s", out);
		lineproto_point_free(&point);
	}

	free(out);
	free(district);
	free(site);
	free(gateway);
	free(sensor);
	free(detail);
	return 0;
}
