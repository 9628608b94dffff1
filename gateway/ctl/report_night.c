/* report_night.c — darkness and lamp faults, per night (local noon to
 * noon, named after its evening) and site.
 *
 * A site's night is the mean over its sensors of their dark seconds
 * (light) or fault seconds (lamp) in hours.  Seconds are not scaled up
 * for windows that are missing or partly covered (the dark part of a night
 * is not spread evenly over it); a night whose covered share is below the
 * threshold is unknown instead, drawn hatched and left out of every mean.
 * A fault episode is a run of nights with fault seconds on one lamp; a
 * night the store has nothing of neither ends nor starts one.
 *
 * Nothing is kept; the document owns what is added to it. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

#define W(key) report_word(context->options->lang, key)
#define LANG (context->options->lang)
#define EPISODES_MAX 4096

struct site_nights {
	const char *district, *site;
	char *label;
	size_t sensors;
	double *hours;                         /* per night, NaN when not covered enough */
	double *raw;                           /* per night, whatever was stored */
	double total, mean;
	size_t known;
};

static void free_sites(struct site_nights *sites, size_t count)
{
	for (size_t i = 0; sites && i < count; i++) {
		free(sites[i].label);
		free(sites[i].hours);
		free(sites[i].raw);
	}
	free(sites);
}

/* The sites of a group that have sensors of measure, with their nights. */
static int gather_sites(const struct report_context *context, const char *district, enum report_measure measure,
                        struct site_nights **out, size_t *out_count)
{
	const struct report_data *data = context->data;
	const struct report_calendar *calendar = context->calendar;
	size_t nights = calendar->night_count, count = 0;
	struct site_nights *sites = calloc(data->series_count + 1, sizeof(*sites));
	double *coverage = calloc((data->series_count + 1) * (nights + 1), sizeof(*coverage));
	int r = sites && coverage ? 0 : -ENOMEM;
	for (size_t s = 0; s < data->series_count && r == 0; s++) {
		const struct report_series *series = &data->series[s];
		if (series->measure != measure || !report_in_group(series, district))
			continue;
		size_t i = 0;
		while (i < count && (strcmp(sites[i].district, series->district) != 0 || strcmp(sites[i].site, series->site) != 0))
			i++;
		if (i == count) {
			struct site_nights *site = &sites[count++];
			site->district = series->district;
			site->site = series->site;
			site->hours = calloc(nights + 1, sizeof(*site->hours));
			site->raw = calloc(nights + 1, sizeof(*site->raw));
			const char *name = series->site[0] ? series->site : series->gateway;
			int printed = district ? asprintf(&site->label, "%s", name)
			                       : asprintf(&site->label, "%s (%s)", name, series->district);
			if (printed < 0)
				site->label = NULL;
			if (!site->hours || !site->raw || !site->label) {
				r = -ENOMEM;
				break;
			}
		}
		sites[i].sensors++;
		for (size_t n = 0; n < nights; n++) {
			const struct report_day *night = &calendar->nights[n];
			for (size_t h = night->first_hour; h < night->first_hour + night->hour_count; h++) {
				const struct report_hour *hour = &series->hours[h + context->hour_offset];
				sites[i].raw[n] += hour->value / 3600.0;
				coverage[i * (nights + 1) + n] += hour->coverage_sum * series->window_s;
			}
		}
	}
	for (size_t i = 0; i < count && r == 0; i++) {
		struct site_nights *site = &sites[i];
		for (size_t n = 0; n < nights; n++) {
			double span = 3600.0 * (double)calendar->nights[n].hour_count * (double)site->sensors;
			double share = span > 0 ? coverage[i * (nights + 1) + n] / span : 0;
			site->raw[n] /= (double)site->sensors;
			site->hours[n] = share >= context->options->coverage_threshold && share > 0 ? site->raw[n] : NAN;
			if (!isnan(site->hours[n])) {
				site->total += site->hours[n];
				site->known++;
			}
		}
		site->mean = site->known ? site->total / (double)site->known : NAN;
	}
	free(coverage);
	if (r < 0) {
		free_sites(sites, count);
		return r;
	}
	*out = sites;
	*out_count = count;
	return 0;
}

int report_night_means(const struct report_context *context, const char *district, enum report_measure measure,
                       double **per_night)
{
	struct site_nights *sites;
	size_t count, nights = context->calendar->night_count;
	int r = gather_sites(context, district, measure, &sites, &count);
	if (r < 0)
		return r;
	double *means = malloc((nights + 1) * sizeof(*means));
	for (size_t n = 0; means && n < nights; n++) {
		double sum = 0;
		bool known = count > 0;
		for (size_t i = 0; i < count; i++) {
			known &= !isnan(sites[i].hours[n]);
			sum += isnan(sites[i].hours[n]) ? 0 : sites[i].hours[n];
		}
		means[n] = known ? sum / (double)count : NAN;
	}
	free_sites(sites, count);
	*per_night = means;
	return means ? 0 : -ENOMEM;
}

