/* report_internal.h — what the parts of `tryggctl report` share, and who
 * owns what:
 *
 *   report.c          the command line, the order of the run, exit statuses
 *   report_query.c    every InfluxQL statement (built in one place, each
 *                     one kept for the appendix), POST /query (through
 *                     influx_query.h), and the answers turned into struct
 *                     report_data
 *   report_calendar.c local time (Europe/Stockholm through the system's tz
 *                     database): the hours, days and nights of the period,
 *                     and which hours are after dark
 *   report_stats.c    the pure statistics: least squares with its 95 %
 *                     interval, Student's t, Welch's t, difference in
 *                     differences, fault episodes, coverage scaling
 *   report_figures.c  footfall, typical and relative
 *   report_completeness.c  windows expected and present per gateway and
 *                     day, and the gaps
 *   report_night.c    darkness and lamp faults per night and site
 *   report_change.c   before and after, sensor problems, the map, the
 *                     summary
 *   report_document.c the document: blocks of headings, text, charts and
 *                     tables, which HTML and CSV both write
 *   report_svg.c      the charts, as inline SVG
 *   report_html.c     the HTML file
 *   report_csv.c      the CSV stream
 *   report_text.c     the words in Swedish and English, numbers and dates
 *   report_words.h    the words themselves, one table for both languages
 *
 * Ownership: struct report_options borrows its strings from argv except
 * those report.c marks owned.  struct report_data owns everything in it
 * (report_data_free).  struct report_document owns its blocks, their text,
 * charts and tables (report_document_free).  Figures read the data and
 * the calendar and only add to the document. */
#ifndef TRYGGCTL_REPORT_INTERNAL_H
#define TRYGGCTL_REPORT_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "report.h"

#define REPORT_ZONE "Europe/Stockholm"
#define REPORT_ZONE_FILE "/usr/share/zoneinfo/" REPORT_ZONE
/* The sun more than 6° below the horizon: the end of civil twilight. */
#define REPORT_DARK_ELEVATION (-6.0)
#define REPORT_TYPICAL_DAYS 365
#define REPORT_HOUR_MS INT64_C(3600000)
#define REPORT_DAY_MS (24 * REPORT_HOUR_MS)
/* Alerts raised this long before --since can still be open in the period. */
#define REPORT_ALERT_LOOKBACK_DAYS 366

/* ---- options (report.c) ---------------------------------------------------------------- */

enum report_lang { REPORT_LANG_SV, REPORT_LANG_EN };
enum report_format { REPORT_FORMAT_HTML, REPORT_FORMAT_CSV };

struct report_change {
	const char *district;                  /* borrowed */
	char date[11];                         /* YYYY-MM-DD, local */
	int64_t at_ms;                         /* its local midnight */
	const char *text;                      /* borrowed */
	char *owned_district;                  /* the DISTRICT= part, owned (or NULL) */
};

struct report_options {
	const char *url;                       /* base URL, no trailing '/' (owned by report.c) */
	const char *database;                  /* v1 database; v2 the bucket */
	const char *org;                       /* v2 only: set → Authorization: Token */
	const char *token_file, *user, *password_file, *ca_file;
	bool insecure;
	long timeout_s;
	char since_text[11], until_text[11];
	int64_t since_ms, until_ms;            /* local midnights; until is exclusive */
	const char **districts;                /* as given (borrowed); none: every one in the store */
	size_t district_count;
	struct report_change *changes;         /* owned by report.c */
	size_t change_count;
	enum report_lang lang;
	enum report_format format;
	double coverage_threshold;             /* 0–1 */
	const char *districts_file;            /* coordinates; NULL: none found */
	const char *output;                    /* "-": standard output */
};

/* ---- the data (report_query.c) ---------------------------------------------------------- */

enum report_measure { REPORT_FOOTFALL, REPORT_LIGHT, REPORT_LAMP, REPORT_MEASURE_COUNT };

/* One sensor's hour, summed over its windows in the store. */
struct report_hour {
	double value;                          /* count, dark_s or fault_s */
	double value2;                         /* lamp: on_s */
	double coverage_sum;
	int32_t windows;                       /* 0: nothing stored for the hour */
};

struct report_series {
	enum report_measure measure;
	char *district, *site, *gateway, *sensor;   /* owned; site "" when unset */
	struct report_hour *hours;             /* [data.hour_count], owned */
	double window_s;                       /* the gateway's window */
};

