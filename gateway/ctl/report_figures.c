/* report_figures.c — footfall, typical and relative, and completeness:
 * the store's hours made into the figures, charts and tables of a district
 * (or of all of them) in the document.
 *
 * Partly covered hours: an hour's count is scaled up by the share of the
 * hour its windows covered (sum of coverage × window / 3600) where that
 * share is at least the threshold; below it the hour is unknown (NaN) and
 * left out of every typical and relative figure, while the raw count is
 * always shown beside.  A group's hour is known only when each of its
 * counters' hours is, and a day only when all its hours are: a gap is never
 * read as an empty street.
 *
 * Nothing is kept: every array is the function's own and freed before it
 * returns; the document owns what is added to it. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

#define W(key) report_word(context->options->lang, key)
#define LANG (context->options->lang)

bool report_in_group(const struct report_series *series, const char *district)
{
	return !district || strcmp(series->district, district) == 0;
}

const char *report_group_name(const struct report_context *context, const char *district)
{
	return district ? district : W(W_ALL_DISTRICTS);
}

static double *nan_array(size_t count)
{
	double *values = malloc((count ? count : 1) * sizeof(*values));
	for (size_t i = 0; values && i < count; i++)
		values[i] = NAN;
	return values;
}

int report_footfall_hours(const struct report_context *context, const char *district, double **scaled,
                          double **raw)
{
	const struct report_data *data = context->data;
	size_t count = context->calendar->hour_count, sensors = 0;
	*scaled = nan_array(count);
	*raw = nan_array(count);
	if (!*scaled || !*raw) {
		free(*scaled);
		free(*raw);
		return -ENOMEM;
	}
	for (size_t s = 0; s < data->series_count; s++)
		sensors += data->series[s].measure == REPORT_FOOTFALL && report_in_group(&data->series[s], district);
	for (size_t h = 0; h < count && sensors; h++) {
		double sum_scaled = 0, sum_raw = 0;
		bool known = true, any = false;
		for (size_t s = 0; s < data->series_count; s++) {
			const struct report_series *series = &data->series[s];
			if (series->measure != REPORT_FOOTFALL || !report_in_group(series, district))
				continue;
			const struct report_hour *hour = &series->hours[h + context->hour_offset];
			if (hour->windows > 0) {
				any = true;
				sum_raw += hour->value;
			}
			double share = report_covered_share(hour->coverage_sum, series->window_s, 3600);
			double value = report_scale(hour->value, share, context->options->coverage_threshold);
			if (isnan(value))
				known = false;
			else
				sum_scaled += value;
		}
		(*scaled)[h] = known ? sum_scaled : NAN;
		(*raw)[h] = any ? sum_raw : NAN;
	}
	return 0;
}

int report_footfall_days(const struct report_context *context, const char *district, double **total,
                         double **after_dark)
{
	const struct report_calendar *calendar = context->calendar;
	double *scaled, *raw;
	int r = report_footfall_hours(context, district, &scaled, &raw);
	if (r < 0)
		return r;
	*total = nan_array(calendar->day_count);
	*after_dark = nan_array(calendar->day_count);
	if (!*total || !*after_dark) {
		free(*total);
		free(*after_dark);
		r = -ENOMEM;
		goto out;
	}
	for (size_t d = 0; d < calendar->day_count; d++) {
		const struct report_day *day = &calendar->days[d];
		double sum = 0, dark = 0;
		bool known = day->hour_count > 0;
		for (size_t h = day->first_hour; h < day->first_hour + day->hour_count; h++) {
			known &= !isnan(scaled[h]);
			if (!isnan(scaled[h])) {
				sum += scaled[h];
				dark += calendar->hours[h].dark ? scaled[h] : 0;
			}
		}
		(*total)[d] = known ? sum : NAN;
		(*after_dark)[d] = known ? dark : NAN;
	}
out:
	free(scaled);
	free(raw);
	return r;
}

/* ---- footfall ----------------------------------------------------------------------------- */

