/* sim.c — the simulated sensor driver "sim": light, street lamps and
 * footfall for a district, deterministic from a seed, for demonstrations,
 * tests and planning the system before any hardware is up.  This file has
 * the driver's operations; the model is in sim_light.c and sim_footfall.c
 * (sim_internal.h says what each file does).
 *
 * Every value is a pure function of (seed, sensor name, district profile,
 * scenarios, sample time, interval), so a restart, another sampling order
 * or another clock speed gives the same readings.  Weather and the
 * day-to-day level of activity hash the seed without the sensor name, so
 * all sensors of one seed see the same sky and the same quiet or busy
 * days; event evenings hash the seed and the district.
 *
 * A light sensor is told of the lamps paired with it (driver_env.paired)
 * and makes, from each sim lamp's config, the same struct sim_lamp the lamp
 * sensor makes for itself: same seed, name, profile, scenarios and
 * injected faults, so it sees exactly that lamp's light.
 *
 * open() allocates a struct sim_state, which close() frees; it keeps no
 * pointer into the sensor config or the environment. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calendar.h"
#include "driver.h"
#include "sim_internal.h"

#define SIM_DEFAULT_SEED 1u
#define LAMP_OFFSET_MAX_MS (5 * SIM_MS_PER_MINUTE)

/* ---- options ------------------------------------------------------------------ */

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
	/* Every option has a default; the profile's existence is checked in
	 * sim_check_environment(), which knows the profiles file. */
	(void)sc;
	(void)err;
	(void)err_size;
	return 0;
}

/* The district a sensor simulates has a profile in the profiles file.  A
 * file that cannot be read is said at open (the sensor fails and is tried
 * again), as is running out of memory here. */
static int sim_check_environment(const struct sensor_config *sc, const struct driver_env *env, const char **key,
                                 char *err, size_t err_size)
{
	const char *district = sensor_option(sc, "profile");
	const char *profiles = env->profiles;
	struct sim_profile profile;
	*key = district ? "profile" : NULL;
	if (!district)
		district = env->district;
#ifdef TRYGGD_PROFILES_DEFAULT
	if (!profiles)
		profiles = TRYGGD_PROFILES_DEFAULT;
#endif
	if (!district || !profiles || access(profiles, R_OK) != 0)
		return 0;
	char message[512] = "";
	int result = sim_profile_load(profiles, district, &profile, message, sizeof(message));
	if (result == -ENOMEM)
		return 0;
	if (result < 0)
		snprintf(err, err_size, "sim: %s%s", message,
		         *key ? "" : " ([gateway] district; or set profile = DISTRICT)");
	return result;
}

/* ---- what a sensor simulates -------------------------------------------------- */

/* A sensor's seed, its profile with the scenarios for it, and its injected
 * faults, from its config: 0 or a negative errno with err. */
static int sim_read_sensor(const struct sensor_config *sc, const struct driver_env *env,
                           const struct sim_scenarios *scenarios, uint64_t *seed,
                           struct sim_timeline *timeline, struct sim_injections *injections,
                           char *err, size_t err_size)
{
	const char *seed_text = sensor_option(sc, "seed");
	const char *district = sensor_option(sc, "profile");
	const char *profiles = env ? env->profiles : NULL;
	const char *inject = sensor_option(sc, "inject");
	struct sim_profile profile;
	int result;

	*seed = SIM_DEFAULT_SEED;
	if (seed_text && !parse_seed(seed_text, seed)) {
		snprintf(err, err_size, "sim: seed must be an unsigned integer");
		return -EINVAL;
	}
	if (!district && env)
		district = env->district;
	if (!district) {
		snprintf(err, err_size, "sim: no district to simulate; set profile = DISTRICT");
		return -EINVAL;
	}
#ifdef TRYGGD_PROFILES_DEFAULT
	if (!profiles)
		profiles = TRYGGD_PROFILES_DEFAULT;
#endif
	if (!profiles) {
		snprintf(err, err_size, "sim: no district profiles file; set profiles in [simulation]");
		return -EINVAL;
	}
	result = sim_profile_load(profiles, district, &profile, err, err_size);
	if (result < 0)
		return result;
	memset(injections, 0, sizeof(*injections));
	if (inject) {
		result = sim_inject_parse(sc->type, inject, injections, err, err_size);
		if (result < 0)
			return result;
	}
	result = sim_timeline_init(timeline, &profile, scenarios, sc->name);
	if (result < 0)
		snprintf(err, err_size, "sim: out of memory");
	return result;
}

/* The lamp of a lamp sensor's config, as that sensor simulates it. */
static int sim_lamp_init(struct sim_lamp *lamp, const struct sensor_config *sc, const struct driver_env *env,
                         const struct sim_scenarios *scenarios, char *err, size_t err_size)
{
	uint64_t seed;
	memset(lamp, 0, sizeof(*lamp));
	int result = sim_read_sensor(sc, env, scenarios, &seed, &lamp->timeline, &lamp->injections, err, err_size);
	if (result < 0)
		return result;
	lamp->shared_key = sim_hash_mix(seed, 0);
	lamp->sensor_key = sim_hash_mix(seed, sim_hash_text(sc->name));
	lamp->offset_ms = (int64_t)((2.0 * sim_draw(lamp->sensor_key, STREAM_LAMP_OFFSET, 0) - 1.0) *
	                            (double)LAMP_OFFSET_MAX_MS);
	return 0;
}

/* A light sensor's copy of each sim lamp paired with it.  A lamp that
 * cannot be simulated (its profile missing, say) gives no light: its own
 * sensor says what is wrong.  0 or -ENOMEM. */
