/* test_store_response.c — what the store's answer means (store_response.c):
 * each class of status, Retry-After as seconds and as each form of HTTP
 * date (capped, and refused when it cannot be read), InfluxDB 1.x's
 * "dropped=N", the reasons in words, and the body cut down to one safe
 * line for a log. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "store_response.h"

/* Sun, 06 Nov 1994 08:49:37 GMT, the example date of the HTTP RFCs. */
#define RFC_EXAMPLE_S INT64_C(784111777)

static struct store_decision classify(long status, const char *retry_after, const char *body, int64_t now_s)
{
	struct store_answer answer = {
		.transport_ok = true,
		.status = status,
		.retry_after = retry_after,
		.body = body,
		.now_s = now_s,
	};
	return store_classify(&answer);
}

static void assert_decision(struct store_decision decision, enum store_verdict verdict, enum store_reason reason)
{
	assert_int_equal(decision.verdict, verdict);
	assert_int_equal(decision.reason, reason);
}

/* The wait a 503 and a 429 with this Retry-After ask for. */
static int64_t wait_for(const char *retry_after, int64_t now_s)
{
	struct store_decision busy = classify(503, retry_after, "", now_s);
	assert_decision(busy, STORE_WAIT_UNTIL, STORE_REASON_BUSY);
	struct store_decision too_many = classify(429, retry_after, "", now_s);
	assert_decision(too_many, STORE_WAIT_UNTIL, STORE_REASON_BUSY);
	assert_int_equal(too_many.wait_s, busy.wait_s);
	return busy.wait_s;
}

static void test_done(void **state)
{
	(void)state;
	static const long statuses[] = { 200, 201, 204, 299 };
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		struct store_decision decision = classify(statuses[i], NULL, "", RFC_EXAMPLE_S);
		assert_decision(decision, STORE_DONE, STORE_REASON_STORED);
		assert_int_equal(decision.wait_s, 0);
		assert_int_equal(decision.dropped, -1);
	}
	/* A Retry-After on a success changes nothing. */
	assert_decision(classify(204, "60", NULL, RFC_EXAMPLE_S), STORE_DONE, STORE_REASON_STORED);
}

static void test_no_answer(void **state)
{
	(void)state;
	/* Whatever status, header and body were left: no answer is no answer. */
	struct store_answer answer = {
		.transport_ok = false,
		.status = 204,
		.retry_after = "60",
		.body = "partial write: dropped=3",
		.now_s = RFC_EXAMPLE_S,
	};
	struct store_decision decision = store_classify(&answer);
	assert_decision(decision, STORE_BACK_OFF, STORE_REASON_NETWORK);
	assert_int_equal(decision.wait_s, 0);
	assert_int_equal(decision.dropped, -1);

	answer.status = 0;
	answer.retry_after = NULL;
	answer.body = NULL;
	assert_decision(store_classify(&answer), STORE_BACK_OFF, STORE_REASON_NETWORK);
	assert_decision(store_classify(NULL), STORE_BACK_OFF, STORE_REASON_NETWORK);
}

static void test_split(void **state)
{
	(void)state;
	assert_decision(classify(400, NULL, "{\"error\":\"unable to parse 'x'\"}", 0), STORE_SPLIT,
	                STORE_REASON_BAD_LINES);
	assert_decision(classify(422, NULL, "", 0), STORE_SPLIT, STORE_REASON_BAD_LINES);
	assert_decision(classify(413, NULL, "", 0), STORE_SPLIT, STORE_REASON_TOO_LARGE);
	/* The classifier does not know the batch: one line is the forwarder's call. */
	for (long status = 100; status < 600; status++)
		assert_int_not_equal(classify(status, "1", "", 0).verdict, STORE_SET_ASIDE);
}

