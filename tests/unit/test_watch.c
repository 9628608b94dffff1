/* test_watch.c — what `tryggctl watch` makes of a gateway's messages,
 * without a broker: the reading numbers (watch_seq.c), every kind of
 * message as the lines a technician reads (watch_view.c), the summary,
 * one message as a line of JSON, and how times, spans and numbers are
 * printed (watch_text.c); then the command line through the built program
 * (TRYGGCTL_PATH, given by tests/CMakeLists.txt), up to the point where it
 * would need a broker that answers.
 *
 * Times are printed in the local time zone: the tests run in UTC. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "temp_tree.h"
#include "timefmt.h"
#include "watch.h"
#include "watch_internal.h"

#define BASE "trygghet/arby/arby-01"

static int64_t at(const char *iso)
{
	int64_t ms = 0;
	assert_int_equal(timefmt_parse_iso8601(iso, &ms), 0);
	return ms;
}

/* ---- the reading numbers ---------------------------------------------------------- */

static struct watch_seq_verdict note(struct watch_seq *seq, uint64_t number)
{
	return watch_seq_note(seq, number);
}

static void test_seq_in_order_gap_and_repeat(void **state)
{
	(void)state;
	struct watch_seq seq;
	watch_seq_init(&seq);

	struct watch_seq_verdict v = note(&seq, 120);
	assert_int_equal(v.kind, WATCH_SEQ_FIRST);
	assert_int_equal(note(&seq, 121).kind, WATCH_SEQ_NEXT);

	v = note(&seq, 125);
	assert_int_equal(v.kind, WATCH_SEQ_GAP);
	assert_int_equal(v.previous, 121);
	assert_int_equal(v.missing, 3);

	v = note(&seq, 125);
	assert_int_equal(v.kind, WATCH_SEQ_REPEAT);
	assert_int_equal(v.times, 2);
	v = note(&seq, 121);
	assert_int_equal(v.kind, WATCH_SEQ_REPEAT);
	assert_int_equal(v.times, 2);
	assert_int_equal(note(&seq, 125).times, 3);

	/* One of the three missing comes late; the next goes on from 125. */
	v = note(&seq, 123);
	assert_int_equal(v.kind, WATCH_SEQ_LATE);
	assert_int_equal(v.previous, 125);
	assert_int_equal(note(&seq, 123).kind, WATCH_SEQ_REPEAT);
	assert_int_equal(note(&seq, 126).kind, WATCH_SEQ_NEXT);

	assert_int_equal(seq.received, 9);
	assert_int_equal(seq.missing, 2);
	assert_int_equal(seq.repeated, 4);
	assert_int_equal(seq.restarts, 0);
	assert_int_equal(seq.highest, 126);
}

static void test_seq_window_edges(void **state)
{
	(void)state;
	struct watch_seq seq;
	watch_seq_init(&seq);
	note(&seq, 1);

	/* A jump as wide as the memory: nothing below is remembered as seen. */
	struct watch_seq_verdict v = note(&seq, 1 + WATCH_SEQ_WINDOW + 10);
	assert_int_equal(v.kind, WATCH_SEQ_GAP);
	assert_int_equal(v.missing, WATCH_SEQ_WINDOW + 9);
	uint64_t top = 1 + WATCH_SEQ_WINDOW + 10;
	/* Just within the memory: it never came, so it comes late. */
	assert_int_equal(note(&seq, top - (WATCH_SEQ_WINDOW - 1)).kind, WATCH_SEQ_LATE);
	/* Just beyond it: numbering that started over. */
	v = note(&seq, top - WATCH_SEQ_WINDOW);
	assert_int_equal(v.kind, WATCH_SEQ_BACK);
	assert_int_equal(v.previous, top);
	assert_int_equal(seq.restarts, 1);
	assert_int_equal(seq.highest, top - WATCH_SEQ_WINDOW);
	assert_int_equal(note(&seq, top - WATCH_SEQ_WINDOW + 1).kind, WATCH_SEQ_NEXT);

	/* A slot taken by a number WINDOW higher forgets the old one; the
	 * next one up is still remembered. */
	watch_seq_init(&seq);
	note(&seq, 10);
	note(&seq, 11);
	assert_int_equal(note(&seq, 10 + WATCH_SEQ_WINDOW).kind, WATCH_SEQ_GAP);
	assert_int_equal(note(&seq, 11).kind, WATCH_SEQ_REPEAT);
	assert_int_equal(note(&seq, 12).kind, WATCH_SEQ_LATE);
	assert_int_equal(note(&seq, 10).kind, WATCH_SEQ_BACK);

	/* Repeats count up and stop at the top of a byte. */
	watch_seq_init(&seq);
	for (int i = 0; i < 300; i++)
		v = note(&seq, 7);
	assert_int_equal(v.kind, WATCH_SEQ_REPEAT);
	assert_int_equal(v.times, 255);
	assert_int_equal(seq.repeated, 299);
}

/* ---- the view, message by message ---------------------------------------------------- */

struct screen {
	struct watch_view view;
	char *text;
	size_t length;
	FILE *out;
};

