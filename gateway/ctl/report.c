/* report.c — `tryggctl report`: the planners' trend report.  It reads the
 * windows of a period from the store (InfluxDB 1.x, or 2.x through its
 * /query compatibility endpoint), summed per hour in the store, and writes
 * one self-contained HTML file (or the same tables as CSV): per district
 * and for all of them, footfall per day and hour, weekdays against
 * weekends, after dark against daylight, the trend; typical and relative
 * footfall; darkness and lamp faults per night and site; sensor problems;
 * data completeness; before and after each --change; a map; and the
 * queries it ran.
 *
 * Local time is Europe/Stockholm from the system's tz database (TZ is set
 * for this process before anything reads the time); the store stays UTC.
 *
 * This file is the command line and the order of the run.  It owns the
 * URL it trims, the changes it parsed, the data, the calendar and the
 * document, and frees them all on its one way out. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "build_tree.h"
#include "common.h"
#include "report.h"
#include "report_internal.h"

#define COMMAND REPORT_COMMAND
#define DEFAULT_DATABASE "trygghet"
#define DEFAULT_THRESHOLD 0.5
#define DEFAULT_TIMEOUT_S 300
#define INSTALLED_PROFILES "/usr/share/tryggd/seeds/districts.ini"

static void print_help(FILE *out)
{
	fprintf(out,
	        "Usage: %s %s --influx URL [--db NAME | --org ORG --bucket BUCKET]\n"
	        "       [--token-file FILE] [--user USER --password-file FILE]\n"
	        "       --since DATE --until DATE [--district NAME]... [--lang sv|en]\n"
	        "       [--format html|csv] [--change [DISTRICT=]DATE:TEXT]...\n"
	        "       [--coverage-threshold SHARE] [--districts FILE] -o FILE\n"
	        "\n"
	        "The planners' trend report from the store: one self-contained HTML file\n"
	        "(inline CSS and SVG; nothing is loaded from anywhere; prints on A4, reads on a\n"
	        "phone), in Swedish unless --lang en, per district and for all of them:\n"
	        "footfall per day and hour of day, weekdays and weekends, after dark and in\n"
	        "daylight, the trend (least squares of the daily totals, 95 %% interval, as %%\n"
	        "of the mean per 30 days); typical footfall for each hour of the week over the\n"
	        "year before --until (or what the store holds) and the period as a share of it;\n"
	        "dark hours per night and site; lamp fault hours per site and each fault's\n"
	        "length until mended; sensor problems (the alert measurement); data\n"
	        "completeness per gateway and day; before and after each --change; a map of\n"
	        "the districts; the tables behind every chart; every query it ran.\n"
	        "\n"
	        "Days, hours, weekdays and nights are local time (Europe/Stockholm, summer time\n"
	        "included, from the tz database); the store stays UTC and is summed per hour\n"
	        "there. After dark: the sun more than 6 degrees below the horizon at\n"
	        "Eskilstuna at the middle of the hour (the end of civil twilight). A night runs\n"
	        "from local noon to noon and is named after its evening.\n"
	        "\n"
	        "  --influx URL             the store's base URL (http://HOST:8086)\n"
	        "  --db NAME                InfluxDB 1.x database (default %s)\n"
	        "  --org ORG --bucket NAME  InfluxDB 2.x: its /query endpoint, the bucket as\n"
	        "                           database; needs --token-file\n"
	        "  --token-file FILE        sent as Authorization: Token\n"
	        "  --user USER --password-file FILE\n"
	        "                           InfluxDB 1.x user name and password\n"
	        "  --ca-file FILE           CA certificates for https; --insecure: do not verify\n"
	        "  --since DATE             the first local day (YYYY-MM-DD)\n"
	        "  --until DATE             the day after the last (YYYY-MM-DD, not included)\n"
	        "  --district NAME          only these districts (repeat); default every one\n"
	        "                           in the store\n"
	        "  --lang sv|en             the report's language (default sv)\n"
	        "  --format html|csv        csv: the same tables, one section per table with a\n"
	        "                           header row, a blank line between; every row starts\n"
	        "                           with the table's name and the district\n"
	        "  --change [DISTRICT=]DATE:TEXT\n"
	        "                           a dated change (repeat): the district's after-dark\n"
	        "                           footfall, dark hours and fault hours before and after\n"
	        "                           it against the other districts over the same days\n"
	        "                           (difference in differences, Welch's t)\n"
	        "  --coverage-threshold SHARE\n"
	        "                           an hour's footfall is scaled up by the share of it its\n"
	        "                           windows covered when that share is at least SHARE\n"
	        "                           (default %.1f); below it the hour is left out of\n"
	        "                           typical and relative figures; nights likewise\n"
	        "  --districts FILE         the district profiles with latitude and longitude for\n"
	        "                           the map (default: as tryggd finds seeds/districts.ini)\n"
	        "  --timeout SECONDS        for each query (default %d)\n"
	        "  -o, --output FILE        where to write; - for standard output\n"
	        "  -h, --help               print this help and exit\n"
	        "\n"
	        "Exit status: 0 written; 1 the store refused a query (its reason is shown);\n"
	        "64 bad usage; 66 a credentials file cannot be read; 69 the store cannot be\n"
	        "reached, refuses the credentials or is not InfluxDB; 72 the tz database has no\n"
	        "%s (install tzdata); 73 the output cannot be created; 70, 71 or 74 an\n"
	        "internal, system or output error.\n",
	        CTL_PROGRAM, COMMAND, DEFAULT_DATABASE, DEFAULT_THRESHOLD, DEFAULT_TIMEOUT_S, REPORT_ZONE);
}

/* "[DISTRICT=]DATE:TEXT" into change; district_default when none is named. */
static int parse_change(const char *text, const char *district_default, struct report_change *change)
{
	for (size_t at = 0; text[at]; at++) {
		if (at > 0 && text[at - 1] != '=')
			continue;
		if (strlen(text + at) < 11 || text[at + 10] != ':')
			continue;
		char date[11];
		memcpy(date, text + at, 10);
		date[10] = '\0';
		int64_t ms;
		if (report_local_midnight(date, &ms) < 0)
			continue;
		char *district = NULL;
		if (at > 0 && !(district = strndup(text, at - 1)))
			return -ENOMEM;
		*change = (struct report_change){ .district = district ? district : district_default, .at_ms = ms,
			                              .text = text + at + 11, .owned_district = district };
		memcpy(change->date, date, sizeof(date));
		return change->district ? 0 : -EINVAL;
	}
	return -EINVAL;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The districts reported: as given, or every one in the store, sorted. */
static int list_districts(const struct report_options *options, const struct report_data *data,
                          const char ***out, size_t *count)
{
	const char **names = calloc(options->district_count + data->series_count + data->gateway_count + 1,
	                            sizeof(*names));
	size_t n = 0;
	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < options->district_count; i++)
		names[n++] = options->districts[i];
	if (n == 0) {
		for (size_t i = 0; i < data->series_count + data->gateway_count; i++) {
			const char *name = i < data->series_count ? data->series[i].district
			                                          : data->gateways[i - data->series_count].district;
			bool seen = false;
			for (size_t k = 0; k < n && !seen; k++)
				seen = strcmp(names[k], name) == 0;
			if (!seen)
				names[n++] = name;
		}
	}
	qsort(names, n, sizeof(*names), by_name);
	*out = names;
	*count = n;
	return 0;
}

