/* setup_influx_steps.c — the steps of `tryggctl setup-influx` against
 * InfluxDB 1.x: the InfluxQL statements it makes, POST /query through the
 * link setup_influx.c opened (influx_query.h), and what the JSON answers
 * say.
 *
 * Each step asks first (SHOW ...) and changes only what differs from what
 * it should be, so a second run changes nothing.  Continuous queries
 * cannot be altered in InfluxQL: one whose query is another is dropped and
 * created again.
 *
 * Ownership: each answer's JSON and each statement's text belong to the
 * function that asked for it and are freed before it returns; struct setup
 * is borrowed (only its counters and its link are written). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common.h"
#include "sensor_type.h"
#include "setup_influx_internal.h"

#define COMMAND SETUP_INFLUX_COMMAND

/* How the windows of an hour become one point: counts and seconds add up;
 * lux keeps its extremes and its mean; coverage its mean, and "windows"
 * counts the raw points behind the hour, so that an hour with 3 windows is
 * not read like one with 60, and means can be weighed by it later.
 *
 * Grouped by district and site, not by district alone: the hourly policy
 * outlives the raw one, so what it leaves out is lost for good, while a
 * district is one sum (or min, max, weighted mean) over its sites away. */
struct aggregate {
	const char *function, *field, *name;   /* name: the field in "hourly" */
};

#define AGGREGATES_MAX 8
#define COVERAGE { "mean", "coverage", "coverage" }, { "count", "coverage", "windows" }
#define SUM(field) { "sum", field, field }

static const struct downsample {
	enum sensor_type type;                 /* its name is the measurement's */
	struct aggregate aggregates[AGGREGATES_MAX];   /* up to the first without a function */
} downsamples[] = {
	{ SENSOR_FOOTFALL, { SUM("count"), SUM("in"), SUM("out"), SUM("samples"), COVERAGE } },
	{ SENSOR_LIGHT, { { "min", "lux_min", "lux_min" }, { "mean", "lux_mean", "lux_mean" },
	                  { "max", "lux_max", "lux_max" }, SUM("dark_s"), SUM("samples"), COVERAGE } },
	{ SENSOR_LAMP, { SUM("on_s"), SUM("fault_s"), SUM("samples"), COVERAGE } },
};

#define DOWNSAMPLE_COUNT (sizeof(downsamples) / sizeof(downsamples[0]))

/* ---- statements --------------------------------------------------------------------- */

/* Every identifier in double quotes, whatever it is: "in" is a keyword, and
 * a database may be called anything. */
static void put_identifier(FILE *out, const char *name)
{
	influx_put_quoted(out, name, '"');
}

static void put_on_database(FILE *out, const char *before, const char *name, const struct setup *setup)
{
	fputs(before, out);
	put_identifier(out, name);
	fputs(" ON ", out);
	put_identifier(out, setup->database);
}

/* CREATE (create) or ALTER the policy; seconds NULL: its duration as it is. */
static void put_policy(FILE *out, const struct setup *setup, bool create, const char *name,
                       const int64_t *seconds, bool make_default)
{
	char shown[SETUP_DURATION_SIZE];
	put_on_database(out, create ? "CREATE RETENTION POLICY " : "ALTER RETENTION POLICY ", name, setup);
	if (seconds)
		fprintf(out, " DURATION %s", setup_format_duration(*seconds, shown));
	if (create)
		fputs(" REPLICATION 1", out);
	if (make_default)
		fputs(" DEFAULT", out);
}

static void query_name(const struct downsample *downsample, char name[64])
{
	snprintf(name, 64, "%s_hourly", sensor_type_name(downsample->type));
}

static void put_continuous_query(FILE *out, const struct setup *setup, const struct downsample *downsample)
{
	const char *measurement = sensor_type_name(downsample->type);
	const char *places[2][2] = { { " INTO ", SETUP_HOURLY_POLICY }, { " FROM ", setup->raw_policy } };
	char name[64];
	query_name(downsample, name);
	put_on_database(out, "CREATE CONTINUOUS QUERY ", name, setup);
	fputs(" RESAMPLE FOR " SETUP_RESAMPLE_FOR " BEGIN SELECT ", out);
	for (size_t i = 0; i < AGGREGATES_MAX && downsample->aggregates[i].function; i++) {
		const struct aggregate *aggregate = &downsample->aggregates[i];
		fprintf(out, "%s%s(", i ? ", " : "", aggregate->function);
		put_identifier(out, aggregate->field);
		fputs(") AS ", out);
		put_identifier(out, aggregate->name);
	}
	for (size_t i = 0; i < 2; i++) {
		fputs(places[i][0], out);
		put_identifier(out, setup->database);
		fputc('.', out);
		put_identifier(out, places[i][1]);
		fputc('.', out);
		put_identifier(out, measurement);
	}
	fputs(" GROUP BY time(1h), \"district\", \"site\" END", out);
}

