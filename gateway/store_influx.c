/* store_influx.c — see store_influx.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "log.h"
#include "store_influx.h"

#define RETRY_MIN_MS 500
#define RETRY_MAX_MS 60000
#define ERROR_BODY_MAX 512

struct store_influx {
	sd_event *event;
	sd_event_source *curl_timer, *retry_timer;
	CURLM *multi;
	CURL *easy;                  /* the request under way, or NULL */
	struct curl_slist *headers;
	char *write_url;
	char *url_for_logs;          /* base URL, never with credentials */
	const struct influx_config *config;
	struct spool *spool;
	struct spool_batch batch;    /* what easy is sending */
	char error_body[ERROR_BODY_MAX];
	size_t error_body_length;
	char curl_error[CURL_ERROR_SIZE];
	int retry_ms;
	bool retry_waiting, reported_down;
	void (*progress)(void *userdata);
	void *userdata;
	struct store_counters counters;
};

/* ---- libcurl's multi-socket interface on sd-event ---- */

static void store_check_done(struct store_influx *store);

static int store_on_socket_event(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
	struct store_influx *store = userdata;
	int running, flags = 0;
	(void)source;
	if (revents & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (revents & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(store->multi, fd, flags, &running);
	store_check_done(store);
	return 0;
}

/* libcurl tells which sockets to watch; each gets an io source, kept as the
 * socket's private pointer. */
static int store_on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userdata, void *socket_data)
{
	struct store_influx *store = userdata;
	sd_event_source *source = socket_data;
	(void)easy;

	if (what == CURL_POLL_REMOVE) {
		sd_event_source_disable_unref(source);
		curl_multi_assign(store->multi, fd, NULL);
		return 0;
	}
	uint32_t events = 0;
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		events |= EPOLLIN;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		events |= EPOLLOUT;
	if (source) {
		sd_event_source_set_io_events(source, events);
		sd_event_source_set_enabled(source, SD_EVENT_ON);
		return 0;
	}
	if (sd_event_add_io(store->event, &source, fd, events, store_on_socket_event, store) < 0)
		return -1;
	curl_multi_assign(store->multi, fd, source);
	return 0;
}

static int store_on_curl_timer_due(sd_event_source *source, uint64_t usec, void *userdata)
{
	struct store_influx *store = userdata;
	int running;
	(void)source;
	(void)usec;
	curl_multi_socket_action(store->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	store_check_done(store);
	return 0;
}

static int store_on_curl_timer(CURLM *multi, long timeout_ms, void *userdata)
{
	struct store_influx *store = userdata;
	(void)multi;
	if (timeout_ms < 0)
		return sd_event_source_set_enabled(store->curl_timer, SD_EVENT_OFF) < 0 ? -1 : 0;
	uint64_t now;
	sd_event_now(store->event, CLOCK_MONOTONIC, &now);
	/* 0 means "at once": the timer fires on the next loop iteration, which
	 * is what libcurl asks for (never call socket_action from here). */
	sd_event_source_set_time(store->curl_timer, now + (uint64_t)timeout_ms * 1000 + 1);
	sd_event_source_set_enabled(store->curl_timer, SD_EVENT_ONESHOT);
	return 0;
}

/* ---- requests ---- */

static size_t store_on_body(char *data, size_t size, size_t count, void *userdata)
{
	struct store_influx *store = userdata;
	size_t length = size * count;
	size_t room = sizeof(store->error_body) - 1 - store->error_body_length;
	size_t take = length < room ? length : room;
	memcpy(store->error_body + store->error_body_length, data, take);
	store->error_body_length += take;
	store->error_body[store->error_body_length] = '\0';
	return length;
}

static void store_send(struct store_influx *store);

static int store_on_retry(sd_event_source *source, uint64_t usec, void *userdata)
{
	struct store_influx *store = userdata;
	(void)source;
	(void)usec;
	store->retry_waiting = false;
	store_send(store);
	return 0;
}

static void store_retry_later(struct store_influx *store)
{
	uint64_t now;
	sd_event_now(store->event, CLOCK_MONOTONIC, &now);
	/* Up to a quarter of jitter, so gateways that lost the same store do
	 * not all come back at the same instant. */
	uint32_t jitter = arc4random_uniform((uint32_t)store->retry_ms / 4 + 1);
	sd_event_source_set_time(store->retry_timer, now + (uint64_t)(store->retry_ms + jitter) * 1000);
	sd_event_source_set_enabled(store->retry_timer, SD_EVENT_ONESHOT);
	store->retry_waiting = true;
	store->retry_ms = store->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : store->retry_ms * 2;
}

static void store_finish(struct store_influx *store, CURLcode result)
{
	long status = 0;
	curl_easy_getinfo(store->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(store->multi, store->easy);
	curl_easy_cleanup(store->easy);
	store->easy = NULL;
	store->counters.requests++;

	if (result == CURLE_OK && status >= 200 && status < 300) {
		int r = spool_ack(store->spool, store->batch.last_id);
		if (r < 0)
			log_error("store: cannot remove sent lines from the spool: %s", strerror(-r));
		store->counters.sent += store->batch.lines;
		spool_batch_free(&store->batch);
		if (store->reported_down)
			log_info("store: %s answers again", store->url_for_logs);
		store->reported_down = false;
		store->retry_ms = RETRY_MIN_MS;
		if (store->progress)
			store->progress(store->userdata);
		store_send(store);
		return;
	}

	store->counters.failures++;
	spool_batch_free(&store->batch);
	char reason[ERROR_BODY_MAX + 64];
	if (result != CURLE_OK)
		snprintf(reason, sizeof(reason), "%s", store->curl_error[0] ? store->curl_error : curl_easy_strerror(result));
	else
		snprintf(reason, sizeof(reason), "HTTP %ld: %s", status, store->error_body);
	if (!store->reported_down)
		log_warning("store: cannot write to %s: %s; retrying, windows stay in the spool",
		            store->url_for_logs, reason);
	else
		log_debug("store: still cannot write to %s: %s", store->url_for_logs, reason);
	store->reported_down = true;
	store_retry_later(store);
}

static void store_check_done(struct store_influx *store)
{
	CURLMsg *message;
	int left;
	while ((message = curl_multi_info_read(store->multi, &left)))
		if (message->msg == CURLMSG_DONE && message->easy_handle == store->easy)
			store_finish(store, message->data.result);
}

static void store_send(struct store_influx *store)
{
	if (store->easy || store->retry_waiting || spool_pending(store->spool) == 0)
		return;
	int r = spool_peek(store->spool, (size_t)store->config->batch_lines, &store->batch);
	if (r < 0) {
		log_error("store: cannot read the spool: %s", strerror(-r));
		store_retry_later(store);
		return;
	}
	if (store->batch.lines == 0)
		return;

	CURL *easy = curl_easy_init();
	if (!easy)
		goto fail;
	store->error_body_length = 0;
	store->error_body[0] = '\0';
	store->curl_error[0] = '\0';
	curl_easy_setopt(easy, CURLOPT_URL, store->write_url);
	curl_easy_setopt(easy, CURLOPT_POST, 1L);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDS, store->batch.body);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)store->batch.length);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, store->headers);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT, (long)store->config->timeout_s);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT, (long)store->config->timeout_s);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, store_on_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, store);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, store->curl_error);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	if (curl_multi_add_handle(store->multi, easy) != CURLM_OK) {
		curl_easy_cleanup(easy);
		goto fail;
	}
	store->easy = easy;
	return;
