/* health.h — the gateway's own figures: what the health topic publishes
 * and what the store's `gateway` measurement keeps (CONTRACT.md).
 *
 * health_fields() is the one list of those fields, in the manner of
 * window_fields() (window.h): payload_health() and lineproto_gateway() both
 * write from it, so the MQTT message and the store point can never carry
 * different fields.  The figures are gathered by the daemon; this file only
 * says what they mean and how they are spelled.  A struct health is a plain
 * value. */
#ifndef TRYGGD_HEALTH_H
#define TRYGGD_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "window.h"

/* Counters run from tryggd's start (a restart shows as uptime_s falling). */
struct health {
	uint64_t readings;       /* samples taken or passes counted, every sensor */
	uint64_t published;      /* MQTT messages the broker acknowledged (written, at QoS 0) */
	uint64_t buffered;       /* MQTT messages held in the outbox now, in flight included */
	uint64_t dropped;        /* MQTT messages not sent: the oldest dropped from a full outbox,
	                          * refused by the broker, or that could not be kept or built */
	uint64_t lost;           /* MQTT messages kept, then lost when the disk refused to write them */
	uint64_t reconnects;     /* MQTT connections made again after one was lost */
	uint64_t spooled;        /* points in the spool, waiting for the store */
	uint64_t sent;           /* points the store took */
	uint64_t spool_dropped;  /* points dropped: the oldest, to keep the spool within spool_max_mb */
	uint64_t rejected;       /* points the store refused for what they are, set aside in the spool */
	uint64_t missing;        /* points the store acknowledged but did not keep (verify = readback) */
	uint64_t problems;       /* active sensor problems (alerts), every sensor */
	uint64_t unstamped_windows;  /* windows closed but not stamped: the clock was not synchronised,
	                              * or stepped back over windows already sent (clock_trust.h) */
	uint64_t implausible;    /* samples, and storms of passes, out of physical range: rejected,
	                          * every sensor (sensor.h) */
	int64_t uptime_s;        /* since tryggd started, on its clock (see daemon.c) */
	int64_t window_s;        /* [gateway] window: a reader counts the windows a span should have */
	int64_t memory;          /* resident set size in bytes; < 0 when unknown (the field is left out) */
};

#define HEALTH_FIELDS_MAX 17

/* The fields in this order: readings, published, buffered, dropped, lost,
 * reconnects, spooled, sent, spool_dropped, rejected, missing, problems,
 * unstamped_windows, implausible, uptime_s, window_s, memory; all integers.
 * memory is left out when unknown.  Returns how many. */
size_t health_fields(const struct health *health, struct window_field fields[HEALTH_FIELDS_MAX]);

/* This process's resident set size in bytes, from /proc/self/statm
 * (resident pages times the page size), or -1 when it cannot be read. */
int64_t health_memory_bytes(void);

#endif
