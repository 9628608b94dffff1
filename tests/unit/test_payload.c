/* test_payload.c — the MQTT JSON payloads (payload.c), read back with
 * cJSON_Parse: every field, the keys that must be left out, and hostile
 * strings that must arrive exactly as configured; and the one list of the
 * gateway's own figures (health.c) the health payload is written from. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "payload.h"

static const char *const hostile_texts[] = {
	"Årby",
	"quote \" and \"\" more",
	"back\\slash \\\" \\",
	"new\nline\r\ttab",
	"}{\"],:",
	"\xF0\x9F\x98\x80 / + # \\u0000",
	"\x01\x1f",
};

static cJSON *parse_and_free(char *text)
{
	assert_non_null(text);
	cJSON *json = cJSON_Parse(text);
	if (json == NULL)
		fail_msg("not JSON: %s", text);
	assert_true(cJSON_IsObject(json));
	free(text);
	return json;
}

static void assert_string_member(const cJSON *json, const char *key, const char *expected)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(json, key);
	if (!cJSON_IsString(item))
		fail_msg("\"%s\" is missing or not a string", key);
	assert_string_equal(item->valuestring, expected);
}

static void assert_number_member(const cJSON *json, const char *key, double expected)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(json, key);
	if (!cJSON_IsNumber(item))
		fail_msg("\"%s\" is missing or not a number", key);
	if (item->valuedouble != expected)
		fail_msg("\"%s\" is %.17g, not %.17g", key, item->valuedouble, expected);
}

static void assert_absent(const cJSON *json, const char *key)
{
	if (cJSON_GetObjectItemCaseSensitive(json, key) != NULL)
		fail_msg("\"%s\" should be left out", key);
}

static int member_count(const cJSON *json)
{
	return cJSON_GetArraySize(json);
}

static void test_reading_all_fields(void **state)
{
	(void)state;
	struct identity id = { .gateway = "gw-01", .district = "Årby", .site = "Torget" };
	struct reading r = { .ts_ms = INT64_C(1793599200123), .seq = 4242, .value = 1,
	                     .direction = DIRECTION_IN };
	cJSON *json = parse_and_free(payload_reading(&id, "door", SENSOR_FOOTFALL, &r));
	assert_string_member(json, "ts", "2026-11-02T06:00:00.123Z");
	assert_number_member(json, "seq", 4242);
	assert_string_member(json, "gateway", "gw-01");
	assert_string_member(json, "district", "Årby");
	assert_string_member(json, "site", "Torget");
	assert_string_member(json, "sensor", "door");
	assert_string_member(json, "type", "footfall");
	assert_number_member(json, "value", 1);
	assert_string_member(json, "unit", "count");
	assert_string_member(json, "dir", "in");
	assert_int_equal(member_count(json), 10);
	cJSON_Delete(json);

	r.direction = DIRECTION_OUT;
	json = parse_and_free(payload_reading(&id, "door", SENSOR_FOOTFALL, &r));
	assert_string_member(json, "dir", "out");
	cJSON_Delete(json);
}

static void test_reading_omits_site_and_dir(void **state)
{
	(void)state;
	struct identity id = { .gateway = "gw-01", .district = "Fröslunda", .site = NULL };
	struct reading r = { .ts_ms = -1, .seq = UINT64_C(3000000000), .value = 12.345678901234567,
	                     .direction = DIRECTION_NONE };
	cJSON *json = parse_and_free(payload_reading(&id, "lux", SENSOR_LIGHT, &r));
	assert_absent(json, "site");
	assert_absent(json, "dir");
	assert_string_member(json, "ts", "1969-12-31T23:59:59.999Z");
	assert_number_member(json, "seq", 3000000000.0);
	assert_string_member(json, "type", "light");
	assert_string_member(json, "unit", "lx");
	assert_number_member(json, "value", 12.345678901234567);
	assert_int_equal(member_count(json), 8);
	cJSON_Delete(json);

	r.value = 0;
	json = parse_and_free(payload_reading(&id, "lamp1", SENSOR_LAMP, &r));
	assert_string_member(json, "type", "lamp");
	assert_string_member(json, "unit", "on");
	assert_number_member(json, "value", 0);
	cJSON_Delete(json);
}

static void test_hostile_strings_survive(void **state)
{
	(void)state;
	size_t count = sizeof(hostile_texts) / sizeof(hostile_texts[0]);
	for (size_t i = 0; i < count; i++) {
		const char *other = hostile_texts[(i + 1) % count];
		struct identity id = { .gateway = "gw-01", .district = hostile_texts[i], .site = other };
		struct reading r = { .ts_ms = 0, .seq = 1, .value = 1, .direction = DIRECTION_NONE };
		char *text = payload_reading(&id, "door", SENSOR_FOOTFALL, &r);
		assert_non_null(text);
		/* one line: a newline in a value must be escaped, never raw */
		assert_null(strchr(text, '\n'));
		cJSON *json = parse_and_free(text);
		assert_string_member(json, "district", hostile_texts[i]);
		assert_string_member(json, "site", other);
		assert_int_equal(member_count(json), 9);
		cJSON_Delete(json);

		struct window_result w = { .type = SENSOR_LAMP, .start_ms = 0, .end_ms = 60000 };
		json = parse_and_free(payload_window(&id, hostile_texts[i], &w));
		assert_string_member(json, "district", hostile_texts[i]);
		assert_string_member(json, "site", other);
		assert_string_member(json, "sensor", hostile_texts[i]);
		cJSON_Delete(json);
	}
}

