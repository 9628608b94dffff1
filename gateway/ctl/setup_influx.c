/* setup_influx.c — `tryggctl setup-influx`: an InfluxDB 1.x made ready for
 * tryggd and for years of its points.  It creates the database; a retention
 * policy for the raw windows, made the default so that tryggd writes into
 * it without being told; a second one, "hourly", kept longer (for ever by
 * default); and for each measurement of CONTRACT.md a continuous query that
 * turns the windows of each hour into one point per district and site in
 * "hourly" (setup_influx_steps.c, which says which aggregate and why).
 *
 * What is already so is left alone, so a second run changes nothing and
 * says so.  An existing retention policy is never shortened unless the
 * duration was given on the command line: shortening deletes data.  With
 * --dry-run nothing is asked or sent: the statements for an empty server
 * are printed.  For VictoriaMetrics, InfluxDB 2 and 3 no request is made
 * either; what to set up there instead is printed.
 *
 * This file is the command line: the options, the configuration, the
 * advice for the other stores, and the run: libcurl set up the way tryggd
 * reaches the store (TLS, proxy, user and password), then the steps in
 * order, then the exit status.  The configuration belongs to
 * ctl_setup_influx() for the whole run; struct setup borrows from it and
 * owns what setup_open() allocates, freed by setup_run(). */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "common.h"
#include "config.h"
#include "credentials.h"
#include "setup_influx.h"
#include "setup_influx_internal.h"

#define COMMAND SETUP_INFLUX_COMMAND
#define DEFAULT_CONFIG "/etc/tryggd/tryggd.conf"
#define DEFAULT_DATABASE "trygghet"
/* A year and a month of raw windows: this month can be set against the same
 * month a year ago at full resolution, with a month to spare for a late
 * report.  Hours are kept for ever: 72 points a day per site. */
#define DEFAULT_RETENTION_S (INT64_C(400) * 86400)
#define DEFAULT_HOURLY_RETENTION_S 0             /* INF */
#define RETENTION_MIN_S 3600                     /* InfluxDB refuses less */
#define RETENTION_MAX_S (INT64_MAX / 1000000000) /* InfluxDB counts nanoseconds */
#define DEFAULT_TIMEOUT_S 10

/* ---- durations ---------------------------------------------------------------------- */

/* An InfluxQL duration in whole units ("400d", "57w", "1d12h") or INF, in
 * seconds (0 for INF), within what a retention policy may be. */
static bool parse_retention(const char *text, int64_t *seconds)
{
	static const char units[] = "smhdw";
	static const int64_t unit_seconds[] = { 1, 60, 3600, 86400, 7 * 86400 };
	int64_t total = 0;
	if (strcasecmp(text, "INF") == 0) {
		*seconds = 0;
		return true;
	}
	for (const char *p = text; *p;) {
		char *end;
		if (*p < '0' || *p > '9')
			return false;
		errno = 0;
		long long number = strtoll(p, &end, 10);
		const char *unit = *end ? strchr(units, *end) : NULL;
		if (errno || !unit || number > (RETENTION_MAX_S - total) / unit_seconds[unit - units])
			return false;
		total += number * unit_seconds[unit - units];
		p = end + 1;
	}
	*seconds = total;
	return total >= RETENTION_MIN_S;
}

const char *setup_format_duration(int64_t seconds, char out[SETUP_DURATION_SIZE])
{
	static const struct { int64_t seconds; char unit; } units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' } };
	if (seconds == 0)
		return "INF";
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (seconds % units[i].seconds == 0) {
			snprintf(out, SETUP_DURATION_SIZE, "%lld%c", (long long)(seconds / units[i].seconds), units[i].unit);
			return out;
		}
	snprintf(out, SETUP_DURATION_SIZE, "%llds", (long long)seconds);
	return out;
}

/* ---- the other stores: what to do there instead ------------------------------------------ */

