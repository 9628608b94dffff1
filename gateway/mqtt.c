/* mqtt.c — see mqtt.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <MQTTAsync.h>

#include "credentials.h"
#include "log.h"
#include "log_episode.h"
#include "mqtt.h"
#include "mqtt_bridge.h"
#include "mqtt_link.h"
#include "mqtt_outbox.h"

struct mqtt {
	MQTTAsync client;
	struct mqtt_bridge *bridge;
	struct mqtt_link *link;
	struct mqtt_outbox *outbox;
	sd_event_source *commit_source;
	sd_event_source *retry_source;   /* a commit the disk refused, tried again */
	sd_event_source *later_source;   /* a commit of nothing but the broker's answers, put off */
	struct mqtt_events events;
	int version;

	uint64_t generation;         /* of the connection: rises with every connect */
	int64_t cursor;              /* the last message handed to Paho on this connection */
	int64_t appended;            /* the last message kept */
	int64_t committed;           /* the last message kept and made durable: Paho gets no later one */
	unsigned in_flight;          /* handed to Paho on this connection, not yet answered */
	bool dirty;                  /* the outbox has writes to commit */
	bool answered;               /* the broker answered this turn: tell the owner once */
	uint64_t turn_kept;          /* messages kept since the last commit */
	bool refusing;               /* the broker refuses messages: said once per episode */
	bool commit_failing;         /* the disk refuses the buffer's commits: nothing goes to Paho */
	/* Removes of acknowledged messages the disk refuses: said once an
	 * episode (log_episode.h), not once per answer of the broker, a
	 * thousand a turn. */
	struct log_episode remove_episode;
	/* A disk that is nearly full takes one commit and refuses the next:
	 * the refusal is said at most once a minute, and that it takes
	 * writes again only after a refusal was said. */
	bool failure_said;
	uint64_t failure_said_us;
	uint64_t said_lost_from;
	bool dropping;               /* the buffer is full and drops its oldest: said once per episode */
	uint64_t episode_dropped_from;
	/* Messages the outbox dropped to stay within its bounds while they
	 * were already with Paho, which the broker then acknowledged: they
	 * were delivered, not dropped.  The ring remembers the last of them,
	 * so a second acknowledgement of one is not counted twice. */
	uint64_t dropped_delivered;
	int64_t delivered_ring[256];
	unsigned delivered_next;
	struct mqtt_counters counters;
};

static bool mqtt_up(const struct mqtt *mqtt)
{
	return mqtt->link && mqtt_link_state(mqtt->link) == MQTT_LINK_UP;
}

static void response_options(const struct mqtt *mqtt, MQTTAsync_responseOptions *response, void *context)
{
	*response = (MQTTAsync_responseOptions)MQTTAsync_responseOptions_initializer;
	if (mqtt->version == MQTTVERSION_5) {
		response->onSuccess5 = mqtt_bridge_on_publish_success5;
		response->onFailure5 = mqtt_bridge_on_publish_failure5;
	} else {
		response->onSuccess = mqtt_bridge_on_publish_success;
		response->onFailure = mqtt_bridge_on_publish_failure;
	}
	response->context = context;
}

/* Hand the oldest messages not yet sent on this connection to Paho, up
 * to the in-flight bound, and only those already durable: a message the
 * broker has is never one a crash could undo, nor its sequence number
 * one the next start would use again. */
static void mqtt_pump_reading(struct mqtt *mqtt)
{
	while (mqtt_up(mqtt) && !mqtt->commit_failing && mqtt->in_flight < MQTT_IN_FLIGHT_MAX &&
	       mqtt->cursor < mqtt->committed) {
		struct outbox_message message;
		int r = mqtt_outbox_next(mqtt->outbox, mqtt->cursor, &message);
		if (r == -ENOENT)
			return;
		if (r < 0) {
			log_error("mqtt: cannot read the buffer: %s", strerror(-r));
			return;
		}
		struct bridge_ticket *ticket = mqtt_bridge_ticket(mqtt->bridge, message.id, mqtt->generation);
		if (!ticket) {
			outbox_message_clear(&message);
			return;   /* out of memory: tried again on the next answer */
		}
		MQTTAsync_message paho = MQTTAsync_message_initializer;
		MQTTAsync_responseOptions response;
		paho.payload = message.payload;
		paho.payloadlen = (int)message.payload_length;
		paho.qos = message.qos;
		paho.retained = message.retained;
		response_options(mqtt, &response, ticket);
		int rc = MQTTAsync_sendMessage(mqtt->client, message.topic, &paho, &response);
		int64_t id = message.id;
		outbox_message_clear(&message);
		if (rc != MQTTASYNC_SUCCESS) {
			/* Disconnected under our feet: the link hears of it and the
			 * message stays in the outbox for the next connection. */
			mqtt_bridge_ticket_cancel(mqtt->bridge, ticket);
			log_debug("mqtt: hand-over stopped: %s", MQTTAsync_strerror(rc));
			return;
		}
		mqtt->cursor = id;
		mqtt->in_flight++;
	}
}

