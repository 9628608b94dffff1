/* lineproto.h — InfluxDB line protocol for closed windows.
 *
 * One point per sensor per window: measurement = the sensor type; tags
 * district, site (when set), gateway, sensor; fields per CONTRACT.md plus
 * coverage; timestamp = window start in seconds.  And one point per window
 * for the gateway itself: measurement `gateway`, the same tags but sensor,
 * the fields of health_fields() (health.h).  Every tag value is escaped
 * per the line-protocol rules so that no value can forge or break a point.
 * The caller owns the buffer. */
#ifndef TRYGGD_LINEPROTO_H
#define TRYGGD_LINEPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "health.h"
#include "identity.h"
#include "window.h"

/* Write one point, ending in '\n', into out.  Returns its length (without
 * the NUL), or -ENOSPC when out_size is too small. */
int lineproto_window(const struct identity *id, const char *sensor,
                     const struct window_result *w, char *out, size_t out_size);

/* The gateway's own figures as one point of measurement `gateway`, at
 * start_ms (a window start); as lineproto_window() otherwise. */
int lineproto_gateway(const struct identity *id, int64_t start_ms, const struct health *health,
                      char *out, size_t out_size);

/* Escape a tag key, tag value or field key for InfluxDB 1.x: comma, '=' and
 * space get a backslash; a backslash is written as it is, since 1.x does not
 * unescape "\\" (see lineproto.c for the two cases that cannot round-trip,
 * which config validation refuses).  Returns the length or -ENOSPC. */
int lineproto_escape_tag(const char *text, char *out, size_t out_size);

/* Whether InfluxDB 1.x stores text as a tag value byte for byte: not when
 * it ends in a backslash or has a backslash right before ',', ' ' or '='. */
bool lineproto_tag_value_exact(const char *text);

#endif
