/* test_edge.c — unit tests of the edge decoder (drivers/edge.c): the timing
 * rules of single beams, PIRs, dual beams and lamps, fed with made-up edges
 * as the gpio driver would feed the kernel's.  Times are written in
 * milliseconds from an arbitrary start and compared exactly: the decoder
 * must stamp every event with the time of the edge it comes from. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "edge.h"

#define MS(value) ((int64_t)(value) * INT64_C(1000000))
#define START_MS 1000
#define A 0u
#define B 1u
#define BROKEN true
#define CLEAR false

/* ---- helpers ------------------------------------------------------------ */

static void start(struct edge_decoder *decoder, enum edge_mode mode, int64_t debounce_ms, int64_t crossing_ms,
                  bool a, bool b)
{
	struct edge_config config = { .mode = mode, .debounce_ns = MS(debounce_ms), .crossing_ns = MS(crossing_ms) };
	bool initial[EDGE_LINES_MAX] = { a, b };
	edge_decoder_init(decoder, &config, initial, MS(START_MS));
}

static void feed(struct edge_decoder *decoder, unsigned line, bool level, int64_t at_ms)
{
	assert_int_equal(edge_decoder_feed(decoder, line, level, MS(at_ms)), 0);
}

static void advance(struct edge_decoder *decoder, int64_t at_ms)
{
	assert_int_equal(edge_decoder_advance(decoder, MS(at_ms)), 0);
}

static struct driver_event pass(int64_t at_ms, enum reading_direction direction)
{
	return (struct driver_event){ .kind = DRIVER_EVENT_PASS, .time_ns = MS(at_ms), .direction = direction };
}

static struct driver_event level(int64_t at_ms, bool active)
{
	return (struct driver_event){ .kind = DRIVER_EVENT_LEVEL, .time_ns = MS(at_ms), .active = active };
}

static const char *kind_name(enum driver_event_kind kind)
{
	return kind == DRIVER_EVENT_PASS ? "PASS" : "LEVEL";
}

/* Everything queued must be exactly expected, in that order. */
static void expect(struct edge_decoder *decoder, const struct driver_event *expected, size_t count)
{
	struct driver_event got[EDGE_QUEUE_SIZE];
	size_t taken = edge_decoder_take(decoder, got, EDGE_QUEUE_SIZE);
	for (size_t i = 0; i < taken && i < count; i++) {
		if (got[i].kind != expected[i].kind || got[i].time_ns != expected[i].time_ns ||
		    (got[i].kind == DRIVER_EVENT_PASS && got[i].direction != expected[i].direction) ||
		    (got[i].kind == DRIVER_EVENT_LEVEL && got[i].active != expected[i].active))
			fail_msg("event %zu: got %s at %lld ms (direction %d, active %d), expected %s at %lld ms "
			         "(direction %d, active %d)", i, kind_name(got[i].kind),
			         (long long)(got[i].time_ns / MS(1)), got[i].direction, got[i].active,
			         kind_name(expected[i].kind), (long long)(expected[i].time_ns / MS(1)),
			         expected[i].direction, expected[i].active);
	}
	assert_int_equal(taken, count);
}

#define EXPECT(decoder, ...)                                                                          \
	do {                                                                                          \
		const struct driver_event expected_[] = { __VA_ARGS__ };                               \
		expect((decoder), expected_, sizeof(expected_) / sizeof(expected_[0]));                \
	} while (0)

static void expect_nothing(struct edge_decoder *decoder)
{
	assert_int_equal(edge_decoder_queued(decoder), 0);
}

/* ---- single beam ------------------------------------------------------------ */

static void test_beam_pass_then_clear_after_debounce(void **unused)
{
	(void)unused;
	struct edge_decoder decoder;
	start(&decoder, EDGE_BEAM, 10, 0, CLEAR, false);
	assert_false(edge_decoder_level(&decoder));
	assert_true(edge_decoder_deadline(&decoder) == EDGE_NO_DEADLINE);

	feed(&decoder, A, BROKEN, 2000);
	EXPECT(&decoder, level(2000, true), pass(2000, DIRECTION_NONE));
	assert_true(edge_decoder_level(&decoder));

	/* The clear is not reported until it has lasted the debounce... */
	feed(&decoder, A, CLEAR, 2300);
	assert_true(edge_decoder_deadline(&decoder) == MS(2310));
	advance(&decoder, 2309);
	expect_nothing(&decoder);
	assert_true(edge_decoder_level(&decoder));
	/* ...and then it is stamped with the moment it cleared. */
	advance(&decoder, 2310);
	EXPECT(&decoder, level(2300, false));
	assert_false(edge_decoder_level(&decoder));
	assert_true(edge_decoder_deadline(&decoder) == EDGE_NO_DEADLINE);
}