static void mqtt_pump(struct mqtt *mqtt)
{
	if (!mqtt_up(mqtt) || mqtt->commit_failing || mqtt->in_flight >= MQTT_IN_FLIGHT_MAX ||
	    mqtt->cursor >= mqtt->committed)
		return;
	mqtt_outbox_begin_reading(mqtt->outbox);
	mqtt_pump_reading(mqtt);
	mqtt_outbox_end_reading(mqtt->outbox);
}

static void mqtt_on_up(void *userdata, const char *server)
{
	struct mqtt *mqtt = userdata;
	(void)server;
	mqtt->generation++;
	mqtt->cursor = 0;    /* whatever the outbox holds is sent again, oldest first */
	mqtt->in_flight = 0;
	mqtt->counters.reconnects = mqtt_link_reconnects(mqtt->link);
	if (mqtt->events.connected)
		mqtt->events.connected(mqtt->events.userdata);
	mqtt_pump(mqtt);
}

static void mqtt_on_down(void *userdata)
{
	struct mqtt *mqtt = userdata;
	/* Answers for this connection's messages may still come (and a
	 * success still removes its message), but they no longer hold places
	 * in flight. */
	mqtt->generation++;
	mqtt->in_flight = 0;
}

/* A remove from the buffer after the broker's answer: a failure (full
 * disk) leaves the message to be sent again, at least once; said once an
 * episode. */
static void mqtt_removed(struct mqtt *mqtt, int r)
{
	if (r < 0) {
		uint64_t now = 0;
		sd_event_now(sd_event_source_get_event(mqtt->retry_source), CLOCK_MONOTONIC, &now);
		log_episode_failed(&mqtt->remove_episode, now, LOG_LEVEL_ERROR,
		                   "mqtt: cannot update the buffer: %s; acknowledged messages stay in it and may be sent "
		                   "again", strerror(-r));
		return;
	}
	log_episode_ended(&mqtt->remove_episode, "mqtt: the buffer can be updated again");
}

static void mqtt_on_answer(struct mqtt *mqtt, const struct bridge_event *event)
{
	bool current = event->generation == mqtt->generation;
	if (current && mqtt->in_flight > 0)
		mqtt->in_flight--;
	if (event->kind == BRIDGE_PUBLISHED) {
		mqtt->refusing = false;
		uint64_t held = mqtt_outbox_counters(mqtt->outbox).messages;
		int r = mqtt_outbox_remove(mqtt->outbox, event->id);
		mqtt_removed(mqtt, r);
		mqtt->dirty = true;
		if (r < 0 || mqtt_outbox_counters(mqtt->outbox).messages < held) {
			mqtt->counters.published++;
			return;
		}
		/* Not held any more: acknowledged before (a message sent on two
		 * connections), or dropped for the bounds while in flight. */
		if (event->id > mqtt_outbox_counters(mqtt->outbox).dropped_max_id)
			return;
		for (unsigned i = 0; i < sizeof(mqtt->delivered_ring) / sizeof(mqtt->delivered_ring[0]); i++)
			if (mqtt->delivered_ring[i] == event->id)
				return;
		mqtt->delivered_ring[mqtt->delivered_next++ % (sizeof(mqtt->delivered_ring) /
		                                               sizeof(mqtt->delivered_ring[0]))] = event->id;
		mqtt->dropped_delivered++;
		mqtt->counters.published++;
		return;
	} else if (event->code >= MQTTREASONCODE_UNSPECIFIED_ERROR) {
		/* Sending it again would be refused again. */
		mqtt->counters.refused++;
		if (!mqtt->refusing)
			log_warning("mqtt: the broker refuses messages: %s; they are not sent again",
			            MQTTReasonCode_toString((enum MQTTReasonCodes)event->code));
		mqtt->refusing = true;
	} else {
		return;   /* not delivered: it stays for the next connection */
	}
	mqtt_removed(mqtt, mqtt_outbox_remove(mqtt->outbox, event->id));
	mqtt->dirty = true;
}