static void test_busy_without_retry_after(void **state)
{
	(void)state;
	struct store_decision decision = classify(503, NULL, "", RFC_EXAMPLE_S);
	assert_decision(decision, STORE_BACK_OFF, STORE_REASON_BUSY);
	assert_int_equal(decision.wait_s, 0);
	decision = classify(429, NULL, "", RFC_EXAMPLE_S);
	assert_decision(decision, STORE_BACK_OFF, STORE_REASON_BUSY);
	assert_int_equal(decision.wait_s, 0);
}

static void test_retry_after_seconds(void **state)
{
	(void)state;
	assert_int_equal(wait_for("120", RFC_EXAMPLE_S), 120);
	assert_int_equal(wait_for("1", 0), 1);
	/* Optional whitespace around the value. */
	assert_int_equal(wait_for("  30 ", RFC_EXAMPLE_S), 30);
	assert_int_equal(wait_for("\t45\t", RFC_EXAMPLE_S), 45);
	/* "Now" is taken as the shortest wait, not as no wait at all. */
	assert_int_equal(wait_for("0", RFC_EXAMPLE_S), 1);
	assert_int_equal(wait_for("000", RFC_EXAMPLE_S), 1);
	/* Capped. */
	assert_int_equal(wait_for("3600", RFC_EXAMPLE_S), STORE_RETRY_AFTER_MAX_S);
	assert_int_equal(wait_for("3601", RFC_EXAMPLE_S), STORE_RETRY_AFTER_MAX_S);
	assert_int_equal(wait_for("86400", RFC_EXAMPLE_S), STORE_RETRY_AFTER_MAX_S);
	assert_int_equal(wait_for("99999999999999999999999999999999", RFC_EXAMPLE_S), STORE_RETRY_AFTER_MAX_S);
}

static void test_retry_after_date(void **state)
{
	(void)state;
	/* IMF-fixdate. */
	assert_int_equal(wait_for("Sun, 06 Nov 1994 08:51:37 GMT", RFC_EXAMPLE_S), 120);
	assert_int_equal(wait_for(" Sun, 06 Nov 1994 08:49:38 GMT ", RFC_EXAMPLE_S), 1);
	/* Across midnight, a month's end and a year's end. */
	assert_int_equal(wait_for("Sun, 01 Jan 1995 00:10:00 GMT", INT64_C(788918400) - 5 * 60), 15 * 60);
	/* 29 February in a leap year: 2024-02-29 00:00:00 is 1709164800. */
	assert_int_equal(wait_for("Thu, 29 Feb 2024 00:00:10 GMT", INT64_C(1709164800)), 10);
	/* Now, or already past: the shortest wait. */
	assert_int_equal(wait_for("Sun, 06 Nov 1994 08:49:37 GMT", RFC_EXAMPLE_S), 1);
	assert_int_equal(wait_for("Sun, 06 Nov 1994 08:49:37 GMT", RFC_EXAMPLE_S + 86400), 1);
	assert_int_equal(wait_for("Thu, 01 Jan 1970 00:00:00 GMT", INT64_C(1767225600)), 1);
	/* Far ahead, even past 2038 and up to the last date four digits hold: capped. */
	assert_int_equal(wait_for("Sun, 06 Nov 1994 09:49:38 GMT", RFC_EXAMPLE_S), STORE_RETRY_AFTER_MAX_S);
	assert_int_equal(wait_for("Tue, 19 Jan 2038 03:14:08 GMT", RFC_EXAMPLE_S), STORE_RETRY_AFTER_MAX_S);
	assert_int_equal(wait_for("Fri, 31 Dec 9999 23:59:59 GMT", RFC_EXAMPLE_S), STORE_RETRY_AFTER_MAX_S);
	/* A clock that is wildly off does not overflow the difference. */
	assert_int_equal(wait_for("Sun, 06 Nov 1994 08:49:37 GMT", INT64_MAX), 1);
	assert_int_equal(wait_for("Sun, 06 Nov 1994 08:49:37 GMT", INT64_MIN), STORE_RETRY_AFTER_MAX_S);
	/* A leap second is a time. */
	assert_int_equal(wait_for("Sun, 06 Nov 1994 08:50:60 GMT", RFC_EXAMPLE_S), 83);
}

