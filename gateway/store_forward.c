/* store_forward.c — see store_forward.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credentials.h"
#include "log.h"
#include "log_episode.h"
#include "store_batch.h"
#include "store_dialect.h"
#include "store_forward.h"
#include "store_http.h"
#include "store_readback.h"
#include "store_response.h"

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS (5 * 60 * 1000)
/* Halving 100000 lines takes 17 levels; each level leaves one half waiting. */
#define SPLIT_DEPTH_MAX 64
#define LOG_BODY_MAX 300
#define LOG_LINE_MAX 400

struct range {
	size_t begin, end;
};

struct store_forward {
	sd_event *event;
	/* Copies, the forwarder's own: a reload frees the struct config they
	 * came from.  The HTTP client and the read-back borrow config. */
	struct influx_config config;
	const struct store_dialect *dialect;
	char *config_directory;      /* or NULL */
	struct spool *spool;
	double time_scale;
	void (*progress)(void *userdata);
	void *userdata;

	struct store_http *http;
	struct store_readback *readback;
	char *write_url, *url_for_logs;
	struct curl_slist *headers;
	char *password;              /* v1, victoriametrics: basic authentication */

	struct store_batch batch;    /* batch.lines.lines == 0: none */
	struct store_readahead *ahead;   /* the next batch, while batch is on its way */
	struct range waiting[SPLIT_DEPTH_MAX];   /* ranges of batch still to send, last first */
	size_t waiting_count;
	struct range sending;
	bool busy;
	/* Lines the store took that the spool still has: never sent again;
	 * removed before anything else is sent, or right after the batch
	 * read ahead is out (deferred). */
	struct store_taken *taken;

	sd_event_source *timer;
	bool paused;
	bool flushing;               /* stopping: flush_interval no longer waits */
	bool stopped;                /* store_forward_stop(): nothing more is sent */
	uint64_t last_start_us;      /* CLOCK_MONOTONIC of the last request */
	int backoff_ms;
	bool down;
	enum store_reason down_reason;
	bool reload_credentials;
	/* A full disk refuses the spool's writes every batch or retry: each
	 * said once an episode (log_episode.h). */
	struct log_episode remove_episode;     /* removing what the store took, without store_taken */
	struct log_episode read_episode;       /* reading the next batch */
	struct log_episode set_aside_episode;  /* setting a refused point aside */
	struct store_counters counters;
};

static void forward_next(struct store_forward *forward);

static uint64_t forward_now_us(const struct store_forward *forward)
{
	uint64_t now = 0;
	sd_event_now(forward->event, CLOCK_MONOTONIC, &now);
	return now;
}

/* ---- credentials ---- */

static int forward_read_secret(struct store_forward *forward, const char *name, char **secret)
{
	char *path = NULL;
	int r = credential_locate(name, forward->config_directory, &path);
	if (r < 0)
		return r;
	r = credential_read(path, secret);
	if (r < 0)
		log_error("store: cannot read %s: %s", path, credential_strerror(r));
	free(path);
	return r;
}

/* The request headers: the content, its encoding and the token. */
static int forward_load_credentials(struct store_forward *forward)
{
	const struct influx_config *config = &forward->config;
	struct curl_slist *headers = NULL;
	char *token = NULL, *authorization = NULL;
	int r = -ENOMEM;

	credential_free(forward->password);
	forward->password = NULL;
	if (config->user && config->password_file) {
		r = forward_read_secret(forward, config->password_file, &forward->password);
		if (r < 0)
			goto out;
	}
	r = -ENOMEM;
	if (!(headers = curl_slist_append(headers, "Content-Type: text/plain; charset=utf-8")))
		goto out;
	if (config->gzip && !(headers = curl_slist_append(headers, "Content-Encoding: gzip")))
		goto out;
	/* No "Expect: 100-continue": one round trip less for every batch. */
	if (!(headers = curl_slist_append(headers, "Expect:")))
		goto out;
	if (config->token_file && forward->dialect->auth != STORE_AUTH_BASIC) {
		r = forward_read_secret(forward, config->token_file, &token);
		if (r < 0)
			goto out;
		r = -ENOMEM;
		const char *scheme = forward->dialect->auth == STORE_AUTH_TOKEN ? "Token" : "Bearer";
		if (asprintf(&authorization, "Authorization: %s %s", scheme, token) < 0) {
			authorization = NULL;
			goto out;
		}
		struct curl_slist *grown = curl_slist_append(headers, authorization);
		if (!grown)
			goto out;
		headers = grown;
	}
	curl_slist_free_all(forward->headers);
	forward->headers = headers;
	headers = NULL;
	r = 0;
out:
	if (authorization) {
		explicit_bzero(authorization, strlen(authorization));
		free(authorization);
	}
	credential_free(token);
	curl_slist_free_all(headers);
	return r;
}

