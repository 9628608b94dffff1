/* fuzz_influx_answer.c — libFuzzer target: the answers of the store as
 * tryggd and tryggctl read them off the wire.  A server thread on loopback
 * answers each HTTP request with the next of the input's raw answers
 * (status line, headers, body: whatever the input holds), and one of three
 * readers asks it, each through its production path:
 *
 *   0  tryggd's store client (store_http.c on an sd-event loop), a write
 *      whose answer goes to store_classify() and store_body_for_log() as
 *      the forwarder does: the status, Retry-After, a body of any size
 *      (cut at STORE_HTTP_BODY_MAX);
 *   1  `tryggctl report`'s queries (report_load(): influx_query.c, then
 *      every series, column and row it takes from the JSON);
 *   2  `tryggctl setup-influx` (its whole run against the server: SHOW
 *      DATABASES, retention policies, continuous queries).
 *
 * The input: the reader (first byte), then answers separated by the line
 * "\n--\n"; an answer whose first byte is '*' has its body (after the
 * first blank line) repeated as many times as the next byte says, in
 * 4 KiB units, so that bodies past every limit are tried.
 *
 * What must hold: nothing crashes, leaks or hangs; tryggd's verdict and
 * log line as fuzz_store_answer.c holds them; tryggctl's exit statuses
 * among the documented ones. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "config.h"
#include "fuzz_input.h"
#include "report_internal.h"
#include "setup_influx.h"
#include "store_http.h"
#include "store_response.h"

#define ANSWERS_MAX 16
#define SEPARATOR "\n--\n"

struct server {
	int listener;
	int port;
	pthread_mutex_t lock;
	const uint8_t *answers[ANSWERS_MAX];
	size_t lengths[ANSWERS_MAX];
	size_t count, next;
};

static struct server server = { .listener = -1, .lock = PTHREAD_MUTEX_INITIALIZER };

/* Read the request: its head, then as many body bytes as Content-Length
 * says, so that the client is never cut off while it still sends. */
static void read_request(int connection)
{
	char buffer[65536];
	size_t have = 0;
	long body = -1;
	for (;;) {
		ssize_t got = read(connection, buffer + have, sizeof(buffer) - 1 - have);
		if (got <= 0)
			return;
		have += (size_t)got;
		buffer[have] = '\0';
		char *end = strstr(buffer, "\r\n\r\n");
		if (end && body < 0) {
			char *length = strcasestr(buffer, "\r\nContent-Length:");
			body = length && length < end ? strtol(length + 17, NULL, 10) : 0;
			size_t head = (size_t)(end + 4 - buffer);
			size_t want = head + (size_t)body;
			while (have < want) {
				size_t chunk = want - have < sizeof(buffer) ? want - have : sizeof(buffer);
				got = read(connection, buffer, chunk);
				if (got <= 0)
					return;
				have += (size_t)got;
			}
			return;
		}
		if (have == sizeof(buffer) - 1)
			return;
	}
}

static void write_all(int connection, const void *bytes, size_t length)
{
	const char *p = bytes;
	while (length > 0) {
		/* MSG_NOSIGNAL: a client that gave up must not end the fuzzer
		 * with SIGPIPE. */
		ssize_t put = send(connection, p, length, MSG_NOSIGNAL);
		if (put <= 0)
			return;
		p += put;
		length -= (size_t)put;
	}
}

static void answer(int connection, const uint8_t *bytes, size_t length)
{
	if (length > 1 && bytes[0] == '*') {
		size_t repeat = bytes[1];
		bytes += 2;
		length -= 2;
		const uint8_t *blank = memmem(bytes, length, "\r\n\r\n", 4);
		size_t head = blank ? (size_t)(blank + 4 - bytes) : length;
		write_all(connection, bytes, head);
		char unit[4096];
		size_t body_length = length - head;
		for (size_t i = 0; body_length > 0 && i < sizeof(unit); i++)
			unit[i] = (char)bytes[head + i % body_length];
		for (size_t i = 0; body_length > 0 && i < repeat; i++)
			write_all(connection, unit, sizeof(unit));
		return;
	}
	write_all(connection, bytes, length);
}

static void *serve(void *unused)
{
	(void)unused;
	for (;;) {
		int connection = accept(server.listener, NULL, NULL);
		if (connection < 0)
			continue;
		read_request(connection);
		pthread_mutex_lock(&server.lock);
		const uint8_t *bytes = server.next < server.count ? server.answers[server.next] : NULL;
		size_t length = server.next < server.count ? server.lengths[server.next] : 0;
		server.next++;
		/* Answered under the lock: the next input waits until this
		 * answer's bytes are gone. */
		if (bytes)
			answer(connection, bytes, length);
		shutdown(connection, SHUT_WR);
		pthread_mutex_unlock(&server.lock);
		close(connection);
	}
	return NULL;
}