static void test_beam_bounce_shorter_than_debounce_is_one_pass(void **unused)
{
	(void)unused;
	struct edge_decoder decoder;
	start(&decoder, EDGE_BEAM, 10, 0, CLEAR, false);
	feed(&decoder, A, BROKEN, 2000);
	feed(&decoder, A, CLEAR, 2002);
	feed(&decoder, A, BROKEN, 2004);
	feed(&decoder, A, CLEAR, 2010);
	feed(&decoder, A, BROKEN, 2019);   /* 9 ms clear: still a bounce */
	feed(&decoder, A, CLEAR, 2400);
	advance(&decoder, 3000);
	EXPECT(&decoder, level(2000, true), pass(2000, DIRECTION_NONE), level(2400, false));
}

static void test_beam_gap_of_debounce_or_more_is_two_passes(void **unused)
{
	(void)unused;
	struct edge_decoder decoder;
	start(&decoder, EDGE_BEAM, 10, 0, CLEAR, false);
	feed(&decoder, A, BROKEN, 2000);
	feed(&decoder, A, CLEAR, 2200);
	feed(&decoder, A, BROKEN, 2210);   /* clear exactly 10 ms: counts */
	feed(&decoder, A, CLEAR, 2400);
	feed(&decoder, A, BROKEN, 2425);   /* 25 ms */
	feed(&decoder, A, CLEAR, 2600);
	advance(&decoder, 2700);
	EXPECT(&decoder,
	       level(2000, true), pass(2000, DIRECTION_NONE), level(2200, false),
	       level(2210, true), pass(2210, DIRECTION_NONE), level(2400, false),
	       level(2425, true), pass(2425, DIRECTION_NONE), level(2600, false));
}

static void test_beam_debounce_zero_counts_every_break(void **unused)
{
	(void)unused;
	struct edge_decoder decoder;
	start(&decoder, EDGE_BEAM, 0, 0, CLEAR, false);
	feed(&decoder, A, BROKEN, 2000);
	feed(&decoder, A, CLEAR, 2001);
	feed(&decoder, A, BROKEN, 2002);
	EXPECT(&decoder, level(2000, true), pass(2000, DIRECTION_NONE), level(2001, false),
	       level(2002, true), pass(2002, DIRECTION_NONE));
}

static void test_beam_held_broken_stays_active(void **unused)
{
	(void)unused;
	struct edge_decoder decoder;
	start(&decoder, EDGE_BEAM, 10, 0, CLEAR, false);
	feed(&decoder, A, BROKEN, 2000);
	EXPECT(&decoder, level(2000, true), pass(2000, DIRECTION_NONE));

	/* Ten minutes of a taped-over beam that flickers now and then: no
	 * pass, no clear, nothing to wait for. */
	for (int64_t at = 60000; at < 600000; at += 60000) {
		feed(&decoder, A, CLEAR, at);
		feed(&decoder, A, BROKEN, at + 3);
	}
	advance(&decoder, 600000);
	expect_nothing(&decoder);
	assert_true(edge_decoder_level(&decoder));
	assert_true(edge_decoder_deadline(&decoder) == EDGE_NO_DEADLINE);

	feed(&decoder, A, CLEAR, 600500);
	advance(&decoder, 601000);
	EXPECT(&decoder, level(600500, false));
}

static void test_beam_broken_at_start(void **unused)
{
	(void)unused;
	struct edge_decoder decoder;
	start(&decoder, EDGE_BEAM, 10, 0, BROKEN, false);
	assert_true(edge_decoder_level(&decoder));
	feed(&decoder, A, CLEAR, 2000);
	feed(&decoder, A, BROKEN, 3000);
	EXPECT(&decoder, level(2000, false), level(3000, true), pass(3000, DIRECTION_NONE));
}

