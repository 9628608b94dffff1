/* mqtt_bridge.c — see mqtt_bridge.h. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "mqtt_bridge.h"

struct bridge_ticket {
	struct mqtt_bridge *bridge;  /* read by Paho's threads; set before Paho sees the ticket */
	int64_t id;
	uint64_t generation;
	struct bridge_ticket *previous, *next;   /* the loop's list of outstanding tickets */
};

/* An event as posted: with the ticket, which only the loop frees. */
struct posted {
	struct bridge_event event;
	struct bridge_ticket *ticket;
};

struct mqtt_bridge {
	sd_event_source *source;
	int fd;
	bridge_handler handler;
	void *userdata;
	struct bridge_ticket *tickets;   /* outstanding: given to Paho, not yet answered */

	pthread_mutex_t mutex;
	/* under the mutex: posted and not yet taken, in order */
	struct posted *queue;
	size_t queue_count, queue_capacity;
	/* the loop's: the queue taken last time, emptied, to swap in next
	 * time, so that a steady flow allocates nothing */
	struct posted *spare;
	size_t spare_capacity;
	bool queue_failed;               /* out of memory on a Paho thread: see post() */
};

/* ---- Paho's threads ---- */

static void post(struct mqtt_bridge *bridge, const struct bridge_event *event, struct bridge_ticket *ticket)
{
	pthread_mutex_lock(&bridge->mutex);
	if (bridge->queue_count == bridge->queue_capacity) {
		size_t capacity = bridge->queue_capacity ? bridge->queue_capacity * 2 : 64;
		struct posted *grown = reallocarray(bridge->queue, capacity, sizeof(*grown));
		if (!grown) {
			/* Nothing can be done on this thread; the loop learns of it,
			 * and the message stays in the outbox to be sent again. */
			bridge->queue_failed = true;
			pthread_mutex_unlock(&bridge->mutex);
			return;
		}
		bridge->queue = grown;
		bridge->queue_capacity = capacity;
	}
	/* One wake-up per batch: a queue that was not empty has one on its
	 * way already (the loop reads the eventfd before it takes the queue,
	 * so none is lost). */
	bool wake = bridge->queue_count == 0;
	bridge->queue[bridge->queue_count++] = (struct posted){ *event, ticket };
	pthread_mutex_unlock(&bridge->mutex);
	if (!wake)
		return;
	uint64_t one = 1;
	/* EAGAIN only when the counter is saturated: the loop is awake anyway. */
	(void)!write(bridge->fd, &one, sizeof(one));
}

static void post_text(struct mqtt_bridge *bridge, enum bridge_event_kind kind, int code, const char *text)
{
	struct bridge_event event = { .kind = kind, .code = code };
	snprintf(event.text, sizeof(event.text), "%s", text ? text : "");
	post(bridge, &event, NULL);
}

void mqtt_bridge_on_lost(void *context, char *cause)
{
	/* Paho 1.3 always passes NULL here; keepalive, a closed socket and a
	 * broker's DISCONNECT all look alike to us. */
	post_text(context, BRIDGE_LOST, 0, cause ? cause : "connection lost");
}

void mqtt_bridge_on_connect_success(void *context, MQTTAsync_successData *response)
{
	post_text(context, BRIDGE_CONNECTED, 0, response ? response->alt.connect.serverURI : NULL);
}

void mqtt_bridge_on_connect_success5(void *context, MQTTAsync_successData5 *response)
{
	post_text(context, BRIDGE_CONNECTED, 0, response ? response->alt.connect.serverURI : NULL);
}

void mqtt_bridge_on_connect_failure(void *context, MQTTAsync_failureData *response)
{
	int code = response ? response->code : MQTTASYNC_FAILURE;
	post_text(context, BRIDGE_CONNECT_FAILED, code,
	          response && response->message ? response->message : MQTTAsync_strerror(code));
}

void mqtt_bridge_on_connect_failure5(void *context, MQTTAsync_failureData5 *response)
{
	int code = response ? response->code : MQTTASYNC_FAILURE;
	char text[BRIDGE_TEXT_SIZE];
	if (response && response->reasonCode != MQTTREASONCODE_SUCCESS)
		snprintf(text, sizeof(text), "%s (%s)", response->message ? response->message : MQTTAsync_strerror(code),
		         MQTTReasonCode_toString(response->reasonCode));
	else
		snprintf(text, sizeof(text), "%s", response && response->message ? response->message
		                                                                  : MQTTAsync_strerror(code));
	post_text(context, BRIDGE_CONNECT_FAILED, code, text);
}

static void post_publish(struct bridge_ticket *ticket, enum bridge_event_kind kind, int code)
{
	struct bridge_event event = { .kind = kind, .id = ticket->id, .generation = ticket->generation, .code = code };
	post(ticket->bridge, &event, ticket);
}

void mqtt_bridge_on_publish_success(void *context, MQTTAsync_successData *response)
{
	(void)response;
	post_publish(context, BRIDGE_PUBLISHED, 0);
}