static void footfall_days_table(struct report_context *context, const char *district, const double *scaled,
                                const double *raw, const double *total, const double *after_dark)
{
	const struct report_calendar *calendar = context->calendar;
	struct report_document *document = context->document;
	const char *headers[] = { W(W_DATE), W(W_WEEKDAY), W(W_FOOTFALL_SCALED), W(W_FOOTFALL_RAW),
		                      W(W_HOURS_KNOWN), W(W_AFTER_DARK), W(W_DAYLIGHT) };
	struct report_table *table = report_table(document, "footfall_per_day", report_group_name(context, district),
	                                          W(W_TABLE_FOOTFALL_DAYS), 7, headers);
	for (size_t d = 0; d < calendar->day_count; d++) {
		const struct report_day *day = &calendar->days[d];
		double raw_sum = 0;
		size_t known = 0;
		bool any = false;
		for (size_t h = day->first_hour; h < day->first_hour + day->hour_count; h++) {
			known += !isnan(scaled[h]);
			if (!isnan(raw[h])) {
				raw_sum += raw[h];
				any = true;
			}
		}
		char hours[32];
		snprintf(hours, sizeof(hours), "%zu/%zu", known, day->hour_count);
		report_cell_text(document, table, day->date);
		report_cell_text(document, table, report_weekday(LANG, day->weekday, false));
		report_cell_number(document, table, total[d], 0);
		report_cell_number(document, table, any ? raw_sum : NAN, 0);
		report_cell_text(document, table, hours);
		report_cell_number(document, table, after_dark[d], 0);
		report_cell_number(document, table, total[d] - after_dark[d], 0);
	}
}

static void hour_of_day(struct report_context *context, const char *district, const double *scaled)
{
	const struct report_calendar *calendar = context->calendar;
	struct report_document *document = context->document;
	double sums[2][24] = { { 0 } }, means[2][24];
	size_t counts[2][24] = { { 0 } };
	for (size_t h = calendar->period_first; h < calendar->period_end; h++) {
		if (isnan(scaled[h]))
			continue;
		const struct report_hour_info *hour = &calendar->hours[h];
		size_t weekend = hour->weekday >= 5;
		sums[weekend][hour->local_hour] += scaled[h];
		counts[weekend][hour->local_hour]++;
	}
	char labels_text[24][8];
	const char *labels[24];
	for (size_t i = 0; i < 24; i++) {
		for (size_t k = 0; k < 2; k++)
			means[k][i] = counts[k][i] ? sums[k][i] / (double)counts[k][i] : NAN;
		snprintf(labels_text[i], sizeof(labels_text[i]), "%02zu", i);
		labels[i] = labels_text[i];
	}
	const char *names[2] = { W(W_WEEKDAYS), W(W_WEEKENDS) };
	const double *values[2] = { means[0], means[1] };
	report_add(document, REPORT_BLOCK_HEADING, W(W_HEADING_HOUR_OF_DAY));
	report_add_svg(document, report_svg_lines(&(struct report_lines){
		.lang = LANG,
		.title = W(W_CHART_HOUR_OF_DAY), .y_label = W(W_PASSES_PER_HOUR), .missing_label = W(W_MISSING),
		.labels = labels, .count = 24, .series_count = 2, .names = names, .values = values,
		.id = ++document->charts }));
	const char *headers[] = { W(W_HOUR), W(W_WEEKDAYS), W(W_HOURS_COUNTED), W(W_WEEKENDS), W(W_HOURS_COUNTED) };
	struct report_table *table = report_table(document, "footfall_per_hour_of_day",
	                                          report_group_name(context, district), W(W_TABLE_HOUR_OF_DAY), 5,
	                                          headers);
	for (size_t i = 0; i < 24; i++) {
		char label[16];
		snprintf(label, sizeof(label), "%02zu–%02zu", i, (i + 1) % 24);
		report_cell_text(document, table, label);
		report_cell_number(document, table, means[0][i], 1);
		report_cell_number(document, table, (double)counts[0][i], 0);
		report_cell_number(document, table, means[1][i], 1);
		report_cell_number(document, table, (double)counts[1][i], 0);
	}
}

