/* sim.c — the simulated sensor driver "sim": light, street lamps and
 * footfall for a district, deterministic from a seed, for demonstrations,
 * tests and planning the system before any hardware is up.
 *
 * Every value is a pure function of (seed, sensor name, district profile,
 * sample time, interval): random numbers come from a stateless hash of
 * those inputs, never from a running generator, so a restart, another
 * sampling order or another clock speed gives the same readings.  Weather
 * and the day-to-day level of activity hash the seed without the sensor
 * name, so all sensors of one seed see the same sky and the same quiet or
 * busy days.
 *
 * open() allocates a struct sim_state, which close() frees; it keeps no
 * pointer into the sensor config or the environment. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "driver.h"
#include "sim_inject.h"
#include "sim_profile.h"
#include "sun.h"

#define SIM_DEFAULT_SEED 1u

#define MS_PER_MINUTE INT64_C(60000)
#define MS_PER_HOUR INT64_C(3600000)
#define MS_PER_DAY INT64_C(86400000)

/* Footfall counts as "after dark" (the profile's dark_factor) with the sun
 * below this, in late civil twilight. */
#define DARK_ELEVATION (-4.0)
/* A street lamp's photocell switches on when the sky's own light falls
 * below this (photocells are set to 35–70 lx), clouds included: a dark
 * afternoon lights the lamps early, as in a real street, and a lamp that
 * works is always lit before a light sensor beside it reads dark_lux. */
#define LAMP_ON_LUX 35.0
#define LAMP_OFFSET_MAX_MS (5 * MS_PER_MINUTE)

/* M_PI is POSIX, not C17. */
#define PI 3.14159265358979323846

/* Each use of randomness draws from its own stream, so adding one use
 * never shifts the numbers of another. */
enum stream {
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
};

struct sim_state {
	enum sensor_type type;
	int64_t interval_ms;
	struct sim_profile profile;
	uint64_t sensor_key;     /* seed and sensor name: this sensor's own randomness */
	uint64_t shared_key;     /* seed only: weather and daily level, common to all sensors */
	double placement;        /* light: share of daylight reaching the sensor (shade), 0.7–1 */
	int64_t lamp_offset_ms;  /* lamp: its photocell switches this much later (or earlier) */
	double site_level;       /* footfall: this spot is busier or quieter than the district mean */
	struct sim_injections injections;
};

/* ---- stateless randomness ------------------------------------------ */

static uint64_t splitmix64(uint64_t x)
{
	x += UINT64_C(0x9E3779B97F4A7C15);
	x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
	return x ^ (x >> 31);
}

/* Scrambling value before the xor keeps (a, b) and (b, a) apart. */
static uint64_t hash_mix(uint64_t key, uint64_t value)
{
	return splitmix64(key ^ splitmix64(value));
}

static uint64_t hash_text(const char *text)
{
	/* FNV-1a: stable across builds and platforms, unlike pointer values. */
	uint64_t hash = UINT64_C(0xCBF29CE484222325);
	for (const unsigned char *cursor = (const unsigned char *)text; *cursor; cursor++) {
		hash ^= *cursor;
		hash *= UINT64_C(0x100000001B3);
	}
	return hash;
}

static double hash_to_unit(uint64_t hash)
{
	return (double)(hash >> 11) * 0x1.0p-53;   /* [0, 1) with 53 random bits */
}

/* A uniform number in [0, 1) for one stream and one index (a time, a day…). */
static double draw(uint64_t key, enum stream stream, int64_t index)
{
	return hash_to_unit(hash_mix(hash_mix(key, (uint64_t)stream), (uint64_t)index));
}

/* ---- calendar and local time --------------------------------------- */

static int64_t year_from_days(int64_t days)
{
	int64_t year;
	int month, day;
	calendar_civil_from_days(days, &year, &month, &day);
	return year;
}

static int64_t last_sunday(int64_t year, int month, int last_day_of_month)
{
	int64_t last = calendar_days_from_civil(year, month, last_day_of_month);
	return last - calendar_weekday(last);
}

