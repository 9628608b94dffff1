/* bench_publisher.c — the smallest publisher that does what tryggd's MQTT
 * side does, for the benchmarks (tests/bench/bench_publish.py, bench_cpu.py):
 * the reference tryggd's throughput and CPU time are measured against.
 *
 *   bench-publisher URI QOS IN_FLIGHT FILE
 *
 * FILE holds one message a line, `topic<TAB>payload`.  It is read whole
 * before connecting, then every message is published at QOS with at most
 * IN_FLIGHT unacknowledged at a time (tryggd's MQTT_IN_FLIGHT_MAX is 1000),
 * through the same library tryggd uses (Paho MQTTAsync, paho-mqtt3as) with
 * tryggd's defaults: MQTT 3.1.1, clean session, keepalive 30 s.  A message
 * counts once Paho's onSuccess says the broker acknowledged it (for QoS 0:
 * that it was written out).  Then it disconnects and prints one line:
 *
 *   elapsed_s=2.345 messages=178517 user_s=1.230 system_s=0.450
 *
 * elapsed from the connect to the end of the disconnect; user and system
 * from getrusage(RUSAGE_SELF), all threads.  Exit status 0 when every
 * message was acknowledged, 1 otherwise, 64 for bad usage.
 *
 * What it leaves out on purpose is what tryggd adds: no durable buffer, no
 * event loop, no payloads to build; the difference is tryggd's cost. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <MQTTAsync.h>

#define CLIENT_ID "bench-publisher"
#define KEEPALIVE_S 30
#define CONNECT_TIMEOUT_S 10
#define DISCONNECT_TIMEOUT_MS 10000
#define EX_USAGE 64

struct message {
	char *topic;
	char *payload;
	int payload_length;
};

/* Shared with Paho's callback thread, under lock. */
struct publisher {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	long in_flight;
	long acknowledged;
	long failed;
	bool connected;
	bool connect_failed;
	bool disconnected;
	int failure_code;
};

/* ---- Paho's callbacks (its thread) ------------------------------------------------ */

static void on_connect_success(void *context, MQTTAsync_successData *response)
{
	struct publisher *publisher = context;
	(void)response;
	pthread_mutex_lock(&publisher->lock);
	publisher->connected = true;
	pthread_cond_broadcast(&publisher->changed);
	pthread_mutex_unlock(&publisher->lock);
}

static void on_connect_failure(void *context, MQTTAsync_failureData *response)
{
	struct publisher *publisher = context;
	pthread_mutex_lock(&publisher->lock);
	publisher->connect_failed = true;
	publisher->failure_code = response ? response->code : MQTTASYNC_FAILURE;
	pthread_cond_broadcast(&publisher->changed);
	pthread_mutex_unlock(&publisher->lock);
}

static void on_publish_success(void *context, MQTTAsync_successData *response)
{
	struct publisher *publisher = context;
	(void)response;
	pthread_mutex_lock(&publisher->lock);
	publisher->in_flight--;
	publisher->acknowledged++;
	pthread_cond_broadcast(&publisher->changed);
	pthread_mutex_unlock(&publisher->lock);
}

static void on_publish_failure(void *context, MQTTAsync_failureData *response)
{
	struct publisher *publisher = context;
	pthread_mutex_lock(&publisher->lock);
	publisher->in_flight--;
	publisher->failed++;
	publisher->failure_code = response ? response->code : MQTTASYNC_FAILURE;
	pthread_cond_broadcast(&publisher->changed);
	pthread_mutex_unlock(&publisher->lock);
}

static void on_disconnect(void *context, MQTTAsync_successData *response)
{
	struct publisher *publisher = context;
	(void)response;
	pthread_mutex_lock(&publisher->lock);
	publisher->disconnected = true;
	pthread_cond_broadcast(&publisher->changed);
	pthread_mutex_unlock(&publisher->lock);
}

static void on_connection_lost(void *context, char *cause)
{
	struct publisher *publisher = context;
	fprintf(stderr, "bench-publisher: connection lost: %s\n", cause ? cause : "(no reason)");
	pthread_mutex_lock(&publisher->lock);
	publisher->connect_failed = true;
	publisher->failure_code = MQTTASYNC_DISCONNECTED;
	pthread_cond_broadcast(&publisher->changed);
	pthread_mutex_unlock(&publisher->lock);
}

static int on_message(void *context, char *topic, int topic_length, MQTTAsync_message *message)
{
	/* Never subscribed; Paho wants the callback all the same. */
	(void)context;
	(void)topic_length;
	MQTTAsync_freeMessage(&message);
	MQTTAsync_free(topic);
	return 1;
}

