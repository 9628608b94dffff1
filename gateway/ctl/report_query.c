/* report_query.c — what `tryggctl report` asks the store, and what it
 * makes of the answers.
 *
 * Every statement is built here (report_statements) and kept in the data
 * for the report's appendix, so a planner can run the same ones.  The
 * windows are summed in the store, one row per hour and sensor:
 * GROUP BY time(1h), "district", "site", "gateway", "sensor" with
 * fill(none), so an hour without a point is absent and never read as
 * zero.  Stockholm is a whole number of hours off UTC, so a UTC hour is a
 * local hour.  Alerts are events, few and far between, and come as they
 * are stored.
 *
 * InfluxDB 1.x answers POST /query?db=…&epoch=ms; InfluxDB 2 answers the
 * same on its 1.x compatibility endpoint with the bucket as db and
 * Authorization: Token.  Older data have no alert measurement and no
 * window_s on the gateway measurement: the answers are then empty, and the
 * window is estimated from the spacing of the points (most windows in one
 * hour, or the gap between hours that have one).
 *
 * Ownership: struct report_data owns every string and array in it; the
 * libcurl handle, the request and the JSON of each answer live only
 * within report_load(). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "calendar.h"
#include "common.h"
#include "credentials.h"
#include "influx_query.h"
#include "report_internal.h"

#define COMMAND REPORT_COMMAND
/* The longest answer to one statement, after decompression.  A year of
 * hourly rows is some 250 KB a sensor, so 256 MiB holds about a thousand
 * sensor-years; cJSON makes some ten times an answer's size of tree, so
 * this keeps a report, or a hostile store, within about 3 GiB. */
#define ANSWER_SIZE_MAX (256L << 20)

/* ---- statements ----------------------------------------------------------------------- */

static void put_time(FILE *out, int64_t ms)
{
	time_t seconds = (time_t)calendar_floor_divide(ms, 1000);
	struct tm utc;
	char text[32];
	gmtime_r(&seconds, &utc);
	strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
	fprintf(out, "'%s'", text);
}

static void put_where(FILE *out, const struct report_options *options, int64_t from, int64_t until)
{
	fputs(" WHERE time >= ", out);
	put_time(out, from);
	fputs(" AND time < ", out);
	put_time(out, until);
	for (size_t i = 0; i < options->district_count; i++) {
		fputs(i == 0 ? " AND (\"district\" = " : " OR \"district\" = ", out);
		influx_put_quoted(out, options->districts[i], '\'');
	}
	if (options->district_count)
		fputc(')', out);
}

#define HOURLY_GROUP " GROUP BY time(1h), \"district\", \"site\", \"gateway\", \"sensor\" fill(none)"
#define COVERAGE_COLUMNS "sum(\"coverage\") AS \"coverage\", count(\"coverage\") AS \"windows\""

