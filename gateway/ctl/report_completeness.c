/* report_completeness.c — data completeness per gateway and day: windows
 * expected (sensors × the day's seconds / window) against windows present
 * in the store, with their coverage summed, and every run of hours with no
 * window at all listed as a gap.  The charts draw a missing hour hatched
 * and labelled, never as zero, so that a gap is not read as an empty
 * street or a dark night.
 *
 * Nothing is kept; the document owns what is added to it. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report_internal.h"

#define W(key) report_word(context->options->lang, key)
#define LANG (context->options->lang)
/* Up to this many days the hours of each day are drawn too. */
#define HOURLY_GRID_DAYS_MAX 21

struct gateway_hours {
	const struct report_gateway *gateway;
	size_t sensors;
	double *coverage;                      /* per calendar hour: Σ coverage of the sensors' windows */
	int32_t *windows;                      /* per calendar hour */
};

static int gather(const struct report_context *context, const struct report_gateway *gateway,
                  struct gateway_hours *hours)
{
	const struct report_data *data = context->data;
	size_t count = context->calendar->hour_count;
	*hours = (struct gateway_hours){ .gateway = gateway };
	hours->coverage = calloc(count ? count : 1, sizeof(*hours->coverage));
	hours->windows = calloc(count ? count : 1, sizeof(*hours->windows));
	if (!hours->coverage || !hours->windows)
		return -ENOMEM;
	for (size_t s = 0; s < data->series_count; s++) {
		const struct report_series *series = &data->series[s];
		if (strcmp(series->gateway, gateway->gateway) != 0)
			continue;
		hours->sensors++;
		for (size_t h = 0; h < count; h++) {
			hours->coverage[h] += series->hours[h + context->hour_offset].coverage_sum;
			hours->windows[h] += series->hours[h + context->hour_offset].windows;
		}
	}
	return 0;
}

static void gaps_table(struct report_context *context, const char *district, const struct gateway_hours *all,
                       size_t gateway_count)
{
	const struct report_calendar *calendar = context->calendar;
	struct report_document *document = context->document;
	const char *headers[] = { W(W_GATEWAY), W(W_FROM_LOCAL), W(W_TO_LOCAL), W(W_HOURS), W(W_FROM_UTC), W(W_TO_UTC) };
	struct report_table *table = report_table(document, "gaps", report_group_name(context, district),
	                                          W(W_TABLE_GAPS), 6, headers);
	size_t gaps = 0;
	for (size_t g = 0; g < gateway_count; g++) {
		const struct gateway_hours *hours = &all[g];
		for (size_t h = calendar->period_first; h < calendar->period_end; h++) {
			if (hours->windows[h] > 0)
				continue;
			size_t end = h;
			while (end < calendar->period_end && hours->windows[end] == 0)
				end++;
			int64_t from = calendar->hours[h].start_ms, to = end < calendar->hour_count
			               ? calendar->hours[end].start_ms : calendar->hours[end - 1].start_ms + REPORT_HOUR_MS;
			char local_from[20], local_to[20], number[REPORT_NUMBER_SIZE], utc_from[24], utc_to[24];
			time_t seconds = (time_t)(from / 1000);
			struct tm utc;
			report_local_text(from, local_from);
			report_local_text(to, local_to);
			strftime(utc_from, sizeof(utc_from), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&seconds, &utc));
			seconds = (time_t)(to / 1000);
			strftime(utc_to, sizeof(utc_to), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&seconds, &utc));
			report_cell_text(document, table, hours->gateway->gateway);
			report_cell_text(document, table, local_from);
			report_cell_text(document, table, local_to);
			report_cell_text(document, table, report_number(LANG, (double)(end - h), 0, number));
			report_cell_text(document, table, utc_from);
			report_cell_text(document, table, utc_to);
			gaps++;
			h = end;
		}
	}
	if (gaps == 0)
		report_add(document, REPORT_BLOCK_TEXT, W(W_NO_GAPS));
}

static void hourly_grid(struct report_context *context, const struct gateway_hours *hours)
{
	const struct report_calendar *calendar = context->calendar;
	struct report_document *document = context->document;
	size_t days = calendar->day_count;
	double *values = malloc((days ? days : 1) * 24 * sizeof(*values));
	const char **rows = calloc(days + 1, sizeof(*rows));
	if (!values || !rows) {
		document->error = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < days * 24; i++)
		values[i] = NAN;
	for (size_t d = 0; d < days; d++) {
		const struct report_day *day = &calendar->days[d];
		rows[d] = day->date;
		for (size_t h = day->first_hour; h < day->first_hour + day->hour_count; h++)
			if (hours->windows[h] > 0 && hours->sensors)
				values[d * 24 + (size_t)calendar->hours[h].local_hour] =
					report_covered_share(hours->coverage[h], hours->gateway->window_s,
					                     3600.0 * (double)hours->sensors);
	}
	const char *columns[24];
	char column_text[24][4];
	for (int i = 0; i < 24; i++) {
		snprintf(column_text[i], sizeof(column_text[i]), "%02d", i);
		columns[i] = column_text[i];
	}
	char title[256];
	snprintf(title, sizeof(title), "%s: %s", W(W_CHART_HOURS_COVERED), hours->gateway->gateway);
	report_add_svg(document, report_svg_grid(&(struct report_grid){
		.lang = LANG,
		.title = title, .missing_label = W(W_NO_DATA), .low_label = "0 %", .high_label = "100 %",
		.row_labels = rows, .column_labels = columns, .rows = days, .columns = 24, .values = values,
		.low = 0, .high = 1, .id = ++document->charts }));
out:
	free(values);
	free(rows);
}