/* ---- the message file ---------------------------------------------------------- */

/* Reads FILE whole and splits it in place: each message's topic and
 * payload point into *text, which the caller frees with *messages. */
static int read_messages(const char *path, char **text, struct message **messages, long *count)
{
	int r = 0;
	char *buffer = NULL;
	struct message *list = NULL;
	FILE *file = fopen(path, "rb");
	if (!file)
		return -errno;
	if (fseek(file, 0, SEEK_END) != 0) {
		r = -errno;
		goto cleanup;
	}
	long size = ftell(file);
	if (size < 0 || fseek(file, 0, SEEK_SET) != 0) {
		r = -errno;
		goto cleanup;
	}
	buffer = malloc((size_t)size + 1);
	if (!buffer) {
		r = -ENOMEM;
		goto cleanup;
	}
	if (fread(buffer, 1, (size_t)size, file) != (size_t)size) {
		r = -EIO;
		goto cleanup;
	}
	buffer[size] = '\0';

	long lines = 0;
	for (long i = 0; i < size; i++)
		lines += buffer[i] == '\n';
	list = calloc((size_t)lines + 1, sizeof(*list));
	if (!list) {
		r = -ENOMEM;
		goto cleanup;
	}
	long used = 0;
	for (char *line = buffer; *line;) {
		char *end = strchr(line, '\n');
		char *next = end ? end + 1 : line + strlen(line);
		if (end)
			*end = '\0';
		char *tab = strchr(line, '\t');
		if (tab && tab != line) {
			*tab = '\0';
			list[used].topic = line;
			list[used].payload = tab + 1;
			list[used].payload_length = (int)strlen(tab + 1);
			used++;
		} else if (*line) {
			r = -EBADMSG;   /* a line without a topic: the file is not ours */
			goto cleanup;
		}
		line = next;
	}
	*text = buffer;
	*messages = list;
	*count = used;
	buffer = NULL;
	list = NULL;
cleanup:
	free(list);
	free(buffer);
	fclose(file);
	return r;
}

/* ---- publishing ------------------------------------------------------------------ */