int report_statements(const struct report_options *options, const struct report_ranges *ranges,
                      char *statements[REPORT_QUERY_COUNT])
{
	static const char *const selects[REPORT_QUERY_COUNT] = {
		"SELECT sum(\"count\") AS \"count\", " COVERAGE_COLUMNS " FROM \"footfall\"",
		"SELECT sum(\"dark_s\") AS \"dark_s\", " COVERAGE_COLUMNS " FROM \"light\"",
		"SELECT sum(\"fault_s\") AS \"fault_s\", sum(\"on_s\") AS \"on_s\", " COVERAGE_COLUMNS " FROM \"lamp\"",
		"SELECT last(\"window_s\") AS \"window_s\", count(\"uptime_s\") AS \"points\" FROM \"gateway\"",
		"SELECT \"active\", \"detail\" FROM \"alert\"",
	};
	static const char *const groups[REPORT_QUERY_COUNT] = {
		HOURLY_GROUP, HOURLY_GROUP, HOURLY_GROUP, " GROUP BY \"district\", \"site\", \"gateway\"",
		" GROUP BY \"district\", \"site\", \"gateway\", \"sensor\", \"problem\"",
	};
	const int64_t from[REPORT_QUERY_COUNT] = { ranges->footfall_from, ranges->light_from, ranges->light_from,
		                                       ranges->light_from, ranges->alert_from };
	const int64_t until[REPORT_QUERY_COUNT] = { ranges->until, ranges->night_until, ranges->night_until,
		                                        ranges->night_until, ranges->until };
	int r = 0;
	for (size_t i = 0; i < REPORT_QUERY_COUNT; i++)
		statements[i] = NULL;
	for (size_t i = 0; i < REPORT_QUERY_COUNT && r == 0; i++) {
		size_t size = 0;
		FILE *out = open_memstream(&statements[i], &size);
		if (!out) {
			r = -ENOMEM;
			break;
		}
		fputs(selects[i], out);
		put_where(out, options, from[i], until[i]);
		fputs(groups[i], out);
		bool failed = ferror(out) != 0;
		if (fclose(out) != 0 || failed)
			r = -ENOMEM;
	}
	if (r < 0)
		for (size_t i = 0; i < REPORT_QUERY_COUNT; i++) {
			free(statements[i]);
			statements[i] = NULL;
		}
	return r;
}

/* ---- POST /query ---------------------------------------------------------------------- */

static int read_secret(const char *file, char **secret)
{
	char *path = NULL;
	int r = credential_locate(file, NULL, &path);
	if (r == 0 && (r = credential_read(path, secret)) < 0)
		ctl_error(COMMAND, "cannot read %s: %s", path, credential_strerror(r));
	free(path);
	return r < 0 ? (r == -ENOMEM ? r : -ENOENT) : 0;
}

/* The link to the store as the options say, with *secret the token or the
 * password read (credential_free() it) and *shown the URL without
 * credentials (curl_free() it).  0, or a negative errno after saying why. */
static int store_open(struct influx_link *link, const struct report_options *options, char **secret,
                      char **shown)
{
	int r = influx_shown_url(options->url, shown, NULL);
	if (r == -EINVAL)
		ctl_error(COMMAND, "--influx: not a URL libcurl can use");
	if (r < 0)
		return r;
	if (options->token_file)
		r = read_secret(options->token_file, secret);
	else if (options->user && options->password_file)
		r = read_secret(options->password_file, secret);
	if (r < 0)
		return r;
	const struct influx_options store = {
		.command = COMMAND,
		.url = options->url,
		.shown_url = *shown,
		.database = options->database,
		.epoch_ms = true,
		.token = options->token_file ? *secret : NULL,
		.user = options->user,
		.password = *secret,
		.ca_file = options->ca_file,
		.insecure = options->insecure,
		.timeout_s = options->timeout_s,
		.connect_timeout_s = options->timeout_s < 30 ? options->timeout_s : 30L,
		.compressed = true,
		.answer_max = (size_t)ANSWER_SIZE_MAX,
		.server = "the store",
		.dialect = "InfluxDB",
		.not_found_hint = " (is it InfluxDB 1.x, or 2.x with its /query endpoint?)",
		.refused = options->token_file ? "the token"
		           : options->user     ? "the user name and password"
		                               : "to answer without credentials (--user and --password-file, or --token-file)",
		.forbidden_refuses = true,
	};
	return influx_open(link, &store);
}

/* One statement: influx_query(), with what an answer too long or cut
 * short means here.  0 with *json the answer and *result its first result,
 * or a negative errno (report_internal.h) after saying why. */
