/* report_change.c — the parts of the report that compare districts:
 * the summary with its map, before and after each --change (difference
 * in differences), sensor problems from the alert measurement, the method
 * notes and the appendix of queries.
 *
 * Before and after: for a change in district X on date D, each figure
 * (after-dark footfall per day, dark hours per night, fault hours per
 * night) is taken per day for X and as the mean of the other districts,
 * on the days both are known.  The difference in differences is
 * (X after − X before) − (others after − others before); how sure it is
 * comes from Welch's t on the daily differences X − others, before against
 * after.  Seasons and weather move both sides alike, which is why the
 * other districts are the yardstick.
 *
 * Nothing is kept; the document owns what is added to it. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "report_internal.h"

#define W(key) report_word(context->options->lang, key)
#define LANG (context->options->lang)

/* ---- coordinates ----------------------------------------------------------------------- */

struct coordinates_search {
	const char **districts;
	size_t count;
	double *latitude, *longitude;
};

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct coordinates_search *search = user;
	for (size_t i = 0; i < search->count; i++) {
		if (strcmp(section, search->districts[i]) != 0)
			continue;
		char *end;
		double number = strtod(value, &end);
		if (end == value)
			continue;
		if (strcmp(name, "latitude") == 0)
			search->latitude[i] = number;
		else if (strcmp(name, "longitude") == 0)
			search->longitude[i] = number;
	}
	return 1;                              /* other keys are the simulation's */
}

int report_coordinates(const char *path, const char **districts, size_t count, double *latitude,
                       double *longitude)
{
	struct coordinates_search search = { districts, count, latitude, longitude };
	for (size_t i = 0; i < count; i++)
		latitude[i] = longitude[i] = NAN;
	if (!path)
		return -ENOENT;
	int r = ini_parse(path, on_key, &search);
	return r == -1 ? -ENOENT : 0;
}

/* ---- the summary and the map ------------------------------------------------------------------ */

static double mean_known(const double *values, size_t count)
{
	double sum = 0;
	size_t n = 0;
	for (size_t i = 0; i < count; i++)
		if (!isnan(values[i])) {
			sum += values[i];
			n++;
		}
	return n ? sum / (double)n : NAN;
}

static double completeness_percent(const struct report_context *context, const char *district)
{
	const struct report_data *data = context->data;
	const struct report_calendar *calendar = context->calendar;
	double coverage = 0, expected = 0;
	for (size_t s = 0; s < data->series_count; s++) {
		const struct report_series *series = &data->series[s];
		if (!report_in_group(series, district))
			continue;
		for (size_t h = calendar->period_first; h < calendar->period_end; h++)
			coverage += series->hours[h + context->hour_offset].coverage_sum;
		expected += 3600.0 * (double)(calendar->period_end - calendar->period_first) / series->window_s;
	}
	return expected > 0 ? 100 * coverage / expected : NAN;
}