static void test_retry_after_obsolete_dates(void **state)
{
	(void)state;
	/* RFC 850, its two-digit year read near now. */
	assert_int_equal(wait_for("Sunday, 06-Nov-94 08:50:37 GMT", RFC_EXAMPLE_S), 60);
	/* In 2026, "94" is 1994, not 2094 (more than 50 years ahead)... */
	assert_int_equal(wait_for("Sunday, 06-Nov-94 08:50:37 GMT", INT64_C(1767225600)), 1);
	/* ...and "26" is 2026: 2026-01-01 00:00:00 is 1767225600. */
	assert_int_equal(wait_for("Thursday, 01-Jan-26 00:01:00 GMT", INT64_C(1767225600)), 60);
	/* In 1994, "30" is 2030, within 50 years ahead: capped. */
	assert_int_equal(wait_for("Wednesday, 01-Jan-30 00:00:00 GMT", RFC_EXAMPLE_S), STORE_RETRY_AFTER_MAX_S);
	/* asctime, a one-digit day padded with a space. */
	assert_int_equal(wait_for("Sun Nov  6 08:49:47 1994", RFC_EXAMPLE_S), 10);
	assert_int_equal(wait_for("Thu Dec 31 23:59:59 1970", RFC_EXAMPLE_S), 1);
}

static void test_retry_after_garbage(void **state)
{
	(void)state;
	static const char *const values[] = {
		"",
		"   ",
		"soon",
		"-5",
		"+5",
		"1.5",
		"12abc",
		"12 34",
		"0x10",
		"Sun, 06 Nov 1994 08:49:37 UTC",
		"Sun, 06 Nov 1994 08:49:37",
		"Sun, 06 Nov 1994 08:49:37 GMT and more",
		"sun, 06 nov 1994 08:49:37 gmt",
		"Sun, 6 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 94 08:49:37 GMT",
		"Sun, 06 Xyz 1994 08:49:37 GMT",
		"Xyz, 06 Nov 1994 08:49:37 GMT",
		"Sun, 31 Feb 1994 08:49:37 GMT",
		"Tue, 29 Feb 2100 08:49:37 GMT",
		"Sun, 00 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 1994 24:00:00 GMT",
		"Sun, 06 Nov 1994 08:60:00 GMT",
		"Sun, 06 Nov 1994 08:49:61 GMT",
		"Sun, 06 Nov 1994 8:49:37 GMT",
		"Sun, 06-Nov-94 08:49:37 GMT",
		"Sunday, 06-Nov-1994 08:49:37 GMT",
		"Sun Nov 6 08:49:37 1994",
		"Sun Nov  6 08:49:37 94",
		"2026-01-01T00:00:00Z",
		"Sun, 06 Nov 1994 08:49:37 GMT                                               x",
	};
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		struct store_decision decision = classify(503, values[i], "", RFC_EXAMPLE_S);
		assert_decision(decision, STORE_BACK_OFF, STORE_REASON_BUSY);
		assert_int_equal(decision.wait_s, 0);
		assert_decision(classify(429, values[i], "", RFC_EXAMPLE_S), STORE_BACK_OFF, STORE_REASON_BUSY);
	}
	/* Long, but only because of the whitespace around it. */
	assert_int_equal(wait_for("                                        "
	                          "Sun, 06 Nov 1994 08:51:37 GMT"
	                          "                                        ",
	                          RFC_EXAMPLE_S),
	                 120);
}