/* ---- waiting ---- */

static int forward_on_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
	struct store_forward *forward = userdata;
	(void)source;
	(void)usec;
	forward->paused = false;
	forward_next(forward);
	return 0;
}

/* Wait delay_ms on tryggd's clock before the next request. */
static void forward_pause(struct store_forward *forward, int64_t delay_ms)
{
	uint64_t now;
	sd_event_now(forward->event, CLOCK_MONOTONIC, &now);
	uint64_t real_us = (uint64_t)((double)delay_ms * 1000.0 / forward->time_scale);
	sd_event_source_set_time(forward->timer, now + real_us);
	sd_event_source_set_enabled(forward->timer, SD_EVENT_ONESHOT);
	forward->paused = true;
}

static void forward_back_off(struct store_forward *forward)
{
	/* Up to a quarter of jitter, so gateways that lost the same store do
	 * not all come back at the same instant. */
	uint32_t jitter = arc4random_uniform((uint32_t)forward->backoff_ms / 4 + 1);
	forward_pause(forward, forward->backoff_ms + (int64_t)jitter);
	forward->backoff_ms = forward->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : forward->backoff_ms * 2;
}

/* ---- answers ---- */

static size_t range_length(const struct range *range)
{
	return range->end - range->begin;
}

static void forward_put_back(struct store_forward *forward, struct range range)
{
	forward->waiting[forward->waiting_count++] = range;
}

static void forward_stored(struct store_forward *forward)
{
	struct range range = forward->sending;
	size_t count = range_length(&range);
	const struct spool_batch *batch = &forward->batch.lines;
	const int64_t *ids = batch->ids + range.begin;
	/* A whole batch with the next one read ahead: that one goes out
	 * first, these lines leave right after.  Anything else at once, and
	 * the spool is read again. */
	bool defer = range.begin == 0 && range.end == batch->lines && store_readahead_pending(forward->ahead) &&
	             (store_taken_count(forward->taken) == 0 || store_taken_deferred(forward->taken));
	if (store_taken_add(forward->taken, ids, count) < 0) {
		defer = false;
		if (spool_remove(forward->spool, ids, count) < 0)
			log_episode_failed(&forward->remove_episode, forward_now_us(forward), LOG_LEVEL_ERROR,
			                   "store: the spool cannot remove %zu stored points", count);
		else
			log_episode_ended(&forward->remove_episode, "store: the spool removes stored points again");
	}
	if (defer) {
		store_taken_defer(forward->taken);
	} else {
		store_readahead_drop(forward->ahead);
		store_taken_remove(forward->taken);
	}
	forward->counters.sent += count;
	if (forward->readback) {
		const char *start = batch->body + batch->offsets[range.begin];
		size_t length = batch->offsets[range.end - 1] + batch->lengths[range.end - 1] -
		                batch->offsets[range.begin];
		store_readback_add(forward->readback, start, length, count);
	}
	if (forward->down)
		log_info("store: %s takes points again", forward->url_for_logs);
	forward->down = false;
	forward->backoff_ms = BACKOFF_MIN_MS;
}

static void forward_set_aside(struct store_forward *forward, const struct store_http_result *result)
{
	const struct spool_batch *batch = &forward->batch.lines;
	size_t index = forward->sending.begin;
	char line[LOG_LINE_MAX], body[LOG_BODY_MAX];
	/* The batch's body goes on after this line: log the line alone. */
	size_t length = batch->lengths[index];
	size_t shown = length < sizeof(line) ? length : sizeof(line) - 1;
	char text[LOG_LINE_MAX];
	memcpy(text, batch->body + batch->offsets[index], shown);
	text[shown] = '\0';
	store_body_for_log(text, line, sizeof(line));
	store_body_for_log(result->body, body, sizeof(body));
	if (spool_set_aside(forward->spool, batch->ids[index], result->status, result->body) < 0) {
		log_episode_failed(&forward->set_aside_episode, forward_now_us(forward), LOG_LEVEL_ERROR,
		                   "store: cannot set a refused point aside in the spool; trying again later");
		forward_put_back(forward, forward->sending);
		forward_back_off(forward);
		return;
	}
	log_episode_ended(&forward->set_aside_episode, "store: refused points can be set aside in the spool again");
	forward->counters.rejected++;
	log_warning("store: %s refused a point, set aside in the spool's rejected table: %s (HTTP %ld: %s)",
	            forward->url_for_logs, line, result->status, body);
}