void report_section_completeness(struct report_context *context, const char *district)
{
	const struct report_calendar *calendar = context->calendar;
	const struct report_data *data = context->data;
	struct report_document *document = context->document;
	size_t count = 0, days = calendar->day_count;
	struct gateway_hours *all = calloc(data->gateway_count + 1, sizeof(*all));
	double *grid = malloc((data->gateway_count + 1) * (days + 1) * sizeof(*grid));
	const char **rows = calloc(data->gateway_count + 1, sizeof(*rows));
	const char **columns = calloc(days + 1, sizeof(*columns));
	if (!all || !grid || !rows || !columns) {
		document->error = -ENOMEM;
		goto out;
	}
	for (size_t g = 0; g < data->gateway_count; g++) {
		if (district && strcmp(data->gateways[g].district, district) != 0)
			continue;
		if (gather(context, &data->gateways[g], &all[count]) < 0) {
			document->error = -ENOMEM;
			count++;
			goto out;
		}
		rows[count] = data->gateways[g].gateway;
		count++;
	}
	report_add(document, REPORT_BLOCK_HEADING, W(W_HEADING_COMPLETENESS));
	report_add(document, REPORT_BLOCK_NOTE, W(W_NOTE_COMPLETENESS));
	if (count == 0) {
		report_add(document, REPORT_BLOCK_TEXT, W(W_NO_GATEWAYS));
		goto out;
	}
	for (size_t d = 0; d < days; d++)
		columns[d] = calendar->days[d].date + 5;
	for (size_t g = 0; g < count; g++)
		for (size_t d = 0; d < days; d++) {
			const struct report_day *day = &calendar->days[d];
			double expected = (double)all[g].sensors * 3600.0 * (double)day->hour_count / all[g].gateway->window_s;
			double coverage = 0, present = 0;
			for (size_t h = day->first_hour; h < day->first_hour + day->hour_count; h++) {
				coverage += all[g].coverage[h];
				present += all[g].windows[h];
			}
			grid[g * days + d] = present > 0 && expected > 0 ? coverage / expected : NAN;
		}
	report_add_svg(document, report_svg_grid(&(struct report_grid){
		.lang = LANG,
		.title = W(W_CHART_DAYS_COVERED), .missing_label = W(W_NO_DATA), .low_label = "0 %", .high_label = "100 %",
		.row_labels = rows, .column_labels = columns, .rows = count, .columns = days, .values = grid,
		.low = 0, .high = 1, .id = ++document->charts }));
	if (days <= HOURLY_GRID_DAYS_MAX)
		for (size_t g = 0; g < count; g++)
			hourly_grid(context, &all[g]);
	const char *headers[] = { W(W_GATEWAY), W(W_DATE), W(W_SENSORS), W(W_WINDOW_S), W(W_WINDOW_SOURCE),
		                      W(W_EXPECTED), W(W_PRESENT), W(W_COVERAGE_SUM), W(W_COVERED_PERCENT),
		                      W(W_HOURS_MISSING), W(W_HOURS_PARTLY) };
	struct report_table *table = report_table(document, "completeness_per_day", report_group_name(context, district),
	                                          W(W_TABLE_COMPLETENESS), 11, headers);
	for (size_t g = 0; g < count; g++) {
		const struct gateway_hours *hours = &all[g];
		const struct report_gateway *gateway = hours->gateway;
		for (size_t d = 0; d < days; d++) {
			const struct report_day *day = &calendar->days[d];
			double expected = (double)hours->sensors * 3600.0 * (double)day->hour_count / gateway->window_s;
			double coverage = 0, present = 0;
			size_t missing = 0, partly = 0;
			for (size_t h = day->first_hour; h < day->first_hour + day->hour_count; h++) {
				coverage += hours->coverage[h];
				present += hours->windows[h];
				missing += hours->windows[h] == 0;
				partly += hours->windows[h] > 0 &&
				          report_covered_share(hours->coverage[h], gateway->window_s,
				                               3600.0 * (double)hours->sensors) < 0.999;
			}
			report_cell_text(document, table, gateway->gateway);
			report_cell_text(document, table, day->date);
			report_cell_number(document, table, (double)hours->sensors, 0);
			report_cell_number(document, table, gateway->window_s, 0);
			report_cell_text(document, table, W(gateway->window_from_store ? W_FROM_STORE : W_ESTIMATED));
			report_cell_number(document, table, expected, 0);
			report_cell_number(document, table, present, 0);
			report_cell_number(document, table, coverage, 1);
			report_cell_number(document, table, expected > 0 ? 100 * coverage / expected : NAN, 1);
			report_cell_number(document, table, (double)missing, 0);
			report_cell_number(document, table, (double)partly, 0);
		}
	}
	gaps_table(context, district, all, count);
out:
	for (size_t g = 0; all && g < count; g++) {
		free(all[g].coverage);
		free(all[g].windows);
	}
	free(all);
	free(grid);
	free(rows);
	free(columns);
}
