/* tamper.c — see tamper.h. */
#include <stdio.h>
#include <time.h>

#include "sun.h"
#include "tamper.h"
#include "timefmt.h"

void tamper_init(struct tamper *tamper, const struct sensor_alerts *limits, double latitude, double longitude,
                 int64_t now_ms)
{
	*tamper = (struct tamper){
		.limits = limits,
		.latitude = latitude,
		.longitude = longitude,
		.last_pass_ms = now_ms,
		.last_tick_ms = now_ms,
		.low_since_ms = -1,
		.fault_since_ms = -1,
	};
}

void tamper_format_span(int64_t span_ms, char *out, size_t out_size)
{
	int64_t seconds = span_ms / 1000;
	if (span_ms < 1000)
		snprintf(out, out_size, "%lld ms", (long long)span_ms);
	else if (seconds < 120)
		snprintf(out, out_size, "%lld s", (long long)seconds);
	else if (seconds < 7200)
		snprintf(out, out_size, "%lld min", (long long)(seconds / 60));
	else if (seconds % 3600 / 60 == 0)
		snprintf(out, out_size, "%lld h", (long long)(seconds / 3600));
	else
		snprintf(out, out_size, "%lld h %lld min", (long long)(seconds / 3600), (long long)(seconds % 3600 / 60));
}

static bool busy_hour(const struct sensor_alerts *limits, int64_t t_ms)
{
	time_t seconds = (time_t)(t_ms / 1000);
	struct tm local;
	if (!localtime_r(&seconds, &local))
		return false;
	return local.tm_hour >= limits->busy_from_hour && local.tm_hour < limits->busy_to_hour;
}

bool tamper_footfall(struct tamper *tamper, struct alerts *alerts, int64_t now_ms, uint64_t passes)
{
	const struct sensor_alerts *limits = tamper->limits;
	int64_t elapsed = now_ms - tamper->last_tick_ms;
	tamper->last_tick_ms = now_ms;
	if (passes > 0) {
		tamper->last_pass_ms = now_ms;
		tamper->quiet_busy_ms = 0;
		return alert_clear(alerts, ALERT_STUCK);
	}
	if (limits->stuck_ms <= 0 || elapsed <= 0)
		return false;
	/* The span just gone counts as busy when it ends in a busy hour: with
	 * intervals of seconds to minutes that is exact enough. */
	if (busy_hour(limits, now_ms))
		tamper->quiet_busy_ms += elapsed;
	if (tamper->quiet_busy_ms < limits->stuck_ms || alert_active(alerts, ALERT_STUCK))
		return false;
	char span[32], since[TIMEFMT_RFC3339_SIZE];
	tamper_format_span(tamper->quiet_busy_ms, span, sizeof(span));
	timefmt_rfc3339(tamper->last_pass_ms, since);
	return alert_raise(alerts, ALERT_STUCK, tamper->last_pass_ms,
	                   "no one counted for %s of busy hours (%02d-%02d local) since %s; check the sensor's view and wiring",
	                   span, limits->busy_from_hour, limits->busy_to_hour, since);
}

bool tamper_beam(struct tamper *tamper, struct alerts *alerts, int64_t t_ms, bool held)
{
	if (held == tamper->held)
		return false;
	tamper->held = held;
	tamper->held_since_ms = t_ms;
	return held ? false : alert_clear(alerts, ALERT_BLOCKED);
}

bool tamper_beam_check(struct tamper *tamper, struct alerts *alerts, int64_t now_ms)
{
	const struct sensor_alerts *limits = tamper->limits;
	if (!tamper->held || limits->blocked_ms <= 0 || now_ms - tamper->held_since_ms < limits->blocked_ms ||
	    alert_active(alerts, ALERT_BLOCKED))
		return false;
	char span[32], limit[32];
	tamper_format_span(now_ms - tamper->held_since_ms, span, sizeof(span));
	tamper_format_span(limits->blocked_ms, limit, sizeof(limit));
	return alert_raise(alerts, ALERT_BLOCKED, tamper->held_since_ms,
	                   "beam broken for %s (a person takes less than %s); something blocks it or it is misaligned",
	                   span, limit);
}

bool tamper_light(struct tamper *tamper, struct alerts *alerts, int64_t now_ms, double lux)
{
	const struct sensor_alerts *limits = tamper->limits;
	if (lux >= limits->covered_lux) {
		tamper->low_since_ms = -1;
		return alert_clear(alerts, ALERT_COVERED);
	}
	double elevation = sun_elevation_degrees(tamper->latitude, tamper->longitude, now_ms);
	if (elevation < TAMPER_COVERED_ELEVATION) {
		/* Dark is normal now: neither evidence for nor against. */
		tamper->low_since_ms = -1;
		return false;
	}
	if (tamper->low_since_ms < 0)
		tamper->low_since_ms = now_ms;
	if (limits->covered_ms <= 0 || now_ms - tamper->low_since_ms < limits->covered_ms ||
	    alert_active(alerts, ALERT_COVERED))
		return false;
	char span[32];
	tamper_format_span(now_ms - tamper->low_since_ms, span, sizeof(span));
	return alert_raise(alerts, ALERT_COVERED, tamper->low_since_ms,
	                   "%.2f lx for %s with the sun %.0f degrees up; the sensor is covered or dirty", lux, span,
	                   elevation);
}

bool tamper_light_trusted(const struct tamper *tamper, const struct alerts *alerts)
{
	return tamper->low_since_ms < 0 && !alert_active(alerts, ALERT_COVERED);
}

bool tamper_lamp(struct tamper *tamper, struct alerts *alerts, int64_t now_ms, bool off_in_dark)
{
	const struct sensor_alerts *limits = tamper->limits;
	if (!off_in_dark) {
		tamper->fault_since_ms = -1;
		return alert_clear(alerts, ALERT_LAMP_FAULT);
	}
	if (tamper->fault_since_ms < 0)
		tamper->fault_since_ms = now_ms;
	if (limits->lamp_fault_ms <= 0 || now_ms - tamper->fault_since_ms < limits->lamp_fault_ms ||
	    alert_active(alerts, ALERT_LAMP_FAULT))
		return false;
	char span[32];
	tamper_format_span(now_ms - tamper->fault_since_ms, span, sizeof(span));
	return alert_raise(alerts, ALERT_LAMP_FAULT, tamper->fault_since_ms,
	                   "lamp off for %s while its light sensor reads dark", span);
}
