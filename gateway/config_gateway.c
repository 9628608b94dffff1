/* config_gateway.c — pass 2 for [gateway] (who and where this gateway is)
 * and [simulation] (a virtual clock, and the sim driver's profiles and
 * scenarios). */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "build_tree.h"
#include "config_internal.h"
#include "lineproto.h"
#include "parse.h"
#include "sim_scenario.h"
#include "slug.h"
#include "sun.h"
#include "timefmt.h"

#ifndef TRYGGD_PROFILES_DEFAULT
#define TRYGGD_PROFILES_DEFAULT "/usr/share/tryggd/seeds/districts.ini"
#endif

/* The sim driver's profiles when the file names none.  A program run from
 * its build tree (build/tryggd -c my.conf) takes the checkout's, which
 * match it, even where a package is installed too; an installed one the
 * installed file.  The path is resolved here, once per load, so that
 * --check shows it and a reload compares it like a configured one. */
static char *default_profiles(struct loader *loader)
{
	char *program = NULL, *profiles = NULL;
	int r = build_tree_program(&program);
	if (r == 0)
		r = build_tree_profiles(program, &profiles);
	free(program);
	if (r == -ENOMEM)
		loader->out_of_memory = true;
	return profiles ? profiles : config_copy_text(loader, TRYGGD_PROFILES_DEFAULT);
}

/* District and site become tag values; refuse the few texts the store
 * would not keep exactly (see lineproto.c). */
static bool tag_value_exact(struct loader *loader, const struct raw_entry *entry, const char *key)
{
	if (lineproto_tag_value_exact(entry->value))
		return true;
	config_report(loader, entry->line,
	              "%s: a backslash at the end or right before a comma, space or '=' cannot be stored exactly; remove it",
	              key);
	return false;
}

/* Degrees, north or east positive. */
static void take_coordinate(struct loader *loader, struct raw_section *section, const char *key,
                            double limit, double *field)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	struct raw_entry *entry = config_take(section, key);
	double value;
	if (!entry)
		return;
	if (!parse_decimal(entry->value, -limit, &value) || value > limit)
		config_report(loader, entry->line, "%s: expected degrees from %g to %g, got '%s'", key, -limit,
		              limit, config_shown(entry->value, shown_buffer));
	else
		*field = value;
}

void config_validate_gateway(struct loader *loader, struct config *config)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	struct gateway_config *gateway = &config->gateway;
	struct raw_section *section = config_find_section(loader, SECTION_GATEWAY, NULL);
	gateway->window_s = 60;
	gateway->latitude = SUN_ESKILSTUNA_LATITUDE;
	gateway->longitude = SUN_ESKILSTUNA_LONGITUDE;
	if (!section) {
		config_report(loader, 1, "missing section [gateway] (with at least id and district)");
		gateway->state_dir = config_copy_text(loader, "/var/lib/tryggd");
		return;
	}

	struct raw_entry *entry = config_take_required(loader, section, "id");
	if (entry) {
		if (config_is_word(entry->value, 64, true))
			gateway->id = config_copy_text(loader, entry->value);
		else
			config_report(loader, entry->line, "id: expected 1 to 64 of A-Z a-z 0-9 _ -, got '%s'",
			              config_shown(entry->value, shown_buffer));
	}

	bool valid;
	entry = config_take_text(loader, section, "district", true, PLACE_TEXT_MAX, &valid);
	if (entry && valid && !tag_value_exact(loader, entry, "district"))
		valid = false;
	if (entry && valid) {
		char slug[SLUG_BUFFER_SIZE];
		int r = slug_make(entry->value, slug, sizeof(slug));
		if (r == -EINVAL)
			config_report(loader, entry->line,
			              "district '%s' has no letter or digit to make a topic level of",
			              config_shown(entry->value, shown_buffer));
		else if (r < 0)
			config_report(loader, entry->line, "district '%s': cannot make a topic level of it: %s",
			              config_shown(entry->value, shown_buffer), strerror(-r));
		else
			gateway->district = config_copy_text(loader, entry->value);
	}

	entry = config_take_text(loader, section, "site", false, PLACE_TEXT_MAX, &valid);
	if (entry && valid && !tag_value_exact(loader, entry, "site"))
		valid = false;
	if (entry && valid)
		gateway->site = config_copy_text(loader, entry->value);

	config_take_integer(loader, section, "window", "whole seconds", 1, 86400, &gateway->window_s);
	take_coordinate(loader, section, "latitude", 90, &gateway->latitude);
	take_coordinate(loader, section, "longitude", 180, &gateway->longitude);
	gateway->state_dir = config_take_path(loader, section, "state_dir", "/var/lib/tryggd");
	entry = config_take(section, "clock");
	if (entry && strcmp(entry->value, "trusted") == 0)
		gateway->clock = CLOCK_TRUST_FLOOR_ONLY;
	else if (entry && strcmp(entry->value, "synchronised") != 0)
		config_report(loader, entry->line, "clock: expected synchronised or trusted, got '%s'",
		              config_shown(entry->value, shown_buffer));
	config_report_unused(loader, section);
}

/* A clock step: ISO time, '/', a signed span ("2026-11-02T06:20:00Z/-1h"). */
static bool parse_clock_step(const char *text, int64_t *at_ms, int64_t *step_ms)
{
	const char *slash = strchr(text, '/');
	char at[64];
	if (!slash || slash == text || (size_t)(slash - text) >= sizeof(at))
		return false;
	memcpy(at, text, (size_t)(slash - text));
	at[slash - text] = '\0';
	const char *span = slash + 1;
	bool backward = *span == '-';
	if (*span == '-' || *span == '+')
		span++;
	int64_t size_ms;
	if (timefmt_parse_iso8601(at, at_ms) != 0 ||
	    !parse_duration_ms(span, 1, INT64_C(100) * 365 * 86400 * 1000, &size_ms))
		return false;
	*step_ms = backward ? -size_ms : size_ms;
	return true;
}