static void test_repeated_level_is_ignored(void **unused)
{
	(void)unused;
	struct edge_decoder decoder;
	start(&decoder, EDGE_BEAM, 10, 0, CLEAR, false);
	/* The kernel reads the level after the interrupt: a pulse too short
	 * to see shows up as the same level twice. */
	feed(&decoder, A, BROKEN, 2000);
	feed(&decoder, A, BROKEN, 2500);
	feed(&decoder, A, CLEAR, 2600);
	feed(&decoder, A, CLEAR, 2605);    /* within the debounce: the clear still began at 2600 */
	assert_true(edge_decoder_deadline(&decoder) == MS(2610));
	advance(&decoder, 3000);
	EXPECT(&decoder, level(2000, true), pass(2000, DIRECTION_NONE), level(2600, false));
	assert_false(edge_decoder_raw(&decoder, A));
}

static void test_time_going_back_is_clamped(void **unused)
{
	(void)unused;
	struct edge_decoder decoder;
	start(&decoder, EDGE_BEAM, 10, 0, CLEAR, false);
	feed(&decoder, A, BROKEN, 2000);
	EXPECT(&decoder, level(2000, true), pass(2000, DIRECTION_NONE));
	feed(&decoder, A, CLEAR, 1990);    /* before the break: taken as at 2000 */
	advance(&decoder, 1500);           /* an advance backwards changes nothing */
	expect_nothing(&decoder);
	assert_true(edge_decoder_deadline(&decoder) == MS(2010));
	advance(&decoder, 2010);
	EXPECT(&decoder, level(2000, false));
}

/* ---- PIR ------------------------------------------------------------------------ */

static void test_pir_hold_off(void **unused)
{
	(void)unused;
	struct edge_decoder decoder;
	start(&decoder, EDGE_PIR, 2000, 0, CLEAR, false);
	const int64_t triggers[] = { 2000, 3000, 4500, 5000, 6499, 6500, 20000 };
	for (size_t i = 0; i < sizeof(triggers) / sizeof(triggers[0]); i++) {
		feed(&decoder, A, BROKEN, triggers[i]);
		feed(&decoder, A, CLEAR, triggers[i] + 1);
	}
	/* 3000 and 5000 and 6499 are within 2 s of the last counted pass (the
	 * swallowed triggers do not extend the hold-off); 4500 and 6500 are not. */
	EXPECT(&decoder, pass(2000, DIRECTION_NONE), pass(4500, DIRECTION_NONE), pass(6500, DIRECTION_NONE),
	       pass(20000, DIRECTION_NONE));
}

static void test_pir_reports_no_level(void **unused)
{
	(void)unused;
	struct edge_decoder decoder;
	start(&decoder, EDGE_PIR, 2000, 0, BROKEN, false);
	assert_false(edge_decoder_level(&decoder));   /* active at the start: someone there, not tamper */
	feed(&decoder, A, CLEAR, 2000);
	assert_true(edge_decoder_deadline(&decoder) == EDGE_NO_DEADLINE);
	feed(&decoder, A, BROKEN, 2100);
	advance(&decoder, 900000);                     /* held active for a quarter of an hour */
	EXPECT(&decoder, pass(2100, DIRECTION_NONE));
	assert_false(edge_decoder_level(&decoder));
}

/* ---- dual beam -------------------------------------------------------------------- */

static void test_dual_in(void **unused)
{
	(void)unused;
	struct edge_decoder decoder;
	start(&decoder, EDGE_DUAL_BEAM, 10, 5000, CLEAR, CLEAR);
	feed(&decoder, A, BROKEN, 2000);
	feed(&decoder, B, BROKEN, 2150);
	feed(&decoder, A, CLEAR, 2300);
	feed(&decoder, B, CLEAR, 2450);
	EXPECT(&decoder, level(2000, true));   /* the end waits for the last clear to be real */
	assert_true(edge_decoder_level(&decoder));
	advance(&decoder, 2460);
	EXPECT(&decoder, level(2450, false), pass(2450, DIRECTION_IN));
	assert_false(edge_decoder_level(&decoder));
}

static void test_dual_out(void **unused)
{
	(void)unused;
	struct edge_decoder decoder;
	start(&decoder, EDGE_DUAL_BEAM, 10, 5000, CLEAR, CLEAR);
	feed(&decoder, B, BROKEN, 2000);
	feed(&decoder, A, BROKEN, 2150);
	feed(&decoder, B, CLEAR, 2300);
	feed(&decoder, A, CLEAR, 2450);
	advance(&decoder, 2460);
	EXPECT(&decoder, level(2000, true), level(2450, false), pass(2450, DIRECTION_OUT));
}