static void advise(const struct setup *setup, FILE *out)
{
	char raw_buffer[SETUP_DURATION_SIZE], hourly_buffer[SETUP_DURATION_SIZE];
	bool raw_forever = setup->raw.seconds == 0, hourly_forever = setup->hourly.seconds == 0;
	const char *raw = setup_format_duration(setup->raw.seconds, raw_buffer);
	const char *hourly = setup_format_duration(setup->hourly.seconds, hourly_buffer);
	if (setup->api == INFLUX_VICTORIA) {
		fprintf(out,
		        "VictoriaMetrics has no databases or retention policies to create; no request was made.\n"
		        "  database      none: each series carries the label db=\"%s\" instead\n"
		        "  retention     one for all its data, a flag of the server: -retentionPeriod=%s\n"
		        "  duplicates    -dedup.minScrapeInterval=1ms: without it a window sent again after\n"
		        "                a crash or a lost answer is kept twice at the same timestamp and\n"
		        "                counted twice by sum_over_time; with it the last one written wins,\n"
		        "                as in InfluxDB.\n"
		        "  downsampling  -downsampling.period=30d:1h (Enterprise) keeps the last sample of\n"
		        "                each hour, which loses the counts and seconds of the other windows.\n"
		        "                For hourly figures use vmalert recording rules, evaluated every 1h:\n"
		        "                  sum by (district, site) (sum_over_time(footfall_count[1h]))\n"
		        "                the same for light_dark_s, lamp_on_s and lamp_fault_s, and\n"
		        "                min_over_time, max_over_time and avg_over_time for light_lux_min,\n"
		        "                light_lux_max and light_lux_mean.\n",
		        setup->database, raw_forever ? "100y" : raw);
	} else if (setup->api == INFLUX_V2) {
		const char *bucket = setup->bucket ? setup->bucket : setup->database;
		const char *org = setup->org ? setup->org : "ORG";
		fprintf(out,
		        "InfluxDB 2: no request was made.  Create the buckets with the influx CLI:\n"
		        "  influx bucket create --org %s --name %s --retention %s\n"
		        "  influx bucket create --org %s --name %s_hourly --retention %s\n"
		        "and for each measurement a task that runs every 1h over the last day,\n"
		        "  influx task create --org %s --file FILE\n"
		        "with from(bucket: \"%s\") |> range(start: -1d) |> filter(the measurement)\n"
		        "|> aggregateWindow(every: 1h, fn: sum) (min, max or mean for lux, mean for\n"
		        "coverage) |> to(bucket: \"%s_hourly\").\n",
		        org, bucket, raw_forever ? "0" : raw, org, bucket, hourly_forever ? "0" : hourly, org, bucket,
		        bucket);
	} else {
		fprintf(out,
		        "InfluxDB 3: no request was made.  Create the database with\n"
		        "  influxdb3 create database%s%s %s\n"
		        "(InfluxDB 3 Core cannot change a retention period later).  Hourly figures come from\n"
		        "a scheduled trigger of the processing engine (influxdb3 create trigger, e.g. with\n"
		        "the downsampler plugin) that writes each hour's sums, means, minima and maxima to\n"
		        "a second database, created the same way%s%s.\n",
		        raw_forever ? "" : " --retention-period ", raw_forever ? "" : raw, setup->database,
		        hourly_forever ? "" : " with --retention-period ", hourly_forever ? "" : hourly);
	}
}

/* ---- the run ------------------------------------------------------------------------------- */

/* libcurl's handle for POST .../query, set up as tryggd reaches the store,
 * and the password read.  0, or a negative errno after saying why. */
static int setup_open(struct setup *setup)
{
	/* Credentials in --url stay out of every message. */
	int r = influx_shown_url(setup->url, &setup->shown_url, &setup->user_in_url);
	if (r == -EINVAL)
		ctl_error(COMMAND, "InfluxDB's URL is not one libcurl can use");
	if (r < 0)
		return r;
	size_t length = strlen(setup->shown_url);
	if (length > 0 && setup->shown_url[length - 1] == '/')
		setup->shown_url[length - 1] = '\0';   /* libcurl's path "/" for none: shown as the user wrote it */
	if (setup->user && setup->password_file) {
		char *path = NULL;
		r = credential_locate(setup->password_file, setup->config_directory, &path);
		if (r == 0 && (r = credential_read(path, &setup->password)) < 0)
			ctl_error(COMMAND, "cannot read the password in %s: %s", path, credential_strerror(r));
		free(path);
		if (r < 0)
			return r == -ENOMEM ? r : -ENOENT;
	}
	const struct influx_options options = {
		.command = COMMAND,
		.url = setup->url,
		.shown_url = setup->shown_url,
		.user = setup->user,
		.password = setup->password,
		.ca_file = setup->ca_file,
		.insecure = !setup->tls_verify,
		/* With a configuration, as tryggd does: its proxy or none, whatever
		 * the environment says.  With --url alone, the environment's. */
		.proxy_given = setup->proxy_from_config,
		.proxy = setup->proxy,
		.timeout_s = setup->timeout_s,
		.connect_timeout_s = setup->timeout_s,
		.answer_max = SETUP_ANSWER_SIZE_MAX,
		.server = "InfluxDB",
		.dialect = "InfluxDB 1.x",
		.not_found_hint = " (is it InfluxDB 1.x? For another store set api in [influx])",
		.refused = setup->user || setup->user_in_url ? "the user name and password"
		                                             : "to answer without a user name and password (set user and "
		                                               "password_file in [influx])",
	};
	return influx_open(&setup->link, &options);
}

