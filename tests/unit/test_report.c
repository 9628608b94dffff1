/* test_report.c — the pure parts of `tryggctl report`: Student's t, the
 * trend with its interval, Welch's t, difference in differences, fault
 * episodes, coverage scaling, nights and days across the summer-time
 * changes, numbers in both languages, the statements, and CSV and HTML
 * escaping.  Every expected value was computed outside this code (by hand
 * or with Python's statistics module, as each comment says). */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "report_internal.h"

#define CLOSE(a, b, tolerance) assert_true(fabs((a) - (b)) < (tolerance))

static int use_stockholm(void **state)
{
	(void)state;
	setenv("TZ", REPORT_ZONE, 1);
	tzset();
	return 0;
}

static void student_t(void **state)
{
	(void)state;
	/* Quantiles from tables (scipy.stats.t.ppf). */
	CLOSE(report_t_quantile(0.975, 1), 12.706204736174698, 1e-6);
	CLOSE(report_t_quantile(0.975, 3), 3.182446305284263, 1e-8);
	CLOSE(report_t_quantile(0.975, 5), 2.570581835636314, 1e-8);
	CLOSE(report_t_quantile(0.975, 10), 2.228138851986274, 1e-8);
	CLOSE(report_t_quantile(0.975, 1000), 1.962339, 1e-5);
	CLOSE(report_t_cdf(0, 7), 0.5, 1e-12);
	CLOSE(report_t_cdf(-2.228138851986274, 10), 0.025, 1e-9);
}

static void trend(void **state)
{
	(void)state;
	/* y = 1 3 2 5 4 at x = 0..4, by hand: slope 0.8, residual sum of
	 * squares 3.6, s² = 1.2, se = √(1.2/10); half the 95 % interval is
	 * t(0.975, 3) × se = 1.1024317386224394; mean 3. */
	const double x[] = { 0, 1, 2, 3, 4 }, y[] = { 1, 3, 2, 5, 4 };
	struct report_trend fit;
	report_trend_fit(x, y, 5, &fit);
	assert_true(fit.valid);
	assert_int_equal(fit.n, 5);
	CLOSE(fit.mean, 3, 1e-12);
	CLOSE(fit.slope, 0.8, 1e-12);
	CLOSE(fit.slope_low, 0.8 - 1.1024317386224394, 1e-7);
	CLOSE(fit.slope_high, 0.8 + 1.1024317386224394, 1e-7);
	CLOSE(fit.percent, 0.8 * 30 / 3 * 100, 1e-9);

	/* A day unknown is left out, not read as zero: the same five points
	 * with a NaN between them fit the same. */
	const double x2[] = { 0, 1, 2, 2.5, 3, 4 }, y2[] = { 1, 3, 2, NAN, 5, 4 };
	report_trend_fit(x2, y2, 6, &fit);
	assert_int_equal(fit.n, 5);
	CLOSE(fit.slope, 0.8, 1e-12);

	/* An exact line: no width. */
	const double y3[] = { 100, 102, 104, 106, 108 };
	report_trend_fit(x, y3, 5, &fit);
	CLOSE(fit.slope, 2, 1e-12);
	CLOSE(fit.slope_high - fit.slope_low, 0, 1e-9);

	const double y4[] = { 1, NAN, NAN, NAN, 2 };
	report_trend_fit(x, y4, 5, &fit);
	assert_false(fit.valid);
}

static void welch(void **state)
{
	(void)state;
	/* Python: statistics.variance; t = 2.2514363231593695,
	 * dof = 5.520787746170677 (Welch–Satterthwaite). */
	const double a[] = { 1, 2, 3, 4 }, b[] = { 2, 4, 6, 8, 10 };
	struct report_welch result;
	report_welch(a, 4, b, 5, &result);
	assert_true(result.valid);
	CLOSE(result.t, 2.2514363231593695, 1e-12);
	CLOSE(result.dof, 5.520787746170677, 1e-12);
	assert_int_equal(report_certainty_of(&result), REPORT_LIKELY);
	report_welch(a, 1, b, 5, &result);
	assert_false(result.valid);
	assert_int_equal(report_certainty_of(&result), REPORT_TOO_FEW);
}