static int screen_setup(void **state)
{
	struct screen *screen = calloc(1, sizeof(*screen));
	if (!screen || watch_view_init(&screen->view, BASE, false) != 0)
		return -1;
	*state = screen;
	return 0;
}

static int screen_teardown(void **state)
{
	struct screen *screen = *state;
	watch_view_free(&screen->view);
	free(screen->text);
	free(screen);
	return 0;
}

/* One message (topic below BASE) arriving at now; what the view printed. */
static const char *show(struct screen *screen, const char *leaf, const char *payload, bool retained, const char *now)
{
	char topic[256];
	snprintf(topic, sizeof(topic), "%s/%s", BASE, leaf);
	free(screen->text);
	screen->text = NULL;
	screen->out = open_memstream(&screen->text, &screen->length);
	assert_non_null(screen->out);
	assert_int_equal(watch_view_message(&screen->view, topic, payload, strlen(payload), retained, at(now),
	                                    screen->out), 0);
	assert_int_equal(fclose(screen->out), 0);
	return screen->text;
}

static const char *summary(struct screen *screen, const char *now)
{
	free(screen->text);
	screen->text = NULL;
	screen->out = open_memstream(&screen->text, &screen->length);
	assert_non_null(screen->out);
	watch_view_summary(&screen->view, at(now), screen->out);
	assert_int_equal(fclose(screen->out), 0);
	return screen->text;
}

#define READING(ts, seq, sensor, type, value, unit, extra)                                                \
	"{\"ts\":\"" ts "\",\"seq\":" seq ",\"gateway\":\"arby-01\",\"district\":\"Årby\",\"sensor\":\"" sensor \
	"\",\"type\":\"" type "\",\"value\":" value ",\"unit\":\"" unit "\"" extra "}"

static void test_view_status_readings_and_seq(void **state)
{
	struct screen *screen = *state;
	const char *now = "2026-11-30T13:19:10Z";

	assert_string_equal(show(screen, "status", "{\"state\":\"online\",\"version\":\"0.1.0\",\"ts\":\"2026-11-30T06:00:00.000Z\"}",
	                         true, now),
	                    "06:00:00  gateway     online since 06:00:00, tryggd 0.1.0 (retained)\n");
	assert_string_equal(show(screen, "door/reading",
	                         READING("2026-11-30T13:19:01.000Z", "1", "door", "footfall", "1", "count", ",\"dir\":\"in\""),
	                         false, now),
	                    "13:19:01  door        +1 in  seq 1\n");
	assert_string_equal(show(screen, "sky/reading",
	                         READING("2026-11-30T13:19:02.000Z", "2", "sky", "light", "412.53", "lx", ""), false, now),
	                    "13:19:02  sky         412.5 lx  seq 2\n");
	assert_string_equal(show(screen, "lamp-1/reading",
	                         READING("2026-11-30T13:19:03.000Z", "3", "lamp-1", "lamp", "1", "on", ""), false, now),
	                    "13:19:03  lamp-1      on  seq 3\n");
	assert_string_equal(show(screen, "sky/reading",
	                         READING("2026-11-30T13:19:06.000Z", "6", "sky", "light", "0.25", "lx", ""), false, now),
	                    "13:19:06  gateway     seq jumped from 3 to 6: 2 readings missing\n"
	                    "13:19:06  sky         0.25 lx  seq 6\n");
	assert_string_equal(show(screen, "sky/reading",
	                         READING("2026-11-30T13:19:06.000Z", "6", "sky", "light", "0.25", "lx", ""), false, now),
	                    "13:19:06  sky         seq 6 again (delivered twice)\n");
	assert_string_equal(show(screen, "sky/reading",
	                         READING("2026-11-30T13:19:06.000Z", "6", "sky", "light", "0.25", "lx", ""), false, now),
	                    "13:19:06  sky         seq 6 again (delivered 3 times)\n");
	assert_string_equal(show(screen, "door/reading",
	                         READING("2026-11-30T13:19:05.000Z", "5", "door", "footfall", "1", "count", ",\"dir\":\"out\""),
	                         false, now),
	                    "13:19:05  door        +1 out  seq 5 (late: came after 6)\n");
	assert_string_equal(show(screen, "lamp-1/reading",
	                         READING("2026-11-30T13:19:07.000Z", "8", "lamp-1", "lamp", "0", "on", ""), false, now),
	                    "13:19:07  gateway     seq jumped from 6 to 8: 1 reading missing\n"
	                    "13:19:07  lamp-1      off  seq 8\n");
	/* Far below the highest: the gateway's count started over. */
	assert_string_equal(show(screen, "door/reading",
	                         READING("2026-11-30T13:19:08.000Z", "5000", "door", "footfall", "1", "count", ""), false, now),
	                    "13:19:08  gateway     seq jumped from 8 to 5000: 4991 readings missing\n"
	                    "13:19:08  door        +1  seq 5000\n");
	assert_string_equal(show(screen, "door/reading",
	                         READING("2026-11-30T13:19:08.000Z", "1", "door", "footfall", "2", "count", ""), false, now),
	                    "13:19:08  gateway     seq went back from 5000 to 1: the numbering started over\n"
	                    "13:19:08  door        +2  seq 1\n");
	/* Without a number there is nothing to count. */
	assert_string_equal(show(screen, "door/reading",
	                         "{\"ts\":\"2026-11-30T13:19:09.000Z\",\"value\":3,\"unit\":\"count\"}", false, now),
	                    "13:19:09  door        +3\n");
	/* Another day: with its date. */
	assert_string_equal(show(screen, "sky/reading",
	                         READING("2026-11-29T23:59:59.000Z", "2", "sky", "light", "3", "lx", ""), true, now),
	                    "2026-11-29 23:59:59  sky         3 lx  seq 2 (retained)\n");
}

