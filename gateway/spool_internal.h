/* spool_internal.h — what spool.c (the table) and spool_memory.c (what the
 * spool keeps in memory) share, and no one else sees.  The struct spool is
 * spool.c's; its held lines and orphan ids are owned by it. */
#ifndef TRYGGD_SPOOL_INTERNAL_H
#define TRYGGD_SPOOL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "spool.h"

struct held_line {
	char *text;    /* owned */
	size_t length; /* strlen(text) */
};

struct spool {
	sqlite3 *database; /* borrowed from state.h */
	uint64_t max_bytes;
	/* pending, bytes and rejected as the database holds them; held as
	 * the FIFO below; dropped and write_failures since open. */
	struct spool_counters counters;
	/* Lines the database has not taken yet, oldest first, at
	 * held[held_first] .. held[held_first + counters.held - 1]. */
	struct held_line *held;
	size_t held_first, held_capacity;
	uint64_t held_bytes;
	/* The ids of the last batch peeked, which the forwarder has in
	 * memory and may yet get stored, and of the batches that extended
	 * its flight (spool_extend_flight): first > last when none. */
	int64_t flight_first, flight_last;
	/* Rows of that batch the bound dropped from the table: not counted
	 * as dropped unless the batch ends without the store taking them
	 * (spool_peek of the next one).  Ascending. */
	int64_t *orphans;
	size_t orphan_count, orphan_capacity;
	bool dropping;     /* an episode of dropping is on */
	bool drop_warning; /* it began and spool_take_drop_warning() has not said so yet */
	sqlite3_stmt *insert, *select_after, *select_next, *select_sizes, *select_between, *delete_through, *delete_one, *set_aside,
		*totals, *measure_range, *delete_range;
};

/* ---- spool_memory.c ---- */

/* lines more dropped: counted, and an episode of dropping begins. */
void spool_count_drops(struct spool *spool, uint64_t lines);
/* After lines left for the store: the episode ends below 90% of the bound. */
void spool_maybe_end_episode(struct spool *spool);

/* The held FIFO: lines the database has not taken yet. */
void spool_held_drop_oldest(struct spool *spool);
void spool_held_clear(struct spool *spool);
/* Copies of all lines at its end, or none of them: 0 or -ENOMEM. */
int spool_held_push(struct spool *spool, char *const *lines, size_t count);

/* Rows of the batch in flight the bound dropped: not yet counted. */
int spool_add_orphans(struct spool *spool, const int64_t *ids, size_t count);
/* The store took or refused these ids: their orphans are not lost. */
void spool_settle_orphans(struct spool *spool, const int64_t *ids, size_t count);

#endif