static void parameters(struct report_context *context)
{
	const struct report_options *options = context->options;
	struct report_document *document = context->document;
	enum report_lang lang = options->lang;
	char last_day[11], number[REPORT_NUMBER_SIZE], now_text[20];
	time_t seconds = (time_t)(options->until_ms / 1000) - 12 * 3600;
	struct tm local;
	localtime_r(&seconds, &local);
	strftime(last_day, sizeof(last_day), "%Y-%m-%d", &local);
	report_local_text((int64_t)time(NULL) * 1000, now_text);
	report_add(document, REPORT_BLOCK_TEXT, report_word(lang, W_INTRO));
	report_add(document, REPORT_BLOCK_NOTE, report_word(lang, W_METHOD_TIME));
	const char *headers[] = { report_word(lang, W_FIGURE), report_word(lang, W_VALUE) };
	struct report_table *table = report_table(document, "report", NULL, report_word(lang, W_TABLE_REPORT), 2, headers);
	char period[40];
	snprintf(period, sizeof(period), "%s – %s", options->since_text, last_day);
	const char *rows[][2] = {
		{ report_word(lang, W_PERIOD), period },
		{ report_word(lang, W_TIME_ZONE), REPORT_ZONE },
		{ report_word(lang, W_STORE), context->data->shown_url ? context->data->shown_url : "" },
		{ report_word(lang, W_DATABASE), options->database },
		{ report_word(lang, W_COVERAGE_THRESHOLD), report_number(lang, options->coverage_threshold, 2, number) },
		{ report_word(lang, W_GENERATED), now_text },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		report_cell_text(document, table, rows[i][0]);
		report_cell_text(document, table, rows[i][1]);
	}
}

