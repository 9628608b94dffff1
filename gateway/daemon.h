/* daemon.h — one running gateway: sensors, windows, MQTT and the store,
 * all driven by one sd-event loop on one thread.
 *
 * Data flows one way: driver sample → reading (MQTT) → window → window
 * message (MQTT) and line-protocol point → spool → store.  The daemon
 * owns its config, and a reload (SIGHUP) replaces it. */
#ifndef TRYGGD_DAEMON_H
#define TRYGGD_DAEMON_H

#include "config.h"

/* Exit statuses beyond 0, after sysexits.h. */
#define EXIT_CONFIG 78       /* EX_CONFIG: the configuration can't be used */
#define EXIT_UNAVAILABLE 69  /* EX_UNAVAILABLE: the state can't be opened, or a sensor's settings can't work */
#define EXIT_TEMPFAIL 75     /* EX_TEMPFAIL: the simulated end came, delivery did not */

struct daemon;

/* Build a gateway from config, which it takes (heap-allocated; freed with
 * the daemon, or at once on failure).  0, or a negative errno with the
 * reason logged and *status the exit status to give. */
int daemon_new(struct config *config, struct daemon **out, int *status);
/* Run until a signal, or the simulated end; returns the process exit
 * status.  SIGHUP reloads the configuration while it runs. */
int daemon_run(struct daemon *daemon);
void daemon_free(struct daemon *daemon);

#endif
