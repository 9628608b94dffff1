/* store_forward.h — the one forwarder from the spool to the store.
 *
 * Oldest lines first, at most batch_lines in a request (and at most
 * STORE_BODY_MAX bytes), over store_http.h in the sd-event loop; what the
 * store's answer means comes from store_classify() (store_response.h), how
 * to talk to it from the dialect table (store_dialect.h):
 *   - stored: those lines leave the spool (by id); a sample is read back
 *     when verify = readback (store_readback.h);
 *   - refused lines (400, 422) or too large (413): the batch is halved and
 *     each half sent, until the bad lines stand alone; those are set aside
 *     in the spool's `rejected` table with the answer, logged and counted.
 *     A good point sent again replaces itself in the store;
 *   - busy with Retry-After: wait that long;
 *   - anything else: exponential backoff, 0.5 s doubling to 5 min, with up
 *     to a quarter of jitter; one message per episode, and one more
 *     when it turns to a reason the operator must act on.
 * Waits run on the simulation's clock when there is one (time_scale: the
 * virtual seconds per real second).
 *
 * The forwarder borrows the spool.  It copies the [influx] config and
 * config_directory in store_forward_new(), so the struct config they came
 * from may be freed (a reload does) while it runs; its HTTP client and its
 * read-back borrow that copy, and are freed before it.  It owns its
 * credentials (read from the *_file keys, again after a 401 or 403) and
 * its batch. */
#ifndef TRYGGD_STORE_FORWARD_H
#define TRYGGD_STORE_FORWARD_H

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "config.h"
#include "spool.h"

#define STORE_BODY_MAX (8u * 1024u * 1024u)

struct store_forward;

struct store_counters {
	uint64_t sent;           /* lines the store acknowledged, each once */
	uint64_t requests, failures;
	uint64_t rejected;       /* lines set aside this run */
	uint64_t splits;         /* batches halved */
	uint64_t verified;       /* lines read back and found (verify = readback) */
	uint64_t missing;        /* lines acknowledged but not found when read back */
};

struct store_forward_options {
	sd_event *event;
	const struct influx_config *config;   /* copied */
	const char *config_directory;   /* where relative *_file names are; copied */
	struct spool *spool;
	double time_scale;              /* > 0; 1 in real time */
	void (*progress)(void *userdata);   /* after each acknowledged batch */
	void *userdata;
};

/* 0, or a negative errno with the reason logged (an unreadable credential
 * file, a URL libcurl refuses). */
int store_forward_new(const struct store_forward_options *options, struct store_forward **out);
void store_forward_free(struct store_forward *forward);

/* The spool has new lines: send them when nothing is under way. */
void store_forward_kick(struct store_forward *forward);

/* The end: a request under way is dropped, and the batch with it
 * (spool_end_flight); nothing more is sent.  Counters stay readable. */
void store_forward_stop(struct store_forward *forward);

/* Stopping: send what is waiting without waiting for flush_interval. */
void store_forward_flush(struct store_forward *forward);

struct store_counters store_forward_counters(const struct store_forward *forward);
/* Nothing left to do: the spool is empty and no sample waits to be read
 * back. */
bool store_forward_idle(const struct store_forward *forward);
/* false from a failed request until the next success. */
bool store_forward_available(const struct store_forward *forward);

#endif