/* Europe/Stockholm (CET/CEST, EU rule: summer time from 01:00 UTC on the
 * last Sunday of March to 01:00 UTC on the last Sunday of October).  Coded
 * here rather than taken from localtime_r so that the host's TZ and tzdata
 * cannot change a simulation. */
static int64_t stockholm_offset_ms(int64_t utc_ms)
{
	int64_t year = year_from_days(calendar_floor_divide(utc_ms, MS_PER_DAY));
	int64_t summer_start = last_sunday(year, 3, 31) * MS_PER_DAY + MS_PER_HOUR;
	int64_t summer_end = last_sunday(year, 10, 31) * MS_PER_DAY + MS_PER_HOUR;
	return utc_ms >= summer_start && utc_ms < summer_end ? 2 * MS_PER_HOUR : MS_PER_HOUR;
}

static int64_t local_ms(int64_t utc_ms)
{
	return utc_ms + stockholm_offset_ms(utc_ms);
}

static double elevation_at(int64_t utc_ms)
{
	return sun_elevation_degrees(SUN_ESKILSTUNA_LATITUDE, SUN_ESKILSTUNA_LONGITUDE, utc_ms);
}

static double clamp(double value, double low, double high)
{
	return value < low ? low : value > high ? high : value;
}

/* ---- light ----------------------------------------------------------- */

/* Horizontal illuminance under a clear sky, lx.  Above the horizon a power
 * of sin(elevation) fitted to ~90 klx at a 54° sun; below it the sky
 * darkens about 2½ times per degree through civil twilight (~600 lx at
 * sunset, a few lx at -6°) and faster after. */
static double clear_sky_lux(double elevation)
{
	if (elevation >= 0.0)
		return 600.0 + 115000.0 * pow(sin(elevation * PI / 180.0), 1.25);
	if (elevation >= -6.0)
		return 600.0 * pow(10.0, 0.37 * elevation);
	return 600.0 * pow(10.0, 0.37 * -6.0 + 0.45 * (elevation + 6.0));
}

/* Cloud cover at the start of one UTC hour: a level for the day (fronts
 * last days, not hours) plus an hourly wobble, around the profile's mean. */
static double cloud_node(const struct sim_state *state, int64_t hour_index)
{
	int64_t day = calendar_floor_divide(hour_index, 24);
	double day_part = draw(state->shared_key, STREAM_CLOUD_DAY, day) - 0.5;
	double hour_part = draw(state->shared_key, STREAM_CLOUD_HOUR, hour_index) - 0.5;
	return clamp(state->profile.cloudiness + 0.7 * day_part + 0.3 * hour_part, 0.0, 1.0);
}

/* Interpolated between hourly nodes so that daylight does not jump on the hour. */
static double cloud_cover(const struct sim_state *state, int64_t now_ms)
{
	int64_t hour_index = calendar_floor_divide(now_ms, MS_PER_HOUR);
	double fraction = (double)(now_ms - hour_index * MS_PER_HOUR) / (double)MS_PER_HOUR;
	double from = cloud_node(state, hour_index);
	double to = cloud_node(state, hour_index + 1);
	return from + (to - from) * fraction;
}

/* Daylight from the sky under the hour's clouds, lx. */
static double sky_lux(const struct sim_state *state, int64_t now_ms)
{
	double cover = cloud_cover(state, now_ms);
	/* Kasten and Czeplak: a full overcast lets through about a quarter. */
	double cloud_factor = 1.0 - 0.75 * pow(cover, 3.4);
	return clear_sky_lux(elevation_at(now_ms)) * cloud_factor;
}

static double light_lux(const struct sim_state *state, int64_t now_ms)
{
	double sky = sky_lux(state, now_ms) * state->placement;
	double noise = 1.0 + 0.02 * (2.0 * draw(state->sensor_key, STREAM_LIGHT_NOISE, now_ms) - 1.0);
	return (sky + state->profile.night_lux) * noise;
}

/* ---- street lamps ------------------------------------------------------ */

/* A night runs from local noon to the next local noon and is named by the
 * day of its evening, so one decision covers dusk to dawn. */
