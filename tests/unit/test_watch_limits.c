/* test_watch_limits.c — the bounds of `tryggctl watch` on what it
 * receives (watch.h), without a broker: a message over WATCH_MESSAGE_MAX
 * is not read but shown as one line with its size, in the view and as a
 * JSON line, and counted in the summary; the table of sensors stays at
 * WATCH_SENSORS_MAX however many names come, and the summary counts the
 * messages about those left out.  test_watch.c has the rest of the view.
 *
 * Times are printed in the local time zone: the tests run in UTC. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "timefmt.h"
#include "watch.h"

#define BASE "trygghet/arby/arby-01"
#define NOW "2026-11-30T13:20:00Z"
#define READING(seq, sensor) \
	"{\"ts\":\"2026-11-30T13:20:00.000Z\",\"seq\":" seq ",\"sensor\":\"" sensor "\",\"type\":\"footfall\"," \
	"\"value\":1,\"unit\":\"count\"}"

static int64_t at(const char *iso)
{
	int64_t ms = 0;
	assert_int_equal(timefmt_parse_iso8601(iso, &ms), 0);
	return ms;
}

/* What the view printed for one message (topic below BASE) of length
 * bytes arriving at NOW; the caller frees it. */
static char *show(struct watch_view *view, const char *leaf, const char *payload, size_t length, bool retained)
{
	char topic[256], *text = NULL;
	size_t size = 0;
	snprintf(topic, sizeof(topic), "%s/%s", BASE, leaf);
	FILE *out = open_memstream(&text, &size);
	assert_non_null(out);
	assert_int_equal(watch_view_message(view, topic, payload, length, retained, at(NOW), out), 0);
	assert_int_equal(fclose(out), 0);
	return text;
}

static void assert_shown(struct watch_view *view, const char *leaf, const char *payload, size_t length,
                         bool retained, const char *expected)
{
	char *text = show(view, leaf, payload, length, retained);
	assert_string_equal(text, expected);
	free(text);
}

static char *summary(const struct watch_view *view)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	assert_non_null(out);
	watch_view_summary(view, at(NOW), out);
	assert_int_equal(fclose(out), 0);
	return text;
}

/* A reading tryggd could have sent, padded with blanks to length bytes:
 * JSON all the same, so only its size keeps it from being read. */
static char *padded_reading(size_t length)
{
	const char *reading = READING("7", "door");
	assert_true(length >= strlen(reading));
	char *payload = malloc(length);
	assert_non_null(payload);
	memcpy(payload, reading, strlen(reading));
	memset(payload + strlen(reading), ' ', length - strlen(reading));
	return payload;
}

static void test_message_too_large(void **state)
{
	(void)state;
	struct watch_view view;
	assert_int_equal(watch_view_init(&view, BASE, false), 0);

	/* At the bound: read as any other. */
	char *payload = padded_reading(WATCH_MESSAGE_MAX);
	assert_shown(&view, "door/reading", payload, WATCH_MESSAGE_MAX, false, "13:20:00  door        +1  seq 7\n");
	free(payload);

	/* One byte over: one line with what it was and its size, not read,
	 * whatever it holds. */
	payload = padded_reading(WATCH_MESSAGE_MAX + 1);
	assert_shown(&view, "door/reading", payload, WATCH_MESSAGE_MAX + 1, false,
	             "13:20:00  door        reading too large, not read: 65537 bytes (at most 65536)\n");
	assert_shown(&view, "status", payload, WATCH_MESSAGE_MAX + 1, true,
	             "13:20:00  gateway     status too large, not read: 65537 bytes (at most 65536) (retained)\n");
	assert_shown(&view, "door/config", payload, WATCH_MESSAGE_MAX + 1, false,
	             "13:20:00  door/config  message too large, not read: 65537 bytes (at most 65536)\n");
	free(payload);

	/* Far over, as a hostile publisher would send it: the same one line. */
	size_t huge = 8u << 20;
	payload = padded_reading(huge);
	char *text = show(&view, "door/window", payload, huge, false);
	assert_string_equal(text, "13:20:00  door        window too large, not read: 8388608 bytes (at most 65536)\n");
	free(text);
	free(payload);

	/* Counted, beside the messages. */
	text = summary(&view);
	assert_non_null(strstr(text, "   readings    1 numbered, up to seq 7: 0 missing, 0 delivered again; "
	                             "5 messages, 4 too large to read\n"));
	/* The reading not read left nothing behind: door's last reading is
	 * the one at the bound. */
	assert_non_null(strstr(text, "   door        +1, 0 s ago\n"));
	free(text);
	watch_view_free(&view);
}

static void test_json_line_too_large(void **state)
{
	(void)state;
	char *payload = padded_reading(WATCH_MESSAGE_MAX + 1), *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	assert_non_null(out);
	assert_int_equal(watch_json_line(BASE "/door/reading", payload, WATCH_MESSAGE_MAX + 1, true, out), 0);
	assert_int_equal(fclose(out), 0);
	assert_string_equal(text, "{\"topic\":\"" BASE "/door/reading\",\"retained\":true,\"payload\":null,"
	                          "\"too_large\":65537}\n");
	free(text);
	free(payload);
}

static void test_sensor_table_bounded(void **state)
{
	(void)state;
	struct watch_view view;
	assert_int_equal(watch_view_init(&view, BASE, false), 0);
	/* Far more names than the table keeps, each with a reading: every one
	 * is shown, the table stops growing. */
	const size_t names = WATCH_SENSORS_MAX + 1000;
	const char *reading = "{\"value\":1,\"unit\":\"lx\"}";
	for (size_t i = 0; i < names; i++) {
		char leaf[64], expected[64];
		snprintf(leaf, sizeof(leaf), "s%zu/reading", i);
		snprintf(expected, sizeof(expected), "13:20:00  s%-9zu  1 lx\n", i);
		assert_shown(&view, leaf, reading, strlen(reading), false, expected);
	}
	assert_int_equal(view.sensor_count, WATCH_SENSORS_MAX);
	assert_true(view.sensor_capacity <= 2 * WATCH_SENSORS_MAX);
	/* A name longer than the table keeps is shown and left out too. */
	char leaf[128];
	memset(leaf, 'n', WATCH_NAME_SIZE);
	snprintf(leaf + WATCH_NAME_SIZE, sizeof(leaf) - WATCH_NAME_SIZE, "/window");
	free(show(&view, leaf, "{\"start\":\"2026-11-30T13:19:00.000Z\",\"end\":\"2026-11-30T13:20:00.000Z\"}",
	          strlen("{\"start\":\"2026-11-30T13:19:00.000Z\",\"end\":\"2026-11-30T13:20:00.000Z\"}"), false));

	char *text = summary(&view);
	assert_non_null(strstr(text, "   s0          1 lx, 0 s ago\n"));
	assert_null(strstr(text, "   s256 "));
	assert_non_null(strstr(text, "\n   1001 messages about sensors not in this summary (it keeps 256, with names up "
	                             "to 64 bytes)\n"));
	free(text);
	watch_view_free(&view);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message_too_large),
		cmocka_unit_test(test_json_line_too_large),
		cmocka_unit_test(test_sensor_table_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