static void test_window_footfall(void **state)
{
	(void)state;
	struct identity id = { .gateway = "gw-01", .district = "Årby", .site = "Torget" };
	struct window_result w = {
		.type = SENSOR_FOOTFALL,
		.start_ms = INT64_C(1793599200000),
		.end_ms = INT64_C(1793599260000),
		.coverage = 1.0 / 3.0,
		.samples = 3,
		.count = 12,
		.has_direction = true,
		.in = 7,
		.out = 5,
	};
	cJSON *json = parse_and_free(payload_window(&id, "door", &w));
	assert_string_member(json, "start", "2026-11-02T06:00:00.000Z");
	assert_string_member(json, "end", "2026-11-02T06:01:00.000Z");
	assert_string_member(json, "gateway", "gw-01");
	assert_string_member(json, "district", "Årby");
	assert_string_member(json, "site", "Torget");
	assert_string_member(json, "sensor", "door");
	assert_string_member(json, "type", "footfall");
	assert_number_member(json, "samples", 3);
	assert_number_member(json, "coverage", 1.0 / 3.0);   /* exactly, as in the store */
	assert_number_member(json, "count", 12);
	assert_number_member(json, "in", 7);
	assert_number_member(json, "out", 5);
	assert_int_equal(member_count(json), 12);
	cJSON_Delete(json);

	w.has_direction = false;
	id.site = NULL;
	json = parse_and_free(payload_window(&id, "door", &w));
	assert_absent(json, "in");
	assert_absent(json, "out");
	assert_absent(json, "site");
	assert_absent(json, "lux_min");
	assert_absent(json, "on_s");
	assert_number_member(json, "count", 12);
	assert_int_equal(member_count(json), 9);
	cJSON_Delete(json);
}

static void test_window_light(void **state)
{
	(void)state;
	struct identity id = { .gateway = "gw-01", .district = "Årby", .site = NULL };
	struct window_result w = {
		.type = SENSOR_LIGHT,
		.start_ms = INT64_C(1793599200000),
		.end_ms = INT64_C(1793599260000),
		.coverage = 0.1,
		.samples = 12,
		.lux_min = 0.5,
		.lux_mean = 0.1 + 0.2,
		.lux_max = 40,
		.dark_s = 30,
	};
	cJSON *json = parse_and_free(payload_window(&id, "lux", &w));
	assert_string_member(json, "type", "light");
	assert_number_member(json, "samples", 12);
	assert_number_member(json, "coverage", 0.1);
	assert_number_member(json, "lux_min", 0.5);
	assert_number_member(json, "lux_mean", 0.1 + 0.2);
	assert_number_member(json, "lux_max", 40);
	assert_number_member(json, "dark_s", 30);
	assert_absent(json, "count");
	assert_int_equal(member_count(json), 12);
	cJSON_Delete(json);

	/* no samples: no lux, as in the store */
	w.samples = 0;
	w.coverage = 0;
	w.dark_s = 0;
	json = parse_and_free(payload_window(&id, "lux", &w));
	assert_absent(json, "lux_min");
	assert_absent(json, "lux_mean");
	assert_absent(json, "lux_max");
	assert_number_member(json, "dark_s", 0);
	assert_number_member(json, "samples", 0);
	assert_number_member(json, "coverage", 0);
	assert_int_equal(member_count(json), 9);
	cJSON_Delete(json);

	/* never "null" where the store has no value at all */
	w.samples = 1;
	w.lux_min = w.lux_max = 3;
	w.lux_mean = NAN;
	json = parse_and_free(payload_window(&id, "lux", &w));
	assert_absent(json, "lux_mean");
	assert_number_member(json, "lux_min", 3);
	cJSON_Delete(json);
}

