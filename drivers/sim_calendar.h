/* sim_calendar.h — the calendar the sim driver lives by: Swedish local time
 * (Europe/Stockholm) and the days on which Sweden does not work, so that a
 * simulated district keeps its holidays as a real one does.
 *
 * Local time is coded here (CET/CEST, the EU rule) rather than taken from
 * localtime_r, so that the host's TZ and tzdata cannot change a simulation.
 * Holidays are computed for any year, never listed: Easter by the anonymous
 * Gregorian algorithm (Meeus/Jones/Butcher), the moving days from Easter or
 * from the weekday rules of Swedish law (SFS 1989:253).  Pure functions on
 * Unix milliseconds and on days since 1970-01-01 (calendar.h); no pointers
 * are kept, and the names returned are static strings. */
#ifndef TRYGGD_SIM_CALENDAR_H
#define TRYGGD_SIM_CALENDAR_H

#include <stdint.h>

#define SIM_CALENDAR_MS_PER_HOUR INT64_C(3600000)
#define SIM_CALENDAR_MS_PER_DAY INT64_C(86400000)

/* What Swedish local time is ahead of UTC at utc_ms: one hour in winter,
 * two in summer (from 01:00 UTC on the last Sunday of March to 01:00 UTC
 * on the last Sunday of October). */
int64_t sim_calendar_offset_ms(int64_t utc_ms);

/* utc_ms as Swedish local time, counted like Unix time: the local day is
 * calendar_floor_divide(local, SIM_CALENDAR_MS_PER_DAY). */
int64_t sim_calendar_local_ms(int64_t utc_ms);

/* Easter Sunday of year, as days since 1970-01-01 (Gregorian calendar). */
int64_t sim_calendar_easter(int64_t year);

/* The holiday on the local day day (days since 1970-01-01), by its Swedish
 * name, or NULL on an ordinary day.  The public holidays (allmänna
 * helgdagar) and the three eves Sweden keeps like them:
 *   nyårsdagen 1 Jan, trettondedag jul 6 Jan, långfredagen, påskdagen,
 *   annandag påsk, första maj, Kristi himmelsfärdsdag (Easter + 39),
 *   pingstdagen (Easter + 49), nationaldagen 6 Jun, midsommarafton (the
 *   Friday 19–25 Jun), midsommardagen (the Saturday 20–26 Jun), alla
 *   helgons dag (the Saturday 31 Oct–6 Nov), julafton, juldagen, annandag
 *   jul, nyårsafton. */
const char *sim_calendar_holiday(int64_t day);

#endif
