/* test_store_readback.c — the read-back (store_readback.c) against a real
 * VictoriaMetrics, started on a free loopback port in a temporary folder
 * with a retention of one month, so that it answers 204 to a point from
 * 2001 and drops it: a point kept, one dropped, tag values that take every
 * escape (written as lineproto.c writes them for this store), a point at
 * midnight UTC, the sample spread over a batch, a point found only on the
 * retry, and basic authentication.
 * Then, with no server at all: a store that is down, a full queue, and the
 * read-back freed while its queries are under way (which must never call
 * back into freed memory; run under AddressSanitizer to see it).  And
 * the export answer alone (store_export.h), cut where the body's bound
 * cut it.
 *
 * Without /usr/bin/victoria-metrics the tests that need it are skipped,
 * saying so.  The servers die with the test, also when it fails or
 * crashes (PR_SET_PDEATHSIG). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <systemd/sd-event.h>

#include "lineproto.h"
#include "store_export.h"
#include "store_http.h"
#include "store_readback.h"
#include "temp_tree.h"

#ifndef VICTORIA_METRICS
#define VICTORIA_METRICS "/usr/bin/victoria-metrics"
#endif
#define DATABASE "trygghet"
/* 2001-01-01T00:00:00Z: far outside a retention of one month. */
#define TIMESTAMP_2001 INT64_C(978307200)
/* The read-back's 2 s and 15 s become 20 ms and 150 ms. */
#define TIME_SCALE 100.0
#define RUN_TIMEOUT_MS 10000
#define AUTH_USER "reader"
#define AUTH_PASSWORD "s3cret:with colon"

struct victoria {
	pid_t pid;
	char root[PATH_MAX];
	char url[64];
};

/* The group's servers: the group teardown stops both, also after a
 * failed assertion left a test halfway. */
struct servers {
	struct victoria plain;
	struct victoria authenticating;     /* started by its test */
};

/* Everything a test talks to the store with. */
struct harness {
	sd_event *event;
	struct influx_config config;
	struct store_http *http;
	struct store_readback *readback;
};

static int64_t monotonic_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* A socket bound to a free loopback port, and the port. */
static int loopback_socket(int *port)
{
	struct sockaddr_in address = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t length = sizeof(address);
	int descriptor = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(descriptor >= 0);
	assert_int_equal(bind(descriptor, (struct sockaddr *)&address, sizeof(address)), 0);
	assert_int_equal(getsockname(descriptor, (struct sockaddr *)&address, &length), 0);
	*port = ntohs(address.sin_port);
	return descriptor;
}

/* A loopback port nobody listens on (as long as nobody takes it next). */
static int free_port(void)
{
	int port;
	close(loopback_socket(&port));
	return port;
}

struct buffer {
	char *data;
	size_t length;
};

static size_t buffer_append(char *data, size_t size, size_t count, void *userdata)
{
	struct buffer *buffer = userdata;
	char *grown = realloc(buffer->data, buffer->length + size * count + 1);
	if (!grown)
		return 0;
	memcpy(grown + buffer->length, data, size * count);
	buffer->length += size * count;
	grown[buffer->length] = '\0';
	buffer->data = grown;
	return size * count;
}

/* GET (body NULL) or POST url; the status, or 0 without an answer.  The
 * answer's body in *answer (free it) when answer is not NULL. */
static long http_blocking(const char *url, const char *body, const char *user, const char *password,
                          char **answer)
{
	struct buffer buffer = { .data = NULL, .length = 0 };
	long status = 0;
	CURL *easy = curl_easy_init();
	assert_non_null(easy);
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_PROXY, "");
	curl_easy_setopt(easy, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, buffer_append);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, &buffer);
	if (body)
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
	if (user) {
		curl_easy_setopt(easy, CURLOPT_USERNAME, user);
		curl_easy_setopt(easy, CURLOPT_PASSWORD, password);
	}
	if (curl_easy_perform(easy) == CURLE_OK)
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(easy);
	if (answer)
		*answer = buffer.data ? buffer.data : strdup("");
	else
		free(buffer.data);
	return status;
}

