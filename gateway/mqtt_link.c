/* mqtt_link.c — see mqtt_link.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mqtt_link.h"

/* Paho's own timeout for one try over the whole list of URIs. */
#define CONNECT_TIMEOUT_S 10

struct mqtt_link {
	sd_event *event;
	MQTTAsync client;
	struct mqtt_bridge *bridge;
	sd_event_source *timer;
	struct mqtt_link_events events;

	char **uris;
	size_t uri_count;
	int version, keepalive_s, will_qos;
	bool clean_session;
	char *will_topic, *will_payload, *username, *password;
	const MQTTAsync_SSLOptions *ssl;

	enum mqtt_link_state state;
	int backoff_ms;
	unsigned random_state;       /* for jitter: rand_r's */
	bool reported_down;          /* the outage was logged */
	uint64_t ups;
	char server[256];
};

static void link_connect(struct mqtt_link *link);

static int on_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
	struct mqtt_link *link = userdata;
	(void)source;
	(void)usec;
	if (link->state == MQTT_LINK_WAITING)
		link_connect(link);
	return 0;
}

/* WAITING for the backoff, jittered, which then doubles. */
static void link_wait(struct mqtt_link *link)
{
	link->state = MQTT_LINK_WAITING;
	double jitter = 0.8 + 0.4 * ((double)rand_r(&link->random_state) / RAND_MAX);
	uint64_t wait_us = (uint64_t)(link->backoff_ms * jitter * 1000.0);
	uint64_t now;
	sd_event_now(link->event, CLOCK_MONOTONIC, &now);
	sd_event_source_set_time(link->timer, now + wait_us);
	sd_event_source_set_enabled(link->timer, SD_EVENT_ONESHOT);
	link->backoff_ms = link->backoff_ms * 2 > MQTT_LINK_BACKOFF_MAX_MS ? MQTT_LINK_BACKOFF_MAX_MS
	                                                                   : link->backoff_ms * 2;
}

static void link_failed(struct mqtt_link *link, const char *reason)
{
	/* Once per outage, not once per try. */
	if (!link->reported_down)
		log_warning("mqtt: cannot connect to %s: %s; trying again every few seconds, "
		            "messages are kept meanwhile", link->uri_count > 1 ? "any broker" : link->uris[0], reason);
	else
		log_debug("mqtt: still cannot connect: %s", reason);
	link->reported_down = true;
	if (link->events.down)
		link->events.down(link->events.userdata);
	link_wait(link);
}

static void link_connect(struct mqtt_link *link)
{
	MQTTAsync_connectOptions options = MQTTAsync_connectOptions_initializer;
	MQTTAsync_connectOptions options5 = MQTTAsync_connectOptions_initializer5;
	MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
	bool v5 = link->version == MQTTVERSION_5;
	MQTTAsync_connectOptions *chosen = v5 ? &options5 : &options;

	will.topicName = link->will_topic;
	will.message = link->will_payload;
	will.retained = 1;
	will.qos = link->will_qos;
	chosen->keepAliveInterval = link->keepalive_s;
	if (v5) {
		chosen->cleanstart = link->clean_session;
		chosen->onSuccess5 = mqtt_bridge_on_connect_success5;
		chosen->onFailure5 = mqtt_bridge_on_connect_failure5;
	} else {
		chosen->cleansession = link->clean_session;
		chosen->onSuccess = mqtt_bridge_on_connect_success;
		chosen->onFailure = mqtt_bridge_on_connect_failure;
	}
	chosen->MQTTVersion = link->version;
	chosen->will = &will;
	chosen->username = link->username;
	chosen->password = link->password;
	chosen->ssl = (MQTTAsync_SSLOptions *)link->ssl;
	chosen->serverURIs = link->uris;
	chosen->serverURIcount = (int)link->uri_count;
	/* Every connect is ours (see mqtt_link.h). */
	chosen->automaticReconnect = 0;
	chosen->connectTimeout = CONNECT_TIMEOUT_S;
	chosen->context = link->bridge;

	link->state = MQTT_LINK_CONNECTING;
	int rc = MQTTAsync_connect(link->client, chosen);
	if (rc != MQTTASYNC_SUCCESS)
		link_failed(link, MQTTAsync_strerror(rc));
}