struct report_gateway {
	char *gateway, *district, *site;       /* owned */
	double window_s;
	bool window_from_store;                /* window_s in the store, else estimated */
};

struct report_alert_point {
	char *district, *site, *gateway, *sensor, *problem, *detail;   /* owned */
	int64_t at_ms;
	bool raised;
};

struct report_data {
	int64_t first_hour;                    /* Unix hour number of hours[0] */
	size_t hour_count;
	struct report_series *series;
	size_t series_count;
	struct report_gateway *gateways;
	size_t gateway_count;
	struct report_alert_point *alerts;
	size_t alert_count;
	bool alert_measurement;                /* the store has one */
	char **queries;                        /* every statement run, in order */
	size_t query_count;
	char *shown_url;                       /* the store, without credentials */
	char *version;                         /* X-Influxdb-Version, or NULL */
};

/* The range each query covers, as report.c chooses it. */
struct report_ranges {
	int64_t footfall_from, light_from, until, night_until, alert_from;
};

/* What the statements are; pure, so the tests can hold them. 0 with
 * statements[i] allocated (caller frees), or -ENOMEM. */
#define REPORT_QUERY_COUNT 5
int report_statements(const struct report_options *options, const struct report_ranges *ranges,
                      char *statements[REPORT_QUERY_COUNT]);

/* Run the statements and fill *data.  0, or a negative errno after saying
 * why on stderr: -EHOSTUNREACH no answer; -EACCES credentials refused;
 * -EPROTO not an InfluxDB answer; -EREMOTEIO a statement refused;
 * -ENOENT an unreadable credentials file; -ENOMEM. */
int report_load(const struct report_options *options, const struct report_ranges *ranges,
                struct report_data *data);
void report_data_free(struct report_data *data);

/* ---- local time (report_calendar.c) -------------------------------------------------------- */

struct report_hour_info {
	int64_t start_ms;
	int32_t day;                           /* index into days, -1 outside the period */
	int32_t night;                         /* index into nights, -1 none */
	int8_t local_hour;                     /* 0–23 */
	int8_t weekday;                        /* 0 Monday … 6 Sunday */
	bool dark;                             /* after dark at the middle of the hour */
};

struct report_day {
	int64_t civil;                         /* days since 1970-01-01 of the local date */
	int weekday;                           /* 0 Monday */
	size_t first_hour, hour_count;         /* 23, 24 or 25 */
	char date[11];
};

struct report_calendar {
	int64_t first_hour;                    /* Unix hour number of hours[0] */
	size_t hour_count;
	struct report_hour_info *hours;        /* owned */
	struct report_day *days;               /* the period's local days, owned */
	size_t day_count;
	struct report_day *nights;             /* noon to noon, by the evening's date, owned */
	size_t night_count;
	size_t period_first, period_end;       /* hour indexes of [since, until) */
};

/* The local midnight of date ("YYYY-MM-DD") in Unix ms: 0 or -EINVAL. */
int report_local_midnight(const char *date, int64_t *ms);
/* The local noon of the day whose midnight is midnight_ms. */
int64_t report_local_noon(int64_t midnight_ms);
/* The hours from from_ms to to_ms (whole hours), the days of [since, until)
 * and the nights whose evening is in it.  0 or -ENOMEM. */
int report_calendar_build(int64_t from_ms, int64_t since_ms, int64_t until_ms, int64_t to_ms,
                          struct report_calendar *calendar);
void report_calendar_free(struct report_calendar *calendar);
/* "YYYY-MM-DD HH:MM" local time of ms. */
void report_local_text(int64_t ms, char out[20]);

/* ---- statistics (report_stats.c) ------------------------------------------------------- */

struct report_trend {
	size_t n;
	double mean, slope, slope_low, slope_high;   /* per day, 95 % interval */
	double percent, percent_low, percent_high;   /* of the mean, per 30 days */
	bool valid;                                  /* n >= 3 and a mean above 0 */
};

/* Least squares of y on x (NaN in y: left out). */
void report_trend_fit(const double *x, const double *y, size_t count, struct report_trend *trend);
double report_t_cdf(double t, double dof);
double report_t_quantile(double p, double dof);

struct report_welch {
	size_t n_a, n_b;
	double mean_a, mean_b, t, dof;
	bool valid;                            /* two or more on each side, some variance */
};
/* Welch's t for mean(b) - mean(a) (NaN left out). */
void report_welch(const double *a, size_t n_a, const double *b, size_t n_b, struct report_welch *welch);