static int store_query(struct influx_link *link, const char *statement, cJSON **json, const cJSON **result)
{
	int r = influx_query(link, statement, json, result);
	if (r == -EMSGSIZE) {
		ctl_error(COMMAND, "%s answered with more than %ld MiB; ask for a shorter period or fewer districts",
		          link->options.shown_url, ANSWER_SIZE_MAX >> 20);
		r = -EPROTO;
	} else if (r == 0 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(*result, "partial"))) {
		ctl_error(COMMAND, "the store cut its answer to %s short (max-row-limit in influxdb.conf); "
		          "ask for a shorter period or fewer districts", statement);
		cJSON_Delete(*json);
		*json = NULL;
		r = -EPROTO;
	}
	return r;
}

/* ---- the answers ------------------------------------------------------------------------ */

static int column_index(const cJSON *series, const char *name)
{
	const cJSON *column;
	int index = 0;
	cJSON_ArrayForEach(column, cJSON_GetObjectItemCaseSensitive(series, "columns")) {
		if (cJSON_IsString(column) && strcmp(column->valuestring, name) == 0)
			return index;
		index++;
	}
	return -1;
}

static double cell_number(const cJSON *row, int index)
{
	const cJSON *cell = index < 0 ? NULL : cJSON_GetArrayItem(row, index);
	return cJSON_IsNumber(cell) ? cell->valuedouble : NAN;
}

static char *tag_copy(const cJSON *series, const char *name)
{
	const char *value = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(series, "tags"), name));
	return strdup(value ? value : "");
}

static int grow(void **array, size_t *capacity, size_t count, size_t size)
{
	if (count < *capacity)
		return 0;
	size_t wanted = *capacity ? *capacity * 2 : 16;
	void *grown = realloc(*array, wanted * size);
	if (!grown)
		return -ENOMEM;
	*array = grown;
	*capacity = wanted;
	return 0;
}

static int take_hourly(struct report_data *data, enum report_measure measure, const cJSON *result,
                       size_t *capacity)
{
	static const char *const value_names[REPORT_MEASURE_COUNT] = { "count", "dark_s", "fault_s" };
	const cJSON *series;
	cJSON_ArrayForEach(series, cJSON_GetObjectItemCaseSensitive(result, "series")) {
		if (grow((void **)&data->series, capacity, data->series_count, sizeof(*data->series)) < 0)
			return -ENOMEM;
		struct report_series *target = &data->series[data->series_count];
		*target = (struct report_series){
			.measure = measure, .district = tag_copy(series, "district"), .site = tag_copy(series, "site"),
			.gateway = tag_copy(series, "gateway"), .sensor = tag_copy(series, "sensor"),
			.hours = calloc(data->hour_count ? data->hour_count : 1, sizeof(*target->hours)),
		};
		data->series_count++;
		if (!target->district || !target->site || !target->gateway || !target->sensor || !target->hours)
			return -ENOMEM;
		int time_index = column_index(series, "time"), value = column_index(series, value_names[measure]);
		int on = column_index(series, "on_s"), coverage = column_index(series, "coverage");
		int windows = column_index(series, "windows");
		const cJSON *row;
		cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(series, "values")) {
			double ms = cell_number(row, time_index);
			if (isnan(ms))
				continue;
			int64_t hour = calendar_floor_divide((int64_t)ms, REPORT_HOUR_MS) - data->first_hour;
			if (hour < 0 || (size_t)hour >= data->hour_count)
				continue;
			struct report_hour *cell = &target->hours[hour];
			double number = cell_number(row, value);
			cell->value = isnan(number) ? 0 : number;
			number = cell_number(row, on);
			cell->value2 = isnan(number) ? 0 : number;
			number = cell_number(row, coverage);
			cell->coverage_sum = isnan(number) ? 0 : number;
			number = cell_number(row, windows);
			cell->windows = isnan(number) ? 0 : (int32_t)number;
		}
	}
	return 0;
}

static struct report_gateway *find_gateway(struct report_data *data, const char *gateway)
{
	for (size_t i = 0; i < data->gateway_count; i++)
		if (strcmp(data->gateways[i].gateway, gateway) == 0)
			return &data->gateways[i];
	return NULL;
}