static void forward_split(struct store_forward *forward)
{
	struct range range = forward->sending;
	size_t middle = range.begin + range_length(&range) / 2;
	forward->counters.splits++;
	/* The first half goes first: lines leave in the order they came. */
	forward_put_back(forward, (struct range){ middle, range.end });
	forward_put_back(forward, (struct range){ range.begin, middle });
}

static void forward_report_down(struct store_forward *forward, const struct store_http_result *result,
                                const struct store_decision *decision)
{
	char body[LOG_BODY_MAX], reason[LOG_BODY_MAX + 64];
	if (!result->transport_ok)
		snprintf(reason, sizeof(reason), "%s", result->error);
	else
		snprintf(reason, sizeof(reason), "HTTP %ld: %s", result->status,
		         store_body_for_log(result->body, body, sizeof(body)));
	const char *hint = "";
	if (decision->reason == STORE_REASON_CREDENTIALS)
		hint = forward->dialect->auth == STORE_AUTH_BASIC ? "; check user and password_file"
		                                                    : "; check token_file";
	else if (decision->reason == STORE_REASON_NOT_FOUND)
		hint = forward->dialect->not_found_hint;
	const char *separator = decision->reason == STORE_REASON_NOT_FOUND ? ": " : "";
	/* Once per episode: a store that stays down is not a new message every
	 * few seconds, nor a store that answers 500 while it shuts down and then
	 * refuses connections.  Within an episode only a turn to a reason the
	 * operator must act on (credentials, a missing database, an answer no
	 * store gives) is worth a second warning. */
	bool turned = forward->down_reason != decision->reason && store_reason_needs_operator(decision->reason);
	if (!forward->down || turned)
		log_warning("store: %s %s (%s)%s%s; points stay in the spool and are sent again later",
		            forward->url_for_logs, store_reason_text(decision->reason), reason, separator, hint);
	else
		log_debug("store: still %s: %s", store_reason_text(decision->reason), reason);
	forward->down = true;
	forward->down_reason = decision->reason;
}

static void forward_on_answer(void *userdata, const struct store_http_result *result)
{
	struct store_forward *forward = userdata;
	struct store_answer answer = {
		.transport_ok = result->transport_ok,
		.status = result->status,
		.retry_after = result->retry_after,
		.body = result->body,
		.now_s = (int64_t)time(NULL),
	};
	struct store_decision decision = store_classify(&answer);
	forward->busy = false;
	forward->counters.requests++;
	/* The batch read ahead is sent only after a whole batch stored; on
	 * anything else the spool is read again when it is time. */
	if (decision.verdict != STORE_DONE)
		store_readahead_drop(forward->ahead);

	switch (decision.verdict) {
	case STORE_DONE:
		forward_stored(forward);
		if (!store_taken_deferred(forward->taken) && forward->progress)
			forward->progress(forward->userdata);
		break;
	case STORE_SPLIT:
	case STORE_SET_ASIDE:
		forward->counters.failures++;
		if (range_length(&forward->sending) == 1) {
			forward_set_aside(forward, result);
			/* The spool is shorter by one: a stop may be waiting for it. */
			if (forward->progress)
				forward->progress(forward->userdata);
		} else {
			forward_split(forward);
		}
		break;
	case STORE_WAIT_UNTIL:
		forward->counters.failures++;
		forward_report_down(forward, result, &decision);
		forward_put_back(forward, forward->sending);
		forward_pause(forward, decision.wait_s * 1000);
		break;
	case STORE_BACK_OFF:
		forward->counters.failures++;
		forward_report_down(forward, result, &decision);
		forward_put_back(forward, forward->sending);
		/* A rotated password or token is read again before the retry. */
		if (decision.reason == STORE_REASON_CREDENTIALS)
			forward->reload_credentials = true;
		forward_back_off(forward);
		break;
	}
	forward_next(forward);
}

/* ---- requests ---- */