static bool lamp_fault_at(const struct sim_state *state, int64_t now_ms)
{
	int64_t since_noon = local_ms(now_ms) - 12 * MS_PER_HOUR;
	int64_t night = calendar_floor_divide(since_noon, MS_PER_DAY);
	int64_t into_night = since_noon - night * MS_PER_DAY;

	if (draw(state->sensor_key, STREAM_LAMP_FAULT, night) >= state->profile.lamp_fault_per_night)
		return false;

	double kind = draw(state->sensor_key, STREAM_FAULT_KIND, night);
	if (kind < 0.4)
		return true;   /* out from dusk: a blown lamp or a tripped fuse */

	/* Fails between 18:00 and 04:00 local: dark from September to March,
	 * so the fault shows; in a bright summer night it may pass unseen,
	 * as it would in a real street. */
	int64_t fault_start = 6 * MS_PER_HOUR +
	                      (int64_t)(draw(state->sensor_key, STREAM_FAULT_START, night) * 10.0 * (double)MS_PER_HOUR);
	if (kind < 0.8)
		return into_night >= fault_start;   /* goes out and stays out until daylight */

	/* An ageing lamp that cycles: out for 1–5 hours, then back. */
	int64_t length = MS_PER_HOUR +
	                 (int64_t)(draw(state->sensor_key, STREAM_FAULT_LENGTH, night) * 4.0 * (double)MS_PER_HOUR);
	return into_night >= fault_start && into_night < fault_start + length;
}

static bool lamp_on(const struct sim_state *state, int64_t now_ms)
{
	bool dark = sky_lux(state, now_ms - state->lamp_offset_ms) < LAMP_ON_LUX;
	return dark && !lamp_fault_at(state, now_ms);
}

/* ---- footfall ------------------------------------------------------------ */

/* Mean passes per hour in one local hour, before darkness is considered. */
static double hourly_rate(const struct sim_state *state, int64_t local_day, int hour)
{
	const struct sim_profile *profile = &state->profile;
	int weekday = calendar_weekday(local_day);
	double weight;
	if (weekday == 6)
		weight = profile->saturday_factor * profile->weekend_hours[hour];
	else if (weekday == 0)
		weight = profile->sunday_factor * profile->weekend_hours[hour];
	else
		weight = profile->weekday_hours[hour];

	/* A uniform spread with the profile's standard deviation: sqrt(3) * (2u - 1). */
	double spread = 2.0 * draw(state->shared_key, STREAM_DAY_LEVEL, local_day) - 1.0;
	double day_level = fmax(0.1, 1.0 + profile->day_variation * sqrt(3.0) * spread);
	return profile->footfall_per_hour * weight * day_level * state->site_level;
}

/* Expected passes in [start_ms, end_ms): the rate is constant within a
 * local hour, so the span is cut at local hour boundaries. */
static double expected_passes(const struct sim_state *state, int64_t start_ms, int64_t end_ms)
{
	double mean = 0.0;
	int64_t from = start_ms;
	while (from < end_ms) {
		int64_t local = local_ms(from);
		int64_t local_day = calendar_floor_divide(local, MS_PER_DAY);
		int64_t into_day = local - local_day * MS_PER_DAY;
		int hour = (int)(into_day / MS_PER_HOUR);
		int64_t to = from + (MS_PER_HOUR - into_day % MS_PER_HOUR);
		if (to > end_ms)
			to = end_ms;

		double rate = hourly_rate(state, local_day, hour);
		if (elevation_at(from + (to - from) / 2) < DARK_ELEVATION)
			rate *= state->profile.dark_factor;
		mean += rate * (double)(to - from) / (double)MS_PER_HOUR;
		from = to;
	}
	return mean;
}

static double standard_normal(uint64_t key)
{
	/* Box–Muller; 1 - u keeps the logarithm's argument above zero. */
	double radius = sqrt(-2.0 * log(1.0 - hash_to_unit(hash_mix(key, 1))));
	return radius * cos(2.0 * PI * hash_to_unit(hash_mix(key, 2)));
}

