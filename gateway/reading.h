/* reading.h — one reading as published on MQTT: a sample with its time and
 * the gateway-wide sequence number.  A plain value. */
#ifndef TRYGGD_READING_H
#define TRYGGD_READING_H

#include <stdint.h>

enum reading_direction { DIRECTION_NONE, DIRECTION_IN, DIRECTION_OUT };

struct reading {
	int64_t ts_ms;
	uint64_t seq;
	double value;
	enum reading_direction direction;   /* footfall only */
};

#endif