static void test_view_windows(void **state)
{
	struct screen *screen = *state;
	const char *now = "2026-11-30T13:20:00.200Z";
	assert_string_equal(show(screen, "door/window",
	                         "{\"start\":\"2026-11-30T13:19:00.000Z\",\"end\":\"2026-11-30T13:20:00.000Z\",\"gateway\":"
	                         "\"arby-01\",\"sensor\":\"door\",\"type\":\"footfall\",\"count\":12,\"in\":7,\"out\":5,"
	                         "\"samples\":12,\"coverage\":1}", false, now),
	                    "13:20:00  door        window 13:19:00 (1 min): count 12 (in 7, out 5), coverage 100 %\n");
	assert_string_equal(show(screen, "door/window",
	                         "{\"start\":\"2026-11-30T13:19:00.000Z\",\"end\":\"2026-11-30T13:20:00.000Z\",\"type\":"
	                         "\"footfall\",\"count\":0,\"samples\":0,\"coverage\":0}", false, now),
	                    "13:20:00  door        window 13:19:00 (1 min): count 0, coverage 0 %\n");
	assert_string_equal(show(screen, "sky/window",
	                         "{\"start\":\"2026-11-30T13:19:00.000Z\",\"end\":\"2026-11-30T13:20:00.000Z\",\"type\":"
	                         "\"light\",\"lux_min\":0.25,\"lux_mean\":101.3125,\"lux_max\":412.53,\"dark_s\":30,"
	                         "\"samples\":12,\"coverage\":0.9999}", false, now),
	                    "13:20:00  sky         window 13:19:00 (1 min): 0.25–412.5 lx, mean 101.3, dark 30 s, "
	                    "12 samples, coverage 99.9 %\n");
	assert_string_equal(show(screen, "sky/window",
	                         "{\"start\":\"2026-11-30T13:19:00.000Z\",\"end\":\"2026-11-30T13:20:00.000Z\",\"type\":"
	                         "\"light\",\"lux_min\":5,\"lux_mean\":5,\"lux_max\":5,\"dark_s\":60,"
	                         "\"samples\":1,\"coverage\":1}", false, now),
	                    "13:20:00  sky         window 13:19:00 (1 min): 5 lx, mean 5, dark 60 s, 1 sample, coverage 100 %\n");
	/* No sample: no lux fields (the store leaves them out too). */
	assert_string_equal(show(screen, "sky/window",
	                         "{\"start\":\"2026-11-30T13:19:58.000Z\",\"end\":\"2026-11-30T13:20:00.000Z\",\"type\":"
	                         "\"light\",\"dark_s\":0,\"samples\":0,\"coverage\":0}", false, now),
	                    "13:20:00  sky         window 13:19:58 (2 s): dark 0 s, no sample, coverage 0 %\n");
	assert_string_equal(show(screen, "lamp-1/window",
	                         "{\"start\":\"2026-11-30T13:19:00.000Z\",\"end\":\"2026-11-30T13:20:00.000Z\",\"type\":"
	                         "\"lamp\",\"on_s\":30,\"fault_s\":0,\"samples\":6,\"coverage\":0.5}", false, now),
	                    "13:20:00  lamp-1      window 13:19:00 (1 min): on 30 s, fault 0 s, 6 samples, coverage 50 %\n");
	/* A type this version does not know: its numbers as they are. */
	assert_string_equal(show(screen, "rain/window",
	                         "{\"start\":\"2026-11-30T13:19:00.000Z\",\"end\":\"2026-11-30T13:20:00.000Z\",\"type\":"
	                         "\"rain\",\"mm\":1.5,\"samples\":2,\"coverage\":1}", false, now),
	                    "13:20:00  rain        window 13:19:00 (1 min): mm 1.5, 2 samples, coverage 100 %\n");
	/* A backlog after an outage: late, and said so. */
	assert_string_equal(show(screen, "door/window",
	                         "{\"start\":\"2026-11-30T13:00:00.000Z\",\"end\":\"2026-11-30T13:01:00.000Z\",\"type\":"
	                         "\"footfall\",\"count\":1,\"samples\":1,\"coverage\":1}", false, now),
	                    "13:01:00  door        window 13:00:00 (1 min): count 1, coverage 100 % (arrived 19 min late)\n");
	/* A gateway whose clock runs ahead. */
	assert_string_equal(show(screen, "door/window",
	                         "{\"start\":\"2026-11-30T14:00:00.000Z\",\"end\":\"2026-11-30T14:01:00.000Z\",\"type\":"
	                         "\"footfall\",\"count\":1,\"samples\":1,\"coverage\":1}", false, now),
	                    "14:01:00  door        window 14:00:00 (1 min): count 1, coverage 100 % "
	                    "(40 min 59 s ahead of this computer's clock)\n");
}