static void test_window_lamp(void **state)
{
	(void)state;
	struct identity id = { .gateway = "gw-01", .district = "Årby", .site = "Torget" };
	struct window_result w = {
		.type = SENSOR_LAMP,
		.start_ms = -60000,
		.end_ms = 0,
		.coverage = 0.75,
		.samples = 9,
		.on_s = 45,
		.fault_s = 15,
	};
	cJSON *json = parse_and_free(payload_window(&id, "lamp1", &w));
	assert_string_member(json, "start", "1969-12-31T23:59:00.000Z");
	assert_string_member(json, "end", "1970-01-01T00:00:00.000Z");
	assert_string_member(json, "type", "lamp");
	assert_number_member(json, "samples", 9);
	assert_number_member(json, "coverage", 0.75);
	assert_number_member(json, "on_s", 45);
	assert_number_member(json, "fault_s", 15);
	assert_absent(json, "dark_s");
	assert_int_equal(member_count(json), 11);
	cJSON_Delete(json);
}

/* The numbers as text: the same digits the line protocol writes (cJSON's
 * own printer would give 0.3 for 0.1 + 0.2), and 64-bit counters whole. */
static void test_numbers_exact(void **state)
{
	(void)state;
	struct identity id = { .gateway = "g", .district = "d", .site = NULL };
	struct window_result w = {
		.type = SENSOR_LIGHT, .start_ms = 0, .end_ms = 60000, .coverage = 1.0 / 3.0,
		.samples = 2, .lux_min = 1e-300, .lux_mean = 0.1 + 0.2, .lux_max = 40, .dark_s = 0,
	};
	char *text = payload_window(&id, "s", &w);
	assert_non_null(text);
	assert_string_equal(text,
	                    "{\"start\":\"1970-01-01T00:00:00.000Z\",\"end\":\"1970-01-01T00:01:00.000Z\","
	                    "\"gateway\":\"g\",\"district\":\"d\",\"sensor\":\"s\",\"type\":\"light\","
	                    "\"lux_min\":1e-300,\"lux_mean\":0.30000000000000004,\"lux_max\":40,"
	                    "\"dark_s\":0,\"samples\":2,\"coverage\":0.3333333333333333}");
	free(text);

	struct reading r = { .ts_ms = 0, .seq = UINT64_MAX, .value = 0.1, .direction = DIRECTION_NONE };
	text = payload_reading(&id, "s", SENSOR_LIGHT, &r);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"seq\":18446744073709551615,"));
	assert_non_null(strstr(text, "\"value\":0.1,"));
	free(text);

	struct window_result f = { .type = SENSOR_FOOTFALL, .start_ms = 0, .end_ms = 60000,
	                           .coverage = 1, .samples = 1, .count = UINT64_C(9007199254740993) };
	text = payload_window(&id, "s", &f);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"count\":9007199254740993,\"samples\":1,\"coverage\":1}"));
	free(text);
}

static void test_status(void **state)
{
	(void)state;
	cJSON *json = parse_and_free(payload_status("online", "0.1.0", INT64_C(1793599200000)));
	assert_string_member(json, "state", "online");
	assert_string_member(json, "version", "0.1.0");
	assert_string_member(json, "ts", "2026-11-02T06:00:00.000Z");
	assert_int_equal(member_count(json), 3);
	cJSON_Delete(json);

	char *text = payload_status("offline", "0.1.0", -1);
	assert_non_null(text);
	assert_string_equal(text, "{\"state\":\"offline\"}");
	free(text);

	text = payload_status("offline", NULL, -1);
	assert_string_equal(text, "{\"state\":\"offline\"}");
	free(text);

	text = payload_status("online", "1.2.3", 0);
	assert_string_equal(text,
	                    "{\"state\":\"online\",\"version\":\"1.2.3\",\"ts\":\"1970-01-01T00:00:00.000Z\"}");
	free(text);
}

/* The gateway's own figures: ts, the gateway's identity without a sensor,
 * then exactly health_fields() in its order, integers whole. */