void setup_print_statements(const struct setup *setup, FILE *out)
{
	fputs("CREATE DATABASE ", out);
	put_identifier(out, setup->database);
	fputs(";\n", out);
	put_policy(out, setup, true, setup->raw_policy, &setup->raw.seconds, true);
	fputs(";\n", out);
	put_policy(out, setup, true, SETUP_HOURLY_POLICY, &setup->hourly.seconds, false);
	fputs(";\n", out);
	for (size_t i = 0; i < DOWNSAMPLE_COUNT; i++) {
		put_continuous_query(out, setup, &downsamples[i]);
		fputs(";\n", out);
	}
}

/* A statement is written into memory between these two. */
struct text {
	char *data;
	size_t size;
	FILE *stream;
};

static FILE *text_begin(struct text *text)
{
	*text = (struct text){ 0 };
	text->stream = open_memstream(&text->data, &text->size);
	return text->stream;
}

/* What was written, for the caller to free; NULL when out of memory. */
static char *text_end(struct text *text)
{
	bool failed = ferror(text->stream);
	if (fclose(text->stream) != 0 || failed) {
		free(text->data);
		return NULL;
	}
	return text->data;
}

/* The server shows a continuous query in its own spelling, identifiers
 * quoted only where they must be.  Compared without quotes and backslashes,
 * and with white space as one space, the two spellings of a query agree. */
static int next_compared(const char **p)
{
	bool space = false;
	while (**p == '"' || **p == '\\' || isspace((unsigned char)**p))
		space |= isspace((unsigned char)*(*p)++) != 0;
	return space ? ' ' : **p ? (unsigned char)*(*p)++ : 0;
}

static bool same_query(const char *a, const char *b)
{
	int x, y;
	do {
		x = next_compared(&a);
		y = next_compared(&b);
	} while (x == y && x != 0);
	return x == y;
}

/* ---- POST /query ---------------------------------------------------------------------- */

/* Run one statement: influx_query(), with what an answer too long means
 * here.  0 with *result inside *json, which the caller cJSON_Delete()s; or
 * a negative errno as the steps give (setup_influx_internal.h) after
 * saying why. */
static int run_query(struct setup *setup, const char *statement, cJSON **json, const cJSON **result)
{
	int r = influx_query(&setup->link, statement, json, result);
	if (r == -EMSGSIZE) {
		ctl_error(COMMAND, "%s answered with more than %d bytes to %s", setup->shown_url, SETUP_ANSWER_SIZE_MAX,
		          statement);
		r = -EPROTO;
	}
	return r;
}

/* A statement written between text_begin() and here, which changes
 * something; its answer says nothing more than that it was done. */
static int run_change(struct setup *setup, struct text *text)
{
	cJSON *json;
	const cJSON *result;
	char *statement = text_end(text);
	if (!statement)
		return -ENOMEM;
	int r = run_query(setup, statement, &json, &result);
	cJSON_Delete(json);
	free(statement);
	return r;
}

/* The rows of result's series called name (NULL: its first), and the index
 * in each row of each of count columns (-1: not there).  NULL: no rows. */
static const cJSON *series_rows(const cJSON *result, const char *name, const char *const columns[],
                                int indexes[], size_t count)
{
	const cJSON *series;
	for (size_t i = 0; i < count; i++)
		indexes[i] = -1;
	cJSON_ArrayForEach(series, cJSON_GetObjectItemCaseSensitive(result, "series")) {
		const char *series_name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(series, "name"));
		if (name && (!series_name || strcmp(series_name, name) != 0))
			continue;
		for (size_t i = 0; i < count; i++) {
			const cJSON *column;
			int index = 0;
			cJSON_ArrayForEach(column, cJSON_GetObjectItemCaseSensitive(series, "columns")) {
				if (cJSON_IsString(column) && strcmp(column->valuestring, columns[i]) == 0)
					indexes[i] = index;
				index++;
			}
		}
		return cJSON_GetObjectItemCaseSensitive(series, "values");
	}
	return NULL;
}

static const char *cell_text(const cJSON *row, int index)
{
	return index < 0 ? NULL : cJSON_GetStringValue(cJSON_GetArrayItem(row, index));
}