static void test_view_alerts_health_status(void **state)
{
	struct screen *screen = *state;
	const char *now = "2026-11-30T13:20:00Z";
	assert_string_equal(show(screen, "sky/alert",
	                         "{\"state\":\"failed\",\"since\":\"2026-11-30T12:00:00.000Z\",\"detail\":\"cannot read "
	                         "/dev/i2c-1: No such device\",\"ts\":\"2026-11-30T12:00:05.000Z\",\"sensor\":\"sky\","
	                         "\"problems\":[\"failed\",\"covered\"]}", true, now),
	                    "12:00:05  sky         ALERT failed since 12:00:00: cannot read /dev/i2c-1: No such device "
	                    "(also covered) (retained)\n");
	assert_string_equal(show(screen, "sky/alert", "{\"state\":\"ok\",\"ts\":\"2026-11-30T13:19:59.000Z\"}", false, now),
	                    "13:19:59  sky         alert ok\n");
	/* Whatever a detail holds, the terminal gets no control character. */
	assert_string_equal(show(screen, "door/alert",
	                         "{\"state\":\"blocked\",\"since\":\"2026-11-30T13:19:00.000Z\",\"detail\":\"beam "
	                         "\\u001b[2J broken\\nfor 60 s\",\"ts\":\"2026-11-30T13:19:30.000Z\",\"problems\":[\"blocked\"]}",
	                         false, "2026-11-30T13:19:30Z"),
	                    "13:19:30  door        ALERT blocked since 13:19:00: beam ?[2J broken?for 60 s\n");

	assert_string_equal(show(screen, "health",
	                         "{\"ts\":\"2026-11-30T13:20:00.000Z\",\"gateway\":\"arby-01\",\"district\":\"Årby\","
	                         "\"readings\":1200,\"published\":1190,\"buffered\":0,\"dropped\":3,\"lost\":0,"
	                         "\"reconnects\":1,\"spooled\":0,\"sent\":300,\"spool_dropped\":0,\"rejected\":1,"
	                         "\"missing\":0,\"problems\":1,\"unstamped_windows\":0,\"uptime_s\":7500,\"memory\":5452595}", false, now),
	                    "13:20:00  gateway     health: readings 1200, published 1190, buffered 0, dropped 3, lost 0, "
	                    "reconnects 1, spooled 0, sent 300, spool_dropped 0, rejected 1, missing 0, problems 1, "
	                    "unstamped_windows 0, up 2 h 5 min, memory 5.2 MiB\n");

	/* An uptime that is no span (found by fuzz_watch: 1e105 cast to an
	 * integer is undefined) is shown as the number it is. */
	assert_string_equal(show(screen, "health",
	                         "{\"ts\":\"2026-11-30T13:20:00.000Z\",\"uptime_s\":2.5e105,\"memory\":1048576}", false, now),
	                    "13:20:00  gateway     health: uptime_s 2.5e+105, memory 1 MiB\n");

	/* The will has no time: the time it came. */
	assert_string_equal(show(screen, "status", "{\"state\":\"offline\"}", false, now),
	                    "13:20:00  gateway     OFFLINE\n");
	assert_string_equal(show(screen, "status", "{\"state\":\"online\",\"version\":\"0.1.0\",\"ts\":\"2026-11-30T13:20:01.000Z\"}",
	                         false, "2026-11-30T13:20:01.500Z"),
	                    "13:20:01  gateway     online since 13:20:01, tryggd 0.1.0\n");
	/* Said again later: still since the first. */
	assert_string_equal(show(screen, "status", "{\"state\":\"online\",\"version\":\"0.1.0\",\"ts\":\"2026-11-30T13:25:00.000Z\"}",
	                         false, "2026-11-30T13:25:00Z"),
	                    "13:25:00  gateway     still online since 13:20:01, tryggd 0.1.0\n");
}

static void test_view_what_is_not_understood(void **state)
{
	struct screen *screen = *state;
	const char *now = "2026-11-30T13:20:00Z";
	assert_string_equal(show(screen, "door/reading", "garbage", false, now),
	                    "13:20:00  door        reading not understood: garbage\n");
	assert_string_equal(show(screen, "door/reading", "{\"ts\":\"2026-11-30T13:19:00.000Z\"}", false, now),
	                    "13:20:00  door        reading not understood: {\"ts\":\"2026-11-30T13:19:00.000Z\"}\n");
	assert_string_equal(show(screen, "door/window", "[1,2]", false, now),
	                    "13:20:00  door        window not understood: [1,2]\n");
	assert_string_equal(show(screen, "status", "", true, now),
	                    "13:20:00  gateway     status not understood: (empty) (retained)\n");
	/* Topics tryggd does not use are shown as they come. */
	assert_string_equal(show(screen, "door/config", "x\x1b" "y", false, now), "13:20:00  door/config  x?y\n");
	assert_string_equal(show(screen, "a/b/c", "\xff", false, now), "13:20:00  a/b/c       \xef\xbf\xbd\n");
	/* A long payload is cut. */
	char payload[400];
	memset(payload, 'z', sizeof(payload) - 1);
	payload[sizeof(payload) - 1] = '\0';
	const char *text = show(screen, "x", payload, false, now);
	assert_int_equal(strlen(text), strlen("13:20:00  x           ") + 160 + strlen("…\n"));
}

