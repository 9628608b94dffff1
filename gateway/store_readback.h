/* store_readback.h — proof that a store which answered 2xx kept the points.
 *
 * VictoriaMetrics answers 204 to a malformed line and to a point older than
 * its retention, and drops both.  After each acknowledged batch the
 * forwarder hands its lines here; a sample of them (at most
 * READBACK_SAMPLE, spread over the batch) is read back with
 * /api/v1/export, READBACK_DELAY_S later (the store makes new points
 * searchable within a second), and again READBACK_RETRY_S after that when
 * not found.  A point found counts as verified; one still absent
 * counts as missing and is logged with its line.  A query that fails (store
 * down) leaves the point unknown: counted, not retried.
 *
 * At most READBACK_QUEUE_MAX points wait; beyond that a sample is skipped
 * (counted).  Delays are divided by time_scale, which tryggd keeps at 1
 * even in a simulation: the store's lag is in real time; tests of this
 * module alone make it larger.  The read-back borrows the HTTP client and the
 * config, and must be freed before the client (store_readback_free() cancels
 * its queries there) and before the config, which in tryggd is the
 * forwarder's own copy (store_forward.h). */
#ifndef TRYGGD_STORE_READBACK_H
#define TRYGGD_STORE_READBACK_H

#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "config.h"
#include "store_http.h"

#define READBACK_SAMPLE 4
#define READBACK_DELAY_S 2
#define READBACK_RETRY_S 15
#define READBACK_QUEUE_MAX 1000

struct store_readback;

struct store_readback_counters {
	uint64_t verified;       /* sampled points found in the store */
	uint64_t missing;        /* sampled points the store did not keep */
	uint64_t unknown;        /* sampled points that could not be checked */
	uint64_t skipped;        /* samples not taken: the queue was full */
};

int store_readback_new(sd_event *event, struct store_http *http, const struct influx_config *config,
                       double time_scale, struct store_readback **out);
void store_readback_free(struct store_readback *readback);

/* Basic authentication for the queries from now on: user and password
 * (either may be NULL: none) are copied, the password into memory zeroed
 * when it is replaced or freed.  0, or -ENOMEM with the old ones kept. */
int store_readback_set_credentials(struct store_readback *readback, const char *user, const char *password);

/* The store acknowledged these lines (count lines joined by '\n', each
 * ending in '\n'; copied as needed): read a sample back later. */
void store_readback_add(struct store_readback *readback, const char *lines, size_t length, size_t count);

struct store_readback_counters store_readback_counters(const struct store_readback *readback);
/* Samples waiting or being read back. */
size_t store_readback_pending(const struct store_readback *readback);
/* idle(userdata) is called each time the last sample waiting has been read
 * back (a stop waits for it). */
void store_readback_on_idle(struct store_readback *readback, void (*idle)(void *userdata), void *userdata);

#endif