static int forward_start(struct store_forward *forward)
{
	struct range range = forward->sending;
	const char *body;
	size_t length;
	int r = store_batch_body(&forward->batch, range.begin, range.end, forward->config.gzip, &body, &length);
	if (r < 0)
		return r;
	struct store_http_request request = {
		.url = forward->write_url,
		.body = body,
		.body_length = length,
		.headers = forward->headers,
		.user = forward->config.user,
		.password = forward->password,
	};
	r = store_http_start(forward->http, &request, forward_on_answer, forward);
	if (r < 0)
		return r;
	forward->busy = true;
	sd_event_now(forward->event, CLOCK_MONOTONIC, &forward->last_start_us);
	/* A whole full batch: the next one is read while this one is out. */
	const struct spool_batch *lines = &forward->batch.lines;
	if (range.begin == 0 && range.end == lines->lines && lines->lines == (size_t)forward->config.batch_lines)
		store_readahead_start(forward->ahead, lines);
	return 0;
}

/* Clear what must be cleared before the next request; false to wait. */
static bool forward_ready(struct store_forward *forward)
{
	if (!store_taken_deferred(forward->taken) && store_taken_remove(forward->taken) < 0) {
		forward_back_off(forward);
		return false;
	}
	if (forward->reload_credentials) {
		if (forward_load_credentials(forward) < 0) {
			forward_back_off(forward);
			return false;
		}
		if (forward->readback)
			store_readback_set_credentials(forward->readback, forward->config.user, forward->password);
		forward->reload_credentials = false;
	}
	/* Lines the database refused earlier are written first, so they
	 * leave in order. */
	if (spool_counters(forward->spool).held > 0 && spool_retry(forward->spool) < 0)
		log_debug("store: the spool still cannot write the points it holds in memory");
	return true;
}

/* The next batch into forward->batch: the one read ahead, if its lines
 * still follow those in flight, or else the oldest lines now.  false when
 * there is nothing to send yet. */
static bool forward_read_batch(struct store_forward *forward)
{
	if (store_readahead_take(forward->ahead, &forward->batch))
		return true;
	/* The spool is read only once what the store took has left it. */
	if (store_taken_remove(forward->taken) < 0) {
		forward_back_off(forward);
		return false;
	}
	struct spool_batch *batch = &forward->batch.lines;
	store_batch_clear(&forward->batch);
	int r = spool_peek(forward->spool, (size_t)forward->config.batch_lines, STORE_BODY_MAX, batch);
	if (r < 0) {
		log_episode_failed(&forward->read_episode, forward_now_us(forward), LOG_LEVEL_ERROR,
		                   "store: cannot read the spool: %s", strerror(-r));
		forward_back_off(forward);
		return false;
	}
	log_episode_ended(&forward->read_episode, "store: the spool can be read again");
	if (batch->lines == 0)
		return false;
	/* A batch short of batch_lines waits until flush_interval has passed
	 * since the last request, so that a slow link carries fewer, larger
	 * requests. */
	if (batch->lines < (size_t)forward->config.batch_lines && forward->config.flush_interval_ms > 0 &&
	    !forward->flushing) {
		uint64_t now;
		sd_event_now(forward->event, CLOCK_MONOTONIC, &now);
		double since_ms = (double)(now - forward->last_start_us) / 1000.0 * forward->time_scale;
		if (forward->last_start_us > 0 && since_ms < (double)forward->config.flush_interval_ms) {
			store_batch_clear(&forward->batch);
			forward_pause(forward, forward->config.flush_interval_ms - (int64_t)since_ms);
			return false;
		}
	}
	return true;
}

static void forward_next(struct store_forward *forward)
{
	if (forward->stopped || forward->busy || forward->paused || !forward_ready(forward))
		return;
	if (forward->waiting_count == 0) {
		if (!forward_read_batch(forward))
			return;
		forward_put_back(forward, (struct range){ 0, forward->batch.lines.lines });
	}
	forward->sending = forward->waiting[--forward->waiting_count];
	int r = forward_start(forward);
	if (r < 0) {
		log_error("store: cannot start a request: %s", strerror(-r));
		forward_put_back(forward, forward->sending);
		forward_back_off(forward);
	}
}

void store_forward_kick(struct store_forward *forward)
{
	forward_next(forward);
}

void store_forward_stop(struct store_forward *forward)
{
	if (forward->readback) {
		struct store_readback_counters readback = store_readback_counters(forward->readback);
		forward->counters.verified = readback.verified;
		forward->counters.missing = readback.missing;
		store_readback_free(forward->readback);
		forward->readback = NULL;
	}
	/* Freeing the HTTP client drops a request under way, unanswered. */
	store_http_free(forward->http);
	forward->http = NULL;
	forward->busy = false;
	forward->stopped = true;
	sd_event_source_set_enabled(forward->timer, SD_EVENT_OFF);
	store_readahead_drop(forward->ahead);
	store_batch_clear(&forward->batch);
	forward->waiting_count = 0;
	/* What the store took leaves before the flight ends: what the bound
	 * dropped of it was not lost. */
	store_taken_end(forward->taken);
	spool_end_flight(forward->spool);
}

