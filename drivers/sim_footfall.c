/* sim_footfall.c — the sim driver's footfall: passes past one counter in a
 * span, drawn around the district's rate for each local hour.  The rate
 * follows the profile's weekday or weekend curve, the month, Swedish
 * holidays (the Sunday curve), the district's odd event evening, the day's
 * level shared by all sensors of a seed, and darkness.  See sim_internal.h
 * for the state; nothing here keeps anything. */
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "calendar.h"
#include "sim_calendar.h"
#include "sim_internal.h"
#include "sun.h"

/* Footfall counts as "after dark" (the profile's dark_factor) with the sun
 * below this, in late civil twilight. */
#define DARK_ELEVATION (-4.0)
/* An event evening: local hours [16, 23). */
#define EVENT_FROM_HOUR 16
#define EVENT_TO_HOUR 23
#define DAYS_PER_YEAR 365.2425

/* Whether the local day is one of the district's event days: drawn per day
 * from the seed and the district, not the sensor, so every sensor of the
 * district has its event the same evening. */
static bool event_day(const struct sim_state *state, const struct sim_profile *profile, int64_t local_day)
{
	return profile->events_per_year > 0.0 &&
	       sim_draw(state->event_key, STREAM_EVENT_DAY, local_day) < profile->events_per_year / DAYS_PER_YEAR;
}

/* Mean passes per hour in one local hour, before darkness is considered. */
static double hourly_rate(const struct sim_state *state, const struct sim_profile *profile, int64_t local_day,
                          int hour)
{
	int64_t year;
	int month, day_of_month;
	calendar_civil_from_days(local_day, &year, &month, &day_of_month);
	int weekday = calendar_weekday(local_day);
	double weight;
	if (sim_calendar_holiday(local_day))
		weight = profile->holiday_factor * profile->sunday_factor * profile->weekend_hours[hour];
	else if (weekday == 6)
		weight = profile->saturday_factor * profile->weekend_hours[hour];
	else if (weekday == 0)
		weight = profile->sunday_factor * profile->weekend_hours[hour];
	else
		weight = profile->weekday_hours[hour];
	weight *= profile->month_factors[month - 1];
	if (hour >= EVENT_FROM_HOUR && hour < EVENT_TO_HOUR && event_day(state, profile, local_day))
		weight *= profile->event_factor;

	/* A uniform spread with the profile's standard deviation: sqrt(3) * (2u - 1). */
	double spread = 2.0 * sim_draw(state->shared_key, STREAM_DAY_LEVEL, local_day) - 1.0;
	double day_level = fmax(0.1, 1.0 + profile->day_variation * sqrt(3.0) * spread);
	return profile->footfall_per_hour * weight * day_level * state->site_level;
}

/* Expected passes in [start_ms, end_ms): the rate is constant within a
 * local hour and a scenario, so the span is cut at local hour boundaries
 * and where a scenario starts or ends. */
static double expected_passes(const struct sim_state *state, int64_t start_ms, int64_t end_ms)
{
	double mean = 0.0;
	int64_t from = start_ms;
	while (from < end_ms) {
		int64_t local = sim_calendar_local_ms(from);
		int64_t local_day = calendar_floor_divide(local, SIM_MS_PER_DAY);
		int64_t into_day = local - local_day * SIM_MS_PER_DAY;
		int hour = (int)(into_day / SIM_MS_PER_HOUR);
		int64_t to = from + (SIM_MS_PER_HOUR - into_day % SIM_MS_PER_HOUR);
		int64_t change = sim_timeline_next_change(&state->timeline, from);
		if (change < to)
			to = change;
		if (to > end_ms)
			to = end_ms;

		struct sim_profile scratch;
		const struct sim_profile *profile = sim_timeline_at(&state->timeline, from, &scratch);
		double rate = hourly_rate(state, profile, local_day, hour);
		double elevation = sun_elevation_degrees(SUN_ESKILSTUNA_LATITUDE, SUN_ESKILSTUNA_LONGITUDE,
		                                         from + (to - from) / 2);
		if (elevation < DARK_ELEVATION)
			rate *= profile->dark_factor;
		mean += rate * (double)(to - from) / (double)SIM_MS_PER_HOUR;
		from = to;
	}
	return mean;
}

static double standard_normal(uint64_t key)
{
	/* Box–Muller; 1 - u keeps the logarithm's argument above zero. */
	double radius = sqrt(-2.0 * log(1.0 - sim_hash_to_unit(sim_hash_mix(key, 1))));
	return radius * cos(2.0 * SIM_PI * sim_hash_to_unit(sim_hash_mix(key, 2)));
}

static unsigned poisson(uint64_t key, double mean)
{
	if (mean <= 0.0)
		return 0;
	if (mean < 60.0) {
		/* Inversion: walk the cumulative distribution up to one uniform. */
		double target = sim_hash_to_unit(sim_hash_mix(key, 0));
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
	return (unsigned)sim_clamp(value, 0.0, (double)(UINT_MAX / 2));
}

static unsigned binomial(uint64_t key, unsigned trials, double probability)
{
	if (trials <= 256) {
		unsigned successes = 0;
		for (unsigned trial = 0; trial < trials; trial++)
			successes += sim_hash_to_unit(sim_hash_mix(key, 100 + trial)) < probability;
		return successes;
	}
	double mean = trials * probability;
	double deviation = sqrt(mean * (1.0 - probability));
	double value = floor(mean + deviation * standard_normal(key) + 0.5);
	return (unsigned)sim_clamp(value, 0.0, (double)trials);
}

void sim_footfall_sample(const struct sim_state *state, int64_t now_ms, struct sample *out)
{
	double mean = expected_passes(state, now_ms, now_ms + state->interval_ms);
	uint64_t span_key = sim_hash_mix(sim_hash_mix(state->sensor_key, (uint64_t)now_ms), (uint64_t)state->interval_ms);
	unsigned passes = poisson(sim_hash_mix(span_key, STREAM_FOOTFALL), mean);
	/* The direction split of the span's start: in_share does not change within a sample. */
	struct sim_profile scratch;
	const struct sim_profile *profile = sim_timeline_at(&state->timeline, now_ms, &scratch);
	unsigned inward = binomial(sim_hash_mix(span_key, STREAM_DIRECTION), passes, profile->in_share);

	out->has_direction = true;
	out->in = inward;
	out->out = passes - inward;
	out->value = (double)passes;
}