void mqtt_link_on_event(struct mqtt_link *link, const struct bridge_event *event)
{
	if (link->state == MQTT_LINK_STOPPED)
		return;
	switch (event->kind) {
	case BRIDGE_CONNECTED:
		if (link->state != MQTT_LINK_CONNECTING)
			return;
		link->state = MQTT_LINK_UP;
		link->backoff_ms = MQTT_LINK_BACKOFF_MIN_MS;
		link->reported_down = false;
		if (link->ups++ > 0)
			log_info("mqtt: connected again, to %s", event->text[0] ? event->text : link->uris[0]);
		else
			log_info("mqtt: connected to %s", event->text[0] ? event->text : link->uris[0]);
		snprintf(link->server, sizeof(link->server), "%s", event->text[0] ? event->text : link->uris[0]);
		if (link->events.up)
			link->events.up(link->events.userdata, link->server);
		break;
	case BRIDGE_CONNECT_FAILED:
		if (link->state == MQTT_LINK_CONNECTING)
			link_failed(link, event->text);
		break;
	case BRIDGE_LOST:
		if (link->state != MQTT_LINK_UP)
			return;
		log_warning("mqtt: connection to %s lost: %s; reconnecting, messages are kept meanwhile", link->server,
		            event->text);
		link->reported_down = true;
		if (link->events.down)
			link->events.down(link->events.userdata);
		/* A broker that dropped us is tried again at once; the backoff
		 * grows only if that fails. */
		link_connect(link);
		break;
	default:
		break;
	}
}

static char *copy_or_null(const char *text, bool *failed)
{
	if (!text)
		return NULL;
	char *copy = strdup(text);
	*failed = *failed || !copy;
	return copy;
}

int mqtt_link_new(sd_event *event, MQTTAsync client, struct mqtt_bridge *bridge,
                  const struct mqtt_link_options *options, const struct mqtt_link_events *events,
                  struct mqtt_link **out)
{
	int r = -ENOMEM;
	bool failed = false;
	struct mqtt_link *link = calloc(1, sizeof(*link));
	if (!link)
		return -ENOMEM;
	link->event = sd_event_ref(event);
	link->client = client;
	link->bridge = bridge;
	link->events = *events;
	link->version = options->version;
	link->keepalive_s = options->keepalive_s;
	link->clean_session = options->clean_session;
	link->will_qos = options->will_qos;
	link->ssl = options->ssl;
	link->backoff_ms = MQTT_LINK_BACKOFF_MIN_MS;
	link->random_state = (unsigned)getpid() ^ (unsigned)time(NULL);
	link->will_topic = copy_or_null(options->will_topic, &failed);
	link->will_payload = copy_or_null(options->will_payload, &failed);
	link->username = copy_or_null(options->username, &failed);
	link->password = copy_or_null(options->password, &failed);
	link->uris = calloc(options->uri_count + 1, sizeof(*link->uris));
	if (failed || !link->uris || options->uri_count == 0)
		goto fail;
	for (size_t i = 0; i < options->uri_count; i++) {
		link->uris[i] = strdup(options->uris[i]);
		if (!link->uris[i])
			goto fail;
		link->uri_count++;
	}
	snprintf(link->server, sizeof(link->server), "%s", link->uris[0]);
	r = sd_event_add_time(event, &link->timer, CLOCK_MONOTONIC, 0, 0, on_timer, link);
	if (r < 0)
		goto fail;
	sd_event_source_set_enabled(link->timer, SD_EVENT_OFF);
	*out = link;
	return 0;
fail:
	mqtt_link_free(link);
	return r;
}

void mqtt_link_free(struct mqtt_link *link)
{
	if (!link)
		return;
	sd_event_source_disable_unref(link->timer);
	sd_event_unref(link->event);
	for (size_t i = 0; i < link->uri_count; i++)
		free(link->uris[i]);
	free(link->uris);
	free(link->will_topic);
	free(link->will_payload);
	free(link->username);
	if (link->password) {
		/* Not left behind in freed memory. */
		explicit_bzero(link->password, strlen(link->password));
		free(link->password);
	}
	free(link);
}

void mqtt_link_start(struct mqtt_link *link)
{
	if (link->state != MQTT_LINK_IDLE)
		return;
	log_info("mqtt: connecting to %s%s", link->uris[0], link->uri_count > 1 ? " (and the others listed)" : "");
	link_connect(link);
}

void mqtt_link_stop(struct mqtt_link *link)
{
	link->state = MQTT_LINK_STOPPED;
	sd_event_source_set_enabled(link->timer, SD_EVENT_OFF);
}

enum mqtt_link_state mqtt_link_state(const struct mqtt_link *link)
{
	return link->state;
}

uint64_t mqtt_link_reconnects(const struct mqtt_link *link)
{
	return link->ups > 0 ? link->ups - 1 : 0;
}

const char *mqtt_link_server(const struct mqtt_link *link)
{
	return link->server;
}
