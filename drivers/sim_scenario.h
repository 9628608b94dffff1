/* sim_scenario.h — scenarios for the sim driver: changes to a district's
 * profile from a known date, so that a simulated year holds a change that a
 * report must be able to see (seeds/scenarios.ini, [simulation] scenarios).
 *
 *     [Årby: street lamps renewed]
 *     district = Årby
 *     from = 2026-04-20
 *     lamp_fault_per_night = 0.004
 *     lamp_lux = 30
 *
 * Each section is one scenario, its title free text: `district` (required)
 * names a profile, `sensor` (optional) narrows it to the sensor of that
 * name, `from` (required) and `until` (optional, exclusive) are ISO-8601
 * UTC times as in [simulation] (a date alone is midnight UTC), and every
 * other key is a profile key (sim_profile_change()), whose value holds
 * while the scenario does.  Scenarios that overlap apply in file order,
 * so a later one wins where both change a key.
 *
 * A sensor's timeline is its district's profile with the scenarios that
 * apply to it; the profile it simulates at a time is a pure function of
 * the two, so the sim stays a pure function of (seed, name, profile,
 * scenarios, time).
 *
 * struct sim_scenarios owns its array of entries, struct sim_timeline its
 * copies of the scenarios that apply: both are freed with their _clear()
 * function.  Nothing else keeps a pointer. */
#ifndef TRYGGD_SIM_SCENARIO_H
#define TRYGGD_SIM_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "sim_profile.h"

#define SIM_SCENARIO_TITLE_MAX 96    /* bytes with the NUL */
#define SIM_SCENARIO_SENSOR_MAX 33   /* a sensor name, [a-z0-9_-]{1,32}, and the NUL */

struct sim_scenario {
	char title[SIM_SCENARIO_TITLE_MAX];
	char district[SIM_PROFILE_DISTRICT_MAX];
	char sensor[SIM_SCENARIO_SENSOR_MAX];   /* "" = every sensor of the district */
	int64_t from_ms;                        /* in force from here ... */
	int64_t until_ms;                       /* ... to just before here; INT64_MAX: for good */
	struct sim_profile_changes changes;
	int line;                               /* of its [title] */
};

struct sim_scenarios {
	struct sim_scenario *entries;
	size_t count;
};

/* Called once for every problem found, as "PATH:LINE: message". */
typedef void sim_scenario_report(void *user, const char *problem);

/* Read the scenarios file at path into *out (empty first).  With profiles
 * set, every scenario's district must be a section of that profiles file.
 * Returns 0; -EINVAL when anything is wrong, each problem given to report
 * (when not NULL) and the first in err; -ENOMEM; another negative errno
 * when the file cannot be read (err says so, report is not called).  *out
 * holds nothing on failure. */
int sim_scenarios_load(const char *path, const char *profiles, struct sim_scenarios *out,
                       sim_scenario_report *report, void *user, char *err, size_t err_size);
void sim_scenarios_clear(struct sim_scenarios *scenarios);

struct sim_timeline {
	struct sim_profile base;
	struct sim_scenario *layers;   /* copies of those that apply, in file order */
	size_t layer_count;
};

/* base, with the scenarios of all (may be NULL) for base->district and
 * either every sensor or the one called sensor_name.  0 or -ENOMEM. */
int sim_timeline_init(struct sim_timeline *timeline, const struct sim_profile *base,
                      const struct sim_scenarios *all, const char *sensor_name);
void sim_timeline_clear(struct sim_timeline *timeline);

/* The profile in force at t_ms: the base itself when no scenario is, else
 * scratch, filled. */
const struct sim_profile *sim_timeline_at(const struct sim_timeline *timeline, int64_t t_ms,
                                          struct sim_profile *scratch);

/* The first instant after t_ms at which a scenario starts or ends, so that
 * a span can be cut where the profile changes; INT64_MAX when none does. */
int64_t sim_timeline_next_change(const struct sim_timeline *timeline, int64_t t_ms);

#endif
