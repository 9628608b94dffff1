/* mqtt_bridge.h — the one way from Paho's threads to the loop.
 *
 * Paho MQTTAsync calls back on threads of its own.  Those callbacks do one
 * thing: post what happened here, under a mutex, and wake the loop through
 * an eventfd.  The loop then takes the events in the order they were
 * posted and hands each to the handler, on its own thread, so nothing
 * that follows (the connection's state, the buffer, the daemon) ever runs
 * on Paho's threads.
 *
 * A publish is followed by a ticket: the loop makes one per message handed
 * to Paho (mqtt_bridge_ticket), gives it to Paho as the callback's context,
 * and gets it back in the PUBLISHED or PUBLISH_FAILED event.  The bridge
 * owns every ticket until the handler has seen its event; those Paho never
 * answered are freed with the bridge (after Paho is destroyed).
 *
 * The bridge borrows the loop. */
#ifndef TRYGGD_MQTT_BRIDGE_H
#define TRYGGD_MQTT_BRIDGE_H

#include <stdint.h>

#include <MQTTAsync.h>
#include <systemd/sd-event.h>

enum bridge_event_kind {
	BRIDGE_CONNECTED,        /* text: the server's URI */
	BRIDGE_CONNECT_FAILED,   /* text: why */
	BRIDGE_LOST,             /* text: why */
	BRIDGE_PUBLISHED,        /* id, generation: the ticket's */
	BRIDGE_PUBLISH_FAILED,   /* id, generation: the ticket's; code: Paho's error (< 0), or the
	                          * broker's MQTT 5 reason code (>= 0x80) when it refused the message */
};

#define BRIDGE_TEXT_SIZE 200

struct bridge_event {
	enum bridge_event_kind kind;
	int64_t id;
	uint64_t generation;
	int code;
	char text[BRIDGE_TEXT_SIZE];
};

struct mqtt_bridge;
/* What Paho gets as a publish's context; opaque. */
struct bridge_ticket;

typedef void (*bridge_handler)(void *userdata, const struct bridge_event *event);

int mqtt_bridge_new(sd_event *event, bridge_handler handler, void *userdata, struct mqtt_bridge **out);
/* Call after MQTTAsync_destroy(): no callback may come any more. */
void mqtt_bridge_free(struct mqtt_bridge *bridge);
/* Hand what is queued to the handler now, outside the loop (a disconnect
 * that waited for Paho's answers takes them before the session goes). */
void mqtt_bridge_drain(struct mqtt_bridge *bridge);

/* On the loop: a ticket for the message numbered id, sent on the
 * connection numbered generation, or NULL when out of memory.
 * mqtt_bridge_ticket_cancel() when Paho refused the message (no callback
 * will come for it). */
struct bridge_ticket *mqtt_bridge_ticket(struct mqtt_bridge *bridge, int64_t id, uint64_t generation);
void mqtt_bridge_ticket_cancel(struct mqtt_bridge *bridge, struct bridge_ticket *ticket);

/* Paho's callbacks, to be given to Paho as they are.  The context is the
 * bridge for the connection's (connectionLost, connect onSuccess and
 * onFailure, MQTT 3 and 5) and a ticket for a publish's. */
void mqtt_bridge_on_lost(void *context, char *cause);
void mqtt_bridge_on_connect_success(void *context, MQTTAsync_successData *response);
void mqtt_bridge_on_connect_failure(void *context, MQTTAsync_failureData *response);
void mqtt_bridge_on_connect_success5(void *context, MQTTAsync_successData5 *response);
void mqtt_bridge_on_connect_failure5(void *context, MQTTAsync_failureData5 *response);
void mqtt_bridge_on_publish_success(void *context, MQTTAsync_successData *response);
void mqtt_bridge_on_publish_failure(void *context, MQTTAsync_failureData *response);
void mqtt_bridge_on_publish_success5(void *context, MQTTAsync_successData5 *response);
void mqtt_bridge_on_publish_failure5(void *context, MQTTAsync_failureData5 *response);

#endif