static double seconds_since(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static double timeval_seconds(struct timeval value)
{
	return (double)value.tv_sec + (double)value.tv_usec / 1e6;
}

/* Waits (lock held) until condition holds or the connection failed. */
#define WAIT_UNTIL(publisher, condition)                                               \
	while (!(condition) && !(publisher)->connect_failed)                            \
		pthread_cond_wait(&(publisher)->changed, &(publisher)->lock)

static int publish_all(MQTTAsync client, struct publisher *publisher, const struct message *messages,
                       long count, int qos, long in_flight_max)
{
	MQTTAsync_connectOptions connect = MQTTAsync_connectOptions_initializer;
	connect.keepAliveInterval = KEEPALIVE_S;
	connect.cleansession = 1;
	connect.MQTTVersion = MQTTVERSION_3_1_1;
	connect.connectTimeout = CONNECT_TIMEOUT_S;
	connect.onSuccess = on_connect_success;
	connect.onFailure = on_connect_failure;
	connect.context = publisher;
	int rc = MQTTAsync_connect(client, &connect);
	if (rc != MQTTASYNC_SUCCESS) {
		fprintf(stderr, "bench-publisher: cannot connect: %s\n", MQTTAsync_strerror(rc));
		return -ECONNREFUSED;
	}
	pthread_mutex_lock(&publisher->lock);
	WAIT_UNTIL(publisher, publisher->connected);
	bool connected = publisher->connected;
	int failure_code = publisher->failure_code;
	pthread_mutex_unlock(&publisher->lock);
	if (!connected) {
		fprintf(stderr, "bench-publisher: cannot connect: %s\n", MQTTAsync_strerror(failure_code));
		return -ECONNREFUSED;
	}

	for (long i = 0; i < count; i++) {
		pthread_mutex_lock(&publisher->lock);
		WAIT_UNTIL(publisher, publisher->in_flight < in_flight_max);
		bool lost = publisher->connect_failed;
		if (!lost)
			publisher->in_flight++;
		pthread_mutex_unlock(&publisher->lock);
		if (lost)
			return -ECONNRESET;

		MQTTAsync_responseOptions response = MQTTAsync_responseOptions_initializer;
		response.onSuccess = on_publish_success;
		response.onFailure = on_publish_failure;
		response.context = publisher;
		MQTTAsync_message message = MQTTAsync_message_initializer;
		message.payload = messages[i].payload;
		message.payloadlen = messages[i].payload_length;
		message.qos = qos;
		rc = MQTTAsync_sendMessage(client, messages[i].topic, &message, &response);
		if (rc != MQTTASYNC_SUCCESS) {
			fprintf(stderr, "bench-publisher: message %ld: %s\n", i + 1, MQTTAsync_strerror(rc));
			return -EIO;
		}
	}
	pthread_mutex_lock(&publisher->lock);
	WAIT_UNTIL(publisher, publisher->in_flight == 0);
	pthread_mutex_unlock(&publisher->lock);

	MQTTAsync_disconnectOptions disconnect = MQTTAsync_disconnectOptions_initializer;
	disconnect.timeout = DISCONNECT_TIMEOUT_MS;
	disconnect.onSuccess = on_disconnect;
	disconnect.context = publisher;
	rc = MQTTAsync_disconnect(client, &disconnect);
	if (rc == MQTTASYNC_SUCCESS) {
		pthread_mutex_lock(&publisher->lock);
		WAIT_UNTIL(publisher, publisher->disconnected);
		pthread_mutex_unlock(&publisher->lock);
	}
	return 0;
}

static int parse_number(const char *text, long low, long high, long *out)
{
	char *end;
	errno = 0;
	long value = strtol(text, &end, 10);
	if (errno || end == text || *end || value < low || value > high)
		return -EINVAL;
	*out = value;
	return 0;
}

int main(int argc, char **argv)
{
	long qos, in_flight_max;
	if (argc != 5 || parse_number(argv[2], 0, 2, &qos) < 0 ||
	    parse_number(argv[3], 1, 65535, &in_flight_max) < 0) {
		fprintf(stderr, "usage: bench-publisher URI QOS IN_FLIGHT FILE\n"
		                "  QOS 0 to 2; IN_FLIGHT 1 to 65535; FILE: topic<TAB>payload a line\n");
		return EX_USAGE;
	}
	int status = 1;
	char *text = NULL;
	struct message *messages = NULL;
	long count = 0;
	MQTTAsync client = NULL;
	struct publisher publisher = { .lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER };

	int r = read_messages(argv[4], &text, &messages, &count);
	if (r < 0) {
		fprintf(stderr, "bench-publisher: %s: %s\n", argv[4], strerror(-r));
		goto cleanup;
	}
	MQTTAsync_createOptions create = MQTTAsync_createOptions_initializer;
	create.MQTTVersion = MQTTVERSION_3_1_1;
	create.sendWhileDisconnected = 0;
	/* As tryggd (gateway/mqtt.c): room for the whole window. */
	create.maxBufferedMessages = (int)in_flight_max + 100;
	int rc = MQTTAsync_createWithOptions(&client, argv[1], CLIENT_ID, MQTTCLIENT_PERSISTENCE_NONE, NULL, &create);
	if (rc != MQTTASYNC_SUCCESS) {
		fprintf(stderr, "bench-publisher: cannot use %s: %s\n", argv[1], MQTTAsync_strerror(rc));
		goto cleanup;
	}
	rc = MQTTAsync_setCallbacks(client, &publisher, on_connection_lost, on_message, NULL);
	if (rc != MQTTASYNC_SUCCESS) {
		fprintf(stderr, "bench-publisher: %s\n", MQTTAsync_strerror(rc));
		goto cleanup;
	}

	struct timespec started;
	clock_gettime(CLOCK_MONOTONIC, &started);
	r = publish_all(client, &publisher, messages, count, (int)qos, in_flight_max);
	double elapsed = seconds_since(&started);
	struct rusage usage;
	getrusage(RUSAGE_SELF, &usage);
	pthread_mutex_lock(&publisher.lock);
	long acknowledged = publisher.acknowledged, failed = publisher.failed;
	pthread_mutex_unlock(&publisher.lock);
	printf("elapsed_s=%.3f messages=%ld user_s=%.3f system_s=%.3f\n", elapsed, acknowledged,
	       timeval_seconds(usage.ru_utime), timeval_seconds(usage.ru_stime));
	if (r < 0 || failed || acknowledged != count) {
		fprintf(stderr, "bench-publisher: %ld of %ld messages acknowledged, %ld failed (%s)\n", acknowledged,
		        count, failed, r < 0 ? strerror(-r) : "see above");
		goto cleanup;
	}
	status = 0;
cleanup:
	if (client)
		MQTTAsync_destroy(&client);
	free(messages);
	free(text);
	return status;
}