static void test_view_summary(void **state)
{
	struct screen *screen = *state;
	assert_int_equal(watch_view_add_sensor(&screen->view, "door"), 0);
	assert_int_equal(watch_view_add_sensor(&screen->view, "lamp-1"), 0);
	assert_string_equal(summary(screen, "2026-11-30T13:00:00Z"),
	                    "== 13:00:00  " BASE ": no status yet\n"
	                    "   door        no reading yet\n"
	                    "   lamp-1      no reading yet\n"
	                    "   readings    none numbered yet; 0 messages\n");

	const char *now = "2026-11-30T13:20:00Z";
	show(screen, "status", "{\"state\":\"online\",\"version\":\"0.1.0\",\"ts\":\"2026-11-30T06:00:00.000Z\"}", true, now);
	show(screen, "sky/reading", READING("2026-11-30T13:19:02.000Z", "2", "sky", "light", "412.53", "lx", ""), false, now);
	show(screen, "sky/reading", READING("2026-11-30T13:19:04.000Z", "5", "sky", "light", "400", "lx", ""), false, now);
	show(screen, "sky/reading", READING("2026-11-30T13:19:04.000Z", "5", "sky", "light", "400", "lx", ""), false, now);
	show(screen, "door/reading", READING("2026-11-30T13:10:00.000Z", "6", "door", "footfall", "1", "count", ",\"dir\":\"in\""),
	     false, now);
	show(screen, "sky/alert", "{\"state\":\"covered\",\"since\":\"2026-11-30T12:00:00.000Z\",\"detail\":\"dark\","
	     "\"ts\":\"2026-11-30T12:30:00.000Z\"}", true, now);
	show(screen, "door/alert", "{\"state\":\"ok\",\"ts\":\"2026-11-30T12:30:00.000Z\"}", true, now);
	show(screen, "sky/window", "{\"start\":\"2026-11-30T13:19:00.000Z\",\"end\":\"2026-11-30T13:20:00.000Z\",\"type\":"
	     "\"light\",\"dark_s\":0,\"samples\":0,\"coverage\":0.25}", false, now);
	assert_string_equal(summary(screen, "2026-11-30T13:21:04Z"),
	                    "== 13:21:04  " BASE ": online since 06:00:00, tryggd 0.1.0\n"
	                    "   door        +1 in, 11 min 4 s ago; alert ok\n"
	                    "   lamp-1      no reading yet\n"
	                    "   sky         400 lx, 2 min ago; ALERT covered since 12:00:00; last window 13:19:00, "
	                    "coverage 25 %\n"
	                    "   readings    4 numbered, up to seq 6: 2 missing, 1 delivered again; 8 messages\n");

	/* A sensor with a long name known from the start widens the column. */
	assert_int_equal(watch_view_add_sensor(&screen->view, "torg-passage"), 0);
	assert_string_equal(show(screen, "door/reading", READING("2026-11-30T13:20:00.000Z", "7", "door", "footfall", "1",
	                                                         "count", ""), false, now),
	                    "13:20:00  door          +1  seq 7\n");
	assert_int_equal(watch_view_add_sensor(&screen->view, ""), -EINVAL);

	/* Offline without a time of its own: since it was seen here. */
	show(screen, "status", "{\"state\":\"offline\"}", false, "2026-11-30T13:22:00Z");
	const char *text = summary(screen, "2026-11-30T13:23:00Z");
	assert_true(strncmp(text, "== 13:23:00  " BASE ": offline since 13:22:00 (seen here)\n",
	                    strlen("== 13:23:00  " BASE ": offline since 13:22:00 (seen here)\n")) == 0);
}

static void test_view_colour(void **state)
{
	(void)state;
	struct watch_view view;
	char *text = NULL;
	size_t length = 0;
	assert_int_equal(watch_view_init(&view, BASE, true), 0);
	FILE *out = open_memstream(&text, &length);
	const char *alert = "{\"state\":\"stuck\",\"ts\":\"2026-11-30T13:00:00.000Z\"}";
	assert_int_equal(watch_view_message(&view, BASE "/door/alert", alert, strlen(alert), false,
	                                    at("2026-11-30T13:00:00Z"), out), 0);
	const char *ok = "{\"state\":\"ok\",\"ts\":\"2026-11-30T13:00:00.000Z\"}";
	assert_int_equal(watch_view_message(&view, BASE "/door/alert", ok, strlen(ok), false,
	                                    at("2026-11-30T13:00:00Z"), out), 0);
	fclose(out);
	assert_string_equal(text, "13:00:00  door        \033[1;31mALERT stuck\033[0m\n"
	                          "13:00:00  door        \033[32malert ok\033[0m\n");
	free(text);

	/* The store's losses are marked like MQTT's, and only when not 0. */
	text = NULL;
	out = open_memstream(&text, &length);
	const char *health = "{\"ts\":\"2026-11-30T13:00:00.000Z\",\"spool_dropped\":0,\"rejected\":2,\"missing\":1}";
	assert_int_equal(watch_view_message(&view, BASE "/health", health, strlen(health), false,
	                                    at("2026-11-30T13:00:00Z"), out), 0);
	fclose(out);
	assert_non_null(strstr(text, "spool_dropped 0,"));
	assert_non_null(strstr(text, "m" "rejected 2\033[0m"));
	assert_non_null(strstr(text, "m" "missing 1\033[0m"));
	free(text);
	watch_view_free(&view);
}

