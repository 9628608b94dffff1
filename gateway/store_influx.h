/* store_influx.h — forwards the spool to InfluxDB's line-protocol write API
 * over HTTP, on libcurl's multi-socket interface driven by the sd-event
 * loop (never a blocking call in the loop).
 *
 * One request at a time, oldest lines first, at most batch_lines per
 * request; lines leave the spool only on a 2xx answer.  Failures are
 * retried with capped exponential backoff and logged once per outage.
 * The forwarder borrows the spool and the config; it owns its curl handles. */
#ifndef TRYGGD_STORE_INFLUX_H
#define TRYGGD_STORE_INFLUX_H

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "config.h"
#include "spool.h"

struct store_influx;

struct store_counters {
	uint64_t sent;           /* lines the store acknowledged */
	uint64_t requests, failures;
};

/* progress(userdata) is called after each acknowledged batch. */
int store_influx_new(sd_event *event, const struct influx_config *config, struct spool *spool,
                     void (*progress)(void *userdata), void *userdata, struct store_influx **out);
void store_influx_free(struct store_influx *store);

/* The spool has new lines: send them when no request is under way. */
void store_influx_kick(struct store_influx *store);

struct store_counters store_influx_counters(const struct store_influx *store);
/* false from a failed request until the next success. */
bool store_influx_available(const struct store_influx *store);

#endif