static void build(struct report_context *context)
{
	struct report_document *document = context->document;
	enum report_lang lang = context->options->lang;
	report_add(document, REPORT_BLOCK_SECTION, report_word(lang, W_HEADING_ABOUT));
	parameters(context);
	if (context->data->series_count == 0)
		report_add(document, REPORT_BLOCK_TEXT, report_word(lang, W_NO_DATA_AT_ALL));
	report_section_summary(context);
	report_section_method(context);
	report_section_changes(context);
	for (size_t i = 0; i <= context->district_count; i++) {
		const char *district = i == 0 ? NULL : context->districts[i - 1];
		if (i == 0 && context->district_count == 1)
			continue;                      /* "all" of one is that one */
		report_add(document, REPORT_BLOCK_SECTION, report_group_name(context, district));
		report_section_footfall(context, district);
		report_section_typical(context, district);
		report_section_darkness(context, district);
		report_section_faults(context, district);
		report_section_problems(context, district);
		report_section_completeness(context, district);
	}
	report_section_queries(context);
}

/* Everything after the command line: load, compute, write. */
static int run(struct report_options *options)
{
	struct report_data data = { 0 };
	struct report_calendar calendar = { 0 };
	struct report_document document = { .lang = options->lang };
	const char **districts = NULL;
	char *title = NULL;
	FILE *out = NULL;
	int status = 0;
	struct report_ranges ranges = {
		.footfall_from = options->until_ms - (int64_t)REPORT_TYPICAL_DAYS * REPORT_DAY_MS,
		.light_from = options->since_ms, .until = options->until_ms,
		.night_until = report_local_noon(options->until_ms),
		.alert_from = options->since_ms - (int64_t)REPORT_ALERT_LOOKBACK_DAYS * REPORT_DAY_MS,
	};
	if (ranges.footfall_from > options->since_ms)
		ranges.footfall_from = options->since_ms;
	int r = report_load(options, &ranges, &data);
	if (r == 0)
		r = report_calendar_build(ranges.footfall_from, options->since_ms, options->until_ms, ranges.night_until,
		                          &calendar);
	if (r == 0 && calendar.hour_count != data.hour_count)
		r = -EPROTO;                       /* one hour axis for both; never otherwise */
	if (r == 0)
		r = list_districts(options, &data, &districts, &(size_t){ 0 });
	if (r < 0) {
		status = ctl_status_of_store_error(COMMAND, r);
		goto out;
	}
	struct report_context context = { .options = options, .data = &data, .calendar = &calendar,
		                              .document = &document, .districts = districts };
	while (districts[context.district_count])
		context.district_count++;
	for (size_t i = 0; i < options->change_count; i++) {
		bool known = false;
		for (size_t k = 0; k < context.district_count; k++)
			known |= strcmp(districts[k], options->changes[i].district) == 0;
		if (!known)
			ctl_error(COMMAND, "warning: --change names %s, which has no data in the period",
			          options->changes[i].district);
	}
	if (data.series_count == 0)
		ctl_error(COMMAND, "warning: the store holds no windows for the period; the report says so");
	build(&context);
	if (document.error) {
		status = ctl_status_of_store_error(COMMAND, document.error);
		goto out;
	}
	char last_day[20];
	report_local_text(options->until_ms - 12 * REPORT_HOUR_MS, last_day);
	last_day[10] = '\0';
	if (asprintf(&title, report_word(options->lang, W_TITLE), options->since_text, last_day) < 0) {
		title = NULL;
		status = EX_OSERR;
		goto out;
	}
	out = strcmp(options->output, "-") == 0 ? stdout : fopen(options->output, "w");
	if (!out) {
		ctl_error(COMMAND, "cannot create %s: %s", options->output, strerror(errno));
		status = EX_CANTCREAT;
		goto out;
	}
	r = options->format == REPORT_FORMAT_CSV ? report_write_csv(&document, out)
	                                         : report_write_html(options, &document, title, out);
	status = ctl_finish_output(COMMAND, out, r < 0 ? EX_IOERR : 0);
out:
	if (out && out != stdout && fclose(out) != 0 && status == 0) {
		ctl_error(COMMAND, "cannot write %s: %s", options->output, strerror(errno));
		status = EX_IOERR;
	}
	free(title);
	free(districts);
	report_document_free(&document);
	report_calendar_free(&calendar);
	report_data_free(&data);
	return status;
}

