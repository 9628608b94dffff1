/* mqtt.c — see mqtt.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <MQTTAsync.h>

#include "log.h"
#include "mqtt.h"

#define RETRY_MIN_S 1
#define RETRY_MAX_S 60

/* What Paho's threads report, under the mutex.  The loop compares the
 * counts with what it has already handled, so events can never be lost
 * or coalesced wrongly however they interleave. */
struct mqtt_shared {
	pthread_mutex_t mutex;
	uint64_t connects;           /* successful connects, first and later */
	uint64_t connect_failures;
	uint64_t losses;
	uint64_t published, failed;
	char reason[256];            /* of the last failure or loss */
};

struct mqtt {
	MQTTAsync client;
	sd_event *event;
	sd_event_source *wakeup_source, *retry_source;
	int wakeup_fd;
	struct mqtt_events events;
	int qos_will;
	char *uri, *will_topic, *will_payload;
	int keepalive_s;
	bool connected, connecting, reported_down;
	int retry_s;
	uint64_t sent;                   /* handed to Paho */
	uint64_t seen_connects, seen_failures, seen_losses, seen_completed;
	struct mqtt_counters counters;
	struct mqtt_shared shared;
};

/* ---- Paho's threads: record and wake the loop, nothing else. ---- */

static void mqtt_wake(struct mqtt *mqtt)
{
	uint64_t one = 1;
	/* EAGAIN only when the counter is saturated: the loop is awake anyway. */
	(void)!write(mqtt->wakeup_fd, &one, sizeof(one));
}

static void mqtt_on_connected(void *context, char *cause)
{
	struct mqtt *mqtt = context;
	(void)cause;
	pthread_mutex_lock(&mqtt->shared.mutex);
	mqtt->shared.connects++;
	pthread_mutex_unlock(&mqtt->shared.mutex);
	mqtt_wake(mqtt);
}

static void mqtt_on_connect_failure(void *context, MQTTAsync_failureData *response)
{
	struct mqtt *mqtt = context;
	pthread_mutex_lock(&mqtt->shared.mutex);
	mqtt->shared.connect_failures++;
	snprintf(mqtt->shared.reason, sizeof(mqtt->shared.reason), "%s",
	         response && response->message ? response->message
	         : MQTTAsync_strerror(response ? response->code : MQTTASYNC_FAILURE));
	pthread_mutex_unlock(&mqtt->shared.mutex);
	mqtt_wake(mqtt);
}

static void mqtt_on_connection_lost(void *context, char *cause)
{
	struct mqtt *mqtt = context;
	pthread_mutex_lock(&mqtt->shared.mutex);
	mqtt->shared.losses++;
	snprintf(mqtt->shared.reason, sizeof(mqtt->shared.reason), "%s", cause ? cause : "connection lost");
	pthread_mutex_unlock(&mqtt->shared.mutex);
	mqtt_wake(mqtt);
}

static void mqtt_on_publish_success(void *context, MQTTAsync_successData *response)
{
	struct mqtt *mqtt = context;
	(void)response;
	pthread_mutex_lock(&mqtt->shared.mutex);
	mqtt->shared.published++;
	pthread_mutex_unlock(&mqtt->shared.mutex);
	mqtt_wake(mqtt);
}

static void mqtt_on_publish_failure(void *context, MQTTAsync_failureData *response)
{
	struct mqtt *mqtt = context;
	(void)response;
	pthread_mutex_lock(&mqtt->shared.mutex);
	mqtt->shared.failed++;
	pthread_mutex_unlock(&mqtt->shared.mutex);
	mqtt_wake(mqtt);
}

static int mqtt_on_message(void *context, char *topic, int topic_length, MQTTAsync_message *message)
{
	/* tryggd subscribes to nothing; free what Paho hands over anyway. */
	(void)context;
	(void)topic_length;
	MQTTAsync_freeMessage(&message);
	MQTTAsync_free(topic);
	return 1;
}

/* ---- The loop's thread. ---- */

static int mqtt_connect(struct mqtt *mqtt);

static int mqtt_on_retry(sd_event_source *source, uint64_t usec, void *userdata)
{
	(void)source;
	(void)usec;
	mqtt_connect(userdata);
	return 0;
}

static void mqtt_schedule_retry(struct mqtt *mqtt)
{
	uint64_t now;
	sd_event_now(mqtt->event, CLOCK_MONOTONIC, &now);
	sd_event_source_set_time(mqtt->retry_source, now + (uint64_t)mqtt->retry_s * 1000000u);
	sd_event_source_set_enabled(mqtt->retry_source, SD_EVENT_ONESHOT);
	if (mqtt->retry_s < RETRY_MAX_S)
		mqtt->retry_s = mqtt->retry_s * 2 > RETRY_MAX_S ? RETRY_MAX_S : mqtt->retry_s * 2;
}