static void test_health(void **state)
{
	(void)state;
	struct identity id = { .gateway = "gw-01", .district = "Årby", .site = "Torget 3, ingång=öst" };
	struct health health = {
		.readings = 1234, .published = 1300, .buffered = 2, .dropped = 3, .lost = 4, .reconnects = 5,
		.spooled = 6, .sent = 7, .spool_dropped = 8, .rejected = 9, .missing = 10, .problems = 1,
		.unstamped_windows = 11, .implausible = 12, .uptime_s = 3600, .window_s = 60,
		.memory = INT64_C(5431296),
	};
	char *text = payload_health(&id, INT64_C(1793599200000), &health);
	assert_non_null(text);
	assert_string_equal(text,
	                    "{\"ts\":\"2026-11-02T06:00:00.000Z\",\"gateway\":\"gw-01\",\"district\":\"Årby\","
	                    "\"site\":\"Torget 3, ingång=öst\",\"readings\":1234,\"published\":1300,\"buffered\":2,"
	                    "\"dropped\":3,\"lost\":4,\"reconnects\":5,\"spooled\":6,\"sent\":7,\"spool_dropped\":8,"
	                    "\"rejected\":9,\"missing\":10,\"problems\":1,\"unstamped_windows\":11,"
	                    "\"implausible\":12,\"uptime_s\":3600,\"window_s\":60,\"memory\":5431296}");
	free(text);

	/* No site, memory unknown (left out, not 0), a counter past what
	 * line protocol can hold clamped as in the store point. */
	id.site = NULL;
	health = (struct health){ .readings = UINT64_MAX, .memory = -1 };
	text = payload_health(&id, 0, &health);
	assert_non_null(text);
	assert_string_equal(text,
	                    "{\"ts\":\"1970-01-01T00:00:00.000Z\",\"gateway\":\"gw-01\",\"district\":\"Årby\","
	                    "\"readings\":9223372036854775807,\"published\":0,\"buffered\":0,\"dropped\":0,\"lost\":0,"
	                    "\"reconnects\":0,\"spooled\":0,\"sent\":0,\"spool_dropped\":0,\"rejected\":0,\"missing\":0,"
	                    "\"problems\":0,\"unstamped_windows\":0,\"implausible\":0,\"uptime_s\":0,"
	                    "\"window_s\":0}");
	free(text);

	/* Hostile identities stay inside their strings. */
	for (size_t i = 0; i < sizeof(hostile_texts) / sizeof(hostile_texts[0]); i++) {
		struct identity hostile = { .gateway = "g", .district = hostile_texts[i], .site = hostile_texts[i] };
		cJSON *json = parse_and_free(payload_health(&hostile, 0, &health));
		assert_string_member(json, "district", hostile_texts[i]);
		assert_string_member(json, "site", hostile_texts[i]);
		assert_int_equal(member_count(json), 20);
		cJSON_Delete(json);
	}
}

/* The one list of fields: the JSON and the point both write from it. */
static void test_health_fields(void **state)
{
	(void)state;
	static const char *const keys[] = { "readings", "published", "buffered", "dropped", "lost", "reconnects",
	                                    "spooled", "sent", "spool_dropped", "rejected", "missing", "problems",
	                                    "unstamped_windows", "implausible", "uptime_s", "window_s", "memory" };
	struct health health = { .readings = 1, .implausible = 4, .uptime_s = 2, .window_s = 300, .memory = 3 };
	struct window_field fields[HEALTH_FIELDS_MAX];
	size_t count = health_fields(&health, fields);
	assert_int_equal(count, HEALTH_FIELDS_MAX);
	for (size_t i = 0; i < count; i++) {
		assert_string_equal(fields[i].key, keys[i]);
		assert_int_equal(fields[i].kind, WINDOW_FIELD_INTEGER);
	}
	assert_int_equal(fields[0].integer, 1);
	assert_int_equal(fields[13].integer, 4);
	assert_int_equal(fields[14].integer, 2);
	assert_int_equal(fields[15].integer, 300);
	assert_int_equal(fields[16].integer, 3);
	health.memory = -1;
	assert_int_equal(health_fields(&health, fields), HEALTH_FIELDS_MAX - 1);

	/* This process's resident set: some whole pages, and not absurd. */
	int64_t memory = health_memory_bytes();
	assert_true(memory > 0);
	assert_int_equal(memory % sysconf(_SC_PAGESIZE), 0);
	assert_true(memory < INT64_C(1) << 40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reading_all_fields),
		cmocka_unit_test(test_reading_omits_site_and_dir),
		cmocka_unit_test(test_hostile_strings_survive),
		cmocka_unit_test(test_window_footfall),
		cmocka_unit_test(test_window_light),
		cmocka_unit_test(test_window_lamp),
		cmocka_unit_test(test_numbers_exact),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_health),
		cmocka_unit_test(test_health_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