static void difference_in_differences(void **state)
{
	(void)state;
	/* By hand: the district 11 → 21, the others 16/3 → 19/3: 10 − 1 = 9.
	 * The daily differences 5 6 6 | 14 15 15 (the unknown day left
	 * out): means 17/3 and 44/3, variances 1/3 each, t = 9 / √(2/9) =
	 * 19.0918830920368. */
	const double changed[] = { 10, 12, 11, NAN, 20, 22, 21 }, others[] = { 5, 6, 5, 9, 6, 7, 6 };
	struct report_did did;
	report_did(changed, others, 7, 3, &did);
	assert_int_equal(did.n_before, 3);
	assert_int_equal(did.n_after, 3);
	CLOSE(did.changed_before, 11, 1e-12);
	CLOSE(did.changed_after, 21, 1e-12);
	CLOSE(did.others_before, 16.0 / 3, 1e-12);
	CLOSE(did.others_after, 19.0 / 3, 1e-12);
	CLOSE(did.difference, 9, 1e-12);
	CLOSE(did.welch.t, 19.0918830920368, 1e-9);
	assert_int_equal(report_certainty_of(&did.welch), REPORT_CLEAR);

	/* The same change in both: nothing to tell. */
	const double same_changed[] = { 10, 12, 11, 20, 22, 21 }, same_others[] = { 9, 13, 11, 19, 23, 21 };
	report_did(same_changed, same_others, 6, 3, &did);
	CLOSE(did.difference, 0, 1e-12);
	assert_int_equal(report_certainty_of(&did.welch), REPORT_CANNOT_TELL);
}

static void episodes(void **state)
{
	(void)state;
	/* Nights 1–4 one fault (night 3 has no data and bridges it), mended
	 * on night 5; nights 7–8 a second, not mended: night 8 has no data. */
	const double hours[] = { 0, 1, 2, NAN, 1, 0, 0, 3, NAN };
	struct report_episode out[4];
	assert_int_equal(report_episodes(hours, 9, out, 4), 2);
	assert_int_equal(out[0].first, 1);
	assert_int_equal(out[0].last, 4);
	CLOSE(out[0].hours, 4, 1e-12);
	assert_false(out[0].open);
	assert_int_equal(out[1].first, 7);
	assert_int_equal(out[1].last, 7);
	CLOSE(out[1].hours, 3, 1e-12);
	assert_true(out[1].open);
	/* A night without data does not start one. */
	const double quiet[] = { NAN, 0, NAN };
	assert_int_equal(report_episodes(quiet, 3, out, 4), 0);
}

static void coverage_scaling(void **state)
{
	(void)state;
	/* 60 windows of 60 s at coverage 0.5: half the hour. */
	CLOSE(report_covered_share(30, 60, 3600), 0.5, 1e-12);
	CLOSE(report_scale(100, 0.5, 0.5), 200, 1e-12);
	/* 29 of 60 windows present, all whole: below half. */
	CLOSE(report_covered_share(29, 60, 3600), 29.0 / 60, 1e-12);
	assert_true(isnan(report_scale(100, 29.0 / 60, 0.5)));
	CLOSE(report_covered_share(70, 60, 3600), 1, 1e-12);
	assert_true(isnan(report_scale(5, 0, 0)));
	CLOSE(report_scale(5, 1, 0.5), 5, 1e-12);
}

static const struct report_hour_info *hour_at(const struct report_calendar *calendar, const char *utc)
{
	struct tm tm = { 0 };
	strptime(utc, "%Y-%m-%dT%H:%M:%SZ", &tm);
	int64_t ms = (int64_t)timegm(&tm) * 1000;
	return &calendar->hours[(ms - calendar->first_hour * REPORT_HOUR_MS) / REPORT_HOUR_MS];
}