static void split_table(struct report_context *context, const char *district, const double *scaled,
                        const double *total, const double *after_dark)
{
	const struct report_calendar *calendar = context->calendar;
	struct report_document *document = context->document;
	double day_sums[2] = { 0 }, dark_day = 0, light_day = 0, hour_sums[2] = { 0 };
	size_t day_counts[2] = { 0 }, dark_days = 0, hour_counts[2] = { 0 };
	for (size_t d = 0; d < calendar->day_count; d++) {
		if (isnan(total[d]))
			continue;
		size_t weekend = calendar->days[d].weekday >= 5;
		day_sums[weekend] += total[d];
		day_counts[weekend]++;
		dark_day += after_dark[d];
		light_day += total[d] - after_dark[d];
		dark_days++;
	}
	for (size_t h = calendar->period_first; h < calendar->period_end; h++)
		if (!isnan(scaled[h])) {
			size_t dark = calendar->hours[h].dark;
			hour_sums[dark] += scaled[h];
			hour_counts[dark]++;
		}
	const char *headers[] = { W(W_FIGURE), W(W_VALUE), W(W_BASED_ON) };
	struct report_table *table = report_table(document, "footfall_split", report_group_name(context, district),
	                                          W(W_TABLE_SPLIT), 3, headers);
	const struct { enum report_word name; double value; size_t n; enum report_word unit; } rows[] = {
		{ W_ROW_WEEKDAY_PER_DAY, day_counts[0] ? day_sums[0] / (double)day_counts[0] : NAN, day_counts[0], W_DAYS },
		{ W_ROW_WEEKEND_PER_DAY, day_counts[1] ? day_sums[1] / (double)day_counts[1] : NAN, day_counts[1], W_DAYS },
		{ W_ROW_DARK_PER_DAY, dark_days ? dark_day / (double)dark_days : NAN, dark_days, W_DAYS },
		{ W_ROW_LIGHT_PER_DAY, dark_days ? light_day / (double)dark_days : NAN, dark_days, W_DAYS },
		{ W_ROW_DARK_PER_HOUR, hour_counts[1] ? hour_sums[1] / (double)hour_counts[1] : NAN, hour_counts[1], W_HOURS },
		{ W_ROW_LIGHT_PER_HOUR, hour_counts[0] ? hour_sums[0] / (double)hour_counts[0] : NAN, hour_counts[0], W_HOURS },
		{ W_ROW_DARK_SHARE, dark_days && dark_day + light_day > 0 ? 100 * dark_day / (dark_day + light_day) : NAN,
		  dark_days, W_DAYS },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char based[64];
		snprintf(based, sizeof(based), "%zu %s", rows[i].n, W(rows[i].unit));
		report_cell_text(document, table, W(rows[i].name));
		report_cell_number(document, table, rows[i].value, 1);
		report_cell_text(document, table, based);
	}
}

static void trend(struct report_context *context, const char *district, const double *total)
{
	const struct report_calendar *calendar = context->calendar;
	struct report_document *document = context->document;
	double x[calendar->day_count ? calendar->day_count : 1];
	struct report_trend fit;
	for (size_t d = 0; d < calendar->day_count; d++)
		x[d] = (double)d;
	report_trend_fit(x, total, calendar->day_count, &fit);
	char a[REPORT_NUMBER_SIZE], b[REPORT_NUMBER_SIZE], c[REPORT_NUMBER_SIZE], n[REPORT_NUMBER_SIZE];
	report_add(document, REPORT_BLOCK_HEADING, W(W_HEADING_TREND));
	if (fit.valid) {
		report_addf(document, REPORT_BLOCK_TEXT, W(W_TREND_SENTENCE), report_number(LANG, fit.percent, 1, a),
		            report_number(LANG, fit.percent_low, 1, b), report_number(LANG, fit.percent_high, 1, c),
		            report_number(LANG, (double)fit.n, 0, n),
		            fit.percent_low > 0 ? W(W_TREND_UP) : fit.percent_high < 0 ? W(W_TREND_DOWN) : W(W_TREND_FLAT));
	} else {
		report_add(document, REPORT_BLOCK_TEXT, W(W_TREND_TOO_FEW));
	}
	report_add(document, REPORT_BLOCK_NOTE, W(W_TREND_METHOD));
	const char *headers[] = { W(W_DAYS_COUNTED), W(W_MEAN_PER_DAY), W(W_SLOPE_PER_DAY), W(W_LOW_95),
		                      W(W_HIGH_95), W(W_PERCENT_PER_30), W(W_LOW_95), W(W_HIGH_95) };
	struct report_table *table = report_table(document, "footfall_trend", report_group_name(context, district),
	                                          W(W_TABLE_TREND), 8, headers);
	const double cells[] = { (double)fit.n, fit.mean, fit.slope, fit.slope_low, fit.slope_high,
		                     fit.percent, fit.percent_low, fit.percent_high };
	for (size_t i = 0; i < 8; i++)
		report_cell_number(document, table, cells[i], i == 0 ? 0 : i < 5 ? 2 : 1);
}