fail:
	log_error("store: cannot start a request");
	spool_batch_free(&store->batch);
	store_retry_later(store);
}

void store_influx_kick(struct store_influx *store)
{
	store_send(store);
}

struct store_counters store_influx_counters(const struct store_influx *store)
{
	return store->counters;
}

bool store_influx_available(const struct store_influx *store)
{
	return !store->reported_down;
}

static int store_build_url(struct store_influx *store)
{
	CURLU *url = curl_url();
	char *query = NULL, *text = NULL;
	int r = -ENOMEM;
	if (!url)
		return -ENOMEM;
	if (curl_url_set(url, CURLUPART_URL, store->config->url, 0) != CURLUE_OK) {
		r = -EINVAL;
		goto out;
	}
	if (curl_url_set(url, CURLUPART_USER, NULL, 0) != CURLUE_OK ||
	    curl_url_set(url, CURLUPART_PASSWORD, NULL, 0) != CURLUE_OK ||
	    curl_url_get(url, CURLUPART_URL, &store->url_for_logs, CURLU_NO_DEFAULT_PORT) != CURLUE_OK)
		goto out;
	if (curl_url_set(url, CURLUPART_PATH, "/write", 0) != CURLUE_OK)
		goto out;
	/* CURLU_URLENCODE escapes the values, so a database name can't
	 * change the query. */
	if (asprintf(&query, "db=%s", store->config->database) < 0) {
		query = NULL;
		goto out;
	}
	if (curl_url_set(url, CURLUPART_QUERY, query, CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK ||
	    curl_url_set(url, CURLUPART_QUERY, "precision=s", CURLU_APPENDQUERY) != CURLUE_OK)
		goto out;
	if (store->config->retention_policy) {
		free(query);
		if (asprintf(&query, "rp=%s", store->config->retention_policy) < 0) {
			query = NULL;
			goto out;
		}
		if (curl_url_set(url, CURLUPART_QUERY, query, CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK)
			goto out;
	}
	if (curl_url_get(url, CURLUPART_URL, &text, 0) != CURLUE_OK)
		goto out;
	store->write_url = strdup(text);
	r = store->write_url ? 0 : -ENOMEM;
out:
	curl_free(text);
	free(query);
	curl_url_cleanup(url);
	return r;
}

int store_influx_new(sd_event *event, const struct influx_config *config, struct spool *spool,
                     void (*progress)(void *userdata), void *userdata, struct store_influx **out)
{
	int r;
	struct store_influx *store = calloc(1, sizeof(*store));
	if (!store)
		return -ENOMEM;
	store->event = sd_event_ref(event);
	store->config = config;
	store->spool = spool;
	store->progress = progress;
	store->userdata = userdata;
	store->retry_ms = RETRY_MIN_MS;

	r = store_build_url(store);
	if (r < 0) {
		log_error("store: cannot use the URL %s", config->url);
		goto fail;
	}
	store->headers = curl_slist_append(NULL, "Content-Type: text/plain; charset=utf-8");
	store->multi = curl_multi_init();
	if (!store->headers || !store->multi) {
		r = -ENOMEM;
		goto fail;
	}
	curl_multi_setopt(store->multi, CURLMOPT_SOCKETFUNCTION, store_on_curl_socket);
	curl_multi_setopt(store->multi, CURLMOPT_SOCKETDATA, store);
	curl_multi_setopt(store->multi, CURLMOPT_TIMERFUNCTION, store_on_curl_timer);
	curl_multi_setopt(store->multi, CURLMOPT_TIMERDATA, store);

	r = sd_event_add_time(event, &store->curl_timer, CLOCK_MONOTONIC, 0, 0, store_on_curl_timer_due, store);
	if (r < 0)
		goto fail;
	sd_event_source_set_enabled(store->curl_timer, SD_EVENT_OFF);
	r = sd_event_add_time(event, &store->retry_timer, CLOCK_MONOTONIC, 0, 0, store_on_retry, store);
	if (r < 0)
		goto fail;
	sd_event_source_set_enabled(store->retry_timer, SD_EVENT_OFF);
	*out = store;
	return 0;
fail:
	store_influx_free(store);
	return r;
}

void store_influx_free(struct store_influx *store)
{
	if (!store)
		return;
	if (store->easy) {
		curl_multi_remove_handle(store->multi, store->easy);
		curl_easy_cleanup(store->easy);
	}
	spool_batch_free(&store->batch);
	if (store->multi)
		curl_multi_cleanup(store->multi);
	curl_slist_free_all(store->headers);
	sd_event_source_disable_unref(store->curl_timer);
	sd_event_source_disable_unref(store->retry_timer);
	sd_event_unref(store->event);
	free(store->write_url);
	curl_free(store->url_for_logs);
	free(store);
}