/* The steps, a last line that sums them up, and the exit status. */
static int setup_run(struct setup *setup)
{
	int r = setup_open(setup);
	if (r == 0)
		r = setup_ensure_database(setup);
	if (r == 0)
		r = setup_ensure_policies(setup);
	if (r == 0)
		r = setup_ensure_continuous_queries(setup);
	if (r == 0 && setup->changes == 0)
		printf("%s\n", setup->left_alone ? "nothing changed; what was left as it was is said above"
		                                 : "everything was already in place; nothing changed");
	else if (r == 0)
		printf("%u change%s made\n", setup->changes, setup->changes == 1 ? "" : "s");
	influx_close(&setup->link);
	curl_free(setup->shown_url);
	credential_free(setup->password);
	return ctl_status_of_store_error(COMMAND, r);
}

/* ---- the command line ------------------------------------------------------------------------ */

static void print_help(FILE *out)
{
	fprintf(out,
	        "Usage: %s %s [-c FILE] [--url URL] [--database NAME]\n"
	        "       [--retention DURATION] [--hourly-retention DURATION] [--dry-run]\n"
	        "\n"
	        "Make InfluxDB 1.x ready for tryggd: the database; the retention policy \"%s\"\n"
	        "(or the config's retention_policy) for the raw windows, made the default, which\n"
	        "tryggd writes to; \"%s\" for hourly points; and for footfall, light and lamp a\n"
	        "continuous query that sums the counts and seconds of each hour's windows, and\n"
	        "takes the mean of lux_mean and coverage and the extremes of lux_min and lux_max,\n"
	        "per district and site, into %s, recomputing the last day every hour so that\n"
	        "windows that come late count.  What is already so is left alone: a second run\n"
	        "changes nothing.  One line per thing says what was found or done.\n"
	        "For VictoriaMetrics, InfluxDB 2 and 3 (api in [influx]) it prints what to set\n"
	        "up there, and makes no request.\n"
	        "\n"
	        "  -c, --config FILE      [influx] of tryggd's configuration: url, api, database,\n"
	        "                         retention_policy, user, password_file, TLS and proxy\n"
	        "                         (default %s;\n"
	        "                         not read when --url is given without -c)\n"
	        "      --url URL          InfluxDB's base URL (http://HOST:8086), instead\n"
	        "      --database NAME    instead of the config's (default %s)\n"
	        "      --retention DURATION\n"
	        "                         of the raw windows (default 400d: a year and a month,\n"
	        "                         for a year-over-year comparison); an InfluxQL duration\n"
	        "                         such as 400d, 57w or 9600h, at least 1h, or INF.  An\n"
	        "                         existing policy is made shorter only when this is given\n"
	        "      --hourly-retention DURATION\n"
	        "                         of the hourly points (default INF), the same way\n"
	        "      --dry-run          print the statements for a server with none of it, and\n"
	        "                         send nothing\n"
	        "  -h, --help             print this help and exit\n"
	        "\n"
	        "Exit status: 0 done; 1 InfluxDB refused a statement (its reason is shown);\n"
	        "64 bad usage; 66 the configuration or password file cannot be read; 69 InfluxDB\n"
	        "cannot be reached, refuses the user name and password, or is not 1.x;\n"
	        "78 invalid configuration, or one without [influx] and no --url; 70, 71 or 74\n"
	        "an internal, system or output error.\n",
	        CTL_PROGRAM, COMMAND, SETUP_RAW_POLICY, SETUP_HOURLY_POLICY, SETUP_HOURLY_POLICY,
	        DEFAULT_CONFIG, DEFAULT_DATABASE);
}

/* What the configuration says, into setup; EX_CONFIG after saying why
 * when it cannot be used, else 0. */
static int take_config(struct setup *setup, const struct config *config, const char *path, bool url_given)
{
	const struct influx_config *influx = &config->influx;
	if (!config->has_influx && !url_given) {
		ctl_error(COMMAND, "%s has no [influx] section: give --url, or add the section", path);
		return EX_CONFIG;
	}
	setup->api = influx->api;
	setup->url = influx->url;
	setup->database = influx->database ? influx->database : DEFAULT_DATABASE;
	setup->raw_policy = influx->retention_policy ? influx->retention_policy : SETUP_RAW_POLICY;
	setup->org = influx->org;
	setup->bucket = influx->bucket;
	setup->user = influx->user;
	setup->password_file = influx->password_file;
	setup->config_directory = config->directory;
	setup->ca_file = influx->ca_file;
	setup->tls_verify = influx->tls_verify;
	setup->proxy = influx->proxy;
	setup->proxy_from_config = true;
	setup->timeout_s = influx->timeout_s > 0 ? influx->timeout_s : DEFAULT_TIMEOUT_S;
	if (strcmp(setup->raw_policy, SETUP_HOURLY_POLICY) == 0) {
		ctl_error(COMMAND, "%s: retention_policy = %s is the policy of the hourly points; the raw "
		          "windows need one of their own", path, SETUP_HOURLY_POLICY);
		return EX_CONFIG;
	}
	return 0;
}