/* ---- JSON lines ------------------------------------------------------------------------- */

static char *json_line(const char *topic, const char *payload, size_t length, bool retained)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	assert_non_null(out);
	assert_int_equal(watch_json_line(topic, payload, length, retained, out), 0);
	fclose(out);
	return text;
}

static void assert_json_line(const char *topic, const char *payload, bool retained, const char *expected)
{
	char *text = json_line(topic, payload, strlen(payload), retained);
	assert_string_equal(text, expected);
	free(text);
}

static void test_json_lines(void **state)
{
	(void)state;
	/* As it came: every digit stays. */
	assert_json_line("t/s/reading", "{\"value\":2961.626002018931,\"seq\":18446744073709551615}", false,
	                 "{\"topic\":\"t/s/reading\",\"retained\":false,\"payload\":{\"value\":2961.626002018931,"
	                 "\"seq\":18446744073709551615}}\n");
	assert_json_line("t/status", "  {\"state\":\"online\"} ", true,
	                 "{\"topic\":\"t/status\",\"retained\":true,\"payload\":{\"state\":\"online\"}}\n");
	/* Over several lines: on one. */
	assert_json_line("t", "{\n  \"a\": [1, 2]\n}\n", false, "{\"topic\":\"t\",\"retained\":false,\"payload\":{\"a\":[1,2]}}\n");
	/* Numbers cJSON takes but JSON does not (found by fuzz_watch): written
	 * again as JSON, not passed on. */
	assert_json_line("t", "{\"seq\":05,\"v\":1.,\"w\":-0.5e+1}", false,
	                 "{\"topic\":\"t\",\"retained\":false,\"payload\":{\"seq\":5,\"v\":1,\"w\":-5}}\n");
	/* An escape cJSON takes but JSON does not (found by fuzz_watch: its hex
	 * reader says 0 for "0rag"): written again as JSON, not passed on. */
	const char *lenient = "{\"a\\u0rage\":1}";
	char *escape = json_line("t", lenient, strlen(lenient), false);
	assert_non_null(escape);
	assert_non_null(strstr(escape, "\"payload\":{"));
	assert_null(strstr(escape, "\\u0rag"));
	free(escape);
	assert_json_line("t", "{\"k\\u00e5\":\"\\n\\/\"}", false,
	                 "{\"topic\":\"t\",\"retained\":false,\"payload\":{\"k\\u00e5\":\"\\n\\/\"}}\n");
	/* Not JSON: as text. */
	assert_json_line("t", "hello \"you\"", false,
	                 "{\"topic\":\"t\",\"retained\":false,\"payload\":null,\"text\":\"hello \\\"you\\\"\"}\n");
	assert_json_line("t", "{} x", false, "{\"topic\":\"t\",\"retained\":false,\"payload\":null,\"text\":\"{} x\"}\n");
	assert_json_line("t", "", false, "{\"topic\":\"t\",\"retained\":false,\"payload\":null,\"text\":\"\"}\n");
	assert_json_line("t", "\"\xff\"", false,
	                 "{\"topic\":\"t\",\"retained\":false,\"payload\":null,\"text\":\"\\\"\\ufffd\\\"\"}\n");
	assert_json_line("t\x01\\", "a\tb\x7f", false,
	                 "{\"topic\":\"t\\u0001\\\\\",\"retained\":false,\"payload\":null,\"text\":\"a\\tb\\u007f\"}\n");
	assert_json_line("t/Årby", "\"Årby\"", false, "{\"topic\":\"t/Årby\",\"retained\":false,\"payload\":\"Årby\"}\n");

	/* A NUL inside: not JSON, and the text goes on past it. */
	char *text = json_line("t", "{}\0x", 4, false);
	assert_string_equal(text, "{\"topic\":\"t\",\"retained\":false,\"payload\":null,\"text\":\"{}\\u0000x\"}\n");
	free(text);
	/* A raw control character inside a string: never raw in the line. */
	text = json_line("t", "{\"a\":\"x\ty\"}", strlen("{\"a\":\"x\ty\"}"), false);
	assert_null(strchr(text, '\t'));
	free(text);
}

/* ---- times, spans, numbers ------------------------------------------------------------- */

static void assert_duration(int64_t ms, const char *expected)
{
	char text[WATCH_DURATION_SIZE];
	watch_format_duration(ms, text);
	assert_string_equal(text, expected);
}