/* The nights of every site: a chart with one line per site and its table. */
static void nights_chart_and_table(struct report_context *context, const char *district,
                                   const struct site_nights *sites, size_t count, enum report_word title,
                                   enum report_word caption, const char *id)
{
	const struct report_calendar *calendar = context->calendar;
	struct report_document *document = context->document;
	size_t nights = calendar->night_count;
	const char **labels = calloc(nights + 1, sizeof(*labels));
	const char **names = calloc(count + 1, sizeof(*names));
	const double **values = calloc(count + 1, sizeof(*values));
	const char **headers = calloc(count + 1, sizeof(*headers));
	if (!labels || !names || !values || !headers) {
		document->error = -ENOMEM;
		goto out;
	}
	for (size_t n = 0; n < nights; n++)
		labels[n] = calendar->nights[n].date + 5;
	headers[0] = W(W_NIGHT_OF);
	for (size_t i = 0; i < count; i++) {
		names[i] = sites[i].label;
		values[i] = sites[i].hours;
		headers[i + 1] = sites[i].label;
	}
	report_add_svg(document, report_svg_lines(&(struct report_lines){
		.lang = LANG,
		.title = W(title), .y_label = W(W_HOURS_PER_NIGHT), .missing_label = W(W_MISSING), .labels = labels,
		.count = nights, .series_count = count, .names = names, .values = values, .id = ++document->charts }));
	struct report_table *table = report_table(document, id, report_group_name(context, district), W(caption),
	                                          count + 1, headers);
	for (size_t n = 0; n < nights; n++) {
		report_cell_text(document, table, calendar->nights[n].date);
		for (size_t i = 0; i < count; i++)
			report_cell_number(document, table, sites[i].hours[n], 2);
	}
out:
	free(labels);
	free(names);
	free(values);
	free(headers);
}

static int by_mean_descending(const void *a, const void *b)
{
	const struct site_nights *x = a, *y = b;
	double mx = isnan(x->mean) ? -1 : x->mean, my = isnan(y->mean) ? -1 : y->mean;
	return mx < my ? 1 : mx > my ? -1 : strcmp(x->label, y->label);
}

void report_section_darkness(struct report_context *context, const char *district)
{
	struct report_document *document = context->document;
	struct site_nights *sites = NULL;
	size_t count = 0;
	report_add(document, REPORT_BLOCK_HEADING, W(W_HEADING_DARKNESS));
	report_add(document, REPORT_BLOCK_NOTE, W(W_NOTE_DARKNESS));
	int r = gather_sites(context, district, REPORT_LIGHT, &sites, &count);
	if (r < 0) {
		document->error = r;
		return;
	}
	if (count == 0) {
		report_add(document, REPORT_BLOCK_TEXT, W(W_NO_LIGHT_SENSORS));
		free_sites(sites, count);
		return;
	}
	nights_chart_and_table(context, district, sites, count, W_CHART_DARK_NIGHTS, W_TABLE_DARK_NIGHTS,
	                       "dark_hours_per_night");
	qsort(sites, count, sizeof(*sites), by_mean_descending);
	const char *headers[] = { W(W_SITE), W(W_DISTRICT), W(W_MEAN_PER_NIGHT), W(W_NIGHTS_KNOWN), W(W_NIGHTS) };
	struct report_table *table = report_table(document, "darkest_sites", report_group_name(context, district),
	                                          W(W_TABLE_DARKEST), 5, headers);
	for (size_t i = 0; i < count; i++) {
		report_cell_text(document, table, sites[i].site[0] ? sites[i].site : sites[i].label);
		report_cell_text(document, table, sites[i].district);
		report_cell_number(document, table, sites[i].mean, 2);
		report_cell_number(document, table, (double)sites[i].known, 0);
		report_cell_number(document, table, (double)context->calendar->night_count, 0);
	}
	free_sites(sites, count);
}