/* The row whose column index holds name, or NULL. */
static const cJSON *find_row(const cJSON *rows, int index, const char *name)
{
	const cJSON *row;
	cJSON_ArrayForEach(row, rows) {
		const char *text = cell_text(row, index);
		if (text && strcmp(text, name) == 0)
			return row;
	}
	return NULL;
}

/* A duration as InfluxDB shows it ("9600h0m0s", "0s" for INF), in whole
 * seconds. */
static bool parse_shown_duration(const char *text, int64_t *seconds)
{
	static const struct { const char *unit; double seconds; } units[] = {
		{ "ns", 1e-9 }, { "us", 1e-6 }, { "\u00b5s", 1e-6 }, { "ms", 1e-3 }, { "h", 3600 }, { "m", 60 }, { "s", 1 },
	};
	const size_t unit_count = sizeof(units) / sizeof(units[0]);
	double total = 0;
	const char *p = text;
	while (*p) {
		char *end;
		double number = strtod(p, &end);
		size_t i = 0;
		while (end != p && i < unit_count && strncmp(end, units[i].unit, strlen(units[i].unit)) != 0)
			i++;
		if (end == p || i == unit_count)
			return false;
		total += number * units[i].seconds;
		p = end + strlen(units[i].unit);
	}
	*seconds = (int64_t)(total + 0.5);
	return p != text;
}

/* ---- the steps ------------------------------------------------------------------------- */

int setup_ensure_database(struct setup *setup)
{
	static const char *const columns[] = { "name" };
	int indexes[1] = { -1 };
	cJSON *json;
	const cJSON *result;
	int r = run_query(setup, "SHOW DATABASES", &json, &result);
	if (r < 0)
		return r;
	const cJSON *rows = series_rows(result, NULL, columns, indexes, 1);
	bool present = find_row(rows, indexes[0], setup->database) != NULL;
	cJSON_Delete(json);
	const char *version = setup->link.version;
	printf("InfluxDB %s at %s\n", version[0] ? version : "(version not given)", setup->shown_url);
	/* 2.x answers /query too, for reading; it would refuse the rest. */
	const char *number = version[0] == 'v' ? version + 1 : version;
	if (number[0] && strncmp(number, "1.", 2) != 0) {
		ctl_error(COMMAND, "this is InfluxDB %s, not 1.x: set api in [influx] to what it is, and %s %s "
		          "prints what to set up there", version, CTL_PROGRAM, COMMAND);
		return -EPROTO;
	}
	if (present) {
		printf("database %s: already there\n", setup->database);
		return 0;
	}
	struct text text;
	if (!text_begin(&text))
		return -ENOMEM;
	fputs("CREATE DATABASE ", text.stream);
	put_identifier(text.stream, setup->database);
	r = run_change(setup, &text);
	if (r < 0)
		return r;
	setup->changes++;
	printf("database %s: created\n", setup->database);
	return 0;
}

/* One more part of a line's note in parentheses, after a "; ". */
static void note_add(char *note, size_t size, const char *format, ...) __attribute__((format(printf, 3, 4)));

static void note_add(char *note, size_t size, const char *format, ...)
{
	size_t length = strlen(note);
	va_list arguments;
	if (length > 0 && length + 2 < size) {
		memcpy(note + length, "; ", 3);
		length += 2;
	}
	va_start(arguments, format);
	vsnprintf(note + length, size - length, format, arguments);
	va_end(arguments);
}

/* The policy called name as it should be, given what SHOW RETENTION
 * POLICIES answered (result); option is the one that sets its duration. */