static void victoria_write(const struct victoria *vm, const char *lines, const char *user, const char *password)
{
	char url[128];
	snprintf(url, sizeof(url), "%s/write?db=" DATABASE "&precision=s", vm->url);
	assert_int_equal(http_blocking(url, lines, user, password, NULL), 204);
}

/* Waits until the export has `series` footfall_count series of gateway
 * with a point in [from_s, to_s]: the test's points are then searchable,
 * and the read-back's answers do not depend on how fast the server is. */
static void victoria_wait_exported(const struct victoria *vm, const char *gateway, int64_t from_s, int64_t to_s,
                                   size_t series, const char *user, const char *password)
{
	char *selector, *escaped, *url;
	CURL *easy = curl_easy_init();
	assert_non_null(easy);
	assert_true(asprintf(&selector, "{__name__=\"footfall_count\",gateway=\"%s\"}", gateway) > 0);
	escaped = curl_easy_escape(easy, selector, 0);
	assert_true(asprintf(&url, "%s/api/v1/export?match%%5B%%5D=%s&start=%lld&end=%lld", vm->url, escaped,
	                     (long long)from_s, (long long)to_s) > 0);
	/* A point is searchable about 1 s after its write; asking before that
	 * makes the server answer "no such series" for ~10 s more. */
	usleep(1500 * 1000);
	size_t found = 0;
	for (int64_t deadline = monotonic_ms() + 30000; monotonic_ms() < deadline; usleep(200 * 1000)) {
		char *answer;
		assert_int_equal(http_blocking(url, NULL, user, password, &answer), 200);
		found = 0;
		for (const char *p = answer; (p = strchr(p, '\n')); p++)
			found++;
		free(answer);
		if (found >= series)
			break;
	}
	assert_int_equal(found, series);
	free(url);
	curl_free(escaped);
	free(selector);
	curl_easy_cleanup(easy);
}

/* SIGTERM, and SIGKILL when that takes more than 5 s. */
static void victoria_end_process(struct victoria *vm)
{
	if (vm->pid <= 0)
		return;
	kill(vm->pid, SIGTERM);
	for (int64_t deadline = monotonic_ms() + 5000; waitpid(vm->pid, NULL, WNOHANG) == 0; usleep(20 * 1000))
		if (monotonic_ms() > deadline) {
			kill(vm->pid, SIGKILL);
			waitpid(vm->pid, NULL, 0);
			break;
		}
	vm->pid = 0;
}

static void victoria_stop(struct victoria *vm)
{
	victoria_end_process(vm);
	if (vm->root[0])
		temp_tree_remove(vm->root);
	vm->root[0] = '\0';
}