static unsigned poisson(uint64_t key, double mean)
{
	if (mean <= 0.0)
		return 0;
	if (mean < 60.0) {
		/* Inversion: walk the cumulative distribution up to one uniform. */
		double target = hash_to_unit(hash_mix(key, 0));
		double probability = exp(-mean);
		double cumulative = probability;
		unsigned count = 0;
		/* The bound stops the walk where rounding leaves cumulative short of 1. */
		while (target > cumulative && count < 1000) {
			count++;
			probability *= mean / count;
			cumulative += probability;
		}
		return count;
	}
	/* For large means the normal approximation is within a fraction of a pass. */
	double value = floor(mean + sqrt(mean) * standard_normal(key) + 0.5);
	return (unsigned)clamp(value, 0.0, (double)(UINT_MAX / 2));
}

static unsigned binomial(uint64_t key, unsigned trials, double probability)
{
	if (trials <= 256) {
		unsigned successes = 0;
		for (unsigned trial = 0; trial < trials; trial++)
			successes += hash_to_unit(hash_mix(key, 100 + trial)) < probability;
		return successes;
	}
	double mean = trials * probability;
	double deviation = sqrt(mean * (1.0 - probability));
	double value = floor(mean + deviation * standard_normal(key) + 0.5);
	return (unsigned)clamp(value, 0.0, (double)trials);
}

static void footfall_sample(const struct sim_state *state, int64_t now_ms, struct sample *out)
{
	double mean = expected_passes(state, now_ms, now_ms + state->interval_ms);
	uint64_t span_key = hash_mix(hash_mix(state->sensor_key, (uint64_t)now_ms), (uint64_t)state->interval_ms);
	unsigned passes = poisson(hash_mix(span_key, STREAM_FOOTFALL), mean);
	unsigned inward = binomial(hash_mix(span_key, STREAM_DIRECTION), passes, state->profile.in_share);

	out->has_direction = true;
	out->in = inward;
	out->out = passes - inward;
	out->value = (double)passes;
}

/* ---- driver operations ------------------------------------------------------ */

static bool parse_seed(const char *text, uint64_t *seed)
{
	/* strtoull would accept a sign and wrap "-1" to the largest value. */
	if (!text || *text < '0' || *text > '9')
		return false;
	char *end;
	errno = 0;
	unsigned long long value = strtoull(text, &end, 10);
	if (errno == ERANGE || *end != '\0')
		return false;
	*seed = value;
	return true;
}

static bool valid_profile_name(const char *text)
{
	size_t length = strlen(text);
	if (length == 0 || length >= SIM_PROFILE_DISTRICT_MAX)
		return false;
	for (const unsigned char *cursor = (const unsigned char *)text; *cursor; cursor++)
		if (*cursor < 0x20 || *cursor == 0x7F)
			return false;
	return true;
}

static int sim_check_option(enum sensor_type type, const char *key, const char *value,
                            char *err, size_t err_size)
{
	if (strcmp(key, "inject") == 0) {
		struct sim_injections injections;
		return sim_inject_parse(type, value, &injections, err, err_size);
	}
	if (strcmp(key, "seed") == 0) {
		uint64_t seed;
		if (!parse_seed(value, &seed)) {
			snprintf(err, err_size, "seed must be an unsigned integer (0 to %" PRIu64 ")", UINT64_MAX);
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "profile") == 0) {
		if (!value || !valid_profile_name(value)) {
			snprintf(err, err_size, "profile must be a district name from the profiles file "
			         "(1–%d bytes, no control characters)", SIM_PROFILE_DISTRICT_MAX - 1);
			return -EINVAL;
		}
		return 0;
	}
	return -ENOENT;
}

static int sim_check_sensor(const struct sensor_config *sc, char *err, size_t err_size)
{
	/* Every option has a default; the profile's existence is checked at open,
	 * when the profiles file is known. */
	(void)sc;
	(void)err;
	(void)err_size;
	return 0;
}