static int ensure_policy(struct setup *setup, const cJSON *result, const char *name,
                         const struct setup_retention *want, bool make_default, const char *option)
{
	static const char *const columns[] = { "name", "duration", "default" };
	char wanted_buffer[SETUP_DURATION_SIZE], had_buffer[SETUP_DURATION_SIZE];
	const char *shown_default = make_default ? ", default" : "", *old_default = NULL;
	const cJSON *row, *found = NULL;
	int indexes[3] = { -1, -1, -1 };
	struct text text;
	cJSON_ArrayForEach(row, series_rows(result, NULL, columns, indexes, 3)) {
		const char *row_name = cell_text(row, indexes[0]);
		if (row_name && strcmp(row_name, name) == 0)
			found = row;
		else if (row_name && cJSON_IsTrue(cJSON_GetArrayItem(row, indexes[2])))
			old_default = row_name;
	}
	const char *wanted = setup_format_duration(want->seconds, wanted_buffer);
	if (!found) {
		if (!text_begin(&text))
			return -ENOMEM;
		put_policy(text.stream, setup, true, name, &want->seconds, make_default);
		int r = run_change(setup, &text);
		if (r < 0)
			return r;
		setup->changes++;
		printf("retention policy %s: created, %s%s\n", name, wanted, shown_default);
		return 0;
	}

	const char *duration = cell_text(found, indexes[1]);
	int64_t seconds;
	if (!duration || !parse_shown_duration(duration, &seconds)) {
		ctl_error(COMMAND, "InfluxDB shows retention policy %s with the duration '%s', which is none",
		          name, duration ? duration : "");
		return -EPROTO;
	}
	const char *had = setup_format_duration(seconds, had_buffer);
	bool is_default = cJSON_IsTrue(cJSON_GetArrayItem(found, indexes[2]));
	bool to_default = make_default && !is_default;
	bool change = seconds != want->seconds;
	/* The default duration is a proposal for a new policy: an existing one
	 * is cut only by someone who asked for it. */
	bool left = change && !want->given && want->seconds != 0 && (seconds == 0 || want->seconds < seconds);
	change &= !left;
	if (change || to_default) {
		if (!text_begin(&text))
			return -ENOMEM;
		put_policy(text.stream, setup, false, name, change ? &want->seconds : NULL, to_default);
		int r = run_change(setup, &text);
		if (r < 0)
			return r;
		setup->changes++;
	}
	setup->left_alone += left;
	char note[256] = "";
	if (change)
		note_add(note, sizeof(note), "was %s", had);
	if (to_default)
		note_add(note, sizeof(note), "made the default%s%s", old_default ? " instead of " : "",
		         old_default ? old_default : "");
	if (left)
		note_add(note, sizeof(note), "left at %s: shortening it to %s deletes what is older; give %s %s to "
		         "do that", had, wanted, option, wanted);
	printf("retention policy %s: %s%s (%s)\n", name, change ? wanted : had, shown_default,
	       note[0] ? note : "already so");
	return 0;
}

int setup_ensure_policies(struct setup *setup)
{
	struct text text;
	cJSON *json;
	const cJSON *result;
	if (!text_begin(&text))
		return -ENOMEM;
	fputs("SHOW RETENTION POLICIES ON ", text.stream);
	put_identifier(text.stream, setup->database);
	char *statement = text_end(&text);
	int r = statement ? run_query(setup, statement, &json, &result) : -ENOMEM;
	free(statement);
	if (r < 0)
		return r;
	r = ensure_policy(setup, result, setup->raw_policy, &setup->raw, true, "--retention");
	if (r == 0)
		r = ensure_policy(setup, result, SETUP_HOURLY_POLICY, &setup->hourly, false, "--hourly-retention");
	cJSON_Delete(json);
	return r;
}

static int ensure_continuous_query(struct setup *setup, const cJSON *rows, const int indexes[2],
                                   const struct downsample *downsample)
{
	char name[64];
	struct text text;
	query_name(downsample, name);
	const char *existing = cell_text(find_row(rows, indexes[0], name), indexes[1]);
	if (!text_begin(&text))
		return -ENOMEM;
	put_continuous_query(text.stream, setup, downsample);
	if (existing) {
		char *statement = text_end(&text);
		if (!statement)
			return -ENOMEM;
		bool same = same_query(existing, statement);
		free(statement);
		if (same) {
			printf("continuous query %s: already so\n", name);
			return 0;
		}
		if (!text_begin(&text))
			return -ENOMEM;
		put_on_database(text.stream, "DROP CONTINUOUS QUERY ", name, setup);
		int r = run_change(setup, &text);
		if (r < 0)
			return r;
		if (!text_begin(&text))
			return -ENOMEM;
		put_continuous_query(text.stream, setup, downsample);
	}
	int r = run_change(setup, &text);
	if (r < 0) {
		if (existing)
			ctl_error(COMMAND, "continuous query %s was dropped and is not there now", name);
		return r;
	}
	setup->changes++;
	printf("continuous query %s: %s\n", name, existing ? "replaced (its query was another)" : "created");
	return 0;
}

int setup_ensure_continuous_queries(struct setup *setup)
{
	static const char *const columns[] = { "name", "query" };
	int indexes[2] = { -1, -1 };
	cJSON *json;
	const cJSON *result;
	int r = run_query(setup, "SHOW CONTINUOUS QUERIES", &json, &result);
	if (r < 0)
		return r;
	/* One series per database, named after it. */
	const cJSON *rows = series_rows(result, setup->database, columns, indexes, 2);
	for (size_t i = 0; i < DOWNSAMPLE_COUNT && r == 0; i++)
		r = ensure_continuous_query(setup, rows, indexes, &downsamples[i]);
	cJSON_Delete(json);
	return r;
}
