/* lineproto.h — InfluxDB line protocol for closed windows and sensor
 * problems.
 *
 * One point per sensor per window: measurement = the sensor type; tags
 * district, site (when set), gateway, sensor; fields per CONTRACT.md plus
 * coverage; timestamp = window start in seconds.  And one point per window
 * for the gateway itself: measurement `gateway`, the same tags but sensor,
 * the fields of health_fields() (health.h).  And one point each time a
 * sensor's problem is raised or cleared: measurement `alert`, the sensor's
 * tags and `problem`, fields `active` and `detail` (lineproto_alert()).
 * Every tag value and string field is escaped per the line-protocol rules
 * so that no value can forge or break a point.  The caller owns the
 * buffer; struct lineproto_alert only borrows its strings. */
#ifndef TRYGGD_LINEPROTO_H
#define TRYGGD_LINEPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "health.h"
#include "identity.h"
#include "window.h"

/* How a store reads a backslash in a tag value (see lineproto.c):
 * InfluxDB 1.x and 2.x keep it as it is, VictoriaMetrics and InfluxDB 3
 * read "\\" as one. */
enum lineproto_backslash {
	LINEPROTO_BACKSLASH_AS_IS,
	LINEPROTO_BACKSLASH_DOUBLED,
};

/* Write one point, ending in '\n', into out.  Returns its length (without
 * the NUL), or -ENOSPC when out_size is too small. */
int lineproto_window(enum lineproto_backslash backslash, const struct identity *id, const char *sensor,
                     const struct window_result *w, char *out, size_t out_size);

/* The gateway's own figures as one point of measurement `gateway`, at
 * start_ms (a window start); as lineproto_window() otherwise. */
int lineproto_gateway(enum lineproto_backslash backslash, const struct identity *id, int64_t start_ms, const struct health *health,
                      char *out, size_t out_size);

/* One raise or clear of one of a sensor's problems. */
struct lineproto_alert {
	const char *sensor;
	const char *problem;         /* alert_kind_name(): failed, blocked, covered, stuck, lamp_fault */
	bool active;                 /* true: raised; false: cleared */
	/* The technician's line, or NULL to leave the field out (a store that
	 * keeps no text).  Control characters are written as spaces and bytes
	 * that are not UTF-8 as '?': a store keeps text, and one line a point. */
	const char *detail;
	int64_t ts_ms;               /* the problem's since when raised, the clear's time when cleared */
};

/* alert,district=…,gateway=…,problem=…,sensor=…[,site=…] active=BOOL[,detail="…"] TS
 * As lineproto_window() otherwise. */
int lineproto_alert(enum lineproto_backslash backslash, const struct identity *id, const struct lineproto_alert *alert,
                    char *out, size_t out_size);

/* Escape a tag key, tag value or field key: comma, '=' and space get a
 * backslash; a backslash is written as it is (AS_IS: 1.x does not unescape
 * "\\"; see lineproto.c for the two cases that cannot round-trip, which
 * config validation refuses) or doubled (DOUBLED).  Returns the length or -ENOSPC. */
int lineproto_escape_tag(enum lineproto_backslash backslash, const char *text, char *out, size_t out_size);

/* Whether InfluxDB 1.x stores text as a tag value byte for byte: not when
 * it ends in a backslash or has a backslash right before ',', ' ' or '='. */
bool lineproto_tag_value_exact(const char *text);

#endif
