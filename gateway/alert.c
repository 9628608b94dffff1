/* alert.c — see alert.h. */
#include <stdarg.h>
#include <stdio.h>

#include "alert.h"

static const char *const names[ALERT_KIND_COUNT] = {
	[ALERT_FAILED] = "failed",
	[ALERT_BLOCKED] = "blocked",
	[ALERT_COVERED] = "covered",
	[ALERT_STUCK] = "stuck",
	[ALERT_LAMP_FAULT] = "lamp_fault",
};

const char *alert_kind_name(enum alert_kind kind)
{
	return (unsigned)kind < ALERT_KIND_COUNT ? names[kind] : "unknown";
}

bool alert_raise(struct alerts *alerts, enum alert_kind kind, int64_t since_ms, const char *format, ...)
{
	struct alert_problem *problem = &alerts->problems[kind];
	bool was_active = problem->active;
	va_list arguments;
	va_start(arguments, format);
	vsnprintf(problem->detail, sizeof(problem->detail), format, arguments);
	va_end(arguments);
	if (!was_active) {
		problem->active = true;
		problem->since_ms = since_ms;
	}
	return !was_active;
}

bool alert_clear(struct alerts *alerts, enum alert_kind kind)
{
	struct alert_problem *problem = &alerts->problems[kind];
	bool was_active = problem->active;
	problem->active = false;
	return was_active;
}

bool alert_active(const struct alerts *alerts, enum alert_kind kind)
{
	return alerts->problems[kind].active;
}

const struct alert_problem *alert_shown(const struct alerts *alerts, enum alert_kind *kind)
{
	for (unsigned i = 0; i < ALERT_KIND_COUNT; i++) {
		if (alerts->problems[i].active) {
			if (kind)
				*kind = (enum alert_kind)i;
			return &alerts->problems[i];
		}
	}
	return NULL;
}