void report_section_footfall(struct report_context *context, const char *district)
{
	const struct report_calendar *calendar = context->calendar;
	struct report_document *document = context->document;
	double *scaled = NULL, *raw = NULL, *total = NULL, *after_dark = NULL, *raw_days = NULL;
	const char **labels = calloc(calendar->day_count + 1, sizeof(*labels));
	int r = labels ? report_footfall_hours(context, district, &scaled, &raw) : -ENOMEM;
	if (r == 0)
		r = report_footfall_days(context, district, &total, &after_dark);
	if (r == 0 && !(raw_days = nan_array(calendar->day_count)))
		r = -ENOMEM;
	if (r < 0) {
		document->error = r;
		goto out;
	}
	for (size_t d = 0; d < calendar->day_count; d++) {
		const struct report_day *day = &calendar->days[d];
		labels[d] = day->date + 5;
		for (size_t h = day->first_hour; h < day->first_hour + day->hour_count; h++)
			if (!isnan(raw[h]))
				raw_days[d] = (isnan(raw_days[d]) ? 0 : raw_days[d]) + raw[h];
	}
	report_add(document, REPORT_BLOCK_HEADING, W(W_HEADING_FOOTFALL));
	report_add_svg(document, report_svg_bars(&(struct report_bars){
		.lang = LANG,
		.title = W(W_CHART_FOOTFALL_DAYS), .y_label = W(W_PASSES_PER_DAY), .missing_label = W(W_INCOMPLETE),
		.labels = labels, .values = total, .raw = raw_days, .raw_label = W(W_RAW_TICK), .count = calendar->day_count,
		.id = ++document->charts }));
	report_add(document, REPORT_BLOCK_NOTE, W(W_NOTE_FOOTFALL_DAYS));
	footfall_days_table(context, district, scaled, raw, total, after_dark);
	hour_of_day(context, district, scaled);
	report_add(document, REPORT_BLOCK_HEADING, W(W_HEADING_SPLIT));
	split_table(context, district, scaled, total, after_dark);
	trend(context, district, total);
out:
	free(labels);
	free(scaled);
	free(raw);
	free(total);
	free(after_dark);
	free(raw_days);
}

/* ---- typical and relative --------------------------------------------------------------------- */

/* The typical footfall of each hour of the week (Monday 00 first) over the
 * year before --until, or what the store holds of it. */
static void typical_week(const struct report_context *context, const double *scaled, double typical[168],
                         size_t counts[168])
{
	const struct report_calendar *calendar = context->calendar;
	int64_t from = context->options->until_ms - (int64_t)REPORT_TYPICAL_DAYS * REPORT_DAY_MS;
	double sums[168] = { 0 };
	for (size_t i = 0; i < 168; i++)
		counts[i] = 0;
	for (size_t h = 0; h < calendar->period_end; h++) {
		const struct report_hour_info *hour = &calendar->hours[h];
		if (hour->start_ms < from || isnan(scaled[h]))
			continue;
		size_t slot = (size_t)hour->weekday * 24 + (size_t)hour->local_hour;
		sums[slot] += scaled[h];
		counts[slot]++;
	}
	for (size_t i = 0; i < 168; i++)
		typical[i] = counts[i] ? sums[i] / (double)counts[i] : NAN;
}

double report_after_dark_relative(const struct report_context *context, const char *district)
{
	const struct report_calendar *calendar = context->calendar;
	double *scaled, *raw, typical[168], observed = 0, expected = 0;
	size_t counts[168];
	if (report_footfall_hours(context, district, &scaled, &raw) < 0)
		return NAN;
	typical_week(context, scaled, typical, counts);
	for (size_t h = calendar->period_first; h < calendar->period_end; h++) {
		const struct report_hour_info *hour = &calendar->hours[h];
		double usual = typical[hour->weekday * 24 + hour->local_hour];
		if (!hour->dark || isnan(scaled[h]) || isnan(usual))
			continue;
		observed += scaled[h];
		expected += usual;
	}
	free(scaled);
	free(raw);
	return expected > 0 ? 100.0 * observed / expected : NAN;
}