static void test_back_off(void **state)
{
	(void)state;
	assert_decision(classify(401, NULL, "{\"error\":\"unauthorized access\"}", 0), STORE_BACK_OFF,
	                STORE_REASON_CREDENTIALS);
	assert_decision(classify(403, NULL, "", 0), STORE_BACK_OFF, STORE_REASON_CREDENTIALS);
	assert_decision(classify(404, NULL, "{\"error\":\"database not found: \\\"x\\\"\"}", 0), STORE_BACK_OFF,
	                STORE_REASON_NOT_FOUND);
	static const long server[] = { 500, 501, 502, 504, 507, 599 };
	for (size_t i = 0; i < sizeof(server) / sizeof(server[0]); i++) {
		/* Retry-After is read for 429 and 503 only. */
		struct store_decision decision = classify(server[i], "60", "", 0);
		assert_decision(decision, STORE_BACK_OFF, STORE_REASON_SERVER);
		assert_int_equal(decision.wait_s, 0);
	}
	static const long unexpected[] = { -1, 0, 100, 101, 199, 300, 301, 304, 307, 399,
		                           402, 405, 408, 409, 410, 411, 412, 414, 415, 418,
		                           421, 423, 428, 431, 451, 499, 600, 999, LONG_MAX };
	for (size_t i = 0; i < sizeof(unexpected) / sizeof(unexpected[0]); i++)
		assert_decision(classify(unexpected[i], "60", "", 0), STORE_BACK_OFF, STORE_REASON_UNEXPECTED);
}

static void test_dropped(void **state)
{
	(void)state;
	/* InfluxDB 1.x, as it answers. */
	struct store_decision decision = classify(
		400, NULL, "{\"error\":\"partial write: unable to parse 'x': missing fields dropped=1\"}\n", 0);
	assert_decision(decision, STORE_SPLIT, STORE_REASON_BAD_LINES);
	assert_int_equal(decision.dropped, 1);
	assert_int_equal(
		classify(400, NULL, "{\"error\":\"partial write: field type conflict: input field \\\"t\\\" "
		                    "on measurement \\\"air\\\" is type float, already exists as type integer "
		                    "dropped=250\"}",
		         0)
			.dropped,
		250);
	assert_int_equal(classify(400, NULL, "partial write: points beyond retention policy dropped=0", 0).dropped, 0);
	/* A refused line quoted in the message may hold "dropped=": the
	 * count is the last. */
	assert_int_equal(
		classify(400, NULL, "partial write: unable to parse 'm dropped=9 x': bad timestamp dropped=2", 0)
			.dropped,
		2);
	assert_int_equal(classify(400, NULL, "partial write: unable to parse 'm dropped=9': dropped=", 0).dropped, 9);
	/* Absent. */
	assert_int_equal(classify(400, NULL, "{\"error\":\"unable to parse 'x': missing fields\"}", 0).dropped, -1);
	assert_int_equal(classify(400, NULL,
	                          "{\"code\":\"invalid\",\"message\":\"partial write has occurred, errors "
	                          "encountered on line(s): line 1: no field values\"}",
	                          0)
	                         .dropped,
	                 -1);
	assert_int_equal(classify(400, NULL, "dropped=", 0).dropped, -1);
	assert_int_equal(classify(400, NULL, "dropped=-3", 0).dropped, -1);
	assert_int_equal(classify(400, NULL, "", 0).dropped, -1);
	assert_int_equal(classify(400, NULL, NULL, 0).dropped, -1);
	/* A number too large for a long is as many as a long holds. */
	assert_int_equal(classify(400, NULL, "partial write: x dropped=99999999999999999999999999999", 0).dropped,
	                 LONG_MAX);
	/* Read on any answer, not only on a split. */
	assert_int_equal(classify(500, NULL, "partial write: x dropped=7", 0).dropped, 7);
}