static void start_server(void)
{
	struct sockaddr_in address = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t size = sizeof(address);
	server.listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pthread_t thread;
	if (server.listener < 0 || bind(server.listener, (struct sockaddr *)&address, sizeof(address)) < 0 ||
	    listen(server.listener, 16) < 0 || getsockname(server.listener, (struct sockaddr *)&address, &size) < 0 ||
	    pthread_create(&thread, NULL, serve, NULL) != 0) {
		perror("fuzz: the loopback server");
		abort();
	}
	pthread_detach(thread);
	server.port = ntohs(address.sin_port);
}

/* ---- the readers ---- */

struct write_call {
	bool done;
	struct store_decision decision;
};

static void on_write_answer(void *userdata, const struct store_http_result *result)
{
	struct write_call *call = userdata;
	FUZZ_CHECK(result->body && strlen(result->body) <= result->body_length &&
	           result->body_length <= STORE_HTTP_BODY_MAX, "a body of %zu bytes", result->body_length);
	struct store_answer answer = {
		.transport_ok = result->transport_ok, .status = result->status, .retry_after = result->retry_after,
		.body = result->body, .now_s = 1793599200,
	};
	call->decision = store_classify(&answer);
	if (call->decision.verdict == STORE_WAIT_UNTIL)
		FUZZ_CHECK(call->decision.wait_s >= 1 && call->decision.wait_s <= STORE_RETRY_AFTER_MAX_S, "wait %lld",
		           (long long)call->decision.wait_s);
	char line[512];
	store_body_for_log(result->body, line, sizeof(line));
	for (const char *p = line; *p; p++)
		FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f, "control byte in '%s'", line);
	call->done = true;
}

static void read_as_tryggd(const char *url)
{
	static const char body[] = "light,district=Nyfors,gateway=nyfors-01,sensor=torg-ljus lux_mean=12.5 1793599200\n";
	struct influx_config config = { .url = (char *)url, .tls_verify = true, .timeout_s = 5 };
	sd_event *event = NULL;
	struct store_http *http = NULL;
	char *write_url = NULL;
	const char *const pairs[] = { "db", "trygghet", "precision", "s", NULL };
	if (sd_event_new(&event) < 0 || store_http_new(event, &config, &http) < 0 ||
	    store_http_url(url, "/write", pairs, &write_url) < 0)
		abort();
	struct store_http_request request = { .url = write_url, .body = body, .body_length = sizeof(body) - 1 };
	struct write_call call = { 0 };
	if (store_http_start(http, &request, on_write_answer, &call) < 0)
		abort();
	while (!call.done)
		if (sd_event_run(event, UINT64_MAX) < 0)
			abort();
	store_http_free(http);
	sd_event_unref(event);
	free(write_url);
}

static void read_as_report(const char *url)
{
	struct report_options options = {
		.url = url, .database = "trygghet", .timeout_s = 5,
		.since_ms = INT64_C(1793487600000), .until_ms = INT64_C(1794092400000),
	};
	struct report_ranges ranges = {
		.footfall_from = options.since_ms, .light_from = options.since_ms - 86400000,
		.until = options.until_ms, .night_until = options.until_ms + 43200000, .alert_from = options.since_ms,
	};
	struct report_data data;
	int r = report_load(&options, &ranges, &data);
	FUZZ_CHECK(r == 0 || r == -EHOSTUNREACH || r == -EACCES || r == -EPROTO || r == -EREMOTEIO || r == -ENOMEM ||
	           r == -ENOENT, "report_load gave %d", r);
	report_data_free(&data);
}

static void read_as_setup(const char *url)
{
	char *argv[] = { "setup-influx", "--url", (char *)url, "--database", "trygghet", NULL };
	optind = 0;   /* getopt starts again for each run */
	int status = ctl_setup_influx(5, argv);
	FUZZ_CHECK(status >= 0 && status < 80, "exit status %d", status);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (server.listener < 0)
		start_server();
	struct fuzz_input input = { .data = data, .size = size };
	uint8_t reader = fuzz_take_byte(&input) % 3;

	pthread_mutex_lock(&server.lock);
	server.count = 0;
	server.next = 0;
	size_t left;
	const uint8_t *rest = fuzz_rest(&input, &left);
	while (server.count < ANSWERS_MAX) {
		const uint8_t *separator = memmem(rest, left, SEPARATOR, strlen(SEPARATOR));
		size_t length = separator ? (size_t)(separator - rest) : left;
		server.answers[server.count] = rest;
		server.lengths[server.count] = length;
		server.count++;
		if (!separator)
			break;
		rest += length + strlen(SEPARATOR);
		left -= length + strlen(SEPARATOR);
	}
	pthread_mutex_unlock(&server.lock);

	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", server.port);
	if (reader == 0)
		read_as_tryggd(url);
	else if (reader == 1)
		read_as_report(url);
	else
		read_as_setup(url);

	/* The server is done with this input's bytes before they go. */
	pthread_mutex_lock(&server.lock);
	server.count = 0;
	pthread_mutex_unlock(&server.lock);
	return 0;
}
