/* lineproto.h — InfluxDB line protocol for closed windows.
 *
 * One point per sensor per window: measurement = the sensor type; tags
 * district, site (when set), gateway, sensor; fields per CONTRACT.md plus
 * coverage; timestamp = window start in seconds.  Every tag value is escaped
 * per the line-protocol rules so that no value can forge or break a point.
 * The caller owns the buffer. */
#ifndef TRYGGD_LINEPROTO_H
#define TRYGGD_LINEPROTO_H

#include <stddef.h>

#include "identity.h"
#include "window.h"

/* Write one point, ending in '\n', into out.  Returns its length (without
 * the NUL), or -ENOSPC when out_size is too small. */
int lineproto_window(const struct identity *id, const char *sensor,
                     const struct window_result *w, char *out, size_t out_size);

/* Escape a tag key, tag value or field key (comma, '=', space, backslash
 * escaped). Returns the length or -ENOSPC. */
int lineproto_escape_tag(const char *text, char *out, size_t out_size);

#endif