int ctl_setup_influx(int argc, char *argv[])
{
	enum { OPTION_URL = 256, OPTION_DATABASE, OPTION_RETENTION, OPTION_HOURLY_RETENTION, OPTION_DRY_RUN };
	static const char short_options[] = ":c:h";
	static const struct option long_options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "url", required_argument, NULL, OPTION_URL },
		{ "database", required_argument, NULL, OPTION_DATABASE },
		{ "retention", required_argument, NULL, OPTION_RETENTION },
		{ "hourly-retention", required_argument, NULL, OPTION_HOURLY_RETENTION },
		{ "dry-run", no_argument, NULL, OPTION_DRY_RUN },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct setup setup = {
		.api = INFLUX_V1,
		.database = DEFAULT_DATABASE,
		.raw_policy = SETUP_RAW_POLICY,
		.raw = { .seconds = DEFAULT_RETENTION_S },
		.hourly = { .seconds = DEFAULT_HOURLY_RETENTION_S },
		.tls_verify = true,
		.timeout_s = DEFAULT_TIMEOUT_S,
	};
	const char *config_path = NULL, *url = NULL, *database = NULL;
	struct setup_retention *retention;
	bool dry_run = false;
	int option;

	opterr = 0;
	while ((option = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
		switch (option) {
		case 'c':
			config_path = optarg;
			break;
		case OPTION_URL:
			url = optarg;
			break;
		case OPTION_DATABASE:
			if (!optarg[0])
				return ctl_usage_error(COMMAND, "--database needs a name");
			database = optarg;
			break;
		case OPTION_RETENTION:
		case OPTION_HOURLY_RETENTION:
			retention = option == OPTION_RETENTION ? &setup.raw : &setup.hourly;
			if (!parse_retention(optarg, &retention->seconds))
				return ctl_usage_error(COMMAND, "--%s needs an InfluxQL duration of at least 1h (400d, 57w, "
				                       "9600h) or INF, got '%s'",
				                       option == OPTION_RETENTION ? "retention" : "hourly-retention", optarg);
			retention->given = true;
			break;
		case OPTION_DRY_RUN:
			dry_run = true;
			break;
		case 'h':
			print_help(stdout);
			return ctl_finish_output(COMMAND, stdout, 0);
		default:
			return ctl_option_error(COMMAND, option, argv, short_options);
		}
	}
	if (optind < argc)
		return ctl_usage_error(COMMAND, "unexpected argument '%s'", argv[optind]);

	size_t url_length = url ? strlen(url) : 0;
	size_t scheme_length = !url ? 0 : strncmp(url, "http://", 7) == 0 ? 7 : strncmp(url, "https://", 8) == 0 ? 8 : 0;
	while (url_length > scheme_length && url[url_length - 1] == '/')
		url_length--;   /* "/query" brings its own */
	if (url && (scheme_length == 0 || url_length == scheme_length))
		return ctl_usage_error(COMMAND, "--url needs http://HOST:PORT or https://HOST:PORT, got '%s'", url);

	struct config config;
	bool loaded = false;
	char *own_url = NULL;
	int status = 0;
	if (config_path || !url) {
		const char *path = config_path ? config_path : DEFAULT_CONFIG;
		int r = config_load(path, &config, stderr);
		if (r < 0)
			return r == -EINVAL ? EX_CONFIG : r == -ENOMEM ? EX_OSERR : EX_NOINPUT;
		loaded = true;
		status = take_config(&setup, &config, path, url != NULL);
		if (status != 0)
			goto out;
	}
	if (url) {
		own_url = strndup(url, url_length);
		if (!own_url) {
			ctl_error(COMMAND, "cannot start: %s", strerror(ENOMEM));
			status = EX_OSERR;
			goto out;
		}
		setup.url = own_url;
	}
	if (database)
		setup.database = database;

	if (setup.api != INFLUX_V1) {
		advise(&setup, stdout);
	} else if (dry_run) {
		setup_print_statements(&setup, stdout);
	} else if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		ctl_error(COMMAND, "cannot start libcurl");
		status = EX_OSERR;
	} else {
		status = setup_run(&setup);
		curl_global_cleanup();
	}
out:
	free(own_url);
	if (loaded)
		config_free(&config);
	return ctl_finish_output(COMMAND, stdout, status);
}
