/* sim_inject.c — see sim_inject.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"
#include "sim_inject.h"
#include "timefmt.h"

static const struct {
	const char *name;
	enum sim_fault fault;
	unsigned types;          /* bit (1u << SENSOR_x) for each type it applies to */
} kinds[] = {
	{ "failed", SIM_FAULT_FAILED, (1u << SENSOR_FOOTFALL) | (1u << SENSOR_LIGHT) | (1u << SENSOR_LAMP) },
	{ "stuck", SIM_FAULT_STUCK, 1u << SENSOR_FOOTFALL },
	{ "blocked", SIM_FAULT_BLOCKED, 1u << SENSOR_FOOTFALL },
	{ "covered", SIM_FAULT_COVERED, 1u << SENSOR_LIGHT },
	{ "lamp_fault", SIM_FAULT_LAMP, 1u << SENSOR_LAMP },
	{ "garbage", SIM_FAULT_GARBAGE, (1u << SENSOR_FOOTFALL) | (1u << SENSOR_LIGHT) | (1u << SENSOR_LAMP) },
};

#define ENTRY_MAX 96
#define DURATION_MAX_MS (366LL * 86400 * 1000)

static int parse_entry(enum sensor_type type, const char *entry, struct sim_injection *out, char *err,
                       size_t err_size)
{
	char text[ENTRY_MAX];
	if (strlen(entry) >= sizeof(text)) {
		snprintf(err, err_size, "inject: entry too long, expected KIND@START/DURATION");
		return -EINVAL;
	}
	strcpy(text, entry);
	char *at = strchr(text, '@');
	char *slash = at ? strchr(at, '/') : NULL;
	if (!at || !slash) {
		snprintf(err, err_size, "inject: expected KIND@START/DURATION like covered@2026-11-03T09:00:00Z/3h, got '%s'",
		         entry);
		return -EINVAL;
	}
	*at = '\0';
	*slash = '\0';
	size_t kind = 0;
	while (kind < sizeof(kinds) / sizeof(kinds[0]) && strcmp(kinds[kind].name, text) != 0)
		kind++;
	if (kind == sizeof(kinds) / sizeof(kinds[0])) {
		snprintf(err, err_size, "inject: unknown fault '%s' (expected failed, stuck, blocked, covered, "
		         "lamp_fault or garbage)", text);
		return -EINVAL;
	}
	if (!(kinds[kind].types & (1u << type))) {
		snprintf(err, err_size, "inject: %s does not apply to %s sensors", kinds[kind].name,
		         sensor_type_name(type));
		return -EINVAL;
	}
	int64_t start, length;
	if (timefmt_parse_iso8601(at + 1, &start) != 0) {
		snprintf(err, err_size, "inject: expected an ISO-8601 UTC start like 2026-11-03T09:00:00Z, got '%s'", at + 1);
		return -EINVAL;
	}
	if (!parse_duration_ms(slash + 1, 1, DURATION_MAX_MS, &length)) {
		snprintf(err, err_size, "inject: expected a duration like 90s, 15min or 3h, got '%s'", slash + 1);
		return -EINVAL;
	}
	*out = (struct sim_injection){ kinds[kind].fault, start, start + length };
	return 0;
}

int sim_inject_parse(enum sensor_type type, const char *text, struct sim_injections *out, char *err,
                     size_t err_size)
{
	memset(out, 0, sizeof(*out));
	const char *cursor = text;
	for (;;) {
		while (*cursor == ' ')
			cursor++;
		size_t length = strcspn(cursor, ",");
		size_t trimmed = length;
		while (trimmed > 0 && cursor[trimmed - 1] == ' ')
			trimmed--;
		if (trimmed == 0) {
			snprintf(err, err_size, "inject: empty entry; separate KIND@START/DURATION entries with commas");
			return -EINVAL;
		}
		if (out->count == SIM_INJECT_MAX) {
			snprintf(err, err_size, "inject: at most %d entries", SIM_INJECT_MAX);
			return -EINVAL;
		}
		char entry[ENTRY_MAX + 1];
		snprintf(entry, sizeof(entry), "%.*s", (int)(trimmed < ENTRY_MAX ? trimmed : ENTRY_MAX), cursor);
		int r = parse_entry(type, entry, &out->entries[out->count], err, err_size);
		if (r < 0)
			return r;
		out->count++;
		if (cursor[length] == '\0')
			return 0;
		cursor += length + 1;
	}
}

bool sim_inject_active(const struct sim_injections *injections, enum sim_fault fault, int64_t t_ms)
{
	for (size_t i = 0; i < injections->count; i++) {
		const struct sim_injection *entry = &injections->entries[i];
		if (entry->fault == fault && t_ms >= entry->start_ms && t_ms < entry->end_ms)
			return true;
	}
	return false;
}
