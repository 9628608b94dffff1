/* spool.h — closed windows on their way to the store, as line-protocol
 * lines in the state database (state.h), bounded in size.
 *
 * A window close appends all its points in one transaction.  The forwarder
 * peeks the oldest lines, sends them, and removes exactly the lines the
 * store acknowledged (by id), so a point leaves the spool only once it is
 * stored; a line the store refuses for what it is (after splitting has
 * isolated it) is moved to the `rejected` table with the store's answer.
 *
 * Bounded: the lines' bytes never exceed max_bytes.  An append that would
 * pass the bound first drops the oldest lines, counted in
 * spool_counters().dropped.  An append the database cannot take (full disk,
 * a damaged page) keeps the lines in memory, up to HELD_MAX_BYTES (oldest
 * dropped and counted beyond that), and writes them first at the next
 * append or spool_retry().
 *
 * The spool borrows the database handle; batches own their memory. */
#ifndef TRYGGD_SPOOL_H
#define TRYGGD_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

struct spool;

/* Lines kept in memory while the database refuses writes. */
#define SPOOL_HELD_MAX_BYTES (4u * 1024u * 1024u)

/* One batch to send: the lines joined by '\n' in body, line i at
 * body + offsets[i] with length lengths[i] (its '\n' included) and spool id
 * ids[i].  All arrays are owned by the batch. */
struct spool_batch {
	char *body;
	size_t length;
	size_t lines;
	int64_t *ids;
	size_t *offsets;
	size_t *lengths;
};

struct spool_counters {
	uint64_t pending;        /* lines in the database, not set aside */
	uint64_t bytes;          /* their bytes */
	uint64_t held;           /* lines in memory waiting to be written */
	uint64_t dropped;        /* lines dropped to keep the bound, ever (this run) */
	uint64_t rejected;       /* lines in the rejected table */
	uint64_t write_failures; /* appends the database refused (this run) */
};

/* max_bytes: the bound on the lines' bytes (0: no bound). */
int spool_open(sqlite3 *database, uint64_t max_bytes, struct spool **out);
void spool_close(struct spool *spool);
/* A new bound (a reload): applied at the next append. */
void spool_set_max_bytes(struct spool *spool, uint64_t max_bytes);

/* Append lines (each ending in '\n', or not: one is added when read).  0
 * when written or held in memory; lines are copied.  -ENOMEM only. */
int spool_append(struct spool *spool, char *const *lines, size_t count);
/* Write what is held in memory, if anything.  0 when nothing is held
 * afterwards, -EIO when the database still refuses. */
int spool_retry(struct spool *spool);

/* The oldest lines, at most max_lines and at most max_bytes of body (at
 * least one line, whatever its size); lines == 0 when the spool is empty.
 * They are now the batch in flight (spool_end_flight), the last one
 * ended. */
int spool_peek(struct spool *spool, size_t max_lines, size_t max_bytes, struct spool_batch *batch);
/* Reading ahead: the oldest lines numbered after `after` (the last id of
 * the batch in flight), as spool_peek() would give them once that batch
 * is gone.  What is in flight does not change. */
int spool_peek_after(struct spool *spool, int64_t after, size_t max_lines, size_t max_bytes,
                     struct spool_batch *batch);
/* The batch read ahead after the batch in flight (spool_peek_after() of
 * its last id) goes out too, before the lines of that one are removed:
 * 1 when its lines are still exactly the ones that follow it (the bound
 * dropped none of them), and then both are in flight until the next
 * spool_peek() or spool_end_flight(); 0 when not, and nothing changed
 * (the caller drops it, removes what the store took and peeks); -EIO. */
int spool_extend_flight(struct spool *spool, const struct spool_batch *batch);
void spool_batch_free(struct spool_batch *batch);

/* The store has these lines: remove them.  0, or -EIO (nothing removed). */
int spool_remove(struct spool *spool, const int64_t *ids, size_t count);
/* The store refuses this line for what it is: move it to `rejected` with
 * the store's answer (status and body).  0, or -EIO (nothing changed). */
int spool_set_aside(struct spool *spool, int64_t id, long status, const char *answer);

/* The batch last peeked (and any that extended its flight) will not be
 * sent (a stop): what the bound dropped of it while it was on its way is
 * lost, and counted now.  Until then it is not, since the forwarder still
 * has those lines. */
void spool_end_flight(struct spool *spool);

struct spool_counters spool_counters(const struct spool *spool);
/* Lines waiting: in the database and in memory. */
uint64_t spool_pending(const struct spool *spool);
/* True once after each episode of dropping begins (for one warning per
 * episode); an episode ends when the spool is below 90% of the bound. */
bool spool_take_drop_warning(struct spool *spool);

#endif