static void test_dual_turn_back_from_both_beams(void **unused)
{
	(void)unused;
	struct edge_decoder decoder;
	start(&decoder, EDGE_DUAL_BEAM, 10, 5000, CLEAR, CLEAR);
	feed(&decoder, A, BROKEN, 2000);   /* A */
	feed(&decoder, B, BROKEN, 2150);   /* A+B */
	feed(&decoder, B, CLEAR, 2400);    /* A: steps back */
	feed(&decoder, A, CLEAR, 2600);    /* clear */
	advance(&decoder, 3000);
	EXPECT(&decoder, level(2000, true), level(2600, false));
}

static void test_dual_turn_back_at_first_beam(void **unused)
{
	(void)unused;
	struct edge_decoder decoder;
	start(&decoder, EDGE_DUAL_BEAM, 10, 5000, CLEAR, CLEAR);
	feed(&decoder, A, BROKEN, 2000);
	feed(&decoder, A, CLEAR, 2200);
	feed(&decoder, B, BROKEN, 4000);   /* someone else, from the other side, also turns back */
	feed(&decoder, B, CLEAR, 4100);
	advance(&decoder, 5000);
	EXPECT(&decoder, level(2000, true), level(2200, false), level(4000, true), level(4100, false));
}

static void test_dual_hesitation_counts_once(void **unused)
{
	(void)unused;
	struct edge_decoder decoder;
	start(&decoder, EDGE_DUAL_BEAM, 10, 5000, CLEAR, CLEAR);
	feed(&decoder, A, BROKEN, 2000);   /* A */
	feed(&decoder, B, BROKEN, 2100);   /* A+B */
	feed(&decoder, B, CLEAR, 2200);    /* A: hesitates */
	feed(&decoder, B, BROKEN, 2500);   /* A+B: goes on after all */
	feed(&decoder, A, CLEAR, 2600);    /* B */
	feed(&decoder, B, CLEAR, 2700);
	/* ...and one who crosses fully, then comes back the way they came. */
	feed(&decoder, A, BROKEN, 4000);
	feed(&decoder, B, BROKEN, 4100);
	feed(&decoder, A, CLEAR, 4200);    /* B */
	feed(&decoder, A, BROKEN, 4300);   /* A+B */
	feed(&decoder, B, CLEAR, 4400);    /* A */
	feed(&decoder, A, CLEAR, 4500);
	advance(&decoder, 5000);
	EXPECT(&decoder, level(2000, true), level(2700, false), pass(2700, DIRECTION_IN),
	       level(4000, true), level(4500, false));
}

static void test_dual_crossing_timeout(void **unused)
{
	(void)unused;
	struct edge_decoder decoder;
	start(&decoder, EDGE_DUAL_BEAM, 10, 5000, CLEAR, CLEAR);
	/* Exactly the limit from first break to last clear: counted. */
	feed(&decoder, A, BROKEN, 2000);
	feed(&decoder, B, BROKEN, 4000);
	feed(&decoder, A, CLEAR, 6000);
	feed(&decoder, B, CLEAR, 7000);
	/* One millisecond more: someone loitering, not counted. */
	feed(&decoder, B, BROKEN, 10000);
	feed(&decoder, A, BROKEN, 12000);
	feed(&decoder, B, CLEAR, 14000);
	feed(&decoder, A, CLEAR, 15001);
	/* The next person is counted as usual. */
	feed(&decoder, A, BROKEN, 16000);
	feed(&decoder, B, BROKEN, 16100);
	feed(&decoder, A, CLEAR, 16200);
	feed(&decoder, B, CLEAR, 16300);
	advance(&decoder, 17000);
	EXPECT(&decoder, level(2000, true), level(7000, false), pass(7000, DIRECTION_IN),
	       level(10000, true), level(15001, false),
	       level(16000, true), level(16300, false), pass(16300, DIRECTION_IN));
}

