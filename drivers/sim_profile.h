/* sim_profile.h — one district's simulation profile, read from the profiles
 * file (seeds/districts.ini): how busy its public places are hour by hour
 * and month by month, on holidays and on the odd event evening, how lit
 * they are at night, how often street lamps fail and where the district
 * lies.  The numbers are invented to be plausible; they are not
 * measurements.
 *
 * A scenario (sim_scenario.h) changes some keys of a profile from a date:
 * struct sim_profile_changes holds those keys, and sim_profile_change()
 * reads one with the same rules as the profiles file.
 *
 * struct sim_profile and struct sim_profile_changes are plain values: they
 * own no pointers, so they can be copied and compared freely.  The arrays
 * sim_profile_load_all() returns are the caller's, to free(). */
#ifndef TRYGGD_SIM_PROFILE_H
#define TRYGGD_SIM_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_PROFILE_DISTRICT_MAX 64   /* bytes with the terminating NUL */
#define SIM_PROFILE_HOURS 24
#define SIM_PROFILE_MONTHS 12

struct sim_profile {
	char district[SIM_PROFILE_DISTRICT_MAX];   /* the section name, UTF-8 */

	/* Footfall: the mean rate in local time (Europe/Stockholm) is
	 * footfall_per_hour * weight of the hour, times the day's factor
	 * (1 on Monday to Friday, saturday_factor or sunday_factor; on a
	 * holiday the Sunday curve times holiday_factor), times the month's
	 * factor, times dark_factor while the sun is more than 4° below the
	 * horizon, times event_factor from 16 to 23 on an event day. */
	double footfall_per_hour;                   /* passes per hour at weight 1 */
	double weekday_hours[SIM_PROFILE_HOURS];    /* weights for 00–01 … 23–24, Monday–Friday */
	double weekend_hours[SIM_PROFILE_HOURS];    /* weights for Saturday and Sunday */
	double saturday_factor;
	double sunday_factor;
	double dark_factor;                         /* people avoid dark places: 0–2, 1 = no effect */
	double day_variation;                       /* relative standard deviation from day to day, 0–0.5 */
	double in_share;                            /* share of passes counted as "in", 0–1 */
	double month_factors[SIM_PROFILE_MONTHS];   /* January … December; optional, default 1 */
	double holiday_factor;                      /* on holidays, times the Sunday curve; default 1 */
	double events_per_year;                     /* event evenings a year, on average; default 0 */
	double event_factor;                        /* footfall 16–23 local on an event day; default 1 */

	/* Light and lamps. */
	double night_lux;                           /* what other lighting gives the sensor at night, lx */
	double cloudiness;                          /* mean cloud cover, 0 clear – 1 overcast */
	double lamp_fault_per_night;                /* probability that a lamp fails on a given night */
	double lamp_lux;                            /* what one lit lamp gives its light sensor, lx; default 0 */
	bool lamp_out;                              /* scenarios only: the lamp is out every night */

	/* Where the district lies, roughly, for a schematic map; NAN when the
	 * file does not say. */
	double latitude, longitude;                 /* degrees north, east */
};

/* Some keys of a profile, as a scenario changes them: values holds each
 * key whose bit (the key's place in sim_profile.c's table) is set in keys. */
struct sim_profile_changes {
	struct sim_profile values;
	uint32_t keys;
};

/* Read the profile of district (a section name, compared byte for byte)
 * from the INI file at path into *out.  Returns 0; -ENOENT when the file
 * has no such section (err lists the districts it has); -EINVAL when the
 * section has an unknown key, a bad value or lacks a required key, or the
 * file is not valid INI (err says which line); another negative errno when
 * the file cannot be read.  Only that section is judged, so a typo in
 * another district does not stop this one.  *out is written only on
 * success. */
int sim_profile_load(const char *path, const char *district, struct sim_profile *out,
                     char *err, size_t err_size);

/* Every profile of the file at path, in the order of the file: *out is an
 * array of *count profiles that the caller frees with free() (NULL when
 * the file has none).  Every section is judged as sim_profile_load()
 * judges one, and the first problem fails the whole: -EINVAL (err says
 * where), -ENOMEM, or another negative errno when the file cannot be
 * read.  For tools that show all districts (tryggctl report's map reads
 * latitude and longitude from here). */
int sim_profile_load_all(const char *path, struct sim_profile **out, size_t *count,
                         char *err, size_t err_size);

/* One key of a scenario into *changes: 0; -ENOENT when key is not one a
 * scenario may change (latitude and longitude may not; lamp_out may, and
 * only a scenario); -EEXIST when changes already has it; -EINVAL when the
 * value is bad.  A message in err except for -ENOENT. */
int sim_profile_change(struct sim_profile_changes *changes, const char *key, const char *value,
                       char *err, size_t err_size);

/* The keys changes holds, written over *profile. */
void sim_profile_apply(struct sim_profile *profile, const struct sim_profile_changes *changes);

#endif
