/* store_readback.c — see store_readback.h.
 *
 * How a point is asked for, from VictoriaMetrics 1.79.5 as measured (a real
 * server, /write?db=…&precision=s, then /api/v1/export):
 *
 *  - Each field is a series called MEASUREMENT_FIELD, with the point's tags
 *    as labels, and db.  The selector names the first field's series and
 *    every tag; db is left out, so that a server run with another
 *    -influxDBLabel still matches (a gateway's tag set is its own anyway).
 *  - start and end are both inclusive, to the millisecond, except that a
 *    point at exactly midnight UTC (every day's first window) is not found
 *    with start before it and end at it: the series seem to be looked up
 *    per day, from start's day to the day of end - 1 ms.  start=T&end=T+1
 *    finds a point at any hour; the answer is searched for T exactly.
 *  - A point is exported about 1 s after its write.  But asking for a new
 *    series before that makes the server answer "nothing" for about 10 s
 *    more; READBACK_DELAY_S (2 s) stays clear of both, and the retry
 *    after READBACK_RETRY_S (15 s) covers a slow or busy server.
 *
 * The queue is one list sorted by due time, so one timer for its head is
 * enough; at most READBACK_IN_FLIGHT_MAX queries run at once, so that the
 * read-back never crowds out the writes sharing the HTTP client.  What an
 * answer says is read by store_export.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credentials.h"
#include "log.h"
#include "store_export.h"
#include "store_readback.h"

#define READBACK_IN_FLIGHT_MAX 2
/* The first query and the retry. */
#define READBACK_ATTEMPTS 2
#define USEC_PER_SEC UINT64_C(1000000)
/* sd-event's default timer slack; less when the simulation runs fast. */
#define READBACK_ACCURACY_MAX_USEC (250 * UINT64_C(1000))

struct readback_entry {
	char *line;                  /* owned; one point, without its '\n' */
	uint64_t due_usec;           /* CLOCK_MONOTONIC */
	int attempts;                /* queries answered so far */
	struct readback_entry *next;
};

/* One query under way.  It is the userdata of its HTTP request, which is
 * how store_readback_free() cancels it. */
struct readback_query {
	struct store_readback *readback;
	struct readback_entry *entry;    /* owned while the query runs */
	char *url;                       /* owned */
	int64_t timestamp_s;
	struct readback_query *next;
};

/* What happened since the last summary: one message per episode (a batch's
 * samples, usually) rather than one per failed query. */
struct readback_episode {
	struct store_readback_counters counters;
	char failure[160];           /* the last failed query's reason */
};

struct store_readback {
	sd_event *event;             /* a reference */
	struct store_http *http;     /* borrowed */
	const struct influx_config *config;  /* borrowed: it outlives the read-back */
	double time_scale;
	char *user;                  /* owned, or NULL */
	char *password;              /* owned (credential_free), or NULL */
	sd_event_source *timer;      /* owned */
	struct readback_entry *queue;    /* owned, sorted by due_usec */
	size_t queue_length;
	struct readback_query *queries;  /* owned, under way */
	size_t query_count;
	struct store_readback_counters counters;
	struct readback_episode episode;
	void (*idle)(void *userdata);
	void *idle_userdata;
};

static uint64_t scaled_usec(const struct store_readback *readback, double seconds)
{
	return (uint64_t)(seconds * (double)USEC_PER_SEC / readback->time_scale);
}

static uint64_t now_usec(const struct store_readback *readback)
{
	uint64_t now = 0;
	sd_event_now(readback->event, CLOCK_MONOTONIC, &now);
	return now;
}

static void entry_free(struct readback_entry *entry)
{
	if (!entry)
		return;
	free(entry->line);
	free(entry);
}

static void query_free(struct readback_query *query)
{
	if (!query)
		return;
	entry_free(query->entry);
	free(query->url);
	free(query);
}

/* Behind every entry due no later: entries due alike keep their order. */
static void queue_insert(struct store_readback *readback, struct readback_entry *entry)
{
	struct readback_entry **link = &readback->queue;
	while (*link && (*link)->due_usec <= entry->due_usec)
		link = &(*link)->next;
	entry->next = *link;
	*link = entry;
	readback->queue_length++;
}

/* A counter and its episode's. */
static void tally(uint64_t *total, uint64_t *episode)
{
	(*total)++;
	(*episode)++;
}

static void count_unknown(struct store_readback *readback, const char *reason)
{
	tally(&readback->counters.unknown, &readback->episode.counters.unknown);
	snprintf(readback->episode.failure, sizeof(readback->episode.failure), "%s", reason);
}

/* --- The selector ---------------------------------------------------- */

static bool is_escapable(char character)
{
	return character == '\\' || character == ',' || character == ' ' || character == '=';
}