static void test_dual_bounces_on_every_beam(void **unused)
{
	(void)unused;
	struct edge_decoder decoder;
	start(&decoder, EDGE_DUAL_BEAM, 10, 5000, CLEAR, CLEAR);
	feed(&decoder, A, BROKEN, 2000);
	feed(&decoder, A, CLEAR, 2002);    /* A bounces as it is broken */
	feed(&decoder, A, BROKEN, 2004);
	feed(&decoder, B, BROKEN, 2100);
	feed(&decoder, B, CLEAR, 2101);    /* B bounces while both are broken */
	feed(&decoder, B, BROKEN, 2105);
	feed(&decoder, A, CLEAR, 2200);
	feed(&decoder, A, BROKEN, 2203);   /* A bounces as it clears */
	feed(&decoder, A, CLEAR, 2206);
	feed(&decoder, B, CLEAR, 2300);
	feed(&decoder, B, BROKEN, 2308);   /* and B, last */
	feed(&decoder, B, CLEAR, 2312);
	advance(&decoder, 2321);
	expect(&decoder, (const struct driver_event[]){ level(2000, true) }, 1);
	advance(&decoder, 2322);
	EXPECT(&decoder, level(2312, false), pass(2312, DIRECTION_IN));
}

/* A clears, and B is broken within A's debounce: A's clear is only known
 * later but came first, so the sequence is A, clear, B, clear (no pass),
 * and the events come out in time order. */
static void test_dual_orders_late_clear_before_earlier_decided_break(void **unused)
{
	(void)unused;
	struct edge_decoder decoder;
	start(&decoder, EDGE_DUAL_BEAM, 10, 5000, CLEAR, CLEAR);
	feed(&decoder, A, BROKEN, 2000);
	feed(&decoder, A, CLEAR, 2200);
	feed(&decoder, B, BROKEN, 2203);
	EXPECT(&decoder, level(2000, true));
	feed(&decoder, B, CLEAR, 2400);
	advance(&decoder, 3000);
	EXPECT(&decoder, level(2200, false), level(2203, true), level(2400, false));
}

/* B broken at the very moment A clears: taken as A+B, so it counts. */
static void test_dual_break_at_the_moment_the_other_clears(void **unused)
{
	(void)unused;
	struct edge_decoder decoder;
	start(&decoder, EDGE_DUAL_BEAM, 10, 5000, CLEAR, CLEAR);
	feed(&decoder, A, BROKEN, 2000);
	feed(&decoder, A, CLEAR, 2200);
	feed(&decoder, B, BROKEN, 2200);
	feed(&decoder, B, CLEAR, 2400);
	advance(&decoder, 3000);
	EXPECT(&decoder, level(2000, true), level(2400, false), pass(2400, DIRECTION_IN));
}

static void test_dual_someone_in_the_beams_at_start(void **unused)
{
	(void)unused;
	struct edge_decoder decoder;
	start(&decoder, EDGE_DUAL_BEAM, 10, 5000, CLEAR, BROKEN);
	assert_true(edge_decoder_level(&decoder));
	feed(&decoder, B, CLEAR, 2000);    /* where they came from is unknown */
	feed(&decoder, A, BROKEN, 3000);
	feed(&decoder, B, BROKEN, 3100);
	feed(&decoder, A, CLEAR, 3200);
	feed(&decoder, B, CLEAR, 3300);
	advance(&decoder, 4000);
	EXPECT(&decoder, level(2000, false), level(3000, true), level(3300, false), pass(3300, DIRECTION_IN));
}

/* Many people in quick succession, with bounces, all read in one batch
 * before anything is taken (as after a busy moment), then taken in small
 * pieces. */
static void test_interleaved_burst(void **unused)
{
	(void)unused;
	struct edge_decoder decoder;
	start(&decoder, EDGE_DUAL_BEAM, 10, 5000, CLEAR, CLEAR);
	enum { PEOPLE = 40 };
	struct driver_event expected[3 * PEOPLE];
	size_t expected_count = 0;
	unsigned ins = 0, outs = 0;
	for (int person = 0; person < PEOPLE; person++) {
		int64_t t = 2000 + person * 400;
		bool inward = person % 3 != 2;
		unsigned first = inward ? A : B, second = inward ? B : A;
		feed(&decoder, first, BROKEN, t);
		feed(&decoder, first, CLEAR, t + 1);
		feed(&decoder, first, BROKEN, t + 3);
		feed(&decoder, second, BROKEN, t + 60);
		feed(&decoder, first, CLEAR, t + 120);
		feed(&decoder, second, CLEAR, t + 180);
		feed(&decoder, second, BROKEN, t + 182);
		feed(&decoder, second, CLEAR, t + 185);
		expected[expected_count++] = level(t, true);
		expected[expected_count++] = level(t + 185, false);
		expected[expected_count++] = pass(t + 185, inward ? DIRECTION_IN : DIRECTION_OUT);
		inward ? ins++ : outs++;
	}
	advance(&decoder, 2000 + PEOPLE * 400);
	assert_int_equal(edge_decoder_queued(&decoder), expected_count);

	struct driver_event got[3 * PEOPLE];
	size_t taken = 0, piece;
	while ((piece = edge_decoder_take(&decoder, got + taken, 7)) > 0)
		taken += piece;
	assert_int_equal(taken, expected_count);
	unsigned got_in = 0, got_out = 0;
	for (size_t i = 0; i < taken; i++) {
		assert_int_equal(got[i].kind, expected[i].kind);
		assert_true(got[i].time_ns == expected[i].time_ns);
		if (i > 0)
			assert_true(got[i].time_ns >= got[i - 1].time_ns);
		if (got[i].kind == DRIVER_EVENT_PASS) {
			assert_int_equal(got[i].direction, expected[i].direction);
			got_in += got[i].direction == DIRECTION_IN;
			got_out += got[i].direction == DIRECTION_OUT;
		} else {
			assert_int_equal(got[i].active, expected[i].active);
		}
	}
	assert_int_equal(got_in, ins);
	assert_int_equal(got_out, outs);
}