static pid_t victoria_spawn(const struct victoria *vm, int port, const char *extra_argument[])
{
	char listen[64], storage[PATH_MAX + 32], log_path[PATH_MAX + 32];
	snprintf(listen, sizeof(listen), "-httpListenAddr=127.0.0.1:%d", port);
	snprintf(storage, sizeof(storage), "-storageDataPath=%s/data", vm->root);
	snprintf(log_path, sizeof(log_path), "%s/victoria.log", vm->root);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	/* Never outlive the test, whatever ends it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	int log_descriptor = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (log_descriptor >= 0) {
		dup2(log_descriptor, STDOUT_FILENO);
		dup2(log_descriptor, STDERR_FILENO);
	}
	const char *arguments[8] = { VICTORIA_METRICS, listen, storage, "-retentionPeriod=1", "-loggerLevel=WARN" };
	size_t count = 5;
	for (size_t i = 0; extra_argument && extra_argument[i] && count < 7; i++)
		arguments[count++] = extra_argument[i];
	execv(VICTORIA_METRICS, (char *const *)arguments);
	_exit(127);
}

/* Starts a server (extra_argument: more flags, NULL-terminated, or NULL);
 * -1 when it did not come up, with its log on stderr. */
static int victoria_start(struct victoria *vm, const char *extra_argument[])
{
	memset(vm, 0, sizeof(*vm));
	if (!temp_tree_make(vm->root, sizeof(vm->root), "/tmp/tryggd-readback-XXXXXX")) {
		vm->root[0] = '\0';
		return -1;
	}
	/* The port can be taken between free_port() and the server's bind:
	 * then it exits, and another port is tried. */
	for (int attempt = 0; attempt < 5; attempt++) {
		int port = free_port();
		snprintf(vm->url, sizeof(vm->url), "http://127.0.0.1:%d", port);
		vm->pid = victoria_spawn(vm, port, extra_argument);
		if (vm->pid < 0)
			break;
		char health[96];
		snprintf(health, sizeof(health), "%s/health", vm->url);
		for (int64_t deadline = monotonic_ms() + 15000; monotonic_ms() < deadline; usleep(50 * 1000)) {
			if (waitpid(vm->pid, NULL, WNOHANG) == vm->pid) {
				vm->pid = 0;
				break;
			}
			if (http_blocking(health, NULL, NULL, NULL, NULL) == 200)
				return 0;
		}
		victoria_end_process(vm);
	}
	char command[PATH_MAX + 32];
	snprintf(command, sizeof(command), "cat %s/victoria.log >&2", vm->root);
	fprintf(stderr, "victoria-metrics did not start; its log:\n");
	if (system(command) != 0)
		fprintf(stderr, "(no log)\n");
	victoria_stop(vm);
	return -1;
}

static void harness_open(struct harness *harness, const char *url, double time_scale)
{
	memset(harness, 0, sizeof(*harness));
	harness->config = (struct influx_config){
		.url = (char *)url,
		.api = INFLUX_VICTORIA,
		.database = (char *)DATABASE,
		.tls_verify = true,
		.verify = INFLUX_VERIFY_READBACK,
		.timeout_s = 5,
	};
	assert_int_equal(sd_event_new(&harness->event), 0);
	assert_int_equal(store_http_new(harness->event, &harness->config, &harness->http), 0);
	assert_int_equal(store_readback_new(harness->event, harness->http, &harness->config, time_scale,
	                                    &harness->readback), 0);
}

static void harness_close(struct harness *harness)
{
	/* The order the forwarder keeps: the read-back before the client. */
	store_readback_free(harness->readback);
	store_http_free(harness->http);
	sd_event_unref(harness->event);
}

static uint64_t counted(const struct store_readback_counters *counters)
{
	return counters->verified + counters->missing + counters->unknown + counters->skipped;
}

/* Runs the loop until total samples are counted, or RUN_TIMEOUT_MS. */
static struct store_readback_counters harness_run(struct harness *harness, uint64_t total)
{
	struct store_readback_counters counters = store_readback_counters(harness->readback);
	for (int64_t deadline = monotonic_ms() + RUN_TIMEOUT_MS; counted(&counters) < total && monotonic_ms() < deadline;) {
		assert_true(sd_event_run(harness->event, 50 * 1000) >= 0);
		counters = store_readback_counters(harness->readback);
	}
	return counters;
}

/* Runs the loop for milliseconds, whatever happens. */
static void harness_spin(struct harness *harness, int milliseconds)
{
	for (int64_t deadline = monotonic_ms() + milliseconds; monotonic_ms() < deadline;)
		assert_true(sd_event_run(harness->event, 10 * 1000) >= 0);
}

static void add_lines(struct harness *harness, const char *lines)
{
	size_t count = 0;
	for (const char *p = lines; (p = strchr(p, '\n')); p++)
		count++;
	store_readback_add(harness->readback, lines, strlen(lines), count);
}

static void assert_counters(struct store_readback_counters counters, uint64_t verified, uint64_t missing,
                            uint64_t unknown, uint64_t skipped)
{
	assert_int_equal(counters.verified, verified);
	assert_int_equal(counters.missing, missing);
	assert_int_equal(counters.unknown, unknown);
	assert_int_equal(counters.skipped, skipped);
}

/* A whole minute ten minutes ago: inside the retention, never ahead. */
static int64_t recent_s(void)
{
	int64_t now = (int64_t)time(NULL);
	return now - now % 60 - 600;
}

static char *escaped_tag(const char *value)
{
	static char text[4][256];
	static size_t next;
	char *out = text[next++ % 4];
	assert_true(lineproto_escape_tag(LINEPROTO_BACKSLASH_DOUBLED, value, out, sizeof(text[0])) > 0);
	return out;
}

static int group_setup(void **state)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	*state = NULL;
	if (access(VICTORIA_METRICS, X_OK) != 0) {
		fprintf(stderr, "%s is not installed: the read-back tests against a real "
		                "VictoriaMetrics are skipped\n", VICTORIA_METRICS);
		return 0;
	}
	struct servers *servers = calloc(1, sizeof(*servers));
	if (!servers || victoria_start(&servers->plain, NULL) < 0) {
		free(servers);
		return -1;
	}
	*state = servers;
	return 0;
}