static void assert_number(double value, const char *expected)
{
	char text[WATCH_NUMBER_SIZE];
	watch_format_number(value, text);
	assert_string_equal(text, expected);
}

static void assert_percent(double share, const char *expected)
{
	char text[WATCH_NUMBER_SIZE];
	watch_format_percent(share, text);
	assert_string_equal(text, expected);
}

static void test_formats(void **state)
{
	(void)state;
	assert_duration(0, "0 s");
	assert_duration(999, "0 s");
	assert_duration(45000, "45 s");
	assert_duration(-45000, "45 s");
	assert_duration(60000, "1 min");
	assert_duration(90000, "1 min 30 s");
	assert_duration(3600000, "1 h");
	assert_duration(7500000, "2 h 5 min");
	assert_duration(86400000, "1 d");
	assert_duration(INT64_C(3) * 86400000 + 4 * 3600000 + 5000, "3 d 4 h");

	assert_number(0, "0");
	assert_number(-0.0, "0");
	assert_number(12, "12");
	assert_number(-3, "-3");
	assert_number(2961.626002018931, "2961.6");
	assert_number(10.04, "10.0");
	assert_number(3.14159, "3.14");
	assert_number(0.05, "0.05");
	assert_number(0.000123, "0.000123");
	assert_number(1e300, "1e+300");
	assert_number(-2.5e15, "-2.5e+15");

	assert_percent(1, "100 %");
	assert_percent(0, "0 %");
	assert_percent(0.5, "50 %");
	assert_percent(0.164, "16.4 %");
	assert_percent(0.9999, "99.9 %");
	assert_percent(0.29, "29 %");

	char text[WATCH_TIME_SIZE];
	watch_format_time(at("2026-11-30T00:00:00Z"), at("2026-11-30T23:59:59Z"), text);
	assert_string_equal(text, "00:00:00");
	watch_format_time(at("2026-11-29T23:59:59.999Z"), at("2026-11-30T00:00:00Z"), text);
	assert_string_equal(text, "2026-11-29 23:59:59");
	watch_format_time(-1, 0, text);
	assert_string_equal(text, "1969-12-31 23:59:59");

	assert_true(watch_utf8_valid("Årby", strlen("Årby")));
	assert_false(watch_utf8_valid("\xc3", 1));              /* cut short */
	assert_false(watch_utf8_valid("\xc0\xaf", 2));          /* overlong '/' */
	assert_false(watch_utf8_valid("\xed\xa0\x80", 3));      /* a surrogate */
	assert_false(watch_utf8_valid("\xf4\x90\x80\x80", 4));  /* above U+10FFFF */
}

/* ---- the command line, through the built program ------------------------------------ */

struct run {
	int status;
	char *out, *err;
};

static char *read_whole(const char *path)
{
	FILE *file = fopen(path, "rb");
	assert_non_null(file);
	char *text = NULL;
	size_t size = 0;
	FILE *copy = open_memstream(&text, &size);
	int c;
	while ((c = fgetc(file)) != EOF)
		fputc(c, copy);
	fclose(file);
	fclose(copy);
	return text;
}

static void run_watch(const char *folder, const char *const arguments[], struct run *run)
{
	char out_path[PATH_MAX], err_path[PATH_MAX];
	const char *argv[24] = { "tryggctl", "watch" };
	size_t count = 2;
	for (size_t i = 0; arguments[i]; i++) {
		assert_true(count < 23);
		argv[count++] = arguments[i];
	}
	argv[count] = NULL;
	snprintf(out_path, sizeof(out_path), "%s/stdout", folder);
	snprintf(err_path, sizeof(err_path), "%s/stderr", folder);
	fflush(NULL);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int none = open("/dev/null", O_RDONLY);
		if (out < 0 || err < 0 || none < 0 || chdir(folder) != 0 || dup2(none, 0) < 0 || dup2(out, 1) < 0 ||
		    dup2(err, 2) < 0)
			_exit(126);
		execv(TRYGGCTL_PATH, (char *const *)argv);
		_exit(127);
	}
	int status = 0;
	assert_int_equal(waitpid(child, &status, 0), child);
	run->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	run->out = read_whole(out_path);
	run->err = read_whole(err_path);
}

static void run_free(struct run *run)
{
	free(run->out);
	free(run->err);
}

static void assert_refused(const char *folder, const char *const arguments[], int status, const char *message)
{
	struct run run;
	run_watch(folder, arguments, &run);
	if (run.status != status || !strstr(run.err, message))
		fail_msg("exit %d, expected %d; stderr:\n%s\n(expected to contain: %s)", run.status, status, run.err, message);
	assert_string_equal(run.out, "");
	run_free(&run);
}

/* A port on the loopback that nobody listens on (for the moment). */
static int closed_port(void)
{
	int sock = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in address = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t size = sizeof(address);
	assert_true(sock >= 0);
	assert_int_equal(bind(sock, (struct sockaddr *)&address, sizeof(address)), 0);
	assert_int_equal(getsockname(sock, (struct sockaddr *)&address, &size), 0);
	close(sock);
	return ntohs(address.sin_port);
}