/* ---- lamp ------------------------------------------------------------------------------ */

static void test_lamp_changes_with_bounce(void **unused)
{
	(void)unused;
	struct edge_decoder decoder;
	start(&decoder, EDGE_LAMP, 50, 0, CLEAR, false);
	assert_false(edge_decoder_level(&decoder));
	/* The contactor closes with a bounce: lit from the last bounce on. */
	feed(&decoder, A, true, 2000);
	feed(&decoder, A, false, 2004);
	feed(&decoder, A, true, 2010);
	assert_true(edge_decoder_deadline(&decoder) == MS(2060));
	advance(&decoder, 2059);
	expect_nothing(&decoder);
	advance(&decoder, 2060);
	EXPECT(&decoder, level(2010, true));
	assert_true(edge_decoder_level(&decoder));

	/* A 30 ms dip in the evening is not reported; a real switch-off is. */
	feed(&decoder, A, false, 60000);
	feed(&decoder, A, true, 60030);
	feed(&decoder, A, false, 90000);
	feed(&decoder, A, true, 90050);   /* off exactly 50 ms: reported, and so is the return */
	advance(&decoder, 100000);
	EXPECT(&decoder, level(90000, false), level(90050, true));
}

static void test_lamp_lit_at_start(void **unused)
{
	(void)unused;
	struct edge_decoder decoder;
	start(&decoder, EDGE_LAMP, 50, 0, true, false);
	assert_true(edge_decoder_level(&decoder));
	feed(&decoder, A, false, 5000);
	feed(&decoder, A, true, 5049);
	advance(&decoder, 6000);
	expect_nothing(&decoder);
	assert_true(edge_decoder_level(&decoder));
}

/* ---- the queue and bad input ---------------------------------------------------------- */

static void test_full_queue_refuses_and_loses_nothing(void **unused)
{
	(void)unused;
	struct edge_decoder decoder;
	start(&decoder, EDGE_BEAM, 0, 0, CLEAR, false);
	int64_t at = 2000;
	bool next = BROKEN;
	unsigned breaks_fed = 0;
	int result;
	while ((result = edge_decoder_feed(&decoder, A, next, MS(at))) == 0) {
		breaks_fed += next == BROKEN;
		next = !next;
		at++;
	}
	assert_int_equal(result, -ENOBUFS);
	assert_false(edge_decoder_has_room(&decoder));
	assert_int_equal(edge_decoder_advance(&decoder, MS(at)), -ENOBUFS);
	assert_true(edge_decoder_queued(&decoder) > EDGE_QUEUE_SIZE - EDGE_FEED_EVENTS_MAX);

	struct driver_event got[EDGE_QUEUE_SIZE];
	size_t taken = edge_decoder_take(&decoder, got, 10);
	assert_int_equal(taken, 10);
	assert_true(edge_decoder_has_room(&decoder));
	feed(&decoder, A, next, at);   /* the refused edge, again */
	breaks_fed += next == BROKEN;
	taken += edge_decoder_take(&decoder, got + 10, EDGE_QUEUE_SIZE - 10);
	expect_nothing(&decoder);
	unsigned passes = 0;
	for (size_t i = 0; i < taken; i++) {
		passes += got[i].kind == DRIVER_EVENT_PASS;
		if (i > 0)
			assert_true(got[i].time_ns >= got[i - 1].time_ns);
	}
	assert_int_equal(passes, breaks_fed);
	assert_true(got[taken - 1].time_ns == MS(at));
}