static void nights_across_summer_time(void **state)
{
	(void)state;
	struct report_calendar calendar;
	int64_t since, until;
	/* Spring: 2026-03-29 02:00 CET becomes 03:00 CEST.  The night of the
	 * 28th runs from 12:00 CET (11:00Z) to 12:00 CEST (10:00Z): 23 h. */
	assert_int_equal(report_local_midnight("2026-03-28", &since), 0);
	assert_int_equal(report_local_midnight("2026-03-30", &until), 0);
	assert_int_equal(since, INT64_C(1774652400000));     /* 2026-03-27T23:00:00Z */
	assert_int_equal(until, INT64_C(1774821600000));     /* 2026-03-29T22:00:00Z */
	assert_int_equal(report_calendar_build(since, since, until, report_local_noon(until), &calendar), 0);
	assert_int_equal(calendar.day_count, 2);
	assert_int_equal(calendar.days[0].hour_count, 24);
	assert_int_equal(calendar.days[1].hour_count, 23);
	assert_int_equal(calendar.nights[0].hour_count, 23);
	assert_int_equal(calendar.nights[1].hour_count, 24);
	assert_int_equal(hour_at(&calendar, "2026-03-28T10:00:00Z")->night, -1);   /* 11:00 CET, the night before */
	assert_int_equal(hour_at(&calendar, "2026-03-28T11:00:00Z")->night, 0);    /* 12:00 CET */
	assert_int_equal(hour_at(&calendar, "2026-03-29T09:00:00Z")->night, 0);    /* 11:00 CEST */
	assert_int_equal(hour_at(&calendar, "2026-03-29T10:00:00Z")->night, 1);    /* 12:00 CEST */
	assert_int_equal(hour_at(&calendar, "2026-03-29T01:00:00Z")->local_hour, 3);
	assert_int_equal(hour_at(&calendar, "2026-03-29T01:00:00Z")->day, 1);
	assert_int_equal(hour_at(&calendar, "2026-03-28T23:00:00Z")->weekday, 6);  /* Sunday 00:00 CET */
	/* Midnight in November is dark in Eskilstuna, noon is not. */
	assert_true(hour_at(&calendar, "2026-03-28T23:00:00Z")->dark);
	assert_false(hour_at(&calendar, "2026-03-28T11:00:00Z")->dark);
	report_calendar_free(&calendar);

	/* Autumn: 2026-10-25 03:00 CEST becomes 02:00 CET; the night of the
	 * 24th has 25 hours, and so has the day of the 25th. */
	assert_int_equal(report_local_midnight("2026-10-24", &since), 0);
	assert_int_equal(report_local_midnight("2026-10-26", &until), 0);
	assert_int_equal(report_calendar_build(since, since, until, report_local_noon(until), &calendar), 0);
	assert_int_equal(calendar.days[1].hour_count, 25);
	assert_int_equal(calendar.nights[0].hour_count, 25);
	assert_int_equal(hour_at(&calendar, "2026-10-25T00:00:00Z")->local_hour, 2);   /* 02:00 CEST */
	assert_int_equal(hour_at(&calendar, "2026-10-25T01:00:00Z")->local_hour, 2);   /* 02:00 CET */
	assert_int_equal(hour_at(&calendar, "2026-10-25T10:00:00Z")->night, 0);        /* 11:00 CET */
	assert_int_equal(hour_at(&calendar, "2026-10-25T11:00:00Z")->night, 1);        /* 12:00 CET */
	report_calendar_free(&calendar);

	assert_int_equal(report_local_midnight("2026-02-30", &since), -EINVAL);
	assert_int_equal(report_local_midnight("2026-2-3", &since), -EINVAL);
}

static void numbers(void **state)
{
	(void)state;
	char out[REPORT_NUMBER_SIZE];
	assert_string_equal(report_number(REPORT_LANG_SV, 12345.75, 1, out), "12\xc2\xa0" "345,8");
	assert_string_equal(report_number(REPORT_LANG_EN, 1234567.75, 1, out), "1,234,567.8");
	assert_string_equal(report_number(REPORT_LANG_SV, 1234, 0, out), "1234");
	assert_string_equal(report_number(REPORT_LANG_SV, -0.01, 1, out), "0,0");
	assert_string_equal(report_number(REPORT_LANG_SV, -2.5, 2, out), "-2,50");
	assert_string_equal(report_number(REPORT_LANG_EN, NAN, 1, out), "–");
	assert_string_equal(report_weekday(REPORT_LANG_SV, 5, false), "lördag");
	assert_string_equal(report_word(REPORT_LANG_SV, W_MENDED), "Åtgärdad");
}

