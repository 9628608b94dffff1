/* store_batch.c — see store_batch.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "log.h"
#include "log_episode.h"
#include "store_batch.h"

/* zlib's fastest level.  On the bench's spool (1 M points, 156 MB of line
 * protocol in 200 batches of 5,000 lines) level 1 takes 0.37 s of CPU and
 * makes 13.8 MB (11.3x); level 6, zlib's default, 1.09 s for 12.3 MB
 * (12.7x).  An eighth more bytes for a third of the CPU: a Pi-class
 * board runs short of CPU long before a mobile link notices 12 %. */
#define GZIP_LEVEL Z_BEST_SPEED

void store_batch_clear(struct store_batch *batch)
{
	spool_batch_free(&batch->lines);
	free(batch->gzip);
	memset(batch, 0, sizeof(*batch));
}

static int batch_gzip(struct store_batch *batch, const char *body, size_t length)
{
	z_stream stream = { 0 };
	/* 15 + 16: a gzip wrapper, which Content-Encoding: gzip means. */
	if (deflateInit2(&stream, GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	size_t bound = deflateBound(&stream, (uLong)length);
	int r = -ENOMEM;
	unsigned char *out = malloc(bound);
	if (!out)
		goto out;
	stream.next_in = (Bytef *)body;
	stream.avail_in = (uInt)length;
	stream.next_out = out;
	stream.avail_out = (uInt)bound;
	if (deflate(&stream, Z_FINISH) != Z_STREAM_END) {
		free(out);
		r = -EIO;
		goto out;
	}
	free(batch->gzip);
	batch->gzip = out;
	batch->gzip_length = stream.total_out;
	r = 0;
out:
	deflateEnd(&stream);
	return r;
}

int store_batch_body(struct store_batch *batch, size_t begin, size_t end, bool gzip, const char **body,
                     size_t *length)
{
	const struct spool_batch *lines = &batch->lines;
	*body = lines->body + lines->offsets[begin];
	*length = lines->offsets[end - 1] + lines->lengths[end - 1] - lines->offsets[begin];
	if (!gzip)
		return 0;
	if (!batch->gzip || batch->gzip_begin != begin || batch->gzip_end != end) {
		int r = batch_gzip(batch, *body, *length);
		if (r < 0)
			return r;
		batch->gzip_begin = begin;
		batch->gzip_end = end;
	}
	*body = (const char *)batch->gzip;
	*length = batch->gzip_length;
	return 0;
}

/* ---- lines the store took ---- */

struct store_taken {
	struct spool *spool;
	sd_event_source *source;      /* the deferred removal */
	void (*progress)(void *userdata);
	void *userdata;
	int64_t *ids;
	size_t count;
	bool deferred;
	/* Removes a full disk refuses, tried again before every request:
	 * said once an episode. */
	struct log_episode episode;
};

int store_taken_remove(struct store_taken *taken)
{
	bool deferred = taken->deferred;
	taken->deferred = false;
	sd_event_source_set_enabled(taken->source, SD_EVENT_OFF);
	int r = 0;
	if (taken->count > 0 && spool_remove(taken->spool, taken->ids, taken->count) < 0) {
		uint64_t now = 0;
		sd_event_now(sd_event_source_get_event(taken->source), CLOCK_MONOTONIC, &now);
		log_episode_failed(&taken->episode, now, LOG_LEVEL_ERROR,
		                   "store: the spool cannot remove %zu stored points; they will not be sent again",
		                   taken->count);
		r = -EIO;
	} else {
		if (taken->count > 0)
			log_episode_ended(&taken->episode, "store: the spool removes stored points again");
		free(taken->ids);
		taken->ids = NULL;
		taken->count = 0;
	}
	if (deferred && taken->progress)
		taken->progress(taken->userdata);
	return r;
}

void store_taken_end(struct store_taken *taken)
{
	taken->deferred = false;
	store_taken_remove(taken);
}

static int taken_on_idle(sd_event_source *source, void *userdata)
{
	(void)source;
	store_taken_remove(userdata);
	return 0;
}

int store_taken_new(sd_event *event, struct spool *spool, void (*progress)(void *userdata), void *userdata,
                    struct store_taken **out)
{
	struct store_taken *taken = calloc(1, sizeof(*taken));
	if (!taken)
		return -ENOMEM;
	taken->spool = spool;
	taken->progress = progress;
	taken->userdata = userdata;
	int r = sd_event_add_defer(event, &taken->source, taken_on_idle, taken);
	if (r < 0) {
		free(taken);
		return r;
	}
	sd_event_source_set_priority(taken->source, SD_EVENT_PRIORITY_IDLE);
	sd_event_source_set_enabled(taken->source, SD_EVENT_OFF);
	*out = taken;
	return 0;
}

void store_taken_free(struct store_taken *taken)
{
	if (!taken)
		return;
	sd_event_source_disable_unref(taken->source);
	free(taken->ids);
	free(taken);
}

int store_taken_add(struct store_taken *taken, const int64_t *ids, size_t count)
{
	int64_t *grown = realloc(taken->ids, (taken->count + count) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	memcpy(grown + taken->count, ids, count * sizeof(*ids));
	taken->ids = grown;
	taken->count += count;
	return 0;
}

void store_taken_defer(struct store_taken *taken)
{
	taken->deferred = true;
	sd_event_source_set_enabled(taken->source, SD_EVENT_ONESHOT);
}

size_t store_taken_count(const struct store_taken *taken)
{
	return taken->count;
}

bool store_taken_deferred(const struct store_taken *taken)
{
	return taken->deferred;
}

/* ---- reading ahead ---- */

enum readahead_step {
	AHEAD_NONE,       /* nothing read, nothing to do */
	AHEAD_READ,       /* to read the lines after `after` */
	AHEAD_COMPRESS,   /* read; to compress */
	AHEAD_READY,
};

struct store_readahead {
	struct spool *spool;
	sd_event_source *source;
	size_t max_lines, max_bytes;
	bool gzip;
	enum readahead_step step;
	int64_t after;
	struct store_batch batch;
};

void store_readahead_drop(struct store_readahead *ahead)
{
	sd_event_source_set_enabled(ahead->source, SD_EVENT_OFF);
	store_batch_clear(&ahead->batch);
	ahead->step = AHEAD_NONE;
}

/* The batch after `after`, kept if full; false when there is none. */
static bool readahead_read(struct store_readahead *ahead)
{
	int r = spool_peek_after(ahead->spool, ahead->after, ahead->max_lines, ahead->max_bytes, &ahead->batch.lines);
	/* A short batch may still grow and waits for flush_interval: the
	 * forwarder peeks it when its turn comes. */
	if (r < 0 || ahead->batch.lines.lines < ahead->max_lines) {
		if (r < 0)
			log_debug("store: cannot read the next batch ahead: %s", strerror(-r));
		store_readahead_drop(ahead);
		return false;
	}
	ahead->step = ahead->gzip ? AHEAD_COMPRESS : AHEAD_READY;
	return true;
}

static int readahead_on_idle(sd_event_source *source, void *userdata)
{
	struct store_readahead *ahead = userdata;
	const char *body;
	size_t length;
	if (ahead->step == AHEAD_READ) {
		/* Compressing is the second turn: an answer or more of the
		 * request's body may be due first. */
		if (readahead_read(ahead) && ahead->step == AHEAD_COMPRESS)
			sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
	} else if (ahead->step == AHEAD_COMPRESS) {
		if (store_batch_body(&ahead->batch, 0, ahead->batch.lines.lines, true, &body, &length) < 0)
			store_readahead_drop(ahead);
		else
			ahead->step = AHEAD_READY;
	}
	return 0;
}

int store_readahead_new(sd_event *event, struct spool *spool, size_t max_lines, size_t max_bytes, bool gzip,
                        struct store_readahead **out)
{
	struct store_readahead *ahead = calloc(1, sizeof(*ahead));
	if (!ahead)
		return -ENOMEM;
	ahead->spool = spool;
	ahead->max_lines = max_lines;
	ahead->max_bytes = max_bytes;
	ahead->gzip = gzip;
	int r = sd_event_add_defer(event, &ahead->source, readahead_on_idle, ahead);
	if (r < 0) {
		free(ahead);
		return r;
	}
	/* After everything else of the loop (the request's own I/O first),
	 * but before the removal of the last batch's lines (store_taken),
	 * which the next answer does not wait for. */
	sd_event_source_set_priority(ahead->source, SD_EVENT_PRIORITY_IDLE - 1);
	sd_event_source_set_enabled(ahead->source, SD_EVENT_OFF);
	*out = ahead;
	return 0;
}

void store_readahead_free(struct store_readahead *ahead)
{
	if (!ahead)
		return;
	sd_event_source_disable_unref(ahead->source);
	store_batch_clear(&ahead->batch);
	free(ahead);
}

void store_readahead_start(struct store_readahead *ahead, const struct spool_batch *sent)
{
	store_readahead_drop(ahead);
	if (sent->lines == 0)
		return;
	ahead->after = sent->ids[sent->lines - 1];
	ahead->step = AHEAD_READ;
	sd_event_source_set_enabled(ahead->source, SD_EVENT_ONESHOT);
}

bool store_readahead_pending(const struct store_readahead *ahead)
{
	return ahead->step != AHEAD_NONE;
}

bool store_readahead_take(struct store_readahead *ahead, struct store_batch *batch)
{
	/* An answer before the loop was idle: read now.  Not compressed
	 * yet: the forwarder compresses it. */
	if (ahead->step == AHEAD_READ)
		readahead_read(ahead);
	bool taken = (ahead->step == AHEAD_COMPRESS || ahead->step == AHEAD_READY) &&
	             spool_extend_flight(ahead->spool, &ahead->batch.lines) == 1;
	if (taken) {
		store_batch_clear(batch);
		*batch = ahead->batch;
		memset(&ahead->batch, 0, sizeof(ahead->batch));
	}
	store_readahead_drop(ahead);
	return taken;
}