/* The episodes of each lamp: runs of nights with fault seconds. */
static void episodes_table(struct report_context *context, const char *district)
{
	const struct report_data *data = context->data;
	const struct report_calendar *calendar = context->calendar;
	struct report_document *document = context->document;
	size_t nights = calendar->night_count;
	double *hours = malloc((nights + 1) * sizeof(*hours));
	struct report_episode *episodes = malloc(EPISODES_MAX * sizeof(*episodes));
	if (!hours || !episodes) {
		document->error = -ENOMEM;
		goto out;
	}
	const char *headers[] = { W(W_SITE), W(W_SENSOR), W(W_FIRST_NIGHT), W(W_LAST_NIGHT), W(W_NIGHTS),
		                      W(W_FAULT_HOURS), W(W_STATE) };
	struct report_table *table = report_table(document, "fault_episodes", report_group_name(context, district),
	                                          W(W_TABLE_EPISODES), 7, headers);
	size_t shown = 0;
	for (size_t s = 0; s < data->series_count; s++) {
		const struct report_series *series = &data->series[s];
		if (series->measure != REPORT_LAMP || !report_in_group(series, district))
			continue;
		for (size_t n = 0; n < nights; n++) {
			const struct report_day *night = &calendar->nights[n];
			double sum = 0;
			int32_t windows = 0;
			for (size_t h = night->first_hour; h < night->first_hour + night->hour_count; h++) {
				sum += series->hours[h + context->hour_offset].value;
				windows += series->hours[h + context->hour_offset].windows;
			}
			hours[n] = windows > 0 ? sum / 3600.0 : NAN;
		}
		size_t found = report_episodes(hours, nights, episodes, EPISODES_MAX);
		for (size_t e = 0; e < found && e < EPISODES_MAX; e++) {
			report_cell_text(document, table, series->site[0] ? series->site : series->gateway);
			report_cell_text(document, table, series->sensor);
			report_cell_text(document, table, calendar->nights[episodes[e].first].date);
			report_cell_text(document, table, calendar->nights[episodes[e].last].date);
			report_cell_number(document, table, (double)(episodes[e].last - episodes[e].first + 1), 0);
			report_cell_number(document, table, episodes[e].hours, 1);
			report_cell_text(document, table, W(episodes[e].open ? W_NOT_MENDED : W_MENDED));
			shown++;
		}
	}
	if (shown == 0)
		report_add(document, REPORT_BLOCK_TEXT, W(W_NO_EPISODES));
out:
	free(hours);
	free(episodes);
}

static int by_total_descending(const void *a, const void *b)
{
	const struct site_nights *x = a, *y = b;
	return x->total < y->total ? 1 : x->total > y->total ? -1 : strcmp(x->label, y->label);
}

void report_section_faults(struct report_context *context, const char *district)
{
	struct report_document *document = context->document;
	struct site_nights *sites = NULL;
	size_t count = 0;
	report_add(document, REPORT_BLOCK_HEADING, W(W_HEADING_FAULTS));
	report_add(document, REPORT_BLOCK_NOTE, W(W_NOTE_FAULTS));
	int r = gather_sites(context, district, REPORT_LAMP, &sites, &count);
	if (r < 0) {
		document->error = r;
		return;
	}
	if (count == 0) {
		report_add(document, REPORT_BLOCK_TEXT, W(W_NO_LAMPS));
		free_sites(sites, count);
		return;
	}
	nights_chart_and_table(context, district, sites, count, W_CHART_FAULT_NIGHTS, W_TABLE_FAULT_NIGHTS,
	                       "fault_hours_per_night");
	qsort(sites, count, sizeof(*sites), by_total_descending);
	const char **labels = calloc(count + 1, sizeof(*labels));
	double *totals = malloc((count + 1) * sizeof(*totals));
	if (!labels || !totals) {
		document->error = -ENOMEM;
	} else {
		for (size_t i = 0; i < count; i++) {
			labels[i] = sites[i].label;
			totals[i] = sites[i].known ? sites[i].total : NAN;
		}
		report_add_svg(document, report_svg_bars(&(struct report_bars){
		.lang = LANG,
			.title = W(W_CHART_FAULT_SITES), .y_label = W(W_FAULT_HOURS), .missing_label = W(W_MISSING),
			.labels = labels, .values = totals, .count = count, .id = ++document->charts }));
	}
	free(labels);
	free(totals);
	const char *headers[] = { W(W_SITE), W(W_DISTRICT), W(W_FAULT_HOURS), W(W_NIGHTS_WITH_FAULT),
		                      W(W_MEAN_PER_NIGHT), W(W_NIGHTS_KNOWN) };
	struct report_table *table = report_table(document, "fault_sites", report_group_name(context, district),
	                                          W(W_TABLE_FAULT_SITES), 6, headers);
	for (size_t i = 0; i < count; i++) {
		size_t with_fault = 0;
		for (size_t n = 0; n < context->calendar->night_count; n++)
			with_fault += !isnan(sites[i].hours[n]) && sites[i].hours[n] > 0;
		report_cell_text(document, table, sites[i].site[0] ? sites[i].site : sites[i].label);
		report_cell_text(document, table, sites[i].district);
		report_cell_number(document, table, sites[i].total, 1);
		report_cell_number(document, table, (double)with_fault, 0);
		report_cell_number(document, table, sites[i].mean, 2);
		report_cell_number(document, table, (double)sites[i].known, 0);
	}
	free_sites(sites, count);
	episodes_table(context, district);
}