/* One element of the line from *cursor up to an unescaped stop character,
 * read as VictoriaMetrics reads it (LINEPROTO_BACKSLASH_DOUBLED: "\\", "\,",
 * "\ " and "\=" are that character; any other backslash is itself), and
 * written to out (NULL: skipped) as the inside of a MetricsQL string, where
 * '\' and '"' take a backslash.  A newline cannot occur: lines are split on it. */
static void copy_element(FILE *out, const char **cursor, const char *stops)
{
	const char *p = *cursor;
	while (*p && !strchr(stops, *p)) {
		char character = *p++;
		if (character == '\\' && *p && is_escapable(*p))
			character = *p++;
		if (out && (character == '\\' || character == '"'))
			fputc('\\', out);
		if (out)
			fputc(character, out);
	}
	*cursor = p;
}

/* A tag key as a label name: the writer's keys are plain words, and
 * anything else would need MetricsQL's own escapes. */
static bool copy_label_name(FILE *out, const char **cursor)
{
	const char *p = *cursor;
	size_t length = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
	if (length == 0 || (p[0] >= '0' && p[0] <= '9') || p[length] != '=')
		return false;
	fwrite(p, 1, length, out);
	*cursor = p + length + 1;
	return true;
}

/* The point's timestamp: the line's last word, whole seconds. */
static int line_timestamp(const char *line, const char **before, int64_t *timestamp_s)
{
	const char *space = strrchr(line, ' ');
	if (!space || space[1] == '\0')
		return -EINVAL;
	const char *digits = space + 1 + (space[1] == '-');
	if (*digits == '\0' || strspn(digits, "0123456789") != strlen(digits))
		return -EINVAL;
	errno = 0;
	long long value = strtoll(space + 1, NULL, 10);
	/* Its milliseconds must fit too. */
	if (errno == ERANGE || value > INT64_MAX / 1000 || value < INT64_MIN / 1000)
		return -EINVAL;
	*before = space;
	*timestamp_s = value;
	return 0;
}

/* The export selector for one line as lineproto.c writes it:
 * {__name__="MEASUREMENT_FIELD",TAG="VALUE",...} for its first field, and
 * the point's timestamp.  *selector is the caller's to free.  0, -EINVAL
 * (not such a line) or -ENOMEM. */
static int readback_selector(const char *line, char **selector, int64_t *timestamp_s)
{
	char *text = NULL;
	size_t size = 0;
	const char *end;
	int r = line_timestamp(line, &end, timestamp_s);
	if (r < 0)
		return r;
	FILE *out = open_memstream(&text, &size);
	if (!out)
		return -ENOMEM;

	r = -EINVAL;
	const char *p = line;
	fputs("{__name__=\"", out);
	copy_element(out, &p, ", ");
	if (p == line || (*p != ',' && *p != ' '))
		goto out;
	/* The name ends with the first field, after the tags: skip them now
	 * and come back. */
	const char *tags = p;
	while (*p == ',') {
		p++;
		copy_element(NULL, &p, ", =");
		if (*p != '=')
			goto out;
		p++;
		copy_element(NULL, &p, ", ");
	}
	if (*p != ' ')
		goto out;
	p++;
	const char *field = p;
	fputc('_', out);
	copy_element(out, &p, ", =");
	if (p == field || *p != '=' || p >= end)
		goto out;
	fputc('"', out);

	p = tags;
	while (*p == ',') {
		p++;
		fputc(',', out);
		if (!copy_label_name(out, &p))
			goto out;
		fputs("=\"", out);
		copy_element(out, &p, ", ");
		fputc('"', out);
	}
	fputc('}', out);
	r = 0;
out:
	if (fclose(out) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		free(text);
		return r;
	}
	*selector = text;
	return 0;
}

/* {url}/api/v1/export?match[]=SELECTOR&start=T&end=T+1 (see the top). */
static int readback_url(const struct influx_config *config, const char *selector, int64_t timestamp_s,
                        char **out)
{
	char start[24], end[24];
	snprintf(start, sizeof(start), "%" PRId64, timestamp_s);
	snprintf(end, sizeof(end), "%" PRId64, timestamp_s + 1);
	const char *pairs[] = { "match[]", selector, "start", start, "end", end, NULL };
	return store_http_url(config->url, "/api/v1/export", pairs, out);
}

/* --- The queue and its timer ------------------------------------------ */

static void readback_dispatch(struct store_readback *readback);