void report_section_summary(struct report_context *context)
{
	struct report_document *document = context->document;
	size_t count = context->district_count;
	double *figures = calloc((count + 1) * 5, sizeof(*figures));
	double *latitude = calloc(count + 1, sizeof(*latitude)), *longitude = calloc(count + 1, sizeof(*longitude));
	char (*texts)[REPORT_NUMBER_SIZE] = calloc(count + 1, sizeof(*texts));
	const char **value_texts = calloc(count + 1, sizeof(*value_texts));
	if (!figures || !latitude || !longitude || !texts || !value_texts) {
		document->error = -ENOMEM;
		goto out;
	}
	report_add(document, REPORT_BLOCK_HEADING, W(W_HEADING_SUMMARY));
	const char *headers[] = { W(W_DISTRICT), W(W_MEAN_PER_DAY), W(W_AFTER_DARK_RELATIVE), W(W_DARK_PER_NIGHT),
		                      W(W_FAULT_PER_NIGHT), W(W_COVERED_PERCENT) };
	for (size_t i = 0; i <= count; i++) {
		const char *district = i < count ? context->districts[i] : NULL;
		double *total = NULL, *after_dark = NULL, *dark = NULL, *faults = NULL;
		double *row = &figures[i * 5];
		if (report_footfall_days(context, district, &total, &after_dark) < 0 ||
		    report_night_means(context, district, REPORT_LIGHT, &dark) < 0 ||
		    report_night_means(context, district, REPORT_LAMP, &faults) < 0) {
			document->error = -ENOMEM;
		} else {
			row[0] = mean_known(total, context->calendar->day_count);
			row[1] = report_after_dark_relative(context, district);
			row[2] = mean_known(dark, context->calendar->night_count);
			row[3] = mean_known(faults, context->calendar->night_count);
			row[4] = completeness_percent(context, district);
		}
		free(total);
		free(after_dark);
		free(dark);
		free(faults);
	}
	bool relative = false;
	for (size_t i = 0; i < count; i++)
		relative |= !isnan(figures[i * 5 + 1]);
	double *headline = malloc((count + 1) * sizeof(*headline));
	if (!headline) {
		document->error = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		headline[i] = figures[i * 5 + (relative ? 1 : 2)];
		char number[REPORT_NUMBER_SIZE];
		snprintf(texts[i], sizeof(texts[i]), "%s%s", report_number(LANG, headline[i], relative ? 0 : 1, number),
		         isnan(headline[i]) ? "" : relative ? " %" : " h");
		value_texts[i] = texts[i];
	}
	int located = report_coordinates(context->options->districts_file, context->districts, count, latitude,
	                                 longitude);
	report_add_svg(document, report_svg_map(&(struct report_map){
		.lang = LANG,
		.title = W(relative ? W_MAP_RELATIVE : W_MAP_DARK), .value_label = W(relative ? W_AFTER_DARK_RELATIVE
		                                                                             : W_DARK_PER_NIGHT),
		.missing_label = W(W_NO_COORDINATES), .names = context->districts, .latitude = latitude,
		.longitude = longitude, .values = headline, .value_texts = value_texts, .count = count,
		.id = ++document->charts }));
	free(headline);
	if (located < 0)
		report_addf(document, REPORT_BLOCK_NOTE, W(W_NOTE_NO_PROFILES),
		            context->options->districts_file ? context->options->districts_file : "districts.ini");
	struct report_table *table = report_table(document, "summary", NULL, W(W_TABLE_SUMMARY), 6, headers);
	for (size_t i = 0; i <= count; i++) {
		report_cell_text(document, table, report_group_name(context, i < count ? context->districts[i] : NULL));
		for (size_t k = 0; k < 5; k++)
			report_cell_number(document, table, figures[i * 5 + k], k == 2 || k == 3 ? 2 : k == 4 ? 1 : 0);
	}
out:
	free(figures);
	free(latitude);
	free(longitude);
	free(texts);
	free(value_texts);
}

/* ---- before and after ------------------------------------------------------------------------ */

/* The values as an index of their own mean over the days before
 * change_index (= 100); all unknown when that mean is not above 0. */
static void as_index(double *values, size_t count, size_t change_index)
{
	double sum = 0;
	size_t n = 0;
	for (size_t d = 0; d < change_index && d < count; d++)
		if (!isnan(values[d])) {
			sum += values[d];
			n++;
		}
	double base = n ? sum / (double)n : NAN;
	for (size_t d = 0; d < count; d++)
		values[d] = base > 0 ? 100 * values[d] / base : NAN;
}

/* per[i] of each district for kind 0 (after-dark footfall per day), 1
 * (dark hours per night), 2 (fault hours per night).  Footfall is an
 * index of the district's own mean before the change: districts differ in
 * size several times over and the season changes footfall by a share, not
 * by a number of passes, so a difference in passes would show the sizes
 * times the season (a "clear change" in districts where nothing changed).
 * Hours are compared as they are. */
static int figure_of(const struct report_context *context, const char *district, int kind, size_t change_index,
                     double **values)
{
	double *unused = NULL;
	int r;
	if (kind == 0) {
		r = report_footfall_days(context, district, &unused, values);
		free(unused);
		if (r == 0)
			as_index(*values, context->calendar->day_count, change_index);
		return r;
	}
	return report_night_means(context, district, kind == 1 ? REPORT_LIGHT : REPORT_LAMP, values);
}

