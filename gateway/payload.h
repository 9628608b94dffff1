/* payload.h — the JSON payloads tryggd publishes on MQTT (CONTRACT.md),
 * written with cJSON.  Each function returns a string the caller frees with
 * free(), or NULL when out of memory. */
#ifndef TRYGGD_PAYLOAD_H
#define TRYGGD_PAYLOAD_H

#include <stdint.h>

#include "config.h"
#include "identity.h"
#include "reading.h"
#include "window.h"

char *payload_reading(const struct identity *id, const char *sensor, enum sensor_type type,
                      const struct reading *r);
char *payload_window(const struct identity *id, const char *sensor, const struct window_result *w);
/* {"state":"online","version":…,"ts":…} or, with ts_ms < 0, {"state":"offline"} */
char *payload_status(const char *state, const char *version, int64_t ts_ms);

#endif
