/* mqtt.h — the gateway's MQTT session (Eclipse Paho MQTTAsync).
 *
 * Paho runs its own threads; nothing here is called from them except the
 * callbacks in mqtt.c, which only record what happened and wake the
 * sd-event loop through an eventfd.  Everything else, including every
 * call into struct mqtt_events, runs on the loop's thread.
 *
 * Messages published while the broker is away are held by Paho (up to
 * mqtt.buffer_max; past that a publish fails with -ENOBUFS and the caller
 * counts the loss).  The session owns its Paho handle and copies every
 * string it is given. */
#ifndef TRYGGD_MQTT_H
#define TRYGGD_MQTT_H

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "config.h"

struct mqtt;

struct mqtt_events {
	/* Connected (first time or again): publish the retained status. */
	void (*connected)(void *userdata);
	/* Publishes completed: pending went down. */
	void (*progress)(void *userdata);
	void *userdata;
};

struct mqtt_counters {
	uint64_t published;      /* completed (acknowledged at QoS ≥ 1) */
	uint64_t failed;         /* Paho gave up on them */
	uint64_t connects;
};

int mqtt_new(sd_event *event, const struct mqtt_config *config, const char *client_id,
             const char *will_topic, const char *will_payload,
             const struct mqtt_events *events, struct mqtt **out);
void mqtt_free(struct mqtt *mqtt);

/* Start connecting; failures are retried with backoff in the loop. */
int mqtt_start(struct mqtt *mqtt);

/* 0 when handed to Paho; -ENOBUFS when its buffer is full (dropped);
 * another negative errno on other failures (dropped). */
int mqtt_publish(struct mqtt *mqtt, const char *topic, const char *payload, int qos, bool retained);

/* Handed to Paho and not yet completed. */
uint64_t mqtt_pending(const struct mqtt *mqtt);
bool mqtt_connected(const struct mqtt *mqtt);
struct mqtt_counters mqtt_counters(const struct mqtt *mqtt);

/* Disconnect cleanly (no will), waiting at most timeout_ms.  Blocks: call
 * only on the way out, after the loop has stopped. */
void mqtt_disconnect(struct mqtt *mqtt, int timeout_ms);

#endif