void report_section_typical(struct report_context *context, const char *district)
{
	const struct report_calendar *calendar = context->calendar;
	struct report_document *document = context->document;
	double *scaled = NULL, *raw = NULL, typical[168], *relative = NULL;
	size_t counts[168], days = calendar->day_count + 1;
	const char **labels = calloc(days, sizeof(*labels));
	double *observed_days = calloc(days, sizeof(double)), *expected_days = calloc(days, sizeof(double));
	size_t *known_days = calloc(days, sizeof(size_t));
	int r = labels && observed_days && expected_days && known_days
	        ? report_footfall_hours(context, district, &scaled, &raw) : -ENOMEM;
	if (r == 0 && !(relative = nan_array(calendar->day_count)))
		r = -ENOMEM;
	if (r < 0) {
		document->error = r;
		goto out;
	}
	typical_week(context, scaled, typical, counts);
	report_add(document, REPORT_BLOCK_HEADING, W(W_HEADING_TYPICAL));
	report_add(document, REPORT_BLOCK_NOTE, W(W_NOTE_TYPICAL));
	const char *row_labels[7], *column_labels[24];
	char hour_text[24][4];
	for (int i = 0; i < 7; i++)
		row_labels[i] = report_weekday(LANG, i, true);
	for (int i = 0; i < 24; i++) {
		snprintf(hour_text[i], sizeof(hour_text[i]), "%02d", i);
		column_labels[i] = hour_text[i];
	}
	double high = 0;
	for (size_t i = 0; i < 168; i++)
		high = !isnan(typical[i]) && typical[i] > high ? typical[i] : high;
	report_add_svg(document, report_svg_grid(&(struct report_grid){
		.lang = LANG,
		.title = W(W_CHART_TYPICAL), .missing_label = W(W_MISSING), .low_label = "0", .high_label = NULL,
		.row_labels = row_labels, .column_labels = column_labels, .rows = 7, .columns = 24,
		.values = typical, .low = 0, .high = high > 0 ? high : 1, .id = ++document->charts }));
	const char *headers[25];
	headers[0] = W(W_WEEKDAY);
	for (int i = 0; i < 24; i++)
		headers[i + 1] = column_labels[i];
	struct report_table *table = report_table(document, "typical_week", report_group_name(context, district),
	                                          W(W_TABLE_TYPICAL), 25, headers);
	for (int day = 0; day < 7; day++) {
		report_cell_text(document, table, report_weekday(LANG, day, false));
		for (int hour = 0; hour < 24; hour++)
			report_cell_number(document, table, typical[day * 24 + hour], 1);
	}

	const char *relative_headers[] = { W(W_DATE), W(W_OBSERVED), W(W_TYPICAL), W(W_RELATIVE),
		                               W(W_HOURS_KNOWN) };
	double observed_all = 0, expected_all = 0;
	for (size_t d = 0; d < calendar->day_count; d++) {
		const struct report_day *day = &calendar->days[d];
		observed_days[d] = expected_days[d] = 0;
		known_days[d] = 0;
		labels[d] = day->date + 5;
		for (size_t h = day->first_hour; h < day->first_hour + day->hour_count; h++) {
			const struct report_hour_info *hour = &calendar->hours[h];
			double usual = typical[hour->weekday * 24 + hour->local_hour];
			if (isnan(scaled[h]) || isnan(usual))
				continue;
			observed_days[d] += scaled[h];
			expected_days[d] += usual;
			known_days[d]++;
		}
		relative[d] = expected_days[d] > 0 ? 100 * observed_days[d] / expected_days[d] : NAN;
		observed_all += observed_days[d];
		expected_all += expected_days[d];
	}
	report_add_svg(document, report_svg_bars(&(struct report_bars){
		.lang = LANG,
		.title = W(W_CHART_RELATIVE), .y_label = W(W_PERCENT_OF_TYPICAL), .missing_label = W(W_MISSING),
		.labels = labels, .values = relative, .count = calendar->day_count, .id = ++document->charts }));
	char a[REPORT_NUMBER_SIZE], b[REPORT_NUMBER_SIZE];
	report_addf(document, REPORT_BLOCK_TEXT, W(W_RELATIVE_SENTENCE),
	            report_number(LANG, expected_all > 0 ? 100 * observed_all / expected_all : NAN, 0, a),
	            report_number(LANG, report_after_dark_relative(context, district), 0, b));
	table = report_table(document, "relative_per_day", report_group_name(context, district), W(W_TABLE_RELATIVE),
	                     5, relative_headers);
	for (size_t d = 0; d < calendar->day_count; d++) {
		char hours[32];
		snprintf(hours, sizeof(hours), "%zu/%zu", known_days[d], calendar->days[d].hour_count);
		report_cell_text(document, table, calendar->days[d].date);
		report_cell_number(document, table, known_days[d] ? observed_days[d] : NAN, 0);
		report_cell_number(document, table, known_days[d] ? expected_days[d] : NAN, 0);
		report_cell_number(document, table, relative[d], 0);
		report_cell_text(document, table, hours);
	}
out:
	free(labels);
	free(scaled);
	free(raw);
	free(relative);
	free(observed_days);
	free(expected_days);
	free(known_days);
}
