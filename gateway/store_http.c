/* store_http.c — see store_http.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_http.h"

struct store_call {
	struct store_http *http;
	CURL *easy;
	store_http_done done;
	void *userdata;
	char *body;
	size_t body_length;
	bool body_cut;
	char error[CURL_ERROR_SIZE];
	struct store_call *next;
};

struct store_http {
	sd_event *event;
	sd_event_source *timer;
	CURLM *multi;
	const struct influx_config *config;  /* borrowed: it outlives the client */
	struct store_call *calls;
};

static void http_check_done(struct store_http *http);

static int http_on_socket_event(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
	struct store_http *http = userdata;
	int running, flags = 0;
	(void)source;
	if (revents & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (revents & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(http->multi, fd, flags, &running);
	http_check_done(http);
	return 0;
}

/* libcurl tells which sockets to watch; each gets an io source, kept as the
 * socket's private pointer. */
static int http_on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userdata, void *socket_data)
{
	struct store_http *http = userdata;
	sd_event_source *source = socket_data;
	(void)easy;

	if (what == CURL_POLL_REMOVE) {
		sd_event_source_disable_unref(source);
		curl_multi_assign(http->multi, fd, NULL);
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
	if (sd_event_add_io(http->event, &source, fd, events, http_on_socket_event, http) < 0)
		return -1;
	curl_multi_assign(http->multi, fd, source);
	return 0;
}

static int http_on_timer_due(sd_event_source *source, uint64_t usec, void *userdata)
{
	struct store_http *http = userdata;
	int running;
	(void)source;
	(void)usec;
	curl_multi_socket_action(http->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	http_check_done(http);
	return 0;
}

static int http_on_curl_timer(CURLM *multi, long timeout_ms, void *userdata)
{
	struct store_http *http = userdata;
	(void)multi;
	if (timeout_ms < 0)
		return sd_event_source_set_enabled(http->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
	uint64_t now;
	sd_event_now(http->event, CLOCK_MONOTONIC, &now);
	/* 0 means "at once": the timer fires on the next loop iteration, which
	 * is what libcurl asks for (never call socket_action from here). */
	sd_event_source_set_time(http->timer, now + (uint64_t)timeout_ms * 1000 + 1);
	sd_event_source_set_enabled(http->timer, SD_EVENT_ONESHOT);
	return 0;
}

static size_t http_on_body(char *data, size_t size, size_t count, void *userdata)
{
	struct store_call *call = userdata;
	size_t length = size * count;
	size_t room = STORE_HTTP_BODY_MAX - call->body_length;
	size_t take = length < room ? length : room;
	if (take < length)
		call->body_cut = true;
	if (take > 0) {
		char *grown = realloc(call->body, call->body_length + take + 1);
		if (!grown)
			return 0;  /* libcurl ends the request with CURLE_WRITE_ERROR */
		call->body = grown;
		memcpy(call->body + call->body_length, data, take);
		call->body_length += take;
		call->body[call->body_length] = '\0';
	}
	return length;
}

static void call_free(struct store_call *call)
{
	if (!call)
		return;
	if (call->easy) {
		curl_multi_remove_handle(call->http->multi, call->easy);
		curl_easy_cleanup(call->easy);
	}
	free(call->body);
	free(call);
}

static void call_unlink(struct store_http *http, struct store_call *call)
{
	for (struct store_call **p = &http->calls; *p; p = &(*p)->next)
		if (*p == call) {
			*p = call->next;
			return;
		}
}

static void http_finish(struct store_http *http, struct store_call *call, CURLcode code)
{
	struct store_http_result result = {
		.transport_ok = code == CURLE_OK,
		.error = call->error[0] ? call->error : curl_easy_strerror(code),
		.body = call->body ? call->body : "",
		.body_length = call->body_length,
		.body_cut = call->body_cut,
	};
	curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &result.status);
	struct curl_header *header;
	if (curl_easy_header(call->easy, "Retry-After", 0, CURLH_HEADER, -1, &header) == CURLHE_OK)
		result.retry_after = header->value;
	call_unlink(http, call);
	/* The callback may start the next request: this one is out of the
	 * list already, and freed after. */
	call->done(call->userdata, &result);
	call_free(call);
}

static void http_check_done(struct store_http *http)
{
	CURLMsg *message;
	int left;
	while ((message = curl_multi_info_read(http->multi, &left))) {
		if (message->msg != CURLMSG_DONE)
			continue;
		struct store_call *call = NULL;
		curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, (char **)&call);
		if (call)
			http_finish(http, call, message->data.result);
	}
}

int store_http_url(const char *base, const char *path, const char *const *pairs, char **out)
{
	char *text = NULL, *pair = NULL, *base_path = NULL, *full_path = NULL;
	int r = -EINVAL;
	CURLU *url = curl_url();
	if (!url)
		return -ENOMEM;
	if (curl_url_set(url, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_get(url, CURLUPART_PATH, &base_path, 0) != CURLUE_OK)
		goto out;
	/* Under base's own path, as tryggctl's "URL/query": a store behind
	 * a prefix (a VictoriaMetrics cluster's /insert/0/influx, a proxy's
	 * /influx) is reached there, not at the host's root. */
	size_t base_length = strlen(base_path);
	while (base_length > 0 && base_path[base_length - 1] == '/')
		base_length--;
	if (asprintf(&full_path, "%.*s%s", (int)base_length, base_path, path) < 0) {
		full_path = NULL;
		r = -ENOMEM;
		goto out;
	}
	if (curl_url_set(url, CURLUPART_PATH, full_path, 0) != CURLUE_OK)
		goto out;
	for (size_t i = 0; pairs[i]; i += 2) {
		r = -ENOMEM;
		if (asprintf(&pair, "%s=%s", pairs[i], pairs[i + 1]) < 0) {
			pair = NULL;
			goto out;
		}
		CURLUcode code = curl_url_set(url, CURLUPART_QUERY, pair, CURLU_APPENDQUERY | CURLU_URLENCODE);
		free(pair);
		pair = NULL;
		if (code != CURLUE_OK) {
			r = code == CURLUE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
			goto out;
		}
	}
	r = -ENOMEM;
	if (curl_url_get(url, CURLUPART_URL, &text, 0) != CURLUE_OK)
		goto out;
	*out = strdup(text);
	r = *out ? 0 : -ENOMEM;
out:
	free(pair);
	free(full_path);
	curl_free(base_path);
	curl_free(text);
	curl_url_cleanup(url);
	return r;
}

int store_http_start(struct store_http *http, const struct store_http_request *request,
                     store_http_done done, void *userdata)
{
	const struct influx_config *config = http->config;
	struct store_call *call = calloc(1, sizeof(*call));
	if (!call)
		return -ENOMEM;
	call->http = http;
	call->done = done;
	call->userdata = userdata;
	call->easy = curl_easy_init();
	if (!call->easy) {
		free(call);
		return -ENOMEM;
	}
	CURL *easy = call->easy;
	curl_easy_setopt(easy, CURLOPT_PRIVATE, call);
	curl_easy_setopt(easy, CURLOPT_URL, request->url);
	if (request->body) {
		curl_easy_setopt(easy, CURLOPT_POST, 1L);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request->body);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)request->body_length);
	}
	if (request->headers)
		curl_easy_setopt(easy, CURLOPT_HTTPHEADER, request->headers);
	if (request->user) {
		curl_easy_setopt(easy, CURLOPT_USERNAME, request->user);
		curl_easy_setopt(easy, CURLOPT_PASSWORD, request->password ? request->password : "");
		curl_easy_setopt(easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	}
	curl_easy_setopt(easy, CURLOPT_TIMEOUT, (long)config->timeout_s);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT, (long)config->timeout_s);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, http_on_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, call);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, call->error);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	/* "" turns the environment's http_proxy off: a proxy only when the
	 * config names one. */
	curl_easy_setopt(easy, CURLOPT_PROXY, config->proxy ? config->proxy : "");
	if (config->ca_file)
		curl_easy_setopt(easy, CURLOPT_CAINFO, config->ca_file);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, config->tls_verify ? 1L : 0L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, config->tls_verify ? 2L : 0L);
	curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
	if (curl_multi_add_handle(http->multi, easy) != CURLM_OK) {
		curl_easy_cleanup(easy);
		free(call);
		return -EIO;
	}
	call->next = http->calls;
	http->calls = call;
	return 0;
}

