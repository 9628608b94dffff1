/* sim_internal.h — what the files of the sim driver share, and no one else
 * sees:
 *
 *   sim.c           the driver's operations: options, open() (a sensor's
 *                   state, and a light sensor's copy of each of its lamps),
 *                   sample(), close();
 *   sim_light.c     the sky, a light sensor's lux and a street lamp's state;
 *   sim_footfall.c  passes in a span: the day's curve, the season,
 *                   holidays, event evenings and darkness;
 *   sim_calendar.c, sim_profile.c, sim_scenario.c, sim_inject.c: see their
 *                   headers.
 *
 * Every value is a pure function of (seed, sensor name, profile,
 * scenarios, time, interval): random numbers come from a stateless hash of
 * those inputs (below), never from a running generator.
 *
 * struct sim_state owns its timeline's layers and its array of lamps, and
 * each lamp its own timeline's layers; sim.c's close() frees them.  No
 * pointer into the sensor config or the environment is kept. */
#ifndef TRYGGD_SIM_INTERNAL_H
#define TRYGGD_SIM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "driver.h"
#include "sim_inject.h"
#include "sim_profile.h"
#include "sim_scenario.h"

#define SIM_MS_PER_MINUTE INT64_C(60000)
#define SIM_MS_PER_HOUR INT64_C(3600000)
#define SIM_MS_PER_DAY INT64_C(86400000)

/* M_PI is POSIX, not C17. */
#define SIM_PI 3.14159265358979323846

/* Each use of randomness draws from its own stream, so adding one use
 * never shifts the numbers of another: append only. */
enum sim_stream {
	STREAM_PLACEMENT = 1,
	STREAM_LIGHT_NOISE,
	STREAM_CLOUD_DAY,
	STREAM_CLOUD_HOUR,
	STREAM_LAMP_OFFSET,
	STREAM_LAMP_FAULT,
	STREAM_FAULT_KIND,
	STREAM_FAULT_START,
	STREAM_FAULT_LENGTH,
	STREAM_DAY_LEVEL,
	STREAM_SITE_LEVEL,
	STREAM_FOOTFALL,
	STREAM_DIRECTION,
	STREAM_EVENT_DAY,
};

/* One street lamp as its lamp sensor computes it.  A sim lamp sensor has
 * one; a sim light sensor has one for each sim lamp paired with it, made
 * from the lamp's own config by the same function, so the light it sees
 * is exactly the lamp's on and off. */
struct sim_lamp {
	uint64_t sensor_key;               /* the lamp's seed and name: its own randomness */
	uint64_t shared_key;               /* the lamp's seed: the sky it sees */
	int64_t offset_ms;                 /* its photocell switches this much later (or earlier) */
	struct sim_timeline timeline;      /* its profile, with the scenarios for it */
	struct sim_injections injections;  /* an injected lamp_fault keeps it off */
};

struct sim_state {
	enum sensor_type type;
	int64_t interval_ms;
	struct sim_timeline timeline;  /* light and footfall: the profile, with the scenarios for this sensor */
	uint64_t sensor_key;           /* seed and sensor name: this sensor's own randomness */
	uint64_t shared_key;           /* seed only: weather and daily level, common to all sensors */
	uint64_t event_key;            /* seed and district: event days, common to a district's sensors */
	double placement;              /* light: share of daylight reaching the sensor (shade), 0.7–1 */
	double site_level;             /* footfall: this spot is busier or quieter than the district mean */
	struct sim_lamp lamp;          /* lamp: the lamp itself */
	struct sim_lamp *lamps;        /* light: the sim lamps paired with it */
	size_t lamp_count;
	struct sim_injections injections;
};

/* ---- stateless randomness ---------------------------------------------------- */

static inline uint64_t sim_splitmix64(uint64_t x)
{
	x += UINT64_C(0x9E3779B97F4A7C15);
	x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
	return x ^ (x >> 31);
}

/* Scrambling value before the xor keeps (a, b) and (b, a) apart. */
static inline uint64_t sim_hash_mix(uint64_t key, uint64_t value)
{
	return sim_splitmix64(key ^ sim_splitmix64(value));
}

static inline uint64_t sim_hash_text(const char *text)
{
	/* FNV-1a: stable across builds and platforms, unlike pointer values. */
	uint64_t hash = UINT64_C(0xCBF29CE484222325);
	for (const unsigned char *cursor = (const unsigned char *)text; *cursor; cursor++) {
		hash ^= *cursor;
		hash *= UINT64_C(0x100000001B3);
	}
	return hash;
}

static inline double sim_hash_to_unit(uint64_t hash)
{
	return (double)(hash >> 11) * 0x1.0p-53;   /* [0, 1) with 53 random bits */
}

/* A uniform number in [0, 1) for one stream and one index (a time, a day…). */
static inline double sim_draw(uint64_t key, enum sim_stream stream, int64_t index)
{
	return sim_hash_to_unit(sim_hash_mix(sim_hash_mix(key, (uint64_t)stream), (uint64_t)index));
}

static inline double sim_clamp(double value, double low, double high)
{
	return value < low ? low : value > high ? high : value;
}

/* ---- sim_light.c ------------------------------------------------------------------ */

/* Daylight from the sky of the seed whose shared key this is, under its
 * clouds around the profile's cloudiness, at now_ms, lx. */
double sim_sky_lux(uint64_t shared_key, const struct sim_profile *profile, int64_t now_ms);
/* Whether the lamp is lit at now_ms: dark enough for its photocell, no
 * fault drawn for the night, no lamp_fault injected. */
bool sim_lamp_lit(const struct sim_lamp *lamp, int64_t now_ms);
/* A light sensor's reading at now_ms, lx: the sky, other lighting, and
 * each of its lamps that is lit. */
double sim_light_lux(const struct sim_state *state, int64_t now_ms);

/* ---- sim_footfall.c ------------------------------------------------------------ */

/* Passes in [now_ms, now_ms + interval), in and out, into *out. */
void sim_footfall_sample(const struct sim_state *state, int64_t now_ms, struct sample *out);

#endif