static void test_command_line(void **state)
{
	(void)state;
	char folder[64], path[128], uri[64];
	assert_non_null(temp_tree_make(folder, sizeof(folder), "/tmp/test_watch_XXXXXX"));
	struct run run;

	run_watch(folder, (const char *const[]){ "--help", NULL }, &run);
	assert_int_equal(run.status, 0);
	assert_true(strncmp(run.out, "Usage: tryggctl watch -c FILE", strlen("Usage: tryggctl watch -c FILE")) == 0);
	assert_non_null(strstr(run.out, "\nExit status: 0 stopped"));
	run_free(&run);

	assert_refused(folder, (const char *const[]){ NULL }, 64, "give -c FILE, or --uri, --district and --gateway");
	assert_refused(folder, (const char *const[]){ "--uri", "tcp://127.0.0.1:1", "--district", "arby", NULL }, 64,
	               "give -c FILE, or --uri, --district and --gateway");
	assert_refused(folder, (const char *const[]){ "-c", "x.conf", "--uri", "tcp://127.0.0.1:1", NULL }, 64,
	               "not both");
	assert_refused(folder, (const char *const[]){ "-c", "x.conf", "--count", "0", NULL }, 64,
	               "--count needs a whole number from 1, got '0'");
	assert_refused(folder, (const char *const[]){ "-c", "x.conf", "--timeout", "soon", NULL }, 64,
	               "--timeout needs a time");
	assert_refused(folder, (const char *const[]){ "-c", "x.conf", "--follow", NULL }, 64, "unknown option --follow");
	assert_refused(folder, (const char *const[]){ "-c", NULL }, 64, "option -c needs a value");
	assert_refused(folder, (const char *const[]){ "-c", "x.conf", "extra", NULL }, 64, "unexpected argument 'extra'");
	assert_refused(folder, (const char *const[]){ "--uri", "broker", "--district", "arby", "--gateway", "g", NULL },
	               64, "--uri needs SCHEME://HOST:PORT");
	assert_refused(folder,
	               (const char *const[]){ "--uri", "tcp://127.0.0.1:1", "--district", "arby", "--gateway", "a/b", NULL },
	               64, "must each give a topic level");
	assert_refused(folder,
	               (const char *const[]){ "--uri", "tcp://127.0.0.1:1", "--district", "arby", "--gateway", "g",
	                                      "--prefix", "x/#", NULL },
	               64, "must each give a topic level");

	/* The configuration, as tryggd reads it. */
	assert_refused(folder, (const char *const[]){ "-c", "missing.conf", NULL }, 66, "missing.conf");
	snprintf(path, sizeof(path), "%s/bad.conf", folder);
	temp_tree_write(path, "[gateway]\nid = bad id\ndistrict = Årby\n");
	assert_refused(folder, (const char *const[]){ "-c", "bad.conf", NULL }, 78, "bad.conf:2:");
	snprintf(path, sizeof(path), "%s/quiet.conf", folder);
	temp_tree_write(path, "[gateway]\nid = quiet\ndistrict = Årby\n[sensor.door]\ntype = footfall\ndriver = sim\n");
	assert_refused(folder, (const char *const[]){ "-c", "quiet.conf", NULL }, 78, "has no [mqtt] section");

	/* A broker that is not there: said at once, not waited for. */
	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%d", closed_port());
	time_t start = time(NULL);
	assert_refused(folder,
	               (const char *const[]){ "--uri", uri, "--district", "Årby", "--gateway", "arby-01", "--timeout",
	                                      "20", NULL },
	               69, "cannot connect to the broker");
	assert_true(time(NULL) - start < 15);
	snprintf(path, sizeof(path), "%s/gone.conf", folder);
	FILE *file = fopen(path, "w");
	assert_non_null(file);
	fprintf(file, "[gateway]\nid = arby-01\ndistrict = Årby\n[mqtt]\nuri = %s\ntopic_prefix = t/x\n"
	        "[sensor.door]\ntype = footfall\ndriver = sim\n", uri);
	fclose(file);
	run_watch(folder, (const char *const[]){ "-c", "gone.conf", NULL }, &run);
	assert_int_equal(run.status, 69);
	assert_non_null(strstr(run.err, "watching t/x/arby/arby-01/# on tcp://127.0.0.1:"));
	run_free(&run);

	assert_int_equal(temp_tree_remove(folder), 0);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seq_in_order_gap_and_repeat),
		cmocka_unit_test(test_seq_window_edges),
		cmocka_unit_test_setup_teardown(test_view_status_readings_and_seq, screen_setup, screen_teardown),
		cmocka_unit_test_setup_teardown(test_view_windows, screen_setup, screen_teardown),
		cmocka_unit_test_setup_teardown(test_view_alerts_health_status, screen_setup, screen_teardown),
		cmocka_unit_test_setup_teardown(test_view_what_is_not_understood, screen_setup, screen_teardown),
		cmocka_unit_test_setup_teardown(test_view_summary, screen_setup, screen_teardown),
		cmocka_unit_test(test_view_colour),
		cmocka_unit_test(test_json_lines),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_command_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
