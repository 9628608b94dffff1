/* topic.h — the name of every MQTT topic tryggd publishes, built in this one
 * place, as ../shared/CONTRACT.md ("MQTT") gives them:
 *
 *     PREFIX/D/G/status          retained; also the will's topic
 *     PREFIX/D/G/health
 *     PREFIX/D/G/S/reading
 *     PREFIX/D/G/S/window
 *     PREFIX/D/G/S/alert         retained
 *
 * PREFIX is [mqtt] topic_prefix (may itself have several levels), D the
 * district as a slug (slug.h: "Årby" → "arby"), G the gateway id and S the
 * sensor name.
 *
 * Every part is checked here as well, whatever the configuration let
 * through: G, S and D must each be exactly one non-empty level (no '/'),
 * and no part may hold an MQTT wildcard ('+', '#') or a control character,
 * so no name can add, remove or widen a level.  A part that breaks this
 * gives -EINVAL and no topic.  (Config validation already allows only
 * [A-Za-z0-9_-]{1,64} for G and [a-z0-9_-]{1,32} for S, and a prefix
 * without wildcards or empty levels.)
 *
 * Ownership: the inputs are borrowed for the call only; a topic handed back
 * in *out is the caller's, to free().  Nothing is kept between calls. */
#ifndef TRYGGD_TOPIC_H
#define TRYGGD_TOPIC_H

#include "identity.h"

/* The gateway's own topics: PREFIX/D/G/<kind>. */
enum topic_gateway_kind {
	TOPIC_STATUS,
	TOPIC_HEALTH,
};

/* A sensor's topics: PREFIX/D/G/S/<kind>. */
enum topic_sensor_kind {
	TOPIC_READING,
	TOPIC_WINDOW,
	TOPIC_ALERT,
};

/* The last level of a kind ("status", "reading", ...). */
const char *topic_gateway_leaf(enum topic_gateway_kind kind);
const char *topic_sensor_leaf(enum topic_sensor_kind kind);

/* PREFIX/D/G/<kind> for identity's gateway and district.  0 with a new
 * string in *out; -EINVAL (a part is not a safe level, or the kind is
 * unknown) or -ENOMEM with *out left NULL. */
int topic_gateway(const char *prefix, const struct identity *identity, enum topic_gateway_kind kind, char **out);

/* PREFIX/D/G/S/<kind> for the sensor named sensor; as topic_gateway(). */
int topic_sensor(const char *prefix, const struct identity *identity, const char *sensor,
                 enum topic_sensor_kind kind, char **out);

#endif