static int group_teardown(void **state)
{
	struct servers *servers = *state;
	if (servers) {
		victoria_stop(&servers->plain);
		victoria_stop(&servers->authenticating);
	}
	free(servers);
	curl_global_cleanup();
	return 0;
}

static struct servers *servers_or_skip(void **state)
{
	if (!*state)
		skip();
	return *state;
}

static void test_verified_and_missing(void **state)
{
	const struct victoria *vm = &servers_or_skip(state)->plain;
	int64_t t = recent_s();
	int64_t now = (int64_t)time(NULL);
	/* A midnight is where the export's end must be past the point (see
	 * store_readback.c). */
	int64_t midnight = now - now % 86400;
	/* Every escape at once, and a backslash before each special character
	 * and at the end. */
	const char *district = "Å\\b,c d=e\"f\\,g\\\\ h\\=i 😀";
	const char *site = "x\\";
	char batch[2048], lone[256];
	snprintf(batch, sizeof(batch),
	         "footfall,district=Nyfors,gateway=readback-verify,sensor=door,site=Torget count=12i,in=7i,out=5i %lld\n"
	         "footfall,district=Nyfors,gateway=readback-verify,sensor=gate,site=Torget count=3i %lld\n"
	         "footfall,district=Nyfors,gateway=readback-verify,sensor=door,site=Torget count=1i %lld\n"
	         "footfall,district=%s,gateway=readback-verify,sensor=hostile,site=%s count=2i %lld\n",
	         (long long)t, (long long)midnight, (long long)TIMESTAMP_2001, escaped_tag(district),
	         escaped_tag(site), (long long)t);
	/* Not as tryggd writes it: a lone backslash before an ordinary
	 * character, which the store keeps as it is. */
	snprintf(lone, sizeof(lone), "footfall,district=a\\b,gateway=readback-verify,sensor=lone count=1i %lld\n",
	         (long long)t);
	char *both;
	assert_true(asprintf(&both, "%s%s", batch, lone) > 0);
	victoria_write(vm, both, NULL, NULL);
	free(both);
	victoria_wait_exported(vm, "readback-verify", t < midnight ? t : midnight, (t > midnight ? t : midnight) + 1,
	                       4, NULL, NULL);

	struct harness harness;
	harness_open(&harness, vm->url, TIME_SCALE);
	add_lines(&harness, batch);
	add_lines(&harness, lone);
	struct store_readback_counters counters = harness_run(&harness, 5);
	/* The 2001 point: answered 204, dropped, found missing after the retry. */
	assert_counters(counters, 4, 1, 0, 0);
	harness_close(&harness);
}

static void test_sample_spread(void **state)
{
	const struct victoria *vm = &servers_or_skip(state)->plain;
	int64_t t = recent_s();
	char batch[2048] = "", stored[1024] = "";
	size_t batch_length = 0, stored_length = 0;
	for (int i = 0; i < 10; i++) {
		char line[160];
		int length = snprintf(line, sizeof(line),
		                      "footfall,district=Nyfors,gateway=readback-sample,sensor=s%d count=%di %lld\n", i, i,
		                      (long long)t);
		memcpy(batch + batch_length, line, (size_t)length + 1);
		batch_length += (size_t)length;
		/* Of ten lines the sample is the first, the last and two evenly
		 * between: only those are in the store. */
		if (i % 3 == 0) {
			memcpy(stored + stored_length, line, (size_t)length + 1);
			stored_length += (size_t)length;
		}
	}
	victoria_write(vm, stored, NULL, NULL);
	victoria_wait_exported(vm, "readback-sample", t, t + 1, 4, NULL, NULL);

	struct harness harness;
	harness_open(&harness, vm->url, TIME_SCALE);
	add_lines(&harness, batch);
	assert_counters(harness_run(&harness, READBACK_SAMPLE), 4, 0, 0, 0);
	/* Nothing more was sampled. */
	harness_spin(&harness, 400);
	assert_counters(store_readback_counters(harness.readback), 4, 0, 0, 0);
	harness_close(&harness);
}