static void test_reason_text(void **state)
{
	(void)state;
	assert_string_equal(store_reason_text(STORE_REASON_STORED), "stored");
	assert_string_equal(store_reason_text(STORE_REASON_BAD_LINES), "refused lines in the batch");
	assert_string_equal(store_reason_text(STORE_REASON_TOO_LARGE), "found the batch too large");
	assert_string_equal(store_reason_text(STORE_REASON_BUSY), "is busy");
	assert_string_equal(store_reason_text(STORE_REASON_CREDENTIALS), "refused the credentials");
	assert_string_equal(store_reason_text(STORE_REASON_NOT_FOUND), "has no such database or bucket");
	assert_string_equal(store_reason_text(STORE_REASON_SERVER), "had a server error");
	assert_string_equal(store_reason_text(STORE_REASON_UNEXPECTED), "answered unexpectedly");
	assert_string_equal(store_reason_text(STORE_REASON_NETWORK), "did not answer");
	/* Never NULL, even for a value outside the enum. */
	assert_non_null(store_reason_text((enum store_reason)99));
}

/* A store shutting down answers 500 and then refuses connections: one
 * outage, not two.  Only what waiting does not cure is a reason to warn
 * again within an outage. */
static void test_reason_needs_operator(void **state)
{
	(void)state;
	assert_true(store_reason_needs_operator(STORE_REASON_CREDENTIALS));
	assert_true(store_reason_needs_operator(STORE_REASON_NOT_FOUND));
	assert_true(store_reason_needs_operator(STORE_REASON_UNEXPECTED));
	assert_false(store_reason_needs_operator(STORE_REASON_SERVER));
	assert_false(store_reason_needs_operator(STORE_REASON_NETWORK));
	assert_false(store_reason_needs_operator(STORE_REASON_BUSY));
	assert_false(store_reason_needs_operator(STORE_REASON_STORED));
}

/* The body as store_body_for_log makes it for a buffer of out_size bytes;
 * checks that nothing is written past them. */
static const char *for_log(const char *body, size_t out_size)
{
	static char out[256];
	assert_true(out_size < sizeof(out));
	memset(out, 'X', sizeof(out));
	assert_ptr_equal(store_body_for_log(body, out, out_size), out);
	for (size_t i = out_size; i < sizeof(out); i++)
		assert_int_equal(out[i], 'X');
	return out;
}

static void test_body_for_log(void **state)
{
	(void)state;
	assert_string_equal(for_log("{\"error\":\"unable to parse\"}", 64), "{\"error\":\"unable to parse\"}");
	assert_string_equal(for_log("line one\nline two\n", 64), "line one line two");
	assert_string_equal(for_log("line one\r\nline two\r\n", 64), "line one line two");
	assert_string_equal(for_log("a\tb\t\tc", 64), "a b c");
	assert_string_equal(for_log("  \t\r\n  padded \n\t ", 64), "padded");
	assert_string_equal(for_log("many     spaces", 64), "many spaces");
	/* Other control characters, a terminal's escape among them. */
	assert_string_equal(for_log("red\x1b[31m here\x7f\x01\x02there\x1f", 64), "red [31m here there");
	assert_string_equal(for_log("", 64), "");
	assert_string_equal(for_log(" \n\r\t ", 64), "");
	assert_string_equal(for_log(NULL, 64), "");
	/* UTF-8 passes as it is. */
	assert_string_equal(for_log("Vädret i Ålesund 😀", 64), "Vädret i Ålesund 😀");
}

static void test_body_for_log_cut(void **state)
{
	(void)state;
	/* The dots within the size. */
	assert_string_equal(for_log("abcdefghij", 8), "abcd...");
	/* Exactly filling the buffer is not a cut. */
	assert_string_equal(for_log("abcdefg", 8), "abcdefg");
	assert_string_equal(for_log("abcdefg \r\n", 8), "abcdefg");
	assert_string_equal(for_log("\n\n  abcdefg", 8), "abcdefg");
	assert_string_equal(for_log("abc\n\n\n\ndefg", 8), "abc...");
	assert_string_equal(for_log("abc\n\n\n\nd", 8), "abc d");
	/* No space left before the dots. */
	assert_string_equal(for_log("abc defghijk", 8), "abc...");
	/* "Å" is C3 85: a cut after C3 drops it whole. */
	assert_string_equal(for_log("abcÅdef", 8), "abc...");
	assert_string_equal(for_log("abcÅdef", 9), "abcÅdef");
	assert_string_equal(for_log("abÅdefgh", 8), "abÅ...");
	/* "😀" is F0 9F 98 80: cut after each of its first three bytes. */
	assert_string_equal(for_log("ab😀cdefgh", 7), "ab...");
	assert_string_equal(for_log("ab😀cdefgh", 8), "ab...");
	assert_string_equal(for_log("ab😀cdefgh", 9), "ab...");
	assert_string_equal(for_log("ab😀cdefgh", 10), "ab😀...");
	/* A body the transport cut in the middle of a character. */
	assert_string_equal(for_log("abc\xc3", 64), "abc");
	assert_string_equal(for_log("abc \xf0\x9f\x98", 64), "abc");
}

