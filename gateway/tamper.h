/* tamper.h — the rules that tell tamper and wear from an ordinary quiet or
 * dark place, each from what one sensor reads over time:
 *
 *  - stuck:      a footfall sensor counted no one for stuck_after of busy
 *                time (local hours busy_hours, the board's TZ); only busy
 *                time counts, so a quiet night never raises it.  Cleared by
 *                the next pass.
 *  - blocked:    a beam held broken for blocked_after.  Cleared when it
 *                clears.
 *  - covered:    a light sensor below covered_lux for covered_after while
 *                the sun stands 10° or more above the horizon (at the
 *                gateway's latitude and longitude), when even deep shade
 *                reads hundreds of lux.  Cleared by a reading at or above
 *                covered_lux.
 *  - lamp_fault: a lamp off while its light sensor reads dark for
 *                fault_after.  Cleared when it is lit or the place is light.
 *
 * A struct tamper is a plain value embedded in the sensor; it borrows the
 * thresholds from the sensor's configuration. */
#ifndef TRYGGD_TAMPER_H
#define TRYGGD_TAMPER_H

#include <stdbool.h>
#include <stdint.h>

#include "alert.h"
#include "sensor_config.h"

/* The sun must be this high for a covered light sensor to be told from
 * dusk, an overcast day or a shaded corner. */
#define TAMPER_COVERED_ELEVATION 10.0

struct tamper {
	const struct sensor_alerts *limits;
	double latitude, longitude;
	int64_t last_pass_ms;        /* footfall: start, or the last pass */
	int64_t last_tick_ms;
	int64_t quiet_busy_ms;       /* busy time since the last pass */
	bool held;                   /* a beam is broken now */
	int64_t held_since_ms;
	int64_t low_since_ms;        /* light: below covered_lux in daylight since, or -1 */
	int64_t fault_since_ms;      /* lamp: off in the dark since, or -1 */
};

void tamper_init(struct tamper *tamper, const struct sensor_alerts *limits, double latitude, double longitude,
                 int64_t now_ms);

/* Each returns true when what the alert topic shows may have changed. */

/* Footfall, once per interval: passes counted since the last call. */
bool tamper_footfall(struct tamper *tamper, struct alerts *alerts, int64_t now_ms, uint64_t passes);
/* Footfall: the beam became broken (held) or clear at t_ms; and the check
 * of how long it has been held, at now_ms. */
bool tamper_beam(struct tamper *tamper, struct alerts *alerts, int64_t t_ms, bool held);
bool tamper_beam_check(struct tamper *tamper, struct alerts *alerts, int64_t now_ms);
/* Light, for each sample. */
bool tamper_light(struct tamper *tamper, struct alerts *alerts, int64_t now_ms, double lux);
/* Light: whether a dark reading can be believed.  Not while the sensor
 * reads below covered_lux in daylight (it is covered or dirty, whether or
 * not covered_after has passed yet), nor while `covered` is raised. */
bool tamper_light_trusted(const struct tamper *tamper, const struct alerts *alerts);
/* Lamp, for each span credited: whether it was off while its light sensor
 * read dark. */
bool tamper_lamp(struct tamper *tamper, struct alerts *alerts, int64_t now_ms, bool off_in_dark);

/* "3 h 5 min", "45 s", "250 ms": a span as a technician reads it. */
void tamper_format_span(int64_t span_ms, char *out, size_t out_size);

#endif