void store_forward_flush(struct store_forward *forward)
{
	forward->flushing = true;
	/* A wait for flush_interval ends now; a backoff or Retry-After stays. */
	if (forward->paused && forward->down == false && forward->waiting_count == 0) {
		sd_event_source_set_enabled(forward->timer, SD_EVENT_OFF);
		forward->paused = false;
	}
	forward_next(forward);
}

struct store_counters store_forward_counters(const struct store_forward *forward)
{
	struct store_counters counters = forward->counters;
	if (forward->readback) {
		struct store_readback_counters readback = store_readback_counters(forward->readback);
		counters.verified = readback.verified;
		counters.missing = readback.missing;
	}
	return counters;
}

bool store_forward_idle(const struct store_forward *forward)
{
	return spool_pending(forward->spool) == 0 && (!forward->readback || store_readback_pending(forward->readback) == 0);
}

bool store_forward_available(const struct store_forward *forward)
{
	return !forward->down;
}

int store_forward_new(const struct store_forward_options *options, struct store_forward **out)
{
	int r;
	struct store_forward *forward = calloc(1, sizeof(*forward));
	if (!forward)
		return -ENOMEM;
	const struct influx_config *config = &forward->config;
	forward->event = sd_event_ref(options->event);
	r = influx_config_copy(options->config, &forward->config);
	if (r < 0)
		goto fail;
	r = -ENOMEM;
	if (options->config_directory && !(forward->config_directory = strdup(options->config_directory)))
		goto fail;
	forward->dialect = store_dialect_of(config->api);
	forward->spool = options->spool;
	forward->time_scale = options->time_scale > 0 ? options->time_scale : 1.0;
	forward->progress = options->progress;
	forward->userdata = options->userdata;
	forward->backoff_ms = BACKOFF_MIN_MS;

	forward->url_for_logs = store_dialect_url_for_logs(config);
	if (!forward->url_for_logs)
		goto fail;
	r = store_dialect_write_url(forward->dialect, config, &forward->write_url);
	if (r < 0) {
		log_error("store: cannot use the URL %s", forward->url_for_logs);
		goto fail;
	}
	r = forward_load_credentials(forward);
	if (r < 0)
		goto fail;
	r = store_http_new(options->event, config, &forward->http);
	if (r < 0)
		goto fail;
	r = store_readahead_new(options->event, forward->spool, (size_t)config->batch_lines, STORE_BODY_MAX,
	                        config->gzip, &forward->ahead);
	if (r < 0)
		goto fail;
	r = store_taken_new(options->event, forward->spool, options->progress, options->userdata, &forward->taken);
	if (r < 0)
		goto fail;
	if (config->verify == INFLUX_VERIFY_READBACK) {
		/* Real time even in a simulation: what is waited for is the
		 * store's own lag. */
		r = store_readback_new(options->event, forward->http, config, 1.0, &forward->readback);
		if (r < 0)
			goto fail;
		store_readback_set_credentials(forward->readback, config->user, forward->password);
		/* A stop waits for the last samples too. */
		store_readback_on_idle(forward->readback, options->progress, options->userdata);
	}
	r = sd_event_add_time(options->event, &forward->timer, CLOCK_MONOTONIC, 0, 1000, forward_on_timer, forward);
	if (r < 0)
		goto fail;
	sd_event_source_set_enabled(forward->timer, SD_EVENT_OFF);
	*out = forward;
	return 0;
fail:
	store_forward_free(forward);
	return r;
}

void store_forward_free(struct store_forward *forward)
{
	if (!forward)
		return;
	/* The read-back first: it cancels its queries on the HTTP client. */
	store_readback_free(forward->readback);
	store_http_free(forward->http);
	store_readahead_free(forward->ahead);
	store_batch_clear(&forward->batch);
	store_taken_free(forward->taken);
	curl_slist_free_all(forward->headers);
	credential_free(forward->password);
	sd_event_source_disable_unref(forward->timer);
	sd_event_unref(forward->event);
	free(forward->write_url);
	free(forward->url_for_logs);
	/* Last: the HTTP client and the read-back borrowed it. */
	influx_config_clear(&forward->config);
	free(forward->config_directory);
	free(forward);
}