/* The virtual clock's trials: untrusted until a time, and a step. */
static void take_clock_trials(struct loader *loader, struct raw_section *section,
                              struct simulation_config *simulation)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	struct raw_entry *entry = config_take(section, "clock_synchronised_at");
	if (entry && timefmt_parse_iso8601(entry->value, &simulation->clock_synchronised_at_ms) != 0)
		config_report(loader, entry->line,
		              "clock_synchronised_at: expected an ISO-8601 UTC time like 2026-11-02T06:10:00Z, got '%s'",
		              config_shown(entry->value, shown_buffer));
	entry = config_take(section, "clock_step");
	if (entry && !parse_clock_step(entry->value, &simulation->clock_step_at_ms, &simulation->clock_step_ms))
		config_report(loader, entry->line,
		              "clock_step: expected TIME/SPAN like 2026-11-02T06:20:00Z/-1h (the clock jumps by SPAN "
		              "at TIME), got '%s'",
		              config_shown(entry->value, shown_buffer));
}

struct scenario_problems {
	struct loader *loader;
	int line;
};

static void report_scenario_problem(void *user, const char *problem)
{
	struct scenario_problems *problems = user;
	config_report(problems->loader, problems->line, "scenarios: %s", problem);
}

/* The sim driver's scenarios: read here, so that --check shows every
 * problem in the file (as FILE:LINE: scenarios: SCENARIOS:LINE: ...)
 * before anything runs; the sim driver reads the file again at open. */
static void take_scenarios(struct loader *loader, struct raw_section *section,
                           struct simulation_config *simulation)
{
	bool valid;
	struct raw_entry *entry = config_take_text(loader, section, "scenarios", false, PATH_MAX - 1, &valid);
	if (!entry || !valid)
		return;
	simulation->scenarios = config_resolve_path(loader, entry->value);
	if (!simulation->scenarios)
		return;
	struct sim_scenarios scenarios;
	struct scenario_problems problems = { loader, entry->line };
	char err[256] = "";
	int r = sim_scenarios_load(simulation->scenarios, simulation->profiles, &scenarios, report_scenario_problem,
	                           &problems, err, sizeof(err));
	if (r == -ENOMEM)
		loader->out_of_memory = true;
	else if (r < 0 && r != -EINVAL)
		config_report(loader, entry->line, "scenarios: cannot read %s", err);
	sim_scenarios_clear(&scenarios);
}

void config_validate_simulation(struct loader *loader, struct config *config)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	struct simulation_config *simulation = &config->simulation;
	struct raw_section *section = config_find_section(loader, SECTION_SIMULATION, NULL);
	simulation->speed = 1;
	simulation->drain_timeout_s = 30;
	if (!section) {
		/* sim sensors also run in real time, and need their profiles */
		simulation->profiles = default_profiles(loader);
		return;
	}
	/* Without start, [simulation] only sets up simulated sensors that run
	 * on the real clock (a bench test, a live demo); with start the clock
	 * is virtual. */
	bool start_valid = false;
	struct raw_entry *entry = config_take(section, "start");
	if (entry) {
		config->has_simulation = true;
		if (timefmt_parse_iso8601(entry->value, &simulation->start_ms) == 0)
			start_valid = true;
		else
			config_report(loader, entry->line,
			              "start: expected an ISO-8601 UTC time like 2026-11-02T00:00:00Z, got '%s'",
			              config_shown(entry->value, shown_buffer));
	} else {
		static const char *const needs_start[] = { "speed", "end", "drain_timeout", "clock_synchronised_at",
		                                           "clock_step" };
		for (size_t i = 0; i < sizeof(needs_start) / sizeof(needs_start[0]); i++) {
			struct raw_entry *clock_entry = config_take(section, needs_start[i]);
			if (clock_entry)
				config_report(loader, clock_entry->line,
				              "%s needs start: without start the clock is real", needs_start[i]);
		}
		goto profiles;
	}

	entry = config_take(section, "speed");
	if (entry && !parse_decimal(entry->value, 0, &simulation->speed))
		config_report(loader, entry->line,
		              "speed: expected virtual seconds per real second, 0 or more (0 = as fast as possible), got '%s'",
		              config_shown(entry->value, shown_buffer));

	entry = config_take(section, "end");
	if (entry) {
		int64_t end_ms;
		if (timefmt_parse_iso8601(entry->value, &end_ms) != 0)
			config_report(loader, entry->line,
			              "end: expected an ISO-8601 UTC time like 2026-11-09T00:00:00Z, got '%s'",
			              config_shown(entry->value, shown_buffer));
		else if (start_valid && end_ms <= simulation->start_ms)
			config_report(loader, entry->line, "end must be after start");
		else
			simulation->end_ms = end_ms;
	}

	config_take_integer(loader, section, "drain_timeout", "whole seconds", 0, 3600,
	                    &simulation->drain_timeout_s);
	take_clock_trials(loader, section, simulation);
profiles:
	if (config_take(section, "profiles"))
		simulation->profiles = config_take_path(loader, section, "profiles", TRYGGD_PROFILES_DEFAULT);
	else
		simulation->profiles = default_profiles(loader);
	take_scenarios(loader, section, simulation);
	config_report_unused(loader, section);
}