static int add_gateway(struct report_data *data, size_t *capacity, const char *gateway, const char *district,
                       const char *site, struct report_gateway **added)
{
	if (grow((void **)&data->gateways, capacity, data->gateway_count, sizeof(*data->gateways)) < 0)
		return -ENOMEM;
	struct report_gateway *target = &data->gateways[data->gateway_count++];
	*target = (struct report_gateway){ .gateway = strdup(gateway), .district = strdup(district),
		                               .site = strdup(site), .window_s = NAN };
	*added = target;
	return target->gateway && target->district && target->site ? 0 : -ENOMEM;
}

/* The window of a series from the spacing of its points: the most windows
 * in one hour, or for windows of an hour or more the least gap between two
 * hours that have one. */
static double estimate_window(const struct report_series *series, size_t hour_count)
{
	int32_t most = 0;
	size_t previous = SIZE_MAX, gap = SIZE_MAX;
	for (size_t i = 0; i < hour_count; i++) {
		if (series->hours[i].windows <= 0)
			continue;
		if (series->hours[i].windows > most)
			most = series->hours[i].windows;
		if (previous != SIZE_MAX && i - previous < gap)
			gap = i - previous;
		previous = i;
	}
	if (most >= 2)
		return 3600.0 / most;
	return gap != SIZE_MAX ? 3600.0 * (double)gap : 3600.0;
}

static int take_gateways(struct report_data *data, const cJSON *result)
{
	size_t capacity = 0;
	const cJSON *series;
	struct report_gateway *gateway;
	cJSON_ArrayForEach(series, cJSON_GetObjectItemCaseSensitive(result, "series")) {
		char *name = tag_copy(series, "gateway"), *district = tag_copy(series, "district");
		char *site = tag_copy(series, "site");
		int r = name && district && site ? 0 : -ENOMEM;
		if (r == 0 && !(gateway = find_gateway(data, name)))
			r = add_gateway(data, &capacity, name, district, site, &gateway);
		if (r == 0) {
			double window = cell_number(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(series, "values"), 0),
			                            column_index(series, "window_s"));
			if (window > 0) {
				gateway->window_s = window;
				gateway->window_from_store = true;
			}
		}
		free(name);
		free(district);
		free(site);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < data->series_count; i++) {
		struct report_series *sensor = &data->series[i];
		if (!(gateway = find_gateway(data, sensor->gateway)) &&
		    add_gateway(data, &capacity, sensor->gateway, sensor->district, sensor->site, &gateway) < 0)
			return -ENOMEM;
		if (!gateway->window_from_store) {
			double estimate = estimate_window(sensor, data->hour_count);
			if (isnan(gateway->window_s) || estimate < gateway->window_s)
				gateway->window_s = estimate;
		}
	}
	for (size_t i = 0; i < data->series_count; i++)
		data->series[i].window_s = find_gateway(data, data->series[i].gateway)->window_s;
	return 0;
}

static bool raised_of(const cJSON *cell)
{
	if (cJSON_IsBool(cell))
		return cJSON_IsTrue(cell);
	if (cJSON_IsNumber(cell))
		return cell->valuedouble != 0;
	const char *text = cJSON_GetStringValue(cell);
	return text && (strcasecmp(text, "raised") == 0 || strcasecmp(text, "true") == 0 || strcmp(text, "1") == 0);
}

