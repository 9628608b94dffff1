/* mqtt.h — the gateway's MQTT session: what the daemon calls to publish.
 *
 * Three parts, one concern each, as mosquitto's lib/ keeps them:
 *  - mqtt_bridge.c: the one way from Paho's threads to the loop;
 *  - mqtt_link.c: the connection, a state machine with failover across
 *    the broker URIs and backoff with jitter;
 *  - mqtt_outbox.c: the durable buffer, on disk in state_dir.
 * This file joins them: mqtt_publish() keeps a message in the outbox; once
 * per turn of the loop what was kept is committed, and while the link is
 * up the oldest committed messages are handed to Paho, at most
 * MQTT_IN_FLIGHT_MAX at a time, each removed from the outbox when the
 * broker has acknowledged it.  After a reconnect, or a restart, whatever
 * the outbox still holds is sent again, oldest first: at least once, in
 * order.  Everything here runs on the loop's thread.
 *
 * The session owns its Paho handle, the bridge, the link and the outbox,
 * and copies every string it is given.  Nothing of struct mqtt_setup is
 * kept past mqtt_new(): the link copies the brokers, the will, the
 * credentials and the TLS settings; Paho copies the first URI and the
 * client id; the outbox copies its path; the rest is read there and then.  So the
 * setup, and the struct config its config points into, may be freed once
 * mqtt_new() returns, as a reload does. */
#ifndef TRYGGD_MQTT_H
#define TRYGGD_MQTT_H

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "config.h"

/* Messages handed to Paho and not yet acknowledged, at most. */
#define MQTT_IN_FLIGHT_MAX 1000

struct mqtt;

struct mqtt_events {
	/* Connected (first time or again): publish the retained status. */
	void (*connected)(void *userdata);
	/* Messages were acknowledged: pending went down.  Once per turn of
	 * the loop, however many answers came in it. */
	void (*progress)(void *userdata);
	/* What was kept up to now, and sequence with it (mqtt_set_sequence),
	 * is durable; nothing kept since is with Paho yet.  NULL: nobody asks. */
	void (*committed)(void *userdata, uint64_t sequence);
	void *userdata;
};

struct mqtt_counters {
	uint64_t published;      /* acknowledged by the broker (QoS >= 1), or written (QoS 0) */
	uint64_t refused;        /* the broker refused them (MQTT 5 reason code): not sent again */
	uint64_t buffered;       /* held in the outbox now, in flight included */
	uint64_t dropped;        /* the oldest, dropped to keep the outbox within its bounds */
	uint64_t unsaved;        /* could not be kept: the disk refused (the caller was told) */
	uint64_t lost;           /* kept, then lost when the disk refused to write them */
	uint64_t set_aside;      /* broken outbox files set aside at start */
	uint64_t reconnects;
};

/* Read during mqtt_new() only (see above). */
struct mqtt_setup {
	const struct mqtt_config *config;
	const char *client_id;
	const char *outbox_path;     /* the durable buffer's file */
	const char *will_topic;      /* retained status, offline */
	const char *will_payload;
	struct mqtt_events events;
};

int mqtt_new(sd_event *event, const struct mqtt_setup *setup, struct mqtt **out);
void mqtt_free(struct mqtt *mqtt);

/* Start connecting; failures are retried with backoff in the loop. */
int mqtt_start(struct mqtt *mqtt);

/* Keep a message for the broker.  0 when kept (it may have pushed the
 * oldest out: counted in dropped); -EMSGSIZE for a message larger than the
 * outbox's byte bound; another negative errno when the disk refused it
 * (counted in unsaved).  Either way the caller need not keep it. */
int mqtt_publish(struct mqtt *mqtt, const char *topic, const char *payload, int qos, bool retained);

/* The last reading sequence number used, as the outbox had it at start,
 * and the one to record with the messages kept in this turn of the loop:
 * a reading's number and its message are durable together, in one
 * transaction per turn, before either reaches the broker, so a crash
 * neither skips a number a subscriber saw nor uses one again. */
uint64_t mqtt_sequence(const struct mqtt *mqtt);
void mqtt_set_sequence(struct mqtt *mqtt, uint64_t sequence);

/* Hand a message to Paho now, past the outbox (the retained status after
 * a connect, which must not wait behind a backlog, and is sent again on
 * every connect anyway).  -ENOTCONN when not connected. */
int mqtt_publish_now(struct mqtt *mqtt, const char *topic, const char *payload, int qos, bool retained);

/* Held in the outbox, in flight included. */
uint64_t mqtt_pending(const struct mqtt *mqtt);
bool mqtt_connected(const struct mqtt *mqtt);
struct mqtt_counters mqtt_counters(const struct mqtt *mqtt);

/* Disconnect cleanly (no will), waiting at most timeout_ms, after making
 * the outbox durable, and take the broker's last answers into it.  Blocks
 * the loop: call it on the way out, or when a reload replaces the
 * session. */
void mqtt_disconnect(struct mqtt *mqtt, int timeout_ms);

#endif
