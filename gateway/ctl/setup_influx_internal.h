/* setup_influx_internal.h — what the two halves of `tryggctl setup-influx`
 * share:
 *
 *   setup_influx.c        the command line, the configuration, the order
 *                         of the steps and the exit statuses; the advice
 *                         for stores other than InfluxDB 1.x;
 *   setup_influx_steps.c  the steps against InfluxDB 1.x: the InfluxQL
 *                         statements and what their JSON answers say,
 *                         asked through influx_query.h.
 *
 * Ownership: struct setup borrows every string but those listed as owned,
 * which setup_influx.c's run allocates and frees; the steps only use them. */
#ifndef TRYGGCTL_SETUP_INFLUX_INTERNAL_H
#define TRYGGCTL_SETUP_INFLUX_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "influx_query.h"
#include "setup_influx.h"

#define SETUP_RAW_POLICY "raw"
#define SETUP_HOURLY_POLICY "hourly"
/* Every hour each continuous query computes the last day again: the last
 * window of an hour arrives just after the hour, when the query for that
 * hour has already run, and a spool's backlog after an outage comes hours
 * late.  Without it both would be missing from "hourly" for good. */
#define SETUP_RESAMPLE_FOR "1d"
/* The longest answer to a statement, in bytes. */
#define SETUP_ANSWER_SIZE_MAX (4 << 20)

struct setup_retention {
	int64_t seconds;                       /* 0: INF */
	bool given;                            /* on the command line: may shorten a policy */
};

struct setup {
	enum influx_api api;
	const char *url;                       /* base URL, without a trailing '/' */
	const char *database, *raw_policy;
	struct setup_retention raw, hourly;
	const char *org, *bucket;              /* v2, for the advice */
	const char *user, *password_file, *config_directory;
	const char *ca_file, *proxy;
	bool tls_verify, proxy_from_config;
	bool user_in_url;                      /* --url carries a user name */
	long timeout_s;
	/* Owned by the run (setup_influx.c). */
	struct influx_link link;               /* POST .../query; link.version: the server's, or "" */
	char *shown_url, *password;            /* shown_url: no credentials; curl_free() it */
	/* What the steps did. */
	unsigned changes, left_alone;
};

/* Seconds as InfluxQL and people read them: INF, 400d, 36h, 90m, 45s. */
#define SETUP_DURATION_SIZE 32
const char *setup_format_duration(int64_t seconds, char out[SETUP_DURATION_SIZE]);

/* Every statement a run makes on a server with none of it, one a line with
 * ';' (for --dry-run). */
void setup_print_statements(const struct setup *setup, FILE *out);

/* The steps, in this order; each prints one line per thing it looked at.
 * 0, or a negative errno after saying why on stderr: -EHOSTUNREACH no
 * answer; -EACCES user name and password refused; -EPROTO an answer
 * InfluxDB 1.x does not give (or another version); -EREMOTEIO a statement
 * refused; -ENOMEM. */
int setup_ensure_database(struct setup *setup);
int setup_ensure_policies(struct setup *setup);
int setup_ensure_continuous_queries(struct setup *setup);

#endif
