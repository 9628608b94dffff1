/* sim_inject.h — faults the sim driver plays at given virtual times, so a
 * demo or a test shows every alert the gateway raises:
 *
 *     inject = covered@2026-11-03T09:00:00Z/3h, failed@2026-11-03T20:00Z/10min
 *
 * Each entry is KIND@START/DURATION (START as ISO-8601 UTC, DURATION as
 * 90s, 15min, 3h ...).  Kinds and what the sensor does meanwhile:
 *   failed      any type: every read fails (as an unplugged device)
 *   stuck       footfall: counts no one
 *   blocked     footfall: the beam reads held broken, and counts no one
 *   covered     light: reads 0.2 lx, as a taped-over sensor
 *   lamp_fault  lamp: stays off, even in the dark
 *   garbage     any type: reads what no working sensor reads, as a broken
 *               wire or a misread register: light -5, 1e9 and NaN lx in
 *               turn (by the sample's slot), lamp 0.5, footfall 1000000
 *               passes a sample; the gateway rejects every one of them
 * A plain value; no pointers. */
#ifndef TRYGGD_SIM_INJECT_H
#define TRYGGD_SIM_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensor_type.h"

#define SIM_INJECT_MAX 16

enum sim_fault {
	SIM_FAULT_FAILED, SIM_FAULT_STUCK, SIM_FAULT_BLOCKED, SIM_FAULT_COVERED, SIM_FAULT_LAMP, SIM_FAULT_GARBAGE,
};

struct sim_injection {
	enum sim_fault fault;
	int64_t start_ms, end_ms;
};

struct sim_injections {
	struct sim_injection entries[SIM_INJECT_MAX];
	size_t count;
};

/* Parse the option's value for a sensor of this type.  0, or -EINVAL with
 * a message in err. */
int sim_inject_parse(enum sensor_type type, const char *text, struct sim_injections *out,
                     char *err, size_t err_size);

/* Whether fault is being played at t_ms. */
bool sim_inject_active(const struct sim_injections *injections, enum sim_fault fault, int64_t t_ms);

#endif
