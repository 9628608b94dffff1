/* health.c — see health.h. */
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "health.h"

static void field_count(struct window_field *fields, size_t *count, const char *key, uint64_t value)
{
	/* Line protocol integers are signed: clamped, as window_fields() does. */
	fields[(*count)++] = (struct window_field){
		.key = key, .kind = WINDOW_FIELD_INTEGER,
		.integer = value > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)value,
	};
}

static void field_integer(struct window_field *fields, size_t *count, const char *key, int64_t value)
{
	fields[(*count)++] = (struct window_field){ .key = key, .kind = WINDOW_FIELD_INTEGER, .integer = value };
}

size_t health_fields(const struct health *health, struct window_field fields[HEALTH_FIELDS_MAX])
{
	size_t count = 0;
	field_count(fields, &count, "readings", health->readings);
	field_count(fields, &count, "published", health->published);
	field_count(fields, &count, "buffered", health->buffered);
	field_count(fields, &count, "dropped", health->dropped);
	field_count(fields, &count, "lost", health->lost);
	field_count(fields, &count, "reconnects", health->reconnects);
	field_count(fields, &count, "spooled", health->spooled);
	field_count(fields, &count, "sent", health->sent);
	field_count(fields, &count, "spool_dropped", health->spool_dropped);
	field_count(fields, &count, "rejected", health->rejected);
	field_count(fields, &count, "missing", health->missing);
	field_count(fields, &count, "problems", health->problems);
	field_count(fields, &count, "unstamped_windows", health->unstamped_windows);
	field_count(fields, &count, "implausible", health->implausible);
	field_integer(fields, &count, "uptime_s", health->uptime_s);
	/* Not a counter: with it, windows expected over a span can be told
	 * from the store alone, however the gateway was configured then. */
	field_integer(fields, &count, "window_s", health->window_s);
	/* Unknown is left out rather than written as 0, which would read as a
	 * figure. */
	if (health->memory >= 0)
		field_integer(fields, &count, "memory", health->memory);
	return count;
}

int64_t health_memory_bytes(void)
{
	/* statm: size resident shared text lib data dt, in pages.  The
	 * resident set now, not getrusage's peak: a leak shows as a rise. */
	FILE *file = fopen("/proc/self/statm", "re");
	if (!file)
		return -1;
	uint64_t size, resident;
	int fields = fscanf(file, "%" SCNu64 " %" SCNu64, &size, &resident);
	fclose(file);
	long page = sysconf(_SC_PAGESIZE);
	if (fields != 2 || page <= 0 || resident > (uint64_t)INT64_MAX / (uint64_t)page)
		return -1;
	return (int64_t)(resident * (uint64_t)page);
}