static void statements(void **state)
{
	(void)state;
	const char *districts[] = { "Årby", "O'Hara \\ x" };
	struct report_options options = { .districts = districts, .district_count = 2, .database = "trygghet" };
	struct report_ranges ranges = { .footfall_from = INT64_C(1793574000000), .light_from = INT64_C(1793574000000),
		                            .until = INT64_C(1793833200000), .night_until = INT64_C(1793876400000),
		                            .alert_from = INT64_C(1730415600000) };
	char *text[REPORT_QUERY_COUNT];
	assert_int_equal(report_statements(&options, &ranges, text), 0);
	assert_string_equal(text[0],
		"SELECT sum(\"count\") AS \"count\", sum(\"coverage\") AS \"coverage\", count(\"coverage\") AS \"windows\" "
		"FROM \"footfall\" WHERE time >= '2026-11-01T23:00:00Z' AND time < '2026-11-04T23:00:00Z' AND "
		"(\"district\" = 'Årby' OR \"district\" = 'O\\'Hara \\\\ x') "
		"GROUP BY time(1h), \"district\", \"site\", \"gateway\", \"sensor\" fill(none)");
	assert_non_null(strstr(text[2], "sum(\"fault_s\") AS \"fault_s\""));
	assert_non_null(strstr(text[2], "time < '2026-11-05T11:00:00Z'"));
	assert_non_null(strstr(text[3], "last(\"window_s\")"));
	assert_non_null(strstr(text[4], "FROM \"alert\" WHERE time >= '2024-10-31T23:00:00Z'"));
	for (size_t i = 0; i < REPORT_QUERY_COUNT; i++)
		free(text[i]);
}

/* The document written as CSV and as HTML, into a string. */
static char *written(const struct report_document *document, bool csv)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	struct report_options options = { .lang = REPORT_LANG_SV };
	assert_int_equal(csv ? report_write_csv(document, out) : report_write_html(&options, document, "Å<b>", out), 0);
	fclose(out);
	return text;
}

static void csv_and_html(void **state)
{
	(void)state;
	struct report_document document = { .lang = REPORT_LANG_SV };
	const char *headers[] = { "Plats", "Antal, \"st\"" };
	struct report_table *table = report_table(&document, "sites", "Årby", "Platser", 2, headers);
	report_cell_text(&document, table, "Torget 3, ingång=\"öst\"");
	report_cell_number(&document, table, 1234.5, 1);
	report_cell_text(&document, table, "<script>x</script>");
	report_cell_missing(&document, table);
	table = report_table(&document, "sites", "Nyfors", "Platser", 2, headers);
	report_cell_text(&document, table, "a\nb");
	report_cell_number(&document, table, -1, 0);
	table = report_table(&document, "other", NULL, "Annat", 1, headers);
	report_cell_text(&document, table, "x");
	assert_int_equal(document.error, 0);
	char *csv = written(&document, true);
	assert_string_equal(csv,
		"table,district,Plats,\"Antal, \"\"st\"\"\"\r\n"
		"sites,Årby,\"Torget 3, ingång=\"\"öst\"\"\",1234.5\r\n"
		"sites,Årby,<script>x</script>,\r\n"
		"sites,Nyfors,\"a\nb\",-1\r\n"
		"\r\n"
		"table,district,Plats\r\n"
		"other,,x\r\n");
	char *html = written(&document, false);
	assert_null(strstr(html, "<script"));
	assert_non_null(strstr(html, "&lt;script&gt;x&lt;/script&gt;"));
	assert_non_null(strstr(html, "<title>Å&lt;b&gt;</title>"));
	assert_non_null(strstr(html, "Torget 3, ingång=&quot;öst&quot;"));
	assert_non_null(strstr(html, "1234,5"));
	assert_non_null(strstr(html, "<td class=\"missing\""));
	assert_null(strstr(html, "http"));
	free(csv);
	free(html);
	report_document_free(&document);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(student_t),
		cmocka_unit_test(trend),
		cmocka_unit_test(welch),
		cmocka_unit_test(difference_in_differences),
		cmocka_unit_test(episodes),
		cmocka_unit_test(coverage_scaling),
		cmocka_unit_test(nights_across_summer_time),
		cmocka_unit_test(numbers),
		cmocka_unit_test(statements),
		cmocka_unit_test(csv_and_html),
	};
	return cmocka_run_group_tests(tests, use_stockholm, NULL);
}
