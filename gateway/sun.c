/* sun.c — solar elevation after the NOAA solar calculator (Meeus,
 * "Astronomical Algorithms", low-precision series).  Pure functions of their
 * arguments; nothing is allocated or kept. */
#include <math.h>

#include "sun.h"

/* M_PI is POSIX, not C17; spelled out so the file builds without feature macros. */
#define PI 3.14159265358979323846
#define DEGREES_PER_RADIAN (180.0 / PI)
#define MS_PER_DAY 86400000.0
#define UNIX_EPOCH_JULIAN_DAY 2440587.5
#define J2000_JULIAN_DAY 2451545.0

static double radians(double degrees)
{
	return degrees / DEGREES_PER_RADIAN;
}

static double degrees(double radians_value)
{
	return radians_value * DEGREES_PER_RADIAN;
}

/* The position terms shared by declination and equation of time. */
struct sun_position {
	double declination;          /* degrees */
	double equation_of_time;     /* minutes: apparent minus mean solar time */
};

static struct sun_position sun_position(int64_t unix_ms)
{
	double julian_day = (double)unix_ms / MS_PER_DAY + UNIX_EPOCH_JULIAN_DAY;
	double century = (julian_day - J2000_JULIAN_DAY) / 36525.0;

	double mean_longitude = fmod(280.46646 + century * (36000.76983 + century * 0.0003032), 360.0);
	double mean_anomaly = 357.52911 + century * (35999.05029 - 0.0001537 * century);
	double eccentricity = 0.016708634 - century * (0.000042037 + 0.0000001267 * century);

	double anomaly_radians = radians(mean_anomaly);
	double equation_of_centre =
		sin(anomaly_radians) * (1.914602 - century * (0.004817 + 0.000014 * century)) +
		sin(2.0 * anomaly_radians) * (0.019993 - 0.000101 * century) +
		sin(3.0 * anomaly_radians) * 0.000289;
	double true_longitude = mean_longitude + equation_of_centre;

	/* Nutation and aberration move the apparent longitude and the
	 * obliquity by up to ~0.01°; cheap to include, so included. */
	double ascending_node = radians(125.04 - 1934.136 * century);
	double apparent_longitude = true_longitude - 0.00569 - 0.00478 * sin(ascending_node);
	double mean_obliquity = 23.0 + (26.0 + (21.448 - century * (46.815 + century *
	                        (0.00059 - century * 0.001813))) / 60.0) / 60.0;
	double obliquity = radians(mean_obliquity + 0.00256 * cos(ascending_node));

	struct sun_position position;
	position.declination = degrees(asin(sin(obliquity) * sin(radians(apparent_longitude))));

	double half_obliquity_tangent = tan(obliquity / 2.0);
	double y = half_obliquity_tangent * half_obliquity_tangent;
	double longitude_radians = radians(mean_longitude);
	position.equation_of_time = 4.0 * degrees(
		y * sin(2.0 * longitude_radians) -
		2.0 * eccentricity * sin(anomaly_radians) +
		4.0 * eccentricity * y * sin(anomaly_radians) * cos(2.0 * longitude_radians) -
		0.5 * y * y * sin(4.0 * longitude_radians) -
		1.25 * eccentricity * eccentricity * sin(2.0 * anomaly_radians));
	return position;
}

double sun_declination_degrees(int64_t unix_ms)
{
	return sun_position(unix_ms).declination;
}

double sun_elevation_degrees(double latitude, double longitude, int64_t unix_ms)
{
	struct sun_position position = sun_position(unix_ms);

	/* Minutes since UTC midnight, floored so that instants before 1970 work too. */
	double minutes_of_day = fmod((double)unix_ms / 60000.0, 1440.0);
	if (minutes_of_day < 0.0)
		minutes_of_day += 1440.0;
	double true_solar_minutes = minutes_of_day + position.equation_of_time + 4.0 * longitude;
	double hour_angle = radians(true_solar_minutes / 4.0 - 180.0);

	double latitude_radians = radians(latitude);
	double declination_radians = radians(position.declination);
	double cosine_zenith = sin(latitude_radians) * sin(declination_radians) +
	                       cos(latitude_radians) * cos(declination_radians) * cos(hour_angle);
	/* Rounding can push the cosine a hair past ±1, where asin is undefined. */
	if (cosine_zenith > 1.0)
		cosine_zenith = 1.0;
	else if (cosine_zenith < -1.0)
		cosine_zenith = -1.0;
	return degrees(asin(cosine_zenith));
}
