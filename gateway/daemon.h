/* daemon.h — one running gateway: sensors, windows, MQTT and the store,
 * all driven by one sd-event loop on one thread.
 *
 * Data flows one way: driver sample → reading (MQTT) → window → window
 * message (MQTT) and line-protocol point → spool → store.  The daemon
 * borrows the config for its whole run. */
#ifndef TRYGGD_DAEMON_H
#define TRYGGD_DAEMON_H

#include "config.h"

/* Exit statuses beyond 0, after sysexits.h. */
#define EXIT_CONFIG 78       /* EX_CONFIG: the configuration can't be used */
#define EXIT_UNAVAILABLE 69  /* EX_UNAVAILABLE: the state can't be opened, or a sensor's settings can't work */
#define EXIT_TEMPFAIL 75     /* EX_TEMPFAIL: the simulated end came, delivery did not */

/* Run until a signal, or the simulated end; returns the process exit status. */
int daemon_run(const struct config *config);

#endif