static int take_alerts(struct report_data *data, const cJSON *result)
{
	size_t capacity = 0;
	const cJSON *series;
	cJSON_ArrayForEach(series, cJSON_GetObjectItemCaseSensitive(result, "series")) {
		int time_index = column_index(series, "time"), active = column_index(series, "active");
		int detail = column_index(series, "detail");
		const cJSON *row;
		data->alert_measurement = true;
		cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(series, "values")) {
			double ms = cell_number(row, time_index);
			if (isnan(ms))
				continue;
			if (grow((void **)&data->alerts, &capacity, data->alert_count, sizeof(*data->alerts)) < 0)
				return -ENOMEM;
			const char *text = detail < 0 ? NULL : cJSON_GetStringValue(cJSON_GetArrayItem(row, detail));
			struct report_alert_point *point = &data->alerts[data->alert_count++];
			*point = (struct report_alert_point){
				.district = tag_copy(series, "district"), .site = tag_copy(series, "site"),
				.gateway = tag_copy(series, "gateway"), .sensor = tag_copy(series, "sensor"),
				.problem = tag_copy(series, "problem"), .detail = strdup(text ? text : ""),
				.at_ms = (int64_t)ms, .raised = raised_of(cJSON_GetArrayItem(row, active)),
			};
			if (!point->district || !point->site || !point->gateway || !point->sensor || !point->problem ||
			    !point->detail)
				return -ENOMEM;
		}
	}
	return 0;
}

int report_load(const struct report_options *options, const struct report_ranges *ranges,
                struct report_data *data)
{
	struct influx_link link = { 0 };
	char *secret = NULL;
	char *statements[REPORT_QUERY_COUNT] = { 0 };
	size_t series_capacity = 0;
	int64_t from = ranges->footfall_from < ranges->light_from ? ranges->footfall_from : ranges->light_from;
	*data = (struct report_data){ 0 };
	data->first_hour = calendar_floor_divide(from, REPORT_HOUR_MS);
	data->hour_count = (size_t)(calendar_floor_divide(ranges->night_until + REPORT_HOUR_MS - 1, REPORT_HOUR_MS) -
	                            data->first_hour);
	int r = report_statements(options, ranges, statements);
	if (r == 0)
		r = store_open(&link, options, &secret, &data->shown_url);
	for (size_t i = 0; i < REPORT_QUERY_COUNT && r == 0; i++) {
		cJSON *json = NULL;
		const cJSON *result = NULL;
		r = store_query(&link, statements[i], &json, &result);
		if (r == 0) {
			if (i < REPORT_MEASURE_COUNT)
				r = take_hourly(data, (enum report_measure)i, result, &series_capacity);
			else if (i == REPORT_MEASURE_COUNT)
				r = take_gateways(data, result);
			else
				r = take_alerts(data, result);
		}
		cJSON_Delete(json);
	}
	if (r == 0 && link.version[0] && !(data->version = strdup(link.version)))
		r = -ENOMEM;
	data->queries = calloc(REPORT_QUERY_COUNT, sizeof(*data->queries));
	if (data->queries) {
		memcpy(data->queries, statements, sizeof(statements));
		data->query_count = REPORT_QUERY_COUNT;
	} else {
		for (size_t i = 0; i < REPORT_QUERY_COUNT; i++)
			free(statements[i]);
		r = r < 0 ? r : -ENOMEM;
	}
	influx_close(&link);
	credential_free(secret);
	return r;
}

void report_data_free(struct report_data *data)
{
	for (size_t i = 0; i < data->series_count; i++) {
		struct report_series *series = &data->series[i];
		free(series->district);
		free(series->site);
		free(series->gateway);
		free(series->sensor);
		free(series->hours);
	}
	for (size_t i = 0; i < data->gateway_count; i++) {
		free(data->gateways[i].gateway);
		free(data->gateways[i].district);
		free(data->gateways[i].site);
	}
	for (size_t i = 0; i < data->alert_count; i++) {
		struct report_alert_point *point = &data->alerts[i];
		free(point->district);
		free(point->site);
		free(point->gateway);
		free(point->sensor);
		free(point->problem);
		free(point->detail);
	}
	for (size_t i = 0; i < data->query_count; i++)
		free(data->queries[i]);
	free(data->series);
	free(data->gateways);
	free(data->alerts);
	free(data->queries);
	curl_free(data->shown_url);
	free(data->version);
	*data = (struct report_data){ 0 };
}