static int mqtt_on_wakeup(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
	struct mqtt *mqtt = userdata;
	uint64_t value;
	(void)source;
	(void)revents;
	(void)!read(fd, &value, sizeof(value));

	pthread_mutex_lock(&mqtt->shared.mutex);
	struct mqtt_shared snapshot = mqtt->shared;
	pthread_mutex_unlock(&mqtt->shared.mutex);

	if (snapshot.losses != mqtt->seen_losses) {
		mqtt->seen_losses = snapshot.losses;
		mqtt->connected = false;
		log_warning("mqtt: connection to %s lost: %s; reconnecting, messages are held meanwhile",
		            mqtt->uri, snapshot.reason);
	}
	if (snapshot.connect_failures != mqtt->seen_failures) {
		mqtt->seen_failures = snapshot.connect_failures;
		mqtt->connecting = false;
		/* Once per outage, not once per try. */
		if (!mqtt->reported_down)
			log_warning("mqtt: cannot connect to %s: %s; retrying, messages are held meanwhile",
			            mqtt->uri, snapshot.reason);
		else
			log_debug("mqtt: still cannot connect to %s: %s", mqtt->uri, snapshot.reason);
		mqtt->reported_down = true;
		mqtt_schedule_retry(mqtt);
	}
	if (snapshot.connects != mqtt->seen_connects) {
		mqtt->seen_connects = snapshot.connects;
		mqtt->connecting = false;
		mqtt->connected = true;
		mqtt->reported_down = false;
		mqtt->retry_s = RETRY_MIN_S;
		mqtt->counters.connects++;
		log_info("mqtt: connected to %s", mqtt->uri);
		if (mqtt->events.connected)
			mqtt->events.connected(mqtt->events.userdata);
	}
	uint64_t completed = snapshot.published + snapshot.failed;
	if (completed != mqtt->seen_completed) {
		if (snapshot.failed != mqtt->counters.failed)
			log_warning("mqtt: %llu messages could not be delivered",
			            (unsigned long long)(snapshot.failed - mqtt->counters.failed));
		mqtt->seen_completed = completed;
		mqtt->counters.published = snapshot.published;
		mqtt->counters.failed = snapshot.failed;
		if (mqtt->events.progress)
			mqtt->events.progress(mqtt->events.userdata);
	}
	return 0;
}

static int mqtt_connect(struct mqtt *mqtt)
{
	MQTTAsync_connectOptions options = MQTTAsync_connectOptions_initializer;
	MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;

	will.topicName = mqtt->will_topic;
	will.message = mqtt->will_payload;
	will.retained = 1;
	will.qos = mqtt->qos_will;
	options.keepAliveInterval = mqtt->keepalive_s;
	options.cleansession = 1;
	options.will = &will;
	/* Paho reconnects by itself only after a first success; the first
	 * connect is retried here (mqtt_schedule_retry). */
	options.automaticReconnect = 1;
	options.minRetryInterval = RETRY_MIN_S;
	options.maxRetryInterval = RETRY_MAX_S;
	options.connectTimeout = 10;
	options.onFailure = mqtt_on_connect_failure;
	options.context = mqtt;

	mqtt->connecting = true;
	int rc = MQTTAsync_connect(mqtt->client, &options);
	if (rc != MQTTASYNC_SUCCESS) {
		mqtt->connecting = false;
		if (!mqtt->reported_down)
			log_warning("mqtt: cannot connect to %s: %s; retrying", mqtt->uri, MQTTAsync_strerror(rc));
		mqtt->reported_down = true;
		mqtt_schedule_retry(mqtt);
		return -EIO;
	}
	return 0;
}

