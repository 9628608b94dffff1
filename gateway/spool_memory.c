/* spool_memory.c — what the spool keeps in memory beside its table: the
 * held FIFO (lines the database refused, written first at the next write),
 * the ids of rows the bound dropped while their batch was on its way to
 * the store, and the episodes of dropping, for one warning each.  See
 * spool.h for the rules and spool.c for the table. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "spool_internal.h"

/* ---- dropping and its episodes ---- */

void spool_count_drops(struct spool *spool, uint64_t lines)
{
	if (lines == 0)
		return;
	spool->counters.dropped += lines;
	if (!spool->dropping)
		spool->drop_warning = true;
	spool->dropping = true;
}

/* Only after lines left for the store (removed or set aside): dropping
 * itself lowers the bytes, sometimes under 90%, and must not end the
 * episode it belongs to, or every append of a full spool would warn. */
void spool_maybe_end_episode(struct spool *spool)
{
	if (!spool->dropping || spool->counters.held > 0)
		return;
	if (spool->max_bytes == 0 || spool->counters.bytes * 10 < spool->max_bytes * 9)
		spool->dropping = false;
}

bool spool_take_drop_warning(struct spool *spool)
{
	bool warning = spool->drop_warning;
	spool->drop_warning = false;
	return warning;
}

/* ---- the held FIFO ---- */

void spool_held_drop_oldest(struct spool *spool)
{
	struct held_line *oldest = &spool->held[spool->held_first];
	spool->held_bytes -= oldest->length;
	free(oldest->text);
	spool->held_first++;
	spool->counters.held--;
	spool_count_drops(spool, 1);
}

void spool_held_clear(struct spool *spool)
{
	for (size_t i = 0; i < spool->counters.held; i++)
		free(spool->held[spool->held_first + i].text);
	spool->held_first = 0;
	spool->counters.held = 0;
	spool->held_bytes = 0;
}

/* Room for count more lines at the end of the FIFO. */
static int spool_held_reserve(struct spool *spool, size_t count)
{
	size_t used = (size_t)spool->counters.held;
	if (spool->held_first > 0) {
		memmove(spool->held, spool->held + spool->held_first, used * sizeof(*spool->held));
		spool->held_first = 0;
	}
	if (count > SIZE_MAX / sizeof(*spool->held) - used)
		return -ENOMEM;
	if (used + count <= spool->held_capacity)
		return 0;
	size_t capacity = spool->held_capacity ? spool->held_capacity : 16;
	while (capacity < used + count)
		capacity = capacity > SIZE_MAX / 2 / sizeof(*spool->held) ? used + count : capacity * 2;
	struct held_line *held = realloc(spool->held, capacity * sizeof(*held));
	if (!held)
		return -ENOMEM;
	spool->held = held;
	spool->held_capacity = capacity;
	return 0;
}

/* Copies of all lines, or none of them. */
int spool_held_push(struct spool *spool, char *const *lines, size_t count)
{
	int result = spool_held_reserve(spool, count);
	if (result < 0)
		return result;
	size_t end = (size_t)spool->counters.held, copied = 0;
	uint64_t bytes = 0, too_long = 0;
	for (size_t i = 0; i < count; i++) {
		size_t length = strlen(lines[i]);
		/* SQLite binds lengths as int; such a line could never be
		 * written, and holding it would block every line after it. */
		if (length > INT_MAX) {
			too_long++;
			continue;
		}
		char *text = malloc(length + 1);
		if (!text) {
			result = -ENOMEM;
			goto fail;
		}
		memcpy(text, lines[i], length + 1);
		spool->held[end + copied] = (struct held_line){ .text = text, .length = length };
		copied++;
		bytes += length;
	}
	spool->counters.held += copied;
	spool->held_bytes += bytes;
	spool_count_drops(spool, too_long);
	return 0;
fail:
	for (size_t i = 0; i < copied; i++)
		free(spool->held[end + i].text);
	return result;
}

/* ---- rows of the batch in flight that the bound dropped ---- */

int spool_add_orphans(struct spool *spool, const int64_t *ids, size_t count)
{
	if (count == 0)
		return 0;
	if (spool->orphan_count + count > spool->orphan_capacity) {
		size_t capacity = spool->orphan_count + count;
		int64_t *grown = realloc(spool->orphans, capacity * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		spool->orphans = grown;
		spool->orphan_capacity = capacity;
	}
	memcpy(spool->orphans + spool->orphan_count, ids, count * sizeof(*ids));
	spool->orphan_count += count;
	return 0;
}

static int compare_ids(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The store took (or refused) these: they were not lost. */
void spool_settle_orphans(struct spool *spool, const int64_t *ids, size_t count)
{
	if (spool->orphan_count == 0 || count == 0)
		return;
	int64_t *sorted = malloc(count * sizeof(*sorted));
	if (sorted) {
		memcpy(sorted, ids, count * sizeof(*sorted));
		qsort(sorted, count, sizeof(*sorted), compare_ids);
	}
	size_t kept = 0;
	for (size_t i = 0; i < spool->orphan_count; i++) {
		const int64_t *orphan = &spool->orphans[i];
		bool settled = false;
		if (sorted)
			settled = bsearch(orphan, sorted, count, sizeof(*sorted), compare_ids) != NULL;
		else
			for (size_t j = 0; j < count && !settled; j++)
				settled = ids[j] == *orphan;
		if (!settled)
			spool->orphans[kept++] = *orphan;
	}
	spool->orphan_count = kept;
	free(sorted);
}

void spool_end_flight(struct spool *spool)
{
	spool_count_drops(spool, spool->orphan_count);
	spool->orphan_count = 0;
	spool->flight_first = 1;
	spool->flight_last = 0;
}

