/* store_batch.h — the batches the forwarder (store_forward.h) sends: the
 * lines read from the spool, the body of a request for a range of them
 * (gzipped when [influx] gzip says so), and the next batch, read and
 * compressed ahead while a request is under way.
 *
 * Reading ahead changes nothing of what is sent.  It reads the lines after
 * those of the batch in flight (spool_peek_after), which the spool does
 * not count as in flight yet, and keeps only a full batch (batch_lines
 * lines; a shorter one may still grow, and waits for flush_interval).  It
 * is taken only if, when its turn comes, its lines are still exactly the
 * ones after the batch in flight, none dropped by the bound
 * (spool_extend_flight); otherwise, and whenever the forwarder drops it
 * (on anything but a whole batch stored), the spool is read again as
 * without it.
 *
 * The work is done on an idle-priority defer source, in two turns (read,
 * then compress), so that the request under way is out first and an
 * answer that comes meanwhile is taken before it.
 *
 * Lines the store took leave the spool by id (struct store_taken): at
 * once, or, when the next batch was read ahead, right after it is out;
 * and again before anything else while the spool refuses.  They are
 * never sent again in this run either way.
 *
 * A struct store_batch owns its lines and its compressed body.  The
 * read-ahead and the taken ids borrow the event loop and the spool, which
 * must outlive them. */
#ifndef TRYGGD_STORE_BATCH_H
#define TRYGGD_STORE_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "spool.h"

struct store_batch {
	struct spool_batch lines;   /* lines.lines == 0: none */
	/* The gzipped body of lines [gzip_begin, gzip_end), or NULL: the
	 * last range asked for, kept for a retry or made ahead. */
	unsigned char *gzip;
	size_t gzip_length, gzip_begin, gzip_end;
};

void store_batch_clear(struct store_batch *batch);
/* The body of lines [begin, end) (begin < end <= lines.lines), gzipped
 * when gzip: *body and *length stay valid until the batch is cleared or
 * asked for another range.  0, -ENOMEM or -EIO. */
int store_batch_body(struct store_batch *batch, size_t begin, size_t end, bool gzip, const char **body,
                     size_t *length);

/* Ids of lines the store took that the spool still has. */
struct store_taken;

/* progress(userdata) is told after a deferred removal.  0 or -ENOMEM. */
int store_taken_new(sd_event *event, struct spool *spool, void (*progress)(void *userdata), void *userdata,
                    struct store_taken **out);
void store_taken_free(struct store_taken *taken);
/* 0, or -ENOMEM with nothing added. */
int store_taken_add(struct store_taken *taken, const int64_t *ids, size_t count);
/* Remove them once the loop is idle (a request just started is out
 * first), then tell progress. */
void store_taken_defer(struct store_taken *taken);
/* How many, and whether their removal waits for the loop to be idle. */
size_t store_taken_count(const struct store_taken *taken);
bool store_taken_deferred(const struct store_taken *taken);
/* Remove them all now: 0, none left; or -EIO, all kept, and said once
 * an episode of such failures (log_episode.h).  A deferred removal's
 * progress is told now. */
int store_taken_remove(struct store_taken *taken);
/* The same at a stop, without telling progress. */
void store_taken_end(struct store_taken *taken);

struct store_readahead;

/* Batches of max_lines lines and at most max_bytes, as the forwarder
 * peeks them.  0 or a negative errno. */
int store_readahead_new(sd_event *event, struct spool *spool, size_t max_lines, size_t max_bytes, bool gzip,
                        struct store_readahead **out);
void store_readahead_free(struct store_readahead *ahead);

/* A request for the whole of sent, a full batch, has started: read the
 * batch after it when the loop is idle.  Anything read ahead before is
 * dropped. */
void store_readahead_start(struct store_readahead *ahead, const struct spool_batch *sent);
/* Forget what was read ahead, or was about to be. */
void store_readahead_drop(struct store_readahead *ahead);
/* Started and not dropped: the next batch is read, or will be at the
 * latest by store_readahead_take(). */
bool store_readahead_pending(const struct store_readahead *ahead);
/* The batch read ahead (read now if the loop was not idle before), if it
 * is full and its lines are still the ones after the batch in flight:
 * moved into *batch (cleared first) and in flight too
 * (spool_extend_flight); true.  false otherwise, with nothing read ahead
 * left and *batch untouched: the caller peeks. */
bool store_readahead_take(struct store_readahead *ahead, struct store_batch *batch);

#endif