static void test_found_on_retry(void **state)
{
	const struct victoria *vm = &servers_or_skip(state)->plain;
	int64_t t = recent_s();
	char first[160], late[160];
	snprintf(first, sizeof(first), "footfall,gateway=readback-retry,sensor=door count=1i %lld\n", (long long)(t - 60));
	snprintf(late, sizeof(late), "footfall,gateway=readback-retry,sensor=door count=2i %lld\n", (long long)t);
	/* The series is known before it is asked for (see victoria_wait_exported). */
	victoria_write(vm, first, NULL, NULL);
	victoria_wait_exported(vm, "readback-retry", t - 60, t - 59, 1, NULL, NULL);

	struct harness harness;
	/* The first query after 0.4 s, the retry 3 s later. */
	harness_open(&harness, vm->url, 5.0);
	add_lines(&harness, late);
	harness_spin(&harness, 1000);
	assert_counters(store_readback_counters(harness.readback), 0, 0, 0, 0);
	/* Not in the store at the first query; there, ~1 s after this write,
	 * long before the retry. */
	victoria_write(vm, late, NULL, NULL);
	assert_counters(harness_run(&harness, 1), 1, 0, 0, 0);
	harness_close(&harness);
}

static void test_basic_authentication(void **state)
{
	struct servers *servers = servers_or_skip(state);
	const char *flags[] = { "-httpAuth.username=" AUTH_USER, "-httpAuth.password=" AUTH_PASSWORD, NULL };
	struct victoria *vm = &servers->authenticating;
	assert_int_equal(victoria_start(vm, flags), 0);
	int64_t t = recent_s();
	char line[160];
	snprintf(line, sizeof(line), "footfall,district=Nyfors,gateway=readback-auth,sensor=door count=1i %lld\n",
	         (long long)t);
	victoria_write(vm, line, AUTH_USER, AUTH_PASSWORD);
	victoria_wait_exported(vm, "readback-auth", t, t + 1, 1, AUTH_USER, AUTH_PASSWORD);

	struct harness harness;
	harness_open(&harness, vm->url, TIME_SCALE);
	/* Without credentials: 401, so the point cannot be checked. */
	add_lines(&harness, line);
	assert_counters(harness_run(&harness, 1), 0, 0, 1, 0);
	assert_int_equal(store_readback_set_credentials(harness.readback, AUTH_USER, AUTH_PASSWORD), 0);
	add_lines(&harness, line);
	assert_counters(harness_run(&harness, 2), 1, 0, 1, 0);
	harness_close(&harness);
	victoria_stop(vm);
}

static void test_store_down(void **state)
{
	(void)state;
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", free_port());
	struct harness harness;
	harness_open(&harness, url, TIME_SCALE);
	/* Refused connections, and a line that is no point at all. */
	add_lines(&harness, "footfall,district=Nyfors,gateway=g,sensor=a count=1i 1767225600\n"
	                    "footfall,district=Nyfors,gateway=g,sensor=b count=1i 1767225660\n");
	add_lines(&harness, "not line protocol\n");
	assert_counters(harness_run(&harness, 3), 0, 0, 3, 0);
	harness_close(&harness);
}

