/* spool.h — closed windows on their way to the store, as line-protocol
 * lines in the state database (state.h).  A window close appends all its
 * points in one transaction; the forwarder peeks a batch, sends it, and
 * acknowledges it only after the store answered 2xx, so a point leaves the
 * spool only once it is stored.  The spool borrows the database handle. */
#ifndef TRYGGD_SPOOL_H
#define TRYGGD_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

struct spool;

/* One batch to send: the lines joined by '\n' in body (owned by the batch). */
struct spool_batch {
	char *body;
	size_t length;
	size_t lines;
	int64_t last_id;
};

int spool_open(sqlite3 *database, struct spool **out);
void spool_close(struct spool *spool);

int spool_append(struct spool *spool, char *const *lines, size_t count);
/* The oldest lines, at most max_lines; lines == 0 when the spool is empty. */
int spool_peek(struct spool *spool, size_t max_lines, struct spool_batch *batch);
void spool_batch_free(struct spool_batch *batch);
/* Everything up to last_id is stored: drop it. */
int spool_ack(struct spool *spool, int64_t last_id);

/* Lines waiting. */
uint64_t spool_pending(const struct spool *spool);

#endif
