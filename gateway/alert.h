/* alert.h — a sensor's health as the retained `alert` topic tells it: ok, or
 * one or more problems, each with the time it began and a line a
 * technician can act on.  The problem shown is the most serious one active.
 * A plain value, owned by the sensor that embeds it. */
#ifndef TRYGGD_ALERT_H
#define TRYGGD_ALERT_H

#include <stdbool.h>
#include <stdint.h>

/* In order of seriousness: a sensor that cannot be read says nothing about
 * the place, so `failed` outranks what it would otherwise show. */
enum alert_kind {
	ALERT_FAILED,        /* the sensor cannot be read (device gone, read error, impossible value) */
	ALERT_BLOCKED,       /* a beam held broken longer than a person takes */
	ALERT_COVERED,       /* a light sensor near zero while the sun is well up */
	ALERT_STUCK,         /* no footfall for a long time in hours that are normally busy */
	ALERT_LAMP_FAULT,    /* a lamp off while its light sensor reads dark */
};
#define ALERT_KIND_COUNT 5
#define ALERT_DETAIL_SIZE 160

struct alert_problem {
	bool active;
	int64_t since_ms;
	char detail[ALERT_DETAIL_SIZE];
};

struct alerts {
	struct alert_problem problems[ALERT_KIND_COUNT];
};

const char *alert_kind_name(enum alert_kind kind);   /* "failed", "blocked", ... */

/* Raise a problem (or update its detail).  Returns true when what the
 * topic shows changed: a problem that was not active before. */
bool alert_raise(struct alerts *alerts, enum alert_kind kind, int64_t since_ms, const char *format, ...)
	__attribute__((format(printf, 4, 5)));
/* Returns true when the problem was active. */
bool alert_clear(struct alerts *alerts, enum alert_kind kind);
bool alert_active(const struct alerts *alerts, enum alert_kind kind);

/* The most serious active problem, or NULL when the sensor is ok. */
const struct alert_problem *alert_shown(const struct alerts *alerts, enum alert_kind *kind);

#endif