enum report_certainty { REPORT_CANNOT_TELL, REPORT_LIKELY, REPORT_CLEAR, REPORT_TOO_FEW };
enum report_certainty report_certainty_of(const struct report_welch *welch);

struct report_did {
	size_t n_before, n_after;              /* periods with both sides known */
	double changed_before, changed_after, others_before, others_after;
	double difference;                     /* (changed after − before) − (others after − before) */
	struct report_welch welch;             /* on changed − others, before vs after */
};
/* changed[i], others[i] per day or night (NaN: unknown); indexes from
 * change_index on are after the change. */
void report_did(const double *changed, const double *others, size_t count, size_t change_index,
                struct report_did *did);

struct report_episode {
	size_t first, last;                    /* night indexes, inclusive */
	double hours;                          /* fault hours in it */
	bool open;                             /* not mended by the end of the period */
};
/* Consecutive nights with fault hours > 0 joined into episodes; a night
 * without data (NaN) neither ends nor starts one.  Returns how many there
 * are (more than max when out was too short). */
size_t report_episodes(const double *fault_hours, size_t count, struct report_episode *out, size_t max);

/* The share of span_s covered: coverage_sum × window_s / span_s, at most 1. */
double report_covered_share(double coverage_sum, double window_s, double span_s);
/* raw scaled up to the whole span by share, or NaN below threshold. */
double report_scale(double raw, double share, double threshold);

/* ---- words (report_text.c) --------------------------------------------------------------- */

enum report_word {
#define REPORT_WORD(key, sv, en) key,
#include "report_words.h"
#undef REPORT_WORD
	REPORT_WORD_COUNT
};

const char *report_word(enum report_lang lang, enum report_word word);
/* A number as lang writes it (sv: 1 234,5 with no-break spaces; en: 1,234.5),
 * NaN as "–". */
#define REPORT_NUMBER_SIZE 48
const char *report_number(enum report_lang lang, double value, int decimals, char out[REPORT_NUMBER_SIZE]);
/* Monday = 0; short: "mån"/"Mon". */
const char *report_weekday(enum report_lang lang, int weekday, bool short_form);

/* ---- the document (report_document.c) ---------------------------------------------------- */

enum report_cell_kind { REPORT_CELL_EMPTY, REPORT_CELL_TEXT, REPORT_CELL_NUMBER, REPORT_CELL_MISSING };

struct report_cell {
	enum report_cell_kind kind;
	int decimals;
	double number;
	char *text;                            /* owned */
};

struct report_table {
	char *id;                              /* the CSV table name */
	char *group;                           /* the district, the "all" label, or NULL */
	char *caption;
	size_t columns;
	char **headers;
	struct report_cell *cells;             /* row after row */
	size_t cell_count, capacity;
};

enum report_block_kind {
	REPORT_BLOCK_SECTION,                  /* a new part: a page of its own in print */
	REPORT_BLOCK_HEADING,
	REPORT_BLOCK_TEXT,
	REPORT_BLOCK_NOTE,                     /* a method note, smaller */
	REPORT_BLOCK_SVG,                      /* markup, already escaped */
	REPORT_BLOCK_TABLE,
	REPORT_BLOCK_QUERY,                    /* a statement for the appendix */
};

struct report_block {
	enum report_block_kind kind;
	char *text;
	struct report_table *table;
};

struct report_document {
	enum report_lang lang;
	struct report_block *blocks;
	size_t count, capacity;
	int error;                             /* sticky: the first failure, later calls do nothing */
	unsigned charts;                       /* numbers the charts' ids */
};

void report_document_free(struct report_document *document);
void report_add(struct report_document *document, enum report_block_kind kind, const char *text);
void report_addf(struct report_document *document, enum report_block_kind kind, const char *format, ...)
	__attribute__((format(printf, 3, 4)));
/* Takes svg (allocated, NULL: out of memory). */
void report_add_svg(struct report_document *document, char *svg);
/* A new table in the document with these headers (columns of them). */
struct report_table *report_table(struct report_document *document, const char *id, const char *group,
                                  const char *caption, size_t columns, const char *const headers[]);
void report_cell_text(struct report_document *document, struct report_table *table, const char *text);
void report_cell_number(struct report_document *document, struct report_table *table, double value, int decimals);
void report_cell_missing(struct report_document *document, struct report_table *table);