static void test_queue_full(void **state)
{
	(void)state;
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", free_port());
	struct harness harness;
	/* In real time: nothing is due before the test ends. */
	harness_open(&harness, url, 1.0);
	const char *batch = "footfall,gateway=g,sensor=a count=1i 1767225600\n"
	                    "footfall,gateway=g,sensor=b count=1i 1767225600\n"
	                    "footfall,gateway=g,sensor=c count=1i 1767225600\n"
	                    "footfall,gateway=g,sensor=d count=1i 1767225600\n";
	for (int i = 0; i < READBACK_QUEUE_MAX / READBACK_SAMPLE + 1; i++)
		add_lines(&harness, batch);
	assert_counters(store_readback_counters(harness.readback), 0, 0, 0, READBACK_SAMPLE);
	/* Freed with a full queue: nothing leaks. */
	harness_close(&harness);
}

static void test_free_with_queries_under_way(void **state)
{
	(void)state;
	/* A server that takes connections into its backlog and never answers. */
	int port;
	int listener = loopback_socket(&port);
	assert_int_equal(listen(listener, 16), 0);
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);

	struct harness harness;
	/* Due at once. */
	harness_open(&harness, url, 1e9);
	add_lines(&harness, "footfall,gateway=g,sensor=a count=1i 1767225600\n"
	                    "footfall,gateway=g,sensor=b count=1i 1767225600\n"
	                    "footfall,gateway=g,sensor=c count=1i 1767225600\n");
	harness_spin(&harness, 200);
	struct store_readback_counters counters = store_readback_counters(harness.readback);
	assert_int_equal(counted(&counters), 0);

	store_readback_free(harness.readback);
	harness.readback = NULL;
	/* The connections are reset now: a request left behind would end and
	 * call back into the freed read-back. */
	close(listener);
	harness_spin(&harness, 300);
	harness_close(&harness);
}

static void test_export_answer(void **state)
{
	(void)state;
	const char series[] = "{\"metric\":{\"__name__\":\"footfall_count\",\"sensor\":\"a\"},\"values\":[1,2],"
	                      "\"timestamps\":[1767225540000,1767225600000]}\n";
	const char other[] = "{\"metric\":{\"__name__\":\"footfall_count\",\"sensor\":\"b\"},\"values\":[3],"
	                     "\"timestamps\":[1767225660000]}\n";
	char body[sizeof(series) + sizeof(other)];
	snprintf(body, sizeof(body), "%s%s", other, series);
	size_t length = strlen(body);
	assert_int_equal(store_export_has_timestamp(body, length, false, INT64_C(1767225600000)), 1);
	assert_int_equal(store_export_has_timestamp(body, length, false, INT64_C(1767225601000)), 0);
	assert_int_equal(store_export_has_timestamp("", 0, false, INT64_C(1767225600000)), 0);
	assert_int_equal(store_export_has_timestamp("[1]\n", 4, false, 1), -EBADMSG);
	assert_int_equal(store_export_has_timestamp("{\"values\":[1]}", 14, false, 1), -EBADMSG);
	/* Cut inside the second series, as STORE_HTTP_BODY_MAX cuts a long
	 * answer: not an answer of another kind, but one read in part.  It
	 * used to be taken for one that is not export's. */
	size_t cut = strlen(other) + 40;
	assert_int_equal(store_export_has_timestamp(body, cut, true, INT64_C(1767225600000)), -EFBIG);
	assert_int_equal(store_export_has_timestamp(body, cut, true, INT64_C(1767225660000)), 1);
	/* Cut right after a newline: every line read is whole. */
	assert_int_equal(store_export_has_timestamp(body, strlen(other), true, INT64_C(1767225600000)), -EFBIG);
	assert_int_equal(store_export_has_timestamp(body, length, true, INT64_C(1767225600000)), 1);
	/* Not cut, the same piece is no series. */
	assert_int_equal(store_export_has_timestamp(body, cut, false, INT64_C(1767225660000)), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verified_and_missing),
		cmocka_unit_test(test_sample_spread),
		cmocka_unit_test(test_found_on_retry),
		cmocka_unit_test(test_basic_authentication),
		cmocka_unit_test(test_store_down),
		cmocka_unit_test(test_queue_full),
		cmocka_unit_test(test_free_with_queries_under_way),
		cmocka_unit_test(test_export_answer),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