size_t store_http_cancel(struct store_http *http, const void *userdata)
{
	size_t dropped = 0;
	struct store_call **link = &http->calls;
	while (*link) {
		struct store_call *call = *link;
		if (call->userdata != userdata) {
			link = &call->next;
			continue;
		}
		*link = call->next;
		call_free(call);
		dropped++;
	}
	return dropped;
}

int store_http_new(sd_event *event, const struct influx_config *config, struct store_http **out)
{
	int r = -ENOMEM;
	struct store_http *http = calloc(1, sizeof(*http));
	if (!http)
		return -ENOMEM;
	http->event = sd_event_ref(event);
	http->config = config;
	http->multi = curl_multi_init();
	if (!http->multi)
		goto fail;
	curl_multi_setopt(http->multi, CURLMOPT_SOCKETFUNCTION, http_on_curl_socket);
	curl_multi_setopt(http->multi, CURLMOPT_SOCKETDATA, http);
	curl_multi_setopt(http->multi, CURLMOPT_TIMERFUNCTION, http_on_curl_timer);
	curl_multi_setopt(http->multi, CURLMOPT_TIMERDATA, http);
	r = sd_event_add_time(event, &http->timer, CLOCK_MONOTONIC, 0, 1, http_on_timer_due, http);
	if (r < 0)
		goto fail;
	sd_event_source_set_enabled(http->timer, SD_EVENT_OFF);
	*out = http;
	return 0;
fail:
	store_http_free(http);
	return r;
}

void store_http_free(struct store_http *http)
{
	if (!http)
		return;
	while (http->calls) {
		struct store_call *call = http->calls;
		http->calls = call->next;
		call_free(call);
	}
	if (http->multi)
		curl_multi_cleanup(http->multi);
	sd_event_source_disable_unref(http->timer);
	sd_event_unref(http->event);
	free(http);
}