static void test_unknown_line_is_refused(void **unused)
{
	(void)unused;
	struct edge_decoder decoder;
	start(&decoder, EDGE_BEAM, 10, 0, CLEAR, false);
	assert_int_equal(edge_decoder_feed(&decoder, B, BROKEN, MS(2000)), -EINVAL);
	assert_int_equal(edge_decoder_feed(&decoder, 7, BROKEN, MS(2000)), -EINVAL);
	expect_nothing(&decoder);
	assert_false(edge_decoder_raw(&decoder, B));
	start(&decoder, EDGE_DUAL_BEAM, 10, 5000, CLEAR, CLEAR);
	assert_int_equal(edge_decoder_feed(&decoder, 2, BROKEN, MS(2000)), -EINVAL);
	feed(&decoder, B, BROKEN, 2000);
	assert_true(edge_decoder_raw(&decoder, B));
}

/* ---- kernel time stamps ------------------------------------------------------------------ */

static void test_stamps_on_either_clock_become_monotonic(void **unused)
{
	(void)unused;
	const int64_t second = MS(1000);
	const int64_t monotonic_now = 3600 * second;                 /* an hour after boot */
	const int64_t realtime_now = INT64_C(1793000000) * second;   /* late 2026 */
	/* 5.7 and later: monotonic stamps pass through. */
	assert_true(edge_monotonic_ns(monotonic_now - MS(40), monotonic_now, realtime_now) == monotonic_now - MS(40));
	/* Older kernels: a realtime stamp 40 ms ago is 40 ms ago on the monotonic clock. */
	assert_true(edge_monotonic_ns(realtime_now - MS(40), monotonic_now, realtime_now) == monotonic_now - MS(40));
	/* A stamp just after the clocks were read is not put in the future. */
	assert_true(edge_monotonic_ns(monotonic_now + 5, monotonic_now, realtime_now) == monotonic_now);
	assert_true(edge_monotonic_ns(realtime_now + 5, monotonic_now, realtime_now) == monotonic_now);
	/* A board without a clock battery, booted at 1970 before NTP: both
	 * clocks near each other, and a stamp still comes out right whichever
	 * it is taken for. */
	const int64_t early_realtime = monotonic_now + 2 * second;
	assert_true(edge_monotonic_ns(monotonic_now - MS(10), monotonic_now, early_realtime) == monotonic_now - MS(10));
	assert_true(edge_monotonic_ns(early_realtime - MS(10), monotonic_now, early_realtime) == monotonic_now - MS(10));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_beam_pass_then_clear_after_debounce),
		cmocka_unit_test(test_beam_bounce_shorter_than_debounce_is_one_pass),
		cmocka_unit_test(test_beam_gap_of_debounce_or_more_is_two_passes),
		cmocka_unit_test(test_beam_debounce_zero_counts_every_break),
		cmocka_unit_test(test_beam_held_broken_stays_active),
		cmocka_unit_test(test_beam_broken_at_start),
		cmocka_unit_test(test_repeated_level_is_ignored),
		cmocka_unit_test(test_time_going_back_is_clamped),
		cmocka_unit_test(test_pir_hold_off),
		cmocka_unit_test(test_pir_reports_no_level),
		cmocka_unit_test(test_dual_in),
		cmocka_unit_test(test_dual_out),
		cmocka_unit_test(test_dual_turn_back_from_both_beams),
		cmocka_unit_test(test_dual_turn_back_at_first_beam),
		cmocka_unit_test(test_dual_hesitation_counts_once),
		cmocka_unit_test(test_dual_crossing_timeout),
		cmocka_unit_test(test_dual_bounces_on_every_beam),
		cmocka_unit_test(test_dual_orders_late_clear_before_earlier_decided_break),
		cmocka_unit_test(test_dual_break_at_the_moment_the_other_clears),
		cmocka_unit_test(test_dual_someone_in_the_beams_at_start),
		cmocka_unit_test(test_interleaved_burst),
		cmocka_unit_test(test_lamp_changes_with_bounce),
		cmocka_unit_test(test_lamp_lit_at_start),
		cmocka_unit_test(test_full_queue_refuses_and_loses_nothing),
		cmocka_unit_test(test_unknown_line_is_refused),
		cmocka_unit_test(test_stamps_on_either_clock_become_monotonic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
