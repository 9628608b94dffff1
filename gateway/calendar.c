/* calendar.c — see calendar.h. */
#include "calendar.h"

int64_t calendar_floor_divide(int64_t numerator, int64_t denominator)
{
	int64_t quotient = numerator / denominator;
	if (numerator % denominator != 0 && ((numerator < 0) != (denominator < 0)))
		quotient--;
	return quotient;
}

int64_t calendar_days_from_civil(int64_t year, int month, int day)
{
	year -= month <= 2;
	int64_t era = calendar_floor_divide(year, 400);
	int64_t year_of_era = year - era * 400;
	int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
	int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
	return era * 146097 + day_of_era - 719468;
}

void calendar_civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
	days += 719468;
	int64_t era = calendar_floor_divide(days, 146097);
	int64_t day_of_era = days - era * 146097;
	int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 -
	                       day_of_era / 146096) / 365;
	int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
	int64_t month_index = (5 * day_of_year + 2) / 153;   /* 0 = March */
	*day = (int)(day_of_year - (153 * month_index + 2) / 5 + 1);
	*month = (int)(month_index < 10 ? month_index + 3 : month_index - 9);
	*year = year_of_era + era * 400 + (*month <= 2);
}

int calendar_weekday(int64_t days)
{
	/* 1970-01-01 was a Thursday. */
	return (int)(days + 4 - calendar_floor_divide(days + 4, 7) * 7);
}
