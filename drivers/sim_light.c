/* sim_light.c — the sim driver's light: daylight from the real position of
 * the sun over Eskilstuna under clouds that change from hour to hour, the
 * district's other lighting at night, and its street lamps, each lit by its
 * photocell at dusk unless it is drawn faulty for the night.  A light
 * sensor with sim lamps paired to it reads their light too, so a working
 * lamp keeps its place above the dark threshold and a faulty one leaves it
 * dark: the lamp's fault_s and the light's dark_s tell the same story.
 * See sim_internal.h for the state; nothing here keeps anything. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "calendar.h"
#include "sim_calendar.h"
#include "sim_internal.h"
#include "sun.h"

/* A street lamp's photocell switches on when the sky's own light falls
 * below this (photocells are set to 35–70 lx), clouds included: a dark
 * afternoon lights the lamps early, as in a real street, and a lamp that
 * works is always lit before a light sensor beside it reads dark_lux. */
#define LAMP_ON_LUX 35.0

/* Horizontal illuminance under a clear sky, lx.  Above the horizon a power
 * of sin(elevation) fitted to ~90 klx at a 54° sun; below it the sky
 * darkens about 2½ times per degree through civil twilight (~600 lx at
 * sunset, a few lx at -6°) and faster after. */
static double clear_sky_lux(double elevation)
{
	if (elevation >= 0.0)
		return 600.0 + 115000.0 * pow(sin(elevation * SIM_PI / 180.0), 1.25);
	if (elevation >= -6.0)
		return 600.0 * pow(10.0, 0.37 * elevation);
	return 600.0 * pow(10.0, 0.37 * -6.0 + 0.45 * (elevation + 6.0));
}

/* Cloud cover at the start of one UTC hour: a level for the day (fronts
 * last days, not hours) plus an hourly wobble, around the profile's mean. */
static double cloud_node(uint64_t shared_key, double cloudiness, int64_t hour_index)
{
	int64_t day = calendar_floor_divide(hour_index, 24);
	double day_part = sim_draw(shared_key, STREAM_CLOUD_DAY, day) - 0.5;
	double hour_part = sim_draw(shared_key, STREAM_CLOUD_HOUR, hour_index) - 0.5;
	return sim_clamp(cloudiness + 0.7 * day_part + 0.3 * hour_part, 0.0, 1.0);
}

/* Interpolated between hourly nodes so that daylight does not jump on the hour. */
static double cloud_cover(uint64_t shared_key, double cloudiness, int64_t now_ms)
{
	int64_t hour_index = calendar_floor_divide(now_ms, SIM_MS_PER_HOUR);
	double fraction = (double)(now_ms - hour_index * SIM_MS_PER_HOUR) / (double)SIM_MS_PER_HOUR;
	double from = cloud_node(shared_key, cloudiness, hour_index);
	double to = cloud_node(shared_key, cloudiness, hour_index + 1);
	return from + (to - from) * fraction;
}

double sim_sky_lux(uint64_t shared_key, const struct sim_profile *profile, int64_t now_ms)
{
	double cover = cloud_cover(shared_key, profile->cloudiness, now_ms);
	/* Kasten and Czeplak: a full overcast lets through about a quarter. */
	double cloud_factor = 1.0 - 0.75 * pow(cover, 3.4);
	double elevation = sun_elevation_degrees(SUN_ESKILSTUNA_LATITUDE, SUN_ESKILSTUNA_LONGITUDE, now_ms);
	return clear_sky_lux(elevation) * cloud_factor;
}

/* ---- street lamps ------------------------------------------------------ */

/* A night runs from local noon to the next local noon and is named by the
 * day of its evening, so one decision covers dusk to dawn. */
static bool lamp_fault_at(const struct sim_lamp *lamp, const struct sim_profile *profile, int64_t now_ms)
{
	if (profile->lamp_out)
		return true;   /* a scenario's broken lamp, waiting for repair */

	int64_t since_noon = sim_calendar_local_ms(now_ms) - 12 * SIM_MS_PER_HOUR;
	int64_t night = calendar_floor_divide(since_noon, SIM_MS_PER_DAY);
	int64_t into_night = since_noon - night * SIM_MS_PER_DAY;

	if (sim_draw(lamp->sensor_key, STREAM_LAMP_FAULT, night) >= profile->lamp_fault_per_night)
		return false;

	double kind = sim_draw(lamp->sensor_key, STREAM_FAULT_KIND, night);
	if (kind < 0.4)
		return true;   /* out from dusk: a blown lamp or a tripped fuse */

	/* Fails between 18:00 and 04:00 local: dark from September to March,
	 * so the fault shows; in a bright summer night it may pass unseen,
	 * as it would in a real street. */
	int64_t fault_start = 6 * SIM_MS_PER_HOUR +
	                      (int64_t)(sim_draw(lamp->sensor_key, STREAM_FAULT_START, night) * 10.0 *
	                                (double)SIM_MS_PER_HOUR);
	if (kind < 0.8)
		return into_night >= fault_start;   /* goes out and stays out until daylight */

	/* An ageing lamp that cycles: out for 1–5 hours, then back. */
	int64_t length = SIM_MS_PER_HOUR +
	                 (int64_t)(sim_draw(lamp->sensor_key, STREAM_FAULT_LENGTH, night) * 4.0 * (double)SIM_MS_PER_HOUR);
	return into_night >= fault_start && into_night < fault_start + length;
}

static bool lamp_lit_under(const struct sim_lamp *lamp, const struct sim_profile *profile, int64_t now_ms)
{
	if (sim_inject_active(&lamp->injections, SIM_FAULT_LAMP, now_ms))
		return false;
	bool dark = sim_sky_lux(lamp->shared_key, profile, now_ms - lamp->offset_ms) < LAMP_ON_LUX;
	return dark && !lamp_fault_at(lamp, profile, now_ms);
}

bool sim_lamp_lit(const struct sim_lamp *lamp, int64_t now_ms)
{
	struct sim_profile scratch;
	return lamp_lit_under(lamp, sim_timeline_at(&lamp->timeline, now_ms, &scratch), now_ms);
}

/* ---- the light sensor ------------------------------------------------------ */

double sim_light_lux(const struct sim_state *state, int64_t now_ms)
{
	struct sim_profile scratch;
	const struct sim_profile *profile = sim_timeline_at(&state->timeline, now_ms, &scratch);
	double sky = sim_sky_lux(state->shared_key, profile, now_ms) * state->placement;
	double lamps = 0.0;
	for (size_t i = 0; i < state->lamp_count; i++) {
		const struct sim_lamp *lamp = &state->lamps[i];
		struct sim_profile lamp_scratch;
		const struct sim_profile *lamp_profile = sim_timeline_at(&lamp->timeline, now_ms, &lamp_scratch);
		if (lamp_lit_under(lamp, lamp_profile, now_ms))
			lamps += lamp_profile->lamp_lux;
	}
	double noise = 1.0 + 0.02 * (2.0 * sim_draw(state->sensor_key, STREAM_LIGHT_NOISE, now_ms) - 1.0);
	return (sky + profile->night_lux + lamps) * noise;
}
