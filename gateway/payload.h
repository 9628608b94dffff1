/* payload.h — the JSON payloads tryggd publishes on MQTT (CONTRACT.md),
 * written with cJSON.  Each function returns a string the caller frees with
 * free(), or NULL when out of memory. */
#ifndef TRYGGD_PAYLOAD_H
#define TRYGGD_PAYLOAD_H

#include <stdint.h>

#include "sensor_type.h"
#include "alert.h"
#include "health.h"
#include "identity.h"
#include "reading.h"
#include "window.h"

char *payload_reading(const struct identity *id, const char *sensor, enum sensor_type type,
                      const struct reading *r);
char *payload_window(const struct identity *id, const char *sensor, const struct window_result *w);
/* The sensor's health for its retained alert topic: {"state":"ok"} or the
 * most serious problem {"state":"covered","since":…,"detail":…,"problems":[…]},
 * with ts and the sensor's identity. */
char *payload_alert(const struct identity *id, const char *sensor, enum sensor_type type,
                    const struct alerts *alerts, int64_t ts_ms);
/* The gateway's own figures for its health topic: ts, the gateway's
 * identity (gateway, district, site where set), then health_fields(). */
char *payload_health(const struct identity *id, int64_t ts_ms, const struct health *health);
/* {"state":"online","version":…,"ts":…} or, with ts_ms < 0, {"state":"offline"} */
char *payload_status(const char *state, const char *version, int64_t ts_ms);

#endif