static int sim_open_lamps(struct sim_state *state, const struct driver_env *env,
                          const struct sim_scenarios *scenarios, char *err, size_t err_size)
{
	if (!env || env->paired_count == 0)
		return 0;
	state->lamps = calloc(env->paired_count, sizeof(*state->lamps));
	if (!state->lamps) {
		snprintf(err, err_size, "sim: out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < env->paired_count; i++) {
		const struct sensor_config *lamp = env->paired[i];
		if (lamp->type != SENSOR_LAMP || !lamp->driver || strcmp(lamp->driver, "sim") != 0)
			continue;
		char lamp_err[256];
		int result = sim_lamp_init(&state->lamps[state->lamp_count], lamp, env, scenarios, lamp_err,
		                           sizeof(lamp_err));
		if (result == -ENOMEM) {
			snprintf(err, err_size, "%s", lamp_err);
			return result;
		}
		if (result == 0)
			state->lamp_count++;
	}
	return 0;
}

static void sim_close(void *opaque)
{
	struct sim_state *state = opaque;
	if (!state)
		return;
	sim_timeline_clear(&state->timeline);
	sim_timeline_clear(&state->lamp.timeline);
	for (size_t i = 0; i < state->lamp_count; i++)
		sim_timeline_clear(&state->lamps[i].timeline);
	free(state->lamps);
	free(state);
}

static int sim_open(const struct sensor_config *sc, const struct driver_env *env,
                    void **state_out, char *err, size_t err_size)
{
	struct sim_state *state = NULL;
	struct sim_scenarios scenarios = { 0 };
	uint64_t seed;
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
	state = calloc(1, sizeof(*state));
	if (!state) {
		snprintf(err, err_size, "sim: out of memory");
		result = -ENOMEM;
		goto out;
	}
	if (env && env->scenarios) {
		result = sim_scenarios_load(env->scenarios, NULL, &scenarios, NULL, NULL, err, err_size);
		if (result < 0)
			goto out;
	}
	result = sim_read_sensor(sc, env, &scenarios, &seed, &state->timeline, &state->injections, err, err_size);
	if (result < 0)
		goto out;
	if (sc->type == SENSOR_LAMP) {
		result = sim_lamp_init(&state->lamp, sc, env, &scenarios, err, err_size);
		if (result < 0)
			goto out;
	}
	if (sc->type == SENSOR_LIGHT) {
		result = sim_open_lamps(state, env, &scenarios, err, err_size);
		if (result < 0)
			goto out;
	}

	state->type = sc->type;
	state->interval_ms = (int64_t)sc->interval_s * 1000;
	state->shared_key = sim_hash_mix(seed, 0);
	state->sensor_key = sim_hash_mix(seed, sim_hash_text(sc->name));
	state->event_key = sim_hash_mix(state->shared_key, sim_hash_text(state->timeline.base.district));
	state->placement = 0.7 + 0.3 * sim_draw(state->sensor_key, STREAM_PLACEMENT, 0);
	state->site_level = 0.8 + 0.4 * sim_draw(state->sensor_key, STREAM_SITE_LEVEL, 0);

	*state_out = state;
	state = NULL;   /* now the caller's, until close() */

out:
	sim_scenarios_clear(&scenarios);
	sim_close(state);
	return result;
}

/* What a broken wire or a misread register reads: out of the type's
 * physical range every time (sensor_type.h), in each way there is. */
static void sim_garbage(const struct sim_state *state, int64_t now_ms, struct sample *out)
{
	static const double lux[] = { -5.0, 1e9, NAN };
	switch (state->type) {
	case SENSOR_LIGHT:
		out->value = lux[(calendar_floor_divide(now_ms, state->interval_ms) % 3 + 3) % 3];
		return;
	case SENSOR_LAMP:
		out->value = 0.5;
		return;
	case SENSOR_FOOTFALL:
		out->value = 1e6;
		return;
	}
}

static int sim_sample(void *opaque, int64_t now_ms, struct sample *out)
{
	const struct sim_state *state = opaque;
	const struct sim_injections *faults = &state->injections;
	memset(out, 0, sizeof(*out));
	if (sim_inject_active(faults, SIM_FAULT_FAILED, now_ms))
		return -EIO;
	if (sim_inject_active(faults, SIM_FAULT_GARBAGE, now_ms)) {
		sim_garbage(state, now_ms, out);
		return 0;
	}
	switch (state->type) {
	case SENSOR_LIGHT:
		/* A taped-over sensor still sees a glimmer. */
		out->value = sim_inject_active(faults, SIM_FAULT_COVERED, now_ms) ? 0.2 : sim_light_lux(state, now_ms);
		return 0;
	case SENSOR_LAMP:
		out->value = sim_lamp_lit(&state->lamp, now_ms) ? 1.0 : 0.0;
		return 0;
	case SENSOR_FOOTFALL:
		out->held = sim_inject_active(faults, SIM_FAULT_BLOCKED, now_ms);
		if (out->held || sim_inject_active(faults, SIM_FAULT_STUCK, now_ms)) {
			out->has_direction = true;
			return 0;
		}
		sim_footfall_sample(state, now_ms, out);
		return 0;
	}
	return -EINVAL;
}

const struct driver_ops sim_driver = {
	.name = "sim",
	.types = (1u << SENSOR_FOOTFALL) | (1u << SENSOR_LIGHT) | (1u << SENSOR_LAMP),
	.simulated = true,
	.check_option = sim_check_option,
	.check_sensor = sim_check_sensor,
	.check_environment = sim_check_environment,
	.open = sim_open,
	.sample = sim_sample,
	.close = sim_close,
};
