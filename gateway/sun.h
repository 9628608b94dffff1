/* sun.h — where the sun stands: its elevation above the horizon for a place
 * on Earth and an instant, so the simulated light and street-lamp sensors
 * follow real days and seasons.  Pure functions; no pointers are kept. */
#ifndef TRYGGD_SUN_H
#define TRYGGD_SUN_H

#include <stdint.h>

/* Eskilstuna, where all five districts lie within a few kilometres. */
#define SUN_ESKILSTUNA_LATITUDE 59.37
#define SUN_ESKILSTUNA_LONGITUDE 16.51

/* Geometric elevation of the sun's centre in degrees (negative below the
 * horizon, no atmospheric refraction) at latitude (degrees north) and
 * longitude (degrees east) at unix_ms (Unix epoch milliseconds, UTC).
 * Low-precision NOAA formulae: good to a few hundredths of a degree for
 * years near 2000 and well within 1° for any year this product will see. */
double sun_elevation_degrees(double latitude, double longitude, int64_t unix_ms);

/* The sun's declination in degrees at unix_ms (exposed for tests). */
double sun_declination_degrees(int64_t unix_ms);

#endif