static void test_body_for_log_tiny(void **state)
{
	(void)state;
	/* Nothing written at all. */
	for_log("abcdef", 0);
	/* Room for the NUL only, then for dots only. */
	assert_string_equal(for_log("abcdef", 1), "");
	assert_string_equal(for_log("abcdef", 2), ".");
	assert_string_equal(for_log("abcdef", 3), "..");
	assert_string_equal(for_log("abcdef", 4), "...");
	assert_string_equal(for_log("abcdef", 5), "a...");
	/* What fits is not cut, however small. */
	assert_string_equal(for_log("a", 2), "a");
	assert_string_equal(for_log("ab", 3), "ab");
	assert_string_equal(for_log("  a  ", 2), "a");
	assert_string_equal(for_log("", 1), "");
	assert_string_equal(for_log("Å", 2), ".");
	/* A NULL buffer is not written to. */
	assert_null(store_body_for_log("abc", NULL, 16));
}

/* Whether text is whole UTF-8: no character cut short, no stray byte. */
static bool is_whole_utf8(const char *text)
{
	for (const unsigned char *c = (const unsigned char *)text; *c;) {
		size_t length = *c < 0x80 ? 1 : *c >= 0xf0 ? 4 : *c >= 0xe0 ? 3 : *c >= 0xc0 ? 2 : 0;
		if (length == 0)
			return false;
		for (size_t i = 1; i < length; i++)
			if ((c[i] & 0xc0) != 0x80)
				return false;
		c += length;
	}
	return true;
}

static void test_body_for_log_every_size(void **state)
{
	(void)state;
	static const char body[] = "\tÅre: 😀 partial\r\nwrite: ä€😀 dropped=1 \n";
	static const char whole[] = "Åre: 😀 partial write: ä€😀 dropped=1";
	for (size_t size = 1; size < sizeof(whole) + 8; size++) {
		const char *out = for_log(body, size);
		size_t length = strlen(out);
		assert_true(length <= size - 1);
		assert_true(is_whole_utf8(out));
		if (size - 1 >= strlen(whole)) {
			assert_string_equal(out, whole);
			continue;
		}
		/* Cut: the dots, and before them the start of the whole text. */
		size_t dots = size - 1 < 3 ? size - 1 : 3;
		assert_true(length >= dots);
		assert_memory_equal(out + length - dots, "...", dots);
		assert_memory_equal(out, whole, length - dots);
		/* No more than a character and a space given up to the cut. */
		assert_true(length + 5 >= size - 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_done),
		cmocka_unit_test(test_no_answer),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_busy_without_retry_after),
		cmocka_unit_test(test_retry_after_seconds),
		cmocka_unit_test(test_retry_after_date),
		cmocka_unit_test(test_retry_after_obsolete_dates),
		cmocka_unit_test(test_retry_after_garbage),
		cmocka_unit_test(test_back_off),
		cmocka_unit_test(test_dropped),
		cmocka_unit_test(test_reason_text),
		cmocka_unit_test(test_reason_needs_operator),
		cmocka_unit_test(test_body_for_log),
		cmocka_unit_test(test_body_for_log_cut),
		cmocka_unit_test(test_body_for_log_tiny),
		cmocka_unit_test(test_body_for_log_every_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