static int sim_open(const struct sensor_config *sc, const struct driver_env *env,
                    void **state_out, char *err, size_t err_size)
{
	struct sim_state *state = NULL;
	uint64_t seed = SIM_DEFAULT_SEED;
	const char *seed_text = sensor_option(sc, "seed");
	const char *district = sensor_option(sc, "profile");
	const char *profiles = env ? env->profiles : NULL;
	int result = 0;

	if (sc->type != SENSOR_FOOTFALL && sc->type != SENSOR_LIGHT && sc->type != SENSOR_LAMP) {
		snprintf(err, err_size, "sim: unknown sensor type");
		result = -EINVAL;
		goto out;
	}
	if (sc->interval_s <= 0) {
		snprintf(err, err_size, "sim: interval must be positive");
		result = -EINVAL;
		goto out;
	}
	if (seed_text && !parse_seed(seed_text, &seed)) {
		snprintf(err, err_size, "sim: seed must be an unsigned integer");
		result = -EINVAL;
		goto out;
	}
	if (!district && env)
		district = env->district;
	if (!district) {
		snprintf(err, err_size, "sim: no district to simulate; set profile = DISTRICT");
		result = -EINVAL;
		goto out;
	}
#ifdef TRYGGD_PROFILES_DEFAULT
	if (!profiles)
		profiles = TRYGGD_PROFILES_DEFAULT;
#endif
	if (!profiles) {
		snprintf(err, err_size, "sim: no district profiles file; set profiles in [simulation]");
		result = -EINVAL;
		goto out;
	}

	state = calloc(1, sizeof(*state));
	if (!state) {
		snprintf(err, err_size, "sim: out of memory");
		result = -ENOMEM;
		goto out;
	}
	result = sim_profile_load(profiles, district, &state->profile, err, err_size);
	if (result < 0)
		goto out;
	const char *inject = sensor_option(sc, "inject");
	if (inject) {
		result = sim_inject_parse(sc->type, inject, &state->injections, err, err_size);
		if (result < 0)
			goto out;
	}

	state->type = sc->type;
	state->interval_ms = (int64_t)sc->interval_s * 1000;
	state->shared_key = hash_mix(seed, 0);
	state->sensor_key = hash_mix(seed, hash_text(sc->name));
	state->placement = 0.7 + 0.3 * draw(state->sensor_key, STREAM_PLACEMENT, 0);
	state->lamp_offset_ms = (int64_t)((2.0 * draw(state->sensor_key, STREAM_LAMP_OFFSET, 0) - 1.0) *
	                                  (double)LAMP_OFFSET_MAX_MS);
	state->site_level = 0.8 + 0.4 * draw(state->sensor_key, STREAM_SITE_LEVEL, 0);

	*state_out = state;
	state = NULL;   /* now the caller's, until close() */

out:
	free(state);
	return result;
}

static int sim_sample(void *opaque, int64_t now_ms, struct sample *out)
{
	const struct sim_state *state = opaque;
	const struct sim_injections *faults = &state->injections;
	memset(out, 0, sizeof(*out));
	if (sim_inject_active(faults, SIM_FAULT_FAILED, now_ms))
		return -EIO;
	switch (state->type) {
	case SENSOR_LIGHT:
		/* A taped-over sensor still sees a glimmer. */
		out->value = sim_inject_active(faults, SIM_FAULT_COVERED, now_ms) ? 0.2 : light_lux(state, now_ms);
		return 0;
	case SENSOR_LAMP:
		out->value = lamp_on(state, now_ms) && !sim_inject_active(faults, SIM_FAULT_LAMP, now_ms) ? 1.0 : 0.0;
		return 0;
	case SENSOR_FOOTFALL:
		out->held = sim_inject_active(faults, SIM_FAULT_BLOCKED, now_ms);
		if (out->held || sim_inject_active(faults, SIM_FAULT_STUCK, now_ms)) {
			out->has_direction = true;
			return 0;
		}
		footfall_sample(state, now_ms, out);
		return 0;
	}
	return -EINVAL;
}

static void sim_close(void *opaque)
{
	free(opaque);
}

const struct driver_ops sim_driver = {
	.name = "sim",
	.types = (1u << SENSOR_FOOTFALL) | (1u << SENSOR_LIGHT) | (1u << SENSOR_LAMP),
	.simulated = true,
	.check_option = sim_check_option,
	.check_sensor = sim_check_sensor,
	.open = sim_open,
	.sample = sim_sample,
	.close = sim_close,
};