static void one_change(struct report_context *context, const struct report_change *change, size_t number)
{
	const struct report_calendar *calendar = context->calendar;
	struct report_document *document = context->document;
	size_t count = calendar->day_count;   /* as many nights as days */
	size_t change_index = 0;
	while (change_index < count && strcmp(calendar->days[change_index].date, change->date) < 0)
		change_index++;
	static const enum report_word names[3] = { W_DARK_FOOTFALL_INDEX, W_DARK_PER_NIGHT, W_FAULT_PER_NIGHT };
	char id[32];
	snprintf(id, sizeof(id), "change_%zu", number);
	report_addf(document, REPORT_BLOCK_HEADING, "%s %s: %s — %s", change->date, change->district, change->text,
	            W(W_BEFORE_AND_AFTER));
	const char *headers[] = { W(W_FIGURE), W(W_CHANGED_BEFORE), W(W_CHANGED_AFTER), W(W_OTHERS_BEFORE),
		                      W(W_OTHERS_AFTER), W(W_DIFFERENCE_IN_DIFFERENCES), W(W_WELCH_T), W(W_DAYS_BEFORE),
		                      W(W_DAYS_AFTER), W(W_HOW_SURE) };
	struct report_table *table = report_table(document, id, change->district, W(W_TABLE_CHANGE), 10, headers);
	for (int kind = 0; kind < 3; kind++) {
		double *changed = NULL, *others = malloc((count + 1) * sizeof(*others)), *sums = calloc(count + 1, sizeof(double));
		size_t *known = calloc(count + 1, sizeof(*known));
		int r = others && sums && known ? figure_of(context, change->district, kind, change_index, &changed) : -ENOMEM;
		for (size_t i = 0; i < context->district_count && r == 0; i++) {
			double *values = NULL;
			if (strcmp(context->districts[i], change->district) == 0)
				continue;
			r = figure_of(context, context->districts[i], kind, change_index, &values);
			for (size_t d = 0; r == 0 && d < count; d++)
				if (!isnan(values[d])) {
					sums[d] += values[d];
					known[d]++;
				}
			free(values);
		}
		if (r < 0) {
			document->error = r;
		} else {
			for (size_t d = 0; d < count; d++)
				others[d] = known[d] ? sums[d] / (double)known[d] : NAN;
			struct report_did did;
			report_did(changed, others, count, change_index, &did);
			enum report_certainty certainty = report_certainty_of(&did.welch);
			static const enum report_word sure[] = { W_CANNOT_TELL, W_LIKELY, W_CLEAR, W_TOO_FEW };
			char a[REPORT_NUMBER_SIZE], b[REPORT_NUMBER_SIZE];
			report_addf(document, REPORT_BLOCK_TEXT, W(W_DID_SENTENCE), W(names[kind]),
			            report_number(LANG, did.difference, kind == 0 ? 1 : 2, a),
			            report_number(LANG, did.welch.t, 1, b), W(sure[certainty]));
			report_cell_text(document, table, W(names[kind]));
			const double cells[] = { did.changed_before, did.changed_after, did.others_before, did.others_after,
				                     did.difference };
			for (size_t k = 0; k < 5; k++)
				report_cell_number(document, table, cells[k], kind == 0 ? 1 : 2);
			report_cell_number(document, table, did.welch.t, 2);
			report_cell_number(document, table, (double)did.n_before, 0);
			report_cell_number(document, table, (double)did.n_after, 0);
			report_cell_text(document, table, W(sure[certainty]));
		}
		free(changed);
		free(others);
		free(sums);
		free(known);
	}
	report_add(document, REPORT_BLOCK_NOTE, W(W_NOTE_DID));
}

void report_section_changes(struct report_context *context)
{
	if (context->options->change_count == 0)
		return;
	report_add(context->document, REPORT_BLOCK_SECTION, W(W_HEADING_CHANGES));
	for (size_t i = 0; i < context->options->change_count; i++)
		one_change(context, &context->options->changes[i], i + 1);
}

/* ---- sensor problems --------------------------------------------------------------------------- */

static int by_series_and_time(const void *a, const void *b)
{
	const struct report_alert_point *x = *(const struct report_alert_point *const *)a;
	const struct report_alert_point *y = *(const struct report_alert_point *const *)b;
	int c = strcmp(x->gateway, y->gateway);
	if (c == 0)
		c = strcmp(x->sensor, y->sensor);
	if (c == 0)
		c = strcmp(x->problem, y->problem);
	return c ? c : x->at_ms < y->at_ms ? -1 : x->at_ms > y->at_ms;
}

static const char *problem_word(const struct report_context *context, const char *problem)
{
	static const struct { const char *name; enum report_word word; } kinds[] = {
		{ "stuck", W_PROBLEM_STUCK }, { "blocked", W_PROBLEM_BLOCKED }, { "covered", W_PROBLEM_COVERED },
		{ "lamp_fault", W_PROBLEM_LAMP_FAULT }, { "failed", W_PROBLEM_FAILED },
	};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(problem, kinds[i].name) == 0)
			return W(kinds[i].word);
	return problem;
}