/* Once nothing waits and nothing runs, what the last samples came to. */
static void readback_summarize(struct store_readback *readback)
{
	const struct store_readback_counters *c = &readback->episode.counters;
	uint64_t total = c->verified + c->missing + c->unknown + c->skipped;
	if (readback->queue_length > 0 || readback->query_count > 0)
		return;
	if (readback->idle)
		readback->idle(readback->idle_userdata);
	if (total == 0)
		return;
	if (total == c->verified) {
		log_debug("store: read-back: %" PRIu64 " sampled points found", total);
		goto out;
	}
	char missing[48] = "", unknown[sizeof(readback->episode.failure) + 48] = "", skipped[48] = "";
	if (c->missing)
		snprintf(missing, sizeof(missing), ", %" PRIu64 " missing", c->missing);
	if (c->unknown)
		snprintf(unknown, sizeof(unknown), ", %" PRIu64 " not checked (%s)", c->unknown, readback->episode.failure);
	if (c->skipped)
		snprintf(skipped, sizeof(skipped), ", %" PRIu64 " not sampled (queue full)", c->skipped);
	/* Samples that could not be checked (the store went away: the
	 * writes say so already) are no news; missing or skipped ones are. */
	log_message(c->missing || c->skipped ? LOG_LEVEL_WARNING : LOG_LEVEL_INFO,
	            "store: read-back: %" PRIu64 " of %" PRIu64 " sampled points found%s%s%s", c->verified, total,
	            missing, unknown, skipped);
out:
	memset(&readback->episode, 0, sizeof(readback->episode));
}

static void query_unlink(struct store_readback *readback, struct readback_query *query)
{
	for (struct readback_query **link = &readback->queries; *link; link = &(*link)->next)
		if (*link == query) {
			*link = query->next;
			readback->query_count--;
			return;
		}
}

static void readback_on_answer(void *userdata, const struct store_http_result *result)
{
	struct readback_query *query = userdata;
	struct store_readback *readback = query->readback;
	struct readback_entry *entry = query->entry;
	char reason[sizeof(readback->episode.failure)];
	query_unlink(readback, query);

	int found = -EIO;
	if (!result->transport_ok)
		snprintf(reason, sizeof(reason), "%s", result->error);
	else if (result->status < 200 || result->status > 299)
		snprintf(reason, sizeof(reason), "HTTP %ld", result->status);
	else if ((found = store_export_has_timestamp(result->body, result->body_length, result->body_cut,
	                                             query->timestamp_s * 1000)) == -EFBIG)
		snprintf(reason, sizeof(reason), "an answer too large");   /* the point may be in what was not kept */
	else if (found < 0)
		snprintf(reason, sizeof(reason), "an answer that is not /api/v1/export's");

	if (found < 0) {
		log_debug("store: read-back: cannot check %s: %s", entry->line, reason);
		count_unknown(readback, reason);
	} else if (found) {
		log_debug("store: read back %s", entry->line);
		tally(&readback->counters.verified, &readback->episode.counters.verified);
	} else if (++entry->attempts < READBACK_ATTEMPTS) {
		entry->due_usec = now_usec(readback) + scaled_usec(readback, READBACK_RETRY_S);
		queue_insert(readback, entry);
		query->entry = NULL;
	} else {
		log_warning("store: the store acknowledged a point it did not keep: %s", entry->line);
		tally(&readback->counters.missing, &readback->episode.counters.missing);
	}
	query_free(query);
	readback_dispatch(readback);
}

/* Query for entry, which the query takes; on failure it is counted and freed. */
static void readback_query_start(struct store_readback *readback, struct readback_entry *entry)
{
	char *selector = NULL;
	int r = -ENOMEM;
	struct readback_query *query = calloc(1, sizeof(*query));
	if (!query) {
		entry_free(entry);
		goto out;
	}
	query->readback = readback;
	query->entry = entry;
	r = readback_selector(entry->line, &selector, &query->timestamp_s);
	if (r == -EINVAL)
		log_warning("store: read-back: not a point of line protocol: %s", entry->line);
	if (r < 0)
		goto out;
	r = readback_url(readback->config, selector, query->timestamp_s, &query->url);
	if (r < 0)
		goto out;
	struct store_http_request request = {
		.url = query->url,
		.user = readback->user,
		.password = readback->password,
	};
	r = store_http_start(readback->http, &request, readback_on_answer, query);
	if (r < 0)
		goto out;
	query->next = readback->queries;
	readback->queries = query;
	readback->query_count++;
	query = NULL;
out:
	if (r < 0)
		count_unknown(readback, strerror(-r));
	query_free(query);
	free(selector);
}

/* Start what is due, as far as the limit allows, and set the timer for the
 * next; the summary once all is done. */