static void mqtt_on_bridge(void *userdata, const struct bridge_event *event)
{
	struct mqtt *mqtt = userdata;
	switch (event->kind) {
	case BRIDGE_CONNECTED:
	case BRIDGE_CONNECT_FAILED:
	case BRIDGE_LOST:
		mqtt_link_on_event(mqtt->link, event);
		return;
	case BRIDGE_PUBLISHED:
	case BRIDGE_PUBLISH_FAILED:
		/* The next messages go to Paho, and the owner hears of the
		 * progress, once for all the answers of this turn (mqtt_on_post). */
		mqtt_on_answer(mqtt, event);
		mqtt->answered = true;
		return;
	}
}

#define MQTT_COMMIT_RETRY_US (1000 * 1000)

/* What was kept or removed since the last commit, made durable in one
 * transaction. */
static void mqtt_commit(struct mqtt *mqtt)
{
	uint64_t kept = mqtt->turn_kept;
	mqtt->turn_kept = 0;
	sd_event_source_set_enabled(mqtt->later_source, SD_EVENT_OFF);
	/* Only a commit that writes says the disk takes writes again. */
	bool writes = mqtt_outbox_pending(mqtt->outbox);
	int r = mqtt_outbox_commit(mqtt->outbox);
	if (r == 0 && !writes && mqtt->commit_failing)
		r = -EAGAIN;
	uint64_t now = 0;
	sd_event_now(sd_event_source_get_event(mqtt->retry_source), CLOCK_MONOTONIC, &now);
	if (r == 0) {
		mqtt->committed = mqtt->appended;
		if (mqtt->failure_said)
			log_info("mqtt: the buffer can be written to disk again; %llu messages were lost meanwhile",
			         (unsigned long long)(mqtt->counters.lost - mqtt->said_lost_from));
		mqtt->failure_said = false;
		mqtt->commit_failing = false;
		if (mqtt->events.committed)
			mqtt->events.committed(mqtt->events.userdata, mqtt_outbox_sequence(mqtt->outbox));
		return;
	}
	/* SQLite undid the whole turn: the messages kept in it are gone
	 * (counted), and rows removed in it are back, numbered below the
	 * cursor: once a commit goes through, they are sent from the oldest
	 * again (at least once).  Until then nothing goes to Paho, and the
	 * commit is tried again a second later rather than at every answer. */
	mqtt->counters.lost += kept;
	mqtt->cursor = 0;
	if (r != -EAGAIN && !mqtt->failure_said &&
	    (mqtt->failure_said_us == 0 || now >= mqtt->failure_said_us + 60 * 1000 * 1000)) {
		mqtt->failure_said = true;
		mqtt->failure_said_us = now ? now : 1;
		mqtt->said_lost_from = mqtt->counters.lost - kept;
		log_error("mqtt: cannot write the buffer to disk: %s; what is kept meanwhile is lost, and counted, until "
		          "it can (%llu messages so far)", strerror(-r), (unsigned long long)mqtt->counters.lost);
	}
	mqtt->commit_failing = true;
	sd_event_source_set_time(mqtt->retry_source, now + MQTT_COMMIT_RETRY_US);
	sd_event_source_set_enabled(mqtt->retry_source, SD_EVENT_ONESHOT);
}

/* A turn that kept nothing, only took the broker's answers, is committed
 * up to this much later, with whatever comes next: a crash then sends
 * again what was answered in that time (at least once, as always), and a
 * steady flow of answers costs a commit (a WAL append and SQLite's file
 * locks) per tenth of a second rather than per turn. */
#define MQTT_ANSWERS_COMMIT_US (100 * 1000)

static int mqtt_on_later(sd_event_source *source, uint64_t usec, void *userdata)
{
	struct mqtt *mqtt = userdata;
	(void)source;
	(void)usec;
	if (mqtt->dirty) {
		mqtt->dirty = false;
		mqtt_commit(mqtt);
	}
	return 0;
}