void report_section_problems(struct report_context *context, const char *district)
{
	const struct report_data *data = context->data;
	struct report_document *document = context->document;
	report_add(document, REPORT_BLOCK_HEADING, W(W_HEADING_PROBLEMS));
	if (!data->alert_measurement) {
		report_add(document, REPORT_BLOCK_TEXT, W(W_NO_ALERT_MEASUREMENT));
		return;
	}
	const struct report_alert_point **points = calloc(data->alert_count + 1, sizeof(*points));
	size_t count = 0, shown = 0;
	if (!points) {
		document->error = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < data->alert_count; i++)
		if (!district || strcmp(data->alerts[i].district, district) == 0)
			points[count++] = &data->alerts[i];
	qsort(points, count, sizeof(*points), by_series_and_time);
	const char *headers[] = { W(W_SITE), W(W_SENSOR), W(W_PROBLEM), W(W_FROM_LOCAL), W(W_TO_LOCAL), W(W_HOURS),
		                      W(W_DETAIL) };
	struct report_table *table = report_table(document, "sensor_problems", report_group_name(context, district),
	                                          W(W_TABLE_PROBLEMS), 7, headers);
	for (size_t i = 0; i < count; i++) {
		const struct report_alert_point *raised = points[i];
		if (!raised->raised)
			continue;
		const struct report_alert_point *next = i + 1 < count && by_series_and_time(&points[i], &points[i + 1]) != 0 &&
		                                        strcmp(points[i + 1]->sensor, raised->sensor) == 0 &&
		                                        strcmp(points[i + 1]->gateway, raised->gateway) == 0 &&
		                                        strcmp(points[i + 1]->problem, raised->problem) == 0
		                                        ? points[i + 1] : NULL;
		int64_t end = next ? next->at_ms : INT64_MAX;
		if (end < context->options->since_ms || raised->at_ms >= context->options->until_ms)
			continue;
		char from[20], to[20], hours[REPORT_NUMBER_SIZE];
		report_local_text(raised->at_ms, from);
		if (next)
			report_local_text(end, to);
		int64_t stop = next ? end : context->options->until_ms;
		report_number(LANG, (double)(stop - raised->at_ms) / (double)REPORT_HOUR_MS, 1, hours);
		report_cell_text(document, table, raised->site[0] ? raised->site : raised->gateway);
		report_cell_text(document, table, raised->sensor);
		report_cell_text(document, table, problem_word(context, raised->problem));
		report_cell_text(document, table, from);
		report_cell_text(document, table, next ? to : W(W_STILL_ACTIVE));
		report_cell_text(document, table, hours);
		report_cell_text(document, table, raised->detail);
		shown++;
	}
	if (shown == 0)
		report_add(document, REPORT_BLOCK_TEXT, W(W_NO_PROBLEMS));
	free(points);
}

/* ---- method and queries ---------------------------------------------------------------------- */

void report_section_method(struct report_context *context)
{
	struct report_document *document = context->document;
	char threshold[REPORT_NUMBER_SIZE];
	report_add(document, REPORT_BLOCK_HEADING, W(W_HEADING_METHOD));
	report_add(document, REPORT_BLOCK_NOTE, W(W_METHOD_TIME));
	report_add(document, REPORT_BLOCK_NOTE, W(W_METHOD_DARK));
	report_addf(document, REPORT_BLOCK_NOTE, W(W_METHOD_COVERAGE),
	            report_number(LANG, 100 * context->options->coverage_threshold, 0, threshold));
	report_add(document, REPORT_BLOCK_NOTE, W(W_METHOD_NIGHT));
	report_add(document, REPORT_BLOCK_NOTE, W(W_TREND_METHOD));
	report_add(document, REPORT_BLOCK_NOTE, W(W_NOTE_TYPICAL));
	report_add(document, REPORT_BLOCK_NOTE, W(W_NOTE_DID));
}

void report_section_queries(struct report_context *context)
{
	const struct report_data *data = context->data;
	struct report_document *document = context->document;
	report_add(document, REPORT_BLOCK_SECTION, W(W_HEADING_QUERIES));
	report_addf(document, REPORT_BLOCK_TEXT, W(W_QUERIES_HOW), data->shown_url ? data->shown_url : "",
	            context->options->database);
	for (size_t i = 0; i < data->query_count; i++)
		report_add(document, REPORT_BLOCK_QUERY, data->queries[i]);
}