static void readback_dispatch(struct store_readback *readback)
{
	uint64_t now = now_usec(readback);
	while (readback->queue && readback->queue->due_usec <= now && readback->query_count < READBACK_IN_FLIGHT_MAX) {
		struct readback_entry *entry = readback->queue;
		readback->queue = entry->next;
		readback->queue_length--;
		entry->next = NULL;
		readback_query_start(readback, entry);
	}
	if (readback->queue && readback->query_count < READBACK_IN_FLIGHT_MAX) {
		sd_event_source_set_time(readback->timer, readback->queue->due_usec);
		sd_event_source_set_enabled(readback->timer, SD_EVENT_ONESHOT);
	} else {
		/* Nothing waits, or a query's end dispatches again. */
		sd_event_source_set_enabled(readback->timer, SD_EVENT_OFF);
	}
	readback_summarize(readback);
}

static int readback_on_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
	(void)source;
	(void)usec;
	readback_dispatch(userdata);
	return 0;
}

/* --- The interface ----------------------------------------------------- */

void store_readback_add(struct store_readback *readback, const char *lines, size_t length, size_t count)
{
	if (count == 0 || length == 0)
		return;
	size_t samples = count < READBACK_SAMPLE ? count : READBACK_SAMPLE;
	size_t taken = 0;
	uint64_t due = now_usec(readback) + scaled_usec(readback, READBACK_DELAY_S);
	const char *end = lines + length;
	const char *line = lines;
	/* Sample i is line i * (count - 1) / (samples - 1): the first, the
	 * last, and evenly between. */
	for (size_t index = 0; line < end && taken < samples; index++) {
		const char *newline = memchr(line, '\n', (size_t)(end - line));
		const char *line_end = newline ? newline : end;
		size_t wanted = samples == 1 ? 0 : taken * (count - 1) / (samples - 1);
		if (index == wanted) {
			taken++;
			if (readback->queue_length >= READBACK_QUEUE_MAX) {
				tally(&readback->counters.skipped, &readback->episode.counters.skipped);
			} else {
				struct readback_entry *entry = calloc(1, sizeof(*entry));
				if (entry)
					entry->line = strndup(line, (size_t)(line_end - line));
				if (!entry || !entry->line) {
					entry_free(entry);
					count_unknown(readback, strerror(ENOMEM));
				} else {
					entry->due_usec = due;
					queue_insert(readback, entry);
				}
			}
		}
		line = line_end + 1;
	}
	readback_dispatch(readback);
}

int store_readback_set_credentials(struct store_readback *readback, const char *user, const char *password)
{
	char *user_copy = NULL, *password_copy = NULL;
	if ((user && !(user_copy = strdup(user))) || (password && !(password_copy = strdup(password)))) {
		free(user_copy);
		return -ENOMEM;
	}
	free(readback->user);
	credential_free(readback->password);
	readback->user = user_copy;
	readback->password = password_copy;
	return 0;
}

size_t store_readback_pending(const struct store_readback *readback)
{
	return readback->queue_length + readback->query_count;
}

void store_readback_on_idle(struct store_readback *readback, void (*idle)(void *userdata), void *userdata)
{
	readback->idle = idle;
	readback->idle_userdata = userdata;
}

struct store_readback_counters store_readback_counters(const struct store_readback *readback)
{
	return readback->counters;
}

int store_readback_new(sd_event *event, struct store_http *http, const struct influx_config *config,
                       double time_scale, struct store_readback **out)
{
	if (!(time_scale > 0))
		return -EINVAL;
	int r;
	struct store_readback *readback = calloc(1, sizeof(*readback));
	if (!readback)
		return -ENOMEM;
	readback->event = sd_event_ref(event);
	readback->http = http;
	readback->config = config;
	readback->time_scale = time_scale;
	uint64_t accuracy = scaled_usec(readback, READBACK_DELAY_S) / 10;
	if (accuracy > READBACK_ACCURACY_MAX_USEC)
		accuracy = READBACK_ACCURACY_MAX_USEC;
	/* 0 would be sd-event's default, 250 ms. */
	if (accuracy == 0)
		accuracy = 1;
	r = sd_event_add_time(event, &readback->timer, CLOCK_MONOTONIC, 0, accuracy, readback_on_timer, readback);
	if (r < 0)
		goto fail;
	sd_event_source_set_enabled(readback->timer, SD_EVENT_OFF);
	*out = readback;
	return 0;
fail:
	store_readback_free(readback);
	return r;
}

void store_readback_free(struct store_readback *readback)
{
	if (!readback)
		return;
	/* The client lives on: its requests must not call back into freed memory. */
	while (readback->queries) {
		struct readback_query *query = readback->queries;
		readback->queries = query->next;
		store_http_cancel(readback->http, query);
		query_free(query);
	}
	while (readback->queue) {
		struct readback_entry *entry = readback->queue;
		readback->queue = entry->next;
		entry_free(entry);
	}
	sd_event_source_disable_unref(readback->timer);
	sd_event_unref(readback->event);
	free(readback->user);
	credential_free(readback->password);
	free(readback);
}