static int mqtt_on_retry(sd_event_source *source, uint64_t usec, void *userdata)
{
	struct mqtt *mqtt = userdata;
	(void)source;
	(void)usec;
	mqtt_commit(mqtt);
	mqtt_pump(mqtt);
	return 0;
}

/* Once per turn of the loop that did something: what the turn kept and
 * removed made durable in one transaction, then handed to Paho, then the
 * owner told of the broker's answers. */
static int mqtt_on_post(sd_event_source *source, void *userdata)
{
	struct mqtt *mqtt = userdata;
	(void)source;
	/* What the owner publishes on hearing of progress (the last messages
	 * of a stop) goes the same way: no other source may run after this
	 * one to bring it here again. */
	for (int round = 0; round < 2; round++) {
		if (mqtt->dirty && mqtt->turn_kept == 0 && !mqtt_outbox_sequence_changed(mqtt->outbox) &&
		    !mqtt->commit_failing) {
			int enabled = SD_EVENT_OFF;
			uint64_t now;
			sd_event_source_get_enabled(mqtt->later_source, &enabled);
			if (enabled == SD_EVENT_OFF &&
			    sd_event_now(sd_event_source_get_event(mqtt->later_source), CLOCK_MONOTONIC, &now) >= 0) {
				sd_event_source_set_time(mqtt->later_source, now + MQTT_ANSWERS_COMMIT_US);
				sd_event_source_set_enabled(mqtt->later_source, SD_EVENT_ONESHOT);
			}
		} else if (mqtt->dirty) {
			mqtt->dirty = false;
			mqtt_commit(mqtt);
		}
		mqtt_pump(mqtt);
		if (!mqtt->answered)
			break;
		mqtt->answered = false;
		if (mqtt->events.progress)
			mqtt->events.progress(mqtt->events.userdata);
	}
	return 0;
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

/* Paho 1.3.12 reads http_proxy (for tcp, mqtt and ws brokers) or
 * https_proxy (ssl, mqtts, wss) from the environment on every connect,
 * unless it is given a proxy, and ignores no_proxy.  tryggd's proxy is
 * [mqtt] proxy or none: without one, the variable Paho would read is taken
 * out of the environment (before Paho's threads exist), and only its name
 * is logged, as its value may hold a password. */
static void mqtt_ignore_environment_proxy(const struct mqtt_config *config)
{
	const char *name = config->tls ? "https_proxy" : "http_proxy";
	if (config->proxy || !getenv(name))
		return;
	log_info("mqtt: %s in the environment is not used (only [mqtt] proxy names a proxy) and is removed from "
	         "tryggd's environment", name);
	unsetenv(name);
}

/* The password from its file, and a word about where it goes.  NULL with
 * r set when it cannot be read (it could at the config's check). */
static int mqtt_read_password(const struct mqtt_config *config, char **password)
{
	*password = NULL;
	if (!config->password_file)
		return 0;
	int r = credential_read(config->password_file, password);
	if (r < 0) {
		log_error("mqtt: cannot read the password from %s: %s", config->password_file, credential_strerror(r));
		return r;
	}
	if (credential_world_readable(config->password_file))
		log_warning("mqtt: every user of this board can read the password in %s (chmod o-r, or LoadCredential=)",
		            config->password_file);
	if (!config->tls)
		log_warning("mqtt: the password goes to the broker unencrypted (%s is not TLS)", config->uri);
	return 0;
}

int mqtt_new(sd_event *event, const struct mqtt_setup *setup, struct mqtt **out)
{
	const struct mqtt_config *config = setup->config;
	int r;
	struct mqtt *mqtt = calloc(1, sizeof(*mqtt));
	if (!mqtt)
		return -ENOMEM;
	char *password = NULL;
	mqtt->events = setup->events;
	mqtt->version = config->version == MQTT_VERSION_5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;

	r = mqtt_outbox_open(setup->outbox_path, (uint64_t)config->buffer_max, (uint64_t)config->buffer_bytes,
	                     &mqtt->outbox);
	if (r < 0) {
		log_error("mqtt: cannot keep a buffer in %s: %s", setup->outbox_path, strerror(-r));
		goto fail;
	}
	struct outbox_counters held = mqtt_outbox_counters(mqtt->outbox);
	/* What the file holds from before is durable. */
	mqtt->appended = mqtt->committed = held.last_id;
	if (held.messages > 0)
		log_info("mqtt: %llu messages kept from before are sent once connected",
		         (unsigned long long)held.messages);

	r = mqtt_bridge_new(event, mqtt_on_bridge, mqtt, &mqtt->bridge);
	if (r < 0)
		goto fail;
	r = sd_event_add_post(event, &mqtt->commit_source, mqtt_on_post, mqtt);
	if (r < 0)
		goto fail;
	r = sd_event_add_time(event, &mqtt->retry_source, CLOCK_MONOTONIC, 0, 0, mqtt_on_retry, mqtt);
	if (r < 0)
		goto fail;
	sd_event_source_set_enabled(mqtt->retry_source, SD_EVENT_OFF);
	r = sd_event_add_time(event, &mqtt->later_source, CLOCK_MONOTONIC, 0, 0, mqtt_on_later, mqtt);
	if (r < 0)
		goto fail;
	sd_event_source_set_enabled(mqtt->later_source, SD_EVENT_OFF);

	r = mqtt_read_password(config, &password);
	if (r < 0)
		goto fail;
	if (config->key_file && credential_world_readable(config->key_file))
		log_warning("mqtt: every user of this board can read the private key in %s (chmod o-r, or "
		            "LoadCredential=)", config->key_file);
	mqtt_ignore_environment_proxy(config);

	MQTTAsync_createOptions create = MQTTAsync_createOptions_initializer;
	create.MQTTVersion = mqtt->version;
	/* The outbox holds what waits for the broker; Paho holds nothing. */
	create.sendWhileDisconnected = 0;
	/* Paho counts messages a broker's MQTT 5 receive maximum holds back
	 * (mosquitto's is 20) as buffered, and refuses more past this bound:
	 * room for the whole in-flight window, so the hand-over never stalls. */
	create.maxBufferedMessages = MQTT_IN_FLIGHT_MAX + 100;
	int rc = MQTTAsync_createWithOptions(&mqtt->client, config->uri, setup->client_id,
	                                     MQTTCLIENT_PERSISTENCE_NONE, NULL, &create);
	if (rc != MQTTASYNC_SUCCESS) {
		log_error("mqtt: cannot use %s: %s", config->uri, MQTTAsync_strerror(rc));
		r = -EINVAL;
		goto fail;
	}
	rc = MQTTAsync_setCallbacks(mqtt->client, mqtt->bridge, mqtt_bridge_on_lost, mqtt_on_message, NULL);
	if (rc != MQTTASYNC_SUCCESS) {
		log_error("mqtt: %s", MQTTAsync_strerror(rc));
		r = -EIO;
		goto fail;
	}

	struct mqtt_link_options options = {
		.uris = (const char *const *)config->uris,
		.uri_count = config->uri_count,
		.version = mqtt->version,
		.keepalive_s = config->keepalive_s,
		.clean_session = config->clean_session,
		.will_topic = setup->will_topic,
		.will_payload = setup->will_payload,
		.will_qos = config->qos,
		.username = config->username,
		.password = password,
		.tls = config->tls,
		.ca_file = config->ca_file,
		.ca_dir = config->ca_dir,
		.cert_file = config->cert_file,
		.key_file = config->key_file,
		.verify = config->verify,
		.proxy = config->proxy,
	};
	struct mqtt_link_events link_events = { .up = mqtt_on_up, .down = mqtt_on_down, .userdata = mqtt };
	r = mqtt_link_new(event, mqtt->client, mqtt->bridge, &options, &link_events, &mqtt->link);
	credential_free(password);   /* the link has its own copy */
	password = NULL;
	if (r < 0)
		goto fail;
	*out = mqtt;
	return 0;
fail:
	credential_free(password);
	mqtt_free(mqtt);
	return r;
}

int mqtt_start(struct mqtt *mqtt)
{
	mqtt_link_start(mqtt->link);
	return 0;
}

/* A full buffer drops its oldest with every new message: said once when
 * that begins and once when there is room again, with the count. */
static void mqtt_watch_drops(struct mqtt *mqtt, uint64_t dropped_before)
{
	struct outbox_counters outbox = mqtt_outbox_counters(mqtt->outbox);
	if (outbox.dropped > dropped_before && !mqtt->dropping) {
		mqtt->dropping = true;
		mqtt->episode_dropped_from = dropped_before;
		log_warning("mqtt: the buffer is full (%llu messages, %llu bytes): the oldest messages are dropped "
		            "until the broker takes some", (unsigned long long)outbox.messages,
		            (unsigned long long)outbox.bytes);
	} else if (outbox.dropped == dropped_before && mqtt->dropping) {
		mqtt->dropping = false;
		log_info("mqtt: the buffer has room again; %llu oldest messages were dropped meanwhile",
		         (unsigned long long)(outbox.dropped - mqtt->episode_dropped_from));
	}
}

int mqtt_publish(struct mqtt *mqtt, const char *topic, const char *payload, int qos, bool retained)
{
	int64_t id;
	uint64_t dropped_before = mqtt_outbox_counters(mqtt->outbox).dropped;
	int r = mqtt_outbox_append(mqtt->outbox, topic, payload, strlen(payload), qos, retained, &id);
	if (r < 0) {
		if (r != -EMSGSIZE)
			mqtt->counters.unsaved++;
		return r;
	}
	mqtt_watch_drops(mqtt, dropped_before);
	mqtt->dirty = true;
	mqtt->turn_kept++;
	mqtt->appended = id;
	return 0;
}

uint64_t mqtt_sequence(const struct mqtt *mqtt)
{
	return mqtt_outbox_sequence(mqtt->outbox);
}

void mqtt_set_sequence(struct mqtt *mqtt, uint64_t sequence)
{
	mqtt_outbox_set_sequence(mqtt->outbox, sequence);
	mqtt->dirty = true;
}

int mqtt_publish_now(struct mqtt *mqtt, const char *topic, const char *payload, int qos, bool retained)
{
	if (!mqtt_up(mqtt))
		return -ENOTCONN;
	MQTTAsync_message paho = MQTTAsync_message_initializer;
	paho.payload = (void *)payload;
	paho.payloadlen = (int)strlen(payload);
	paho.qos = qos;
	paho.retained = retained;
	int rc = MQTTAsync_sendMessage(mqtt->client, topic, &paho, NULL);
	return rc == MQTTASYNC_SUCCESS ? 0 : -EIO;
}

uint64_t mqtt_pending(const struct mqtt *mqtt)
{
	return mqtt_outbox_counters(mqtt->outbox).messages;
}

bool mqtt_connected(const struct mqtt *mqtt)
{
	return mqtt_up(mqtt);
}

struct mqtt_counters mqtt_counters(const struct mqtt *mqtt)
{
	struct mqtt_counters counters = mqtt->counters;
	struct outbox_counters outbox = mqtt_outbox_counters(mqtt->outbox);
	counters.buffered = outbox.messages;
	counters.dropped = outbox.dropped - (mqtt->dropped_delivered < outbox.dropped ? mqtt->dropped_delivered
	                                                                              : outbox.dropped);
	counters.set_aside = outbox.set_aside;
	return counters;
}

void mqtt_disconnect(struct mqtt *mqtt, int timeout_ms)
{
	mqtt_commit(mqtt);
	mqtt_link_stop(mqtt->link);
	if (!mqtt->client || !MQTTAsync_isConnected(mqtt->client))
		return;
	MQTTAsync_disconnectOptions options = MQTTAsync_disconnectOptions_initializer;
	options.timeout = timeout_ms;
	if (MQTTAsync_disconnect(mqtt->client, &options) != MQTTASYNC_SUCCESS)
		return;
	/* The loop is not running now: waiting here blocks nothing else. */
	for (int waited = 0; waited < timeout_ms + 500 && MQTTAsync_isConnected(mqtt->client); waited += 10)
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	/* The answers Paho got while disconnecting are in the bridge's queue:
	 * take them now, so the outbox knows what the broker has and the next
	 * session (a reload, the next start) does not send it again. */
	mqtt_bridge_drain(mqtt->bridge);
	mqtt_commit(mqtt);
}

void mqtt_free(struct mqtt *mqtt)
{
	if (!mqtt)
		return;
	/* Paho first: after destroy no callback can post to the bridge. */
	if (mqtt->client)
		MQTTAsync_destroy(&mqtt->client);
	mqtt_link_free(mqtt->link);
	mqtt_bridge_free(mqtt->bridge);
	sd_event_source_disable_unref(mqtt->commit_source);
	sd_event_source_disable_unref(mqtt->retry_source);
	sd_event_source_disable_unref(mqtt->later_source);
	mqtt_outbox_close(mqtt->outbox);
	free(mqtt);
}