/* The profiles file with the districts' coordinates, found as tryggd
 * finds it: the build tree's seeds/, else the installed one.  Allocated,
 * or NULL when there is none. */
static char *find_profiles(void)
{
	char *program = NULL, *profiles = NULL;
	if (build_tree_program(&program) == 0 && build_tree_profiles(program, &profiles) == 0) {
		free(program);
		return profiles;
	}
	free(program);
	return access(INSTALLED_PROFILES, R_OK) == 0 ? strdup(INSTALLED_PROFILES) : NULL;
}

int ctl_report(int argc, char *argv[])
{
	enum {
		OPTION_INFLUX = 256, OPTION_DB, OPTION_ORG, OPTION_BUCKET, OPTION_TOKEN_FILE, OPTION_USER,
		OPTION_PASSWORD_FILE, OPTION_CA_FILE, OPTION_INSECURE, OPTION_SINCE, OPTION_UNTIL, OPTION_DISTRICT,
		OPTION_LANG, OPTION_FORMAT, OPTION_CHANGE, OPTION_THRESHOLD, OPTION_DISTRICTS, OPTION_TIMEOUT,
	};
	static const char short_options[] = ":o:h";
	static const struct option long_options[] = {
		{ "influx", required_argument, NULL, OPTION_INFLUX },
		{ "db", required_argument, NULL, OPTION_DB },
		{ "org", required_argument, NULL, OPTION_ORG },
		{ "bucket", required_argument, NULL, OPTION_BUCKET },
		{ "token-file", required_argument, NULL, OPTION_TOKEN_FILE },
		{ "user", required_argument, NULL, OPTION_USER },
		{ "password-file", required_argument, NULL, OPTION_PASSWORD_FILE },
		{ "ca-file", required_argument, NULL, OPTION_CA_FILE },
		{ "insecure", no_argument, NULL, OPTION_INSECURE },
		{ "since", required_argument, NULL, OPTION_SINCE },
		{ "until", required_argument, NULL, OPTION_UNTIL },
		{ "district", required_argument, NULL, OPTION_DISTRICT },
		{ "lang", required_argument, NULL, OPTION_LANG },
		{ "format", required_argument, NULL, OPTION_FORMAT },
		{ "change", required_argument, NULL, OPTION_CHANGE },
		{ "coverage-threshold", required_argument, NULL, OPTION_THRESHOLD },
		{ "districts", required_argument, NULL, OPTION_DISTRICTS },
		{ "timeout", required_argument, NULL, OPTION_TIMEOUT },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct report_options options = { .database = DEFAULT_DATABASE, .coverage_threshold = DEFAULT_THRESHOLD,
		                              .timeout_s = DEFAULT_TIMEOUT_S };
	const char **districts = calloc((size_t)argc + 1, sizeof(*districts));
	const char **change_texts = calloc((size_t)argc + 1, sizeof(*change_texts));
	const char *since = NULL, *until = NULL, *bucket = NULL, *url = NULL;
	char *own_url = NULL, *profiles = NULL, *end;
	size_t change_count = 0;
	int status = 0, option;
	if (!districts || !change_texts) {
		ctl_error(COMMAND, "cannot start: %s", strerror(ENOMEM));
		status = EX_OSERR;
		goto out;
	}
	options.districts = districts;
	opterr = 0;
	while ((option = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
		switch (option) {
		case OPTION_INFLUX: url = optarg; break;
		case OPTION_DB: options.database = optarg; break;
		case OPTION_ORG: options.org = optarg; break;
		case OPTION_BUCKET: bucket = optarg; break;
		case OPTION_TOKEN_FILE: options.token_file = optarg; break;
		case OPTION_USER: options.user = optarg; break;
		case OPTION_PASSWORD_FILE: options.password_file = optarg; break;
		case OPTION_CA_FILE: options.ca_file = optarg; break;
		case OPTION_INSECURE: options.insecure = true; break;
		case OPTION_SINCE: since = optarg; break;
		case OPTION_UNTIL: until = optarg; break;
		case OPTION_DISTRICT:
			if (!optarg[0]) {
				status = ctl_usage_error(COMMAND, "--district needs a name");
				goto out;
			}
			districts[options.district_count++] = optarg;
			break;
		case OPTION_LANG:
			if (strcmp(optarg, "sv") != 0 && strcmp(optarg, "en") != 0) {
				status = ctl_usage_error(COMMAND, "--lang is sv or en, not '%s'", optarg);
				goto out;
			}
			options.lang = optarg[0] == 'e' ? REPORT_LANG_EN : REPORT_LANG_SV;
			break;
		case OPTION_FORMAT:
			if (strcmp(optarg, "html") != 0 && strcmp(optarg, "csv") != 0) {
				status = ctl_usage_error(COMMAND, "--format is html or csv, not '%s'", optarg);
				goto out;
			}
			options.format = optarg[0] == 'c' ? REPORT_FORMAT_CSV : REPORT_FORMAT_HTML;
			break;
		case OPTION_CHANGE: change_texts[change_count++] = optarg; break;
		case OPTION_THRESHOLD:
			options.coverage_threshold = strtod(optarg, &end);
			if (end == optarg || *end || !(options.coverage_threshold >= 0 && options.coverage_threshold <= 1)) {
				status = ctl_usage_error(COMMAND, "--coverage-threshold is a share from 0 to 1, not '%s'", optarg);
				goto out;
			}
			break;
		case OPTION_DISTRICTS: options.districts_file = optarg; break;
		case OPTION_TIMEOUT:
			options.timeout_s = strtol(optarg, &end, 10);
			if (end == optarg || *end || options.timeout_s <= 0) {
				status = ctl_usage_error(COMMAND, "--timeout needs whole seconds above 0, not '%s'", optarg);
				goto out;
			}
			break;
		case 'o': options.output = optarg; break;
		case 'h':
			print_help(stdout);
			status = ctl_finish_output(COMMAND, stdout, 0);
			goto out;
		default:
			status = ctl_option_error(COMMAND, option, argv, short_options);
			goto out;
		}
	}
	if (optind < argc) {
		status = ctl_usage_error(COMMAND, "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (!url || !since || !until || !options.output) {
		status = ctl_usage_error(COMMAND, "--influx, --since, --until and -o are needed");
		goto out;
	}
	size_t url_length = strlen(url);
	size_t scheme = strncmp(url, "http://", 7) == 0 ? 7 : strncmp(url, "https://", 8) == 0 ? 8 : 0;
	while (url_length > scheme && url[url_length - 1] == '/')
		url_length--;
	if (scheme == 0 || url_length == scheme) {
		status = ctl_usage_error(COMMAND, "--influx needs http://HOST:PORT or https://HOST:PORT, got '%s'", url);
		goto out;
	}
	if ((options.org != NULL) != (bucket != NULL) || (bucket && !options.token_file)) {
		status = ctl_usage_error(COMMAND, "InfluxDB 2 needs --org, --bucket and --token-file together");
		goto out;
	}
	if (bucket)
		options.database = bucket;
	if ((options.user != NULL) != (options.password_file != NULL)) {
		status = ctl_usage_error(COMMAND, "--user and --password-file go together");
		goto out;
	}
	/* Local time from the tz database: glibc falls back to UTC in silence
	 * when the zone's file is missing, which would shift every day. */
	if (access(REPORT_ZONE_FILE, R_OK) != 0) {
		ctl_error(COMMAND, "%s is missing: the report's days and hours are local time in %s; "
		          "install the tz database (apt-get install tzdata)", REPORT_ZONE_FILE, REPORT_ZONE);
		status = EX_OSFILE;
		goto out;
	}
	setenv("TZ", REPORT_ZONE, 1);
	tzset();
	if (report_local_midnight(since, &options.since_ms) < 0 || report_local_midnight(until, &options.until_ms) < 0 ||
	    options.until_ms <= options.since_ms) {
		status = ctl_usage_error(COMMAND, "--since and --until need dates YYYY-MM-DD, --until after --since");
		goto out;
	}
	snprintf(options.since_text, sizeof(options.since_text), "%s", since);
	snprintf(options.until_text, sizeof(options.until_text), "%s", until);
	options.changes = calloc(change_count + 1, sizeof(*options.changes));
	if (!options.changes) {
		status = EX_OSERR;
		goto out;
	}
	for (size_t i = 0; i < change_count; i++) {
		struct report_change *change = &options.changes[i];
		int r = parse_change(change_texts[i], options.district_count == 1 ? districts[0] : NULL, change);
		if (r == -ENOMEM) {
			status = EX_OSERR;
			goto out;
		}
		options.change_count = i + 1;
		if (r < 0 || change->at_ms <= options.since_ms || change->at_ms >= options.until_ms) {
			status = ctl_usage_error(COMMAND, "--change needs [DISTRICT=]DATE:TEXT with a date inside the period "
			                         "(DISTRICT= unless exactly one --district is given), got '%s'", change_texts[i]);
			goto out;
		}
	}
	own_url = strndup(url, url_length);
	profiles = options.districts_file ? NULL : find_profiles();
	if (!own_url) {
		status = EX_OSERR;
		goto out;
	}
	options.url = own_url;
	if (!options.districts_file)
		options.districts_file = profiles;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		ctl_error(COMMAND, "cannot start libcurl");
		status = EX_OSERR;
		goto out;
	}
	status = run(&options);
	curl_global_cleanup();
out:
	for (size_t i = 0; options.changes && i < options.change_count; i++)
		free(options.changes[i].owned_district);
	free(options.changes);
	free(districts);
	free(change_texts);
	free(own_url);
	free(profiles);
	return status;
}
