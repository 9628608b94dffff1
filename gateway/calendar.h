/* calendar.h — proleptic Gregorian calendar arithmetic on days since
 * 1970-01-01, UTC, with division that rounds towards minus infinity so that
 * times before the epoch fall into the right day.  Pure functions. */
#ifndef TRYGGD_CALENDAR_H
#define TRYGGD_CALENDAR_H

#include <stdint.h>

int64_t calendar_floor_divide(int64_t numerator, int64_t denominator);

/* Days since 1970-01-01 of a date (H. Hinnant's days_from_civil: eras of
 * 400 years starting on March 1st), and back. */
int64_t calendar_days_from_civil(int64_t year, int month, int day);
void calendar_civil_from_days(int64_t days, int64_t *year, int *month, int *day);

/* 0 = Sunday … 6 = Saturday. */
int calendar_weekday(int64_t days);

#endif