/* ---- figures ------------------------------------------------------------------------------ */

/* What every section needs. */
struct report_context {
	const struct report_options *options;
	const struct report_data *data;
	const struct report_calendar *calendar;
	struct report_document *document;
	size_t hour_offset;                    /* data hour index = calendar hour index + offset */
	const char **districts;                /* the districts reported, sorted */
	size_t district_count;
};

/* A district, or all of them (district NULL). */
bool report_in_group(const struct report_series *series, const char *district);
const char *report_group_name(const struct report_context *context, const char *district);

/* Footfall of a group per calendar hour: scaled (NaN where not usable)
 * and raw.  0 or -ENOMEM; arrays of calendar->hour_count, caller frees. */
int report_footfall_hours(const struct report_context *context, const char *district, double **scaled,
                          double **raw);
/* Per day of the period: the day's total where every hour is usable, else
 * NaN; dark: the same for the hours after dark only.  Arrays of day_count. */
int report_footfall_days(const struct report_context *context, const char *district, double **total,
                         double **after_dark);
/* Per night: mean over the group's sites of the light sensors' dark hours
 * (measure REPORT_LIGHT) or the lamps' fault hours (REPORT_LAMP), NaN where
 * a site's night is not covered enough.  Array of night_count. */
int report_night_means(const struct report_context *context, const char *district, enum report_measure measure,
                       double **per_night);
/* Typical after-dark footfall relative to typical over the period, NaN when unknown. */
double report_after_dark_relative(const struct report_context *context, const char *district);

void report_section_footfall(struct report_context *context, const char *district);
void report_section_typical(struct report_context *context, const char *district);
void report_section_completeness(struct report_context *context, const char *district);
void report_section_darkness(struct report_context *context, const char *district);
void report_section_faults(struct report_context *context, const char *district);
void report_section_problems(struct report_context *context, const char *district);
void report_section_changes(struct report_context *context);
void report_section_summary(struct report_context *context);
void report_section_method(struct report_context *context);
void report_section_queries(struct report_context *context);

/* Coordinates from the profiles file (section = district, keys latitude
 * and longitude).  0 with *found set (NaN where a district has none), or a
 * negative errno when the file cannot be read. */
int report_coordinates(const char *path, const char **districts, size_t count, double *latitude,
                       double *longitude);

/* ---- charts (report_svg.c): each returns allocated markup or NULL ----------------------- */

struct report_bars {
	enum report_lang lang;
	const char *title, *y_label, *missing_label;
	const char *raw_label;                 /* the legend of raw, when given */
	const char *const *labels;             /* [count]; NULL entries unlabelled */
	const double *values;                  /* NaN: missing, drawn hatched and labelled */
	const double *raw;                     /* NULL, or the raw figure drawn as a tick */
	size_t count;
	unsigned id;                           /* unique in the document */
};
char *report_svg_bars(const struct report_bars *chart);

struct report_lines {
	enum report_lang lang;
	const char *title, *y_label, *missing_label;
	const char *const *labels;             /* x labels [count] */
	size_t count, series_count;
	const char *const *names;              /* [series_count] */
	const double *const *values;           /* [series_count][count], NaN: missing */
	unsigned id;
};
char *report_svg_lines(const struct report_lines *chart);

struct report_grid {
	enum report_lang lang;
	const char *title, *missing_label, *low_label, *high_label;
	const char *const *row_labels, *const *column_labels;
	size_t rows, columns;
	const double *values;                  /* [rows][columns], NaN: missing */
	double low, high;                      /* the colour scale */
	unsigned id;
};
char *report_svg_grid(const struct report_grid *chart);

struct report_map {
	enum report_lang lang;
	const char *title, *value_label, *missing_label;
	const char *const *names;
	const double *latitude, *longitude, *values;   /* NaN: unknown */
	const char *const *value_texts;
	size_t count;
	unsigned id;
};
char *report_svg_map(const struct report_map *chart);

/* ---- output ------------------------------------------------------------------------------------ */

int report_write_html(const struct report_options *options, const struct report_document *document,
                      const char *title, FILE *out);
int report_write_csv(const struct report_document *document, FILE *out);
/* text escaped for HTML (&, <, >, ", '). */
void report_put_escaped(FILE *out, const char *text);

#endif