void mqtt_bridge_on_publish_success5(void *context, MQTTAsync_successData5 *response)
{
	/* A broker may refuse a QoS 1 message in its PUBACK (MQTT 5): that
	 * is no delivery. */
	if (response && response->reasonCode >= MQTTREASONCODE_UNSPECIFIED_ERROR)
		post_publish(context, BRIDGE_PUBLISH_FAILED, (int)response->reasonCode);
	else
		post_publish(context, BRIDGE_PUBLISHED, 0);
}

void mqtt_bridge_on_publish_failure(void *context, MQTTAsync_failureData *response)
{
	post_publish(context, BRIDGE_PUBLISH_FAILED, response ? response->code : MQTTASYNC_FAILURE);
}

void mqtt_bridge_on_publish_failure5(void *context, MQTTAsync_failureData5 *response)
{
	post_publish(context, BRIDGE_PUBLISH_FAILED, response ? response->code : MQTTASYNC_FAILURE);
}

/* ---- the loop ---- */

static void ticket_unlink(struct mqtt_bridge *bridge, struct bridge_ticket *ticket)
{
	if (ticket->previous)
		ticket->previous->next = ticket->next;
	else
		bridge->tickets = ticket->next;
	if (ticket->next)
		ticket->next->previous = ticket->previous;
	free(ticket);
}

struct bridge_ticket *mqtt_bridge_ticket(struct mqtt_bridge *bridge, int64_t id, uint64_t generation)
{
	struct bridge_ticket *ticket = calloc(1, sizeof(*ticket));
	if (!ticket)
		return NULL;
	ticket->bridge = bridge;
	ticket->id = id;
	ticket->generation = generation;
	ticket->next = bridge->tickets;
	if (bridge->tickets)
		bridge->tickets->previous = ticket;
	bridge->tickets = ticket;
	return ticket;
}

void mqtt_bridge_ticket_cancel(struct mqtt_bridge *bridge, struct bridge_ticket *ticket)
{
	ticket_unlink(bridge, ticket);
}

static int on_wakeup(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
	struct mqtt_bridge *bridge = userdata;
	uint64_t value;
	(void)source;
	(void)revents;
	(void)!read(fd, &value, sizeof(value));

	/* Take the whole queue at once, so that Paho's threads wait on the
	 * mutex only for a swap, never for the handler. */
	pthread_mutex_lock(&bridge->mutex);
	struct posted *taken = bridge->queue;
	size_t count = bridge->queue_count, capacity = bridge->queue_capacity;
	bool failed = bridge->queue_failed;
	bridge->queue = bridge->spare;
	bridge->queue_capacity = bridge->spare_capacity;
	bridge->queue_count = 0;
	bridge->queue_failed = false;
	pthread_mutex_unlock(&bridge->mutex);
	bridge->spare = NULL;
	bridge->spare_capacity = 0;

	for (size_t i = 0; i < count; i++) {
		bridge->handler(bridge->userdata, &taken[i].event);
		if (taken[i].ticket)
			ticket_unlink(bridge, taken[i].ticket);
	}
	bridge->spare = taken;
	bridge->spare_capacity = capacity;
	if (failed) {
		/* An answer was lost for want of memory: the connection's
		 * state can no longer be trusted, so it is treated as lost. */
		struct bridge_event lost = { .kind = BRIDGE_LOST };
		snprintf(lost.text, sizeof(lost.text), "out of memory passing MQTT events to the loop");
		bridge->handler(bridge->userdata, &lost);
	}
	return 0;
}

void mqtt_bridge_drain(struct mqtt_bridge *bridge)
{
	on_wakeup(NULL, bridge->fd, 0, bridge);
}

int mqtt_bridge_new(sd_event *event, bridge_handler handler, void *userdata, struct mqtt_bridge **out)
{
	int r;
	struct mqtt_bridge *bridge = calloc(1, sizeof(*bridge));
	if (!bridge)
		return -ENOMEM;
	pthread_mutex_init(&bridge->mutex, NULL);
	bridge->fd = -1;
	bridge->handler = handler;
	bridge->userdata = userdata;
	bridge->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (bridge->fd < 0) {
		r = -errno;
		goto fail;
	}
	r = sd_event_add_io(event, &bridge->source, bridge->fd, EPOLLIN, on_wakeup, bridge);
	if (r < 0)
		goto fail;
	*out = bridge;
	return 0;
fail:
	mqtt_bridge_free(bridge);
	return r;
}

void mqtt_bridge_free(struct mqtt_bridge *bridge)
{
	if (!bridge)
		return;
	sd_event_source_disable_unref(bridge->source);
	if (bridge->fd >= 0)
		close(bridge->fd);
	while (bridge->tickets)
		ticket_unlink(bridge, bridge->tickets);
	free(bridge->queue);
	free(bridge->spare);
	pthread_mutex_destroy(&bridge->mutex);
	free(bridge);
}
