/* sim_profile.h — one district's simulation profile, read from the profiles
 * file (seeds/districts.ini): how busy its public places are hour by hour,
 * how lit they are at night and how often street lamps fail.  The numbers
 * are invented to be plausible; they are not measurements.
 *
 * struct sim_profile is a plain value: it owns no pointers, so it can be
 * copied and compared freely. */
#ifndef TRYGGD_SIM_PROFILE_H
#define TRYGGD_SIM_PROFILE_H

#include <stddef.h>

#define SIM_PROFILE_DISTRICT_MAX 64   /* bytes with the terminating NUL */
#define SIM_PROFILE_HOURS 24

struct sim_profile {
	char district[SIM_PROFILE_DISTRICT_MAX];   /* the section name, UTF-8 */

	/* Footfall: the mean rate in local time (Europe/Stockholm) is
	 * footfall_per_hour * weight of the hour, times the day's factor
	 * (1 on Monday to Friday, saturday_factor or sunday_factor), times
	 * dark_factor while the sun is more than 4° below the horizon. */
	double footfall_per_hour;                   /* passes per hour at weight 1 */
	double weekday_hours[SIM_PROFILE_HOURS];    /* weights for 00–01 … 23–24, Monday–Friday */
	double weekend_hours[SIM_PROFILE_HOURS];    /* weights for Saturday and Sunday */
	double saturday_factor;
	double sunday_factor;
	double dark_factor;                         /* people avoid dark places: 0–2, 1 = no effect */
	double day_variation;                       /* relative standard deviation from day to day, 0–0.5 */
	double in_share;                            /* share of passes counted as "in", 0–1 */

	/* Light and lamps. */
	double night_lux;                           /* what other lighting gives the sensor at night, lx */
	double cloudiness;                          /* mean cloud cover, 0 clear – 1 overcast */
	double lamp_fault_per_night;                /* probability that a lamp fails on a given night */
};

/* Read the profile of district (a section name, compared byte for byte)
 * from the INI file at path into *out.  Returns 0; -ENOENT when the file
 * has no such section (err lists the districts it has); -EINVAL when the
 * section has an unknown key, a bad value or lacks a key, or the file is not
 * valid INI (err says which line); another negative errno when the file
 * cannot be read.  *out is written only on success. */
int sim_profile_load(const char *path, const char *district, struct sim_profile *out,
                     char *err, size_t err_size);

#endif
