/* sensor_worker.h — one thread per sensor whose driver reads in a way that
 * can sleep in the kernel (driver_ops.sample_may_block: an IIO light driver
 * converting for 100–600 ms inside read(2)), so that sample() never blocks
 * the loop.
 *
 * The loop starts one sample at a time; the thread calls the driver's
 * sample() and hands the result back through an eventfd that the loop
 * watches, as Paho's threads do: the thread does nothing else, and
 * everything that follows (the window, the alerts, failing and reopening)
 * runs on the loop, in done().  While a sample is in flight the driver's
 * state belongs to the thread; the loop touches it again only after done()
 * has run, or after sensor_worker_wait() or sensor_worker_finish().
 *
 * The thread blocks every signal: they are the loop's, through signalfd.
 *
 * The worker borrows the event loop and the driver.  sensor_worker_free()
 * waits for a sample in flight (the loop blocks that long: at shutdown or
 * when a sensor is freed), drops its result and joins the thread; it must
 * not be called from done(). */
#ifndef TRYGGD_SENSOR_WORKER_H
#define TRYGGD_SENSOR_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "driver.h"

struct sensor_worker;

/* On the loop: the sample started at now_ms is done; result is what the
 * driver's sample() returned (sample is filled when it is 0). */
typedef void (*sensor_worker_done)(void *userdata, int64_t now_ms, int result, const struct sample *sample);

int sensor_worker_new(sd_event *event, sensor_worker_done done, void *userdata, struct sensor_worker **out);
void sensor_worker_free(struct sensor_worker *worker);

/* Start driver->sample(state, now_ms) on the thread.  -EBUSY while the last
 * one is in flight, or done but its done() has not run yet (see
 * sensor_worker_finish()). */
int sensor_worker_start(struct sensor_worker *worker, const struct driver_ops *driver, void *state,
                        int64_t now_ms);
/* Whether the thread is still in sample(): started, not yet returned. */
bool sensor_worker_busy(const struct sensor_worker *worker);
/* Block until no sample is in flight, then run done() here for a result the
 * loop has not handled yet (the eventfd may not have had its turn).  Does
 * not block when sensor_worker_busy() is false. */
void sensor_worker_finish(struct sensor_worker *worker);
/* Block until no sample is in flight and drop its result (done() is not
 * called for it): before the loop closes the driver. */
void sensor_worker_wait(struct sensor_worker *worker);

/* A sample hung in the kernel may never come back, and waiting for it
 * would hang a stop or a reload.  When a sample is in the driver's
 * sample() now, the worker and the driver's state become the thread's:
 * it closes the driver (driver->close) and frees the worker when the
 * sample returns, or they go with the process; the caller forgets both
 * and returns true.  False, and nothing changed, when no sample is in
 * flight (free the worker as usual). */
bool sensor_worker_abandon(struct sensor_worker *worker);

#endif