int mqtt_new(sd_event *event, const struct mqtt_config *config, const char *client_id,
             const char *will_topic, const char *will_payload,
             const struct mqtt_events *events, struct mqtt **out)
{
	int r;
	struct mqtt *mqtt = calloc(1, sizeof(*mqtt));
	if (!mqtt)
		return -ENOMEM;
	pthread_mutex_init(&mqtt->shared.mutex, NULL);
	mqtt->wakeup_fd = -1;
	mqtt->event = sd_event_ref(event);
	mqtt->events = *events;
	mqtt->keepalive_s = config->keepalive_s;
	mqtt->qos_will = config->qos;
	mqtt->retry_s = RETRY_MIN_S;
	mqtt->uri = strdup(config->uri);
	mqtt->will_topic = strdup(will_topic);
	mqtt->will_payload = strdup(will_payload);
	if (!mqtt->uri || !mqtt->will_topic || !mqtt->will_payload) {
		r = -ENOMEM;
		goto fail;
	}

	mqtt->wakeup_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (mqtt->wakeup_fd < 0) {
		r = -errno;
		goto fail;
	}
	r = sd_event_add_io(event, &mqtt->wakeup_source, mqtt->wakeup_fd, EPOLLIN, mqtt_on_wakeup, mqtt);
	if (r < 0)
		goto fail;
	r = sd_event_add_time(event, &mqtt->retry_source, CLOCK_MONOTONIC, 0, 0, mqtt_on_retry, mqtt);
	if (r < 0)
		goto fail;
	sd_event_source_set_enabled(mqtt->retry_source, SD_EVENT_OFF);

	MQTTAsync_createOptions create = MQTTAsync_createOptions_initializer;
	/* Hold messages from the very first second, also before the first
	 * connect: a gateway that boots with its uplink down is normal. */
	create.sendWhileDisconnected = 1;
	create.allowDisconnectedSendAtAnyTime = 1;
	create.maxBufferedMessages = config->buffer_max;
	create.deleteOldestMessages = 0;
	int rc = MQTTAsync_createWithOptions(&mqtt->client, config->uri, client_id,
	                                     MQTTCLIENT_PERSISTENCE_NONE, NULL, &create);
	if (rc != MQTTASYNC_SUCCESS) {
		log_error("mqtt: cannot use %s: %s", config->uri, MQTTAsync_strerror(rc));
		r = -EINVAL;
		goto fail;
	}
	rc = MQTTAsync_setCallbacks(mqtt->client, mqtt, mqtt_on_connection_lost, mqtt_on_message, NULL);
	if (rc == MQTTASYNC_SUCCESS)
		rc = MQTTAsync_setConnected(mqtt->client, mqtt, mqtt_on_connected);
	if (rc != MQTTASYNC_SUCCESS) {
		log_error("mqtt: %s", MQTTAsync_strerror(rc));
		r = -EIO;
		goto fail;
	}
	*out = mqtt;
	return 0;
fail:
	mqtt_free(mqtt);
	return r;
}

int mqtt_start(struct mqtt *mqtt)
{
	log_info("mqtt: connecting to %s", mqtt->uri);
	mqtt_connect(mqtt);
	return 0;
}

int mqtt_publish(struct mqtt *mqtt, const char *topic, const char *payload, int qos, bool retained)
{
	MQTTAsync_message message = MQTTAsync_message_initializer;
	MQTTAsync_responseOptions response = MQTTAsync_responseOptions_initializer;
	message.payload = (void *)payload;
	message.payloadlen = (int)strlen(payload);
	message.qos = qos;
	message.retained = retained;
	response.onSuccess = mqtt_on_publish_success;
	response.onFailure = mqtt_on_publish_failure;
	response.context = mqtt;

	int rc = MQTTAsync_sendMessage(mqtt->client, topic, &message, &response);
	if (rc == MQTTASYNC_SUCCESS) {
		mqtt->sent++;
		return 0;
	}
	if (rc == MQTTASYNC_MAX_BUFFERED_MESSAGES)
		return -ENOBUFS;
	log_debug("mqtt: publish to %s failed: %s", topic, MQTTAsync_strerror(rc));
	return -EIO;
}

uint64_t mqtt_pending(const struct mqtt *mqtt)
{
	return mqtt->sent - mqtt->seen_completed;
}

bool mqtt_connected(const struct mqtt *mqtt)
{
	return mqtt->connected;
}

struct mqtt_counters mqtt_counters(const struct mqtt *mqtt)
{
	return mqtt->counters;
}

void mqtt_disconnect(struct mqtt *mqtt, int timeout_ms)
{
	if (!mqtt->client || !MQTTAsync_isConnected(mqtt->client))
		return;
	MQTTAsync_disconnectOptions options = MQTTAsync_disconnectOptions_initializer;
	options.timeout = timeout_ms;
	if (MQTTAsync_disconnect(mqtt->client, &options) != MQTTASYNC_SUCCESS)
		return;
	/* The loop has stopped: waiting here blocks nothing else. */
	for (int waited = 0; waited < timeout_ms + 500 && MQTTAsync_isConnected(mqtt->client); waited += 10)
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
}

void mqtt_free(struct mqtt *mqtt)
{
	if (!mqtt)
		return;
	if (mqtt->client)
		MQTTAsync_destroy(&mqtt->client);
	sd_event_source_disable_unref(mqtt->wakeup_source);
	sd_event_source_disable_unref(mqtt->retry_source);
	if (mqtt->wakeup_fd >= 0)
		close(mqtt->wakeup_fd);
	sd_event_unref(mqtt->event);
	pthread_mutex_destroy(&mqtt->shared.mutex);
	free(mqtt->uri);
	free(mqtt->will_topic);
	free(mqtt->will_payload);
	free(mqtt);
}
