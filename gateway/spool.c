/* spool.c — see spool.h.
 *
 * Bytes are counted as SQLite's length(CAST(line AS BLOB)), not
 * length(line): on TEXT, length() counts characters, and a district such as
 * "Årby" makes the two differ; the bound and strlen() speak bytes.
 *
 * Every write (append, retry) goes through one path: the lines are first
 * copied into the held FIFO, then the whole FIFO is written in one
 * transaction and emptied on commit.  So a refused write leaves the lines
 * where they already are, and held lines are always older than the new ones
 * and newer than every row in the table. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spool.h"
#include "spool_internal.h"

/* A statement that returns no rows, or a transaction verb; 0 or -EIO. */
static int spool_exec(sqlite3 *database, const char *sql)
{
	return sqlite3_exec(database, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

/* After a failure inside a transaction.  SQLite ends the transaction by
 * itself for some errors (SQLITE_FULL, SQLITE_IOERR, a failed COMMIT);
 * ROLLBACK then would only fail, so only when one is still open. */
static void spool_rollback(sqlite3 *database)
{
	if (!sqlite3_get_autocommit(database))
		spool_exec(database, "ROLLBACK");
}

/* BEGIN IMMEDIATE takes the write lock at once: a busy database is refused
 * here, before anything is done, and a transaction that reads before it
 * writes (the drops) cannot find its snapshot outdated when it writes. */
static int spool_begin(sqlite3 *database)
{
	return spool_exec(database, "BEGIN IMMEDIATE");
}

static uint64_t spool_minus(uint64_t value, uint64_t amount)
{
	return value > amount ? value - amount : 0;
}

/* pending, bytes and rejected from the tables, at open and whenever the
 * running totals turn out to differ from them. */
static int spool_read_totals(struct spool *spool)
{
	sqlite3_stmt *statement = spool->totals;
	int result = -EIO;
	if (sqlite3_step(statement) != SQLITE_ROW)
		goto out;
	int64_t pending = sqlite3_column_int64(statement, 0);
	int64_t bytes = sqlite3_column_int64(statement, 1);
	int64_t rejected = sqlite3_column_int64(statement, 2);
	if (pending < 0 || bytes < 0 || rejected < 0)
		goto out;
	spool->counters.pending = (uint64_t)pending;
	spool->counters.bytes = (uint64_t)bytes;
	spool->counters.rejected = (uint64_t)rejected;
	result = 0;
out:
	sqlite3_reset(statement);
	return result;
}

int spool_open(sqlite3 *database, uint64_t max_bytes, struct spool **out)
{
	int result = -EIO;
	if (!database || !out)
		return -EINVAL;
	struct spool *spool = calloc(1, sizeof(*spool));
	if (!spool)
		return -ENOMEM;
	spool->database = database;
	spool->max_bytes = max_bytes;
	spool->flight_first = 1;
	spool->flight_last = 0;
	const struct {
		sqlite3_stmt **statement;
		const char *sql;
	} statements[] = {
		{ &spool->insert, "INSERT INTO spool (line) VALUES (?)" },
		{ &spool->select_after, "SELECT id, line FROM spool WHERE id > ? ORDER BY id LIMIT ?" },
		{ &spool->select_next, "SELECT id FROM spool WHERE id > ? ORDER BY id LIMIT 1" },
		{ &spool->select_sizes, "SELECT id, length(CAST(line AS BLOB)) FROM spool ORDER BY id" },
		{ &spool->select_between, "SELECT id FROM spool WHERE id BETWEEN ? AND ? ORDER BY id" },
		{ &spool->delete_through, "DELETE FROM spool WHERE id <= ?" },
		{ &spool->delete_one, "DELETE FROM spool WHERE id = ? RETURNING length(CAST(line AS BLOB))" },
		/* A batch is the oldest lines, so its numbers mostly run on
		 * without a gap: a run is measured and deleted in two
		 * statements, where a DELETE ... RETURNING per line cost more
		 * than the rest of a batch's work. */
		{ &spool->measure_range, "SELECT count(*), total(length(CAST(line AS BLOB))) FROM spool WHERE id BETWEEN ? AND ?" },
		{ &spool->delete_range, "DELETE FROM spool WHERE id BETWEEN ? AND ?" },
		{ &spool->set_aside, "INSERT INTO rejected (line, status, answer, at) SELECT line, ?, ?, ? FROM spool WHERE id = ?" },
		{ &spool->totals, "SELECT count(*), total(length(CAST(line AS BLOB))), (SELECT count(*) FROM rejected) FROM spool" },
	};
	for (size_t i = 0; i < sizeof(statements) / sizeof(statements[0]); i++)
		if (sqlite3_prepare_v2(database, statements[i].sql, -1, statements[i].statement, NULL) != SQLITE_OK)
			goto fail;
	result = spool_read_totals(spool);
	if (result < 0)
		goto fail;
	*out = spool;
	return 0;
fail:
	spool_close(spool);
	return result;
}

void spool_set_max_bytes(struct spool *spool, uint64_t max_bytes)
{
	spool->max_bytes = max_bytes;
}

void spool_close(struct spool *spool)
{
	if (!spool)
		return;
	sqlite3_finalize(spool->insert);
	sqlite3_finalize(spool->select_after);
	sqlite3_finalize(spool->select_next);
	sqlite3_finalize(spool->select_sizes);
	sqlite3_finalize(spool->select_between);
	free(spool->orphans);
	sqlite3_finalize(spool->delete_through);
	sqlite3_finalize(spool->delete_one);
	sqlite3_finalize(spool->measure_range);
	sqlite3_finalize(spool->delete_range);
	sqlite3_finalize(spool->set_aside);
	sqlite3_finalize(spool->totals);
	for (size_t i = 0; i < spool->counters.held; i++)
		free(spool->held[spool->held_first + i].text);
	free(spool->held);
	free(spool);
}

/* ---- writing ---- */

/* The ids of the batch in flight up to through: about to be dropped. */
static int spool_collect_orphans(struct spool *spool, int64_t through, int64_t **ids, size_t *count)
{
	int64_t last = spool->flight_last < through ? spool->flight_last : through;
	if (spool->flight_first > last)
		return 0;
	sqlite3_stmt *statement = spool->select_between;
	size_t capacity = 0;
	int code, result = 0;
	sqlite3_bind_int64(statement, 1, spool->flight_first);
	sqlite3_bind_int64(statement, 2, last);
	while ((code = sqlite3_step(statement)) == SQLITE_ROW) {
		if (*count == capacity) {
			capacity = capacity ? capacity * 2 : 64;
			int64_t *grown = realloc(*ids, capacity * sizeof(*grown));
			if (!grown) {
				result = -ENOMEM;
				goto out;
			}
			*ids = grown;
		}
		(*ids)[(*count)++] = sqlite3_column_int64(statement, 0);
	}
	if (code != SQLITE_DONE)
		result = -EIO;
out:
	sqlite3_reset(statement);
	return result;
}

/* Inside the write's transaction: delete the oldest rows until at least
 * need bytes are free.  *rows and *bytes say what went; *short_of_rows
 * when the table ran out first (the totals differed from the table). */
static int spool_drop_rows(struct spool *spool, uint64_t need, uint64_t *rows, uint64_t *bytes,
                           bool *short_of_rows, int64_t **orphans, size_t *orphan_count)
{
	sqlite3_stmt *sizes = spool->select_sizes;
	int64_t through = 0;
	int code = SQLITE_DONE;
	*rows = 0;
	*bytes = 0;
	while (*bytes < need && (code = sqlite3_step(sizes)) == SQLITE_ROW) {
		through = sqlite3_column_int64(sizes, 0);
		*bytes += (uint64_t)sqlite3_column_int64(sizes, 1);
		(*rows)++;
	}
	*short_of_rows = *bytes < need;
	sqlite3_reset(sizes);
	if (*short_of_rows && code != SQLITE_DONE)
		return -EIO;
	if (*rows == 0)
		return 0;
	int result = spool_collect_orphans(spool, through, orphans, orphan_count);
	if (result < 0)
		return result;
	sqlite3_stmt *delete = spool->delete_through;
	sqlite3_bind_int64(delete, 1, through);
	code = sqlite3_step(delete);
	sqlite3_reset(delete);
	return code == SQLITE_DONE ? 0 : -EIO;
}

/* Write the whole FIFO in one transaction, after the drops the bound asks
 * for; empty it on commit.  On a refusal nothing changes but the FIFO's
 * own bound.  0 or -EIO. */
static int spool_write_held(struct spool *spool)
{
	uint64_t dropped_rows = 0, dropped_bytes = 0;
	bool short_of_rows = false;
	int64_t *orphans = NULL;
	size_t orphan_count = 0;
	int result;
	/* Lines that would not fit even an empty spool: keep the newest
	 * that do; the older ones would go at the next drop anyway. */
	while (spool->max_bytes > 0 && spool->held_bytes > spool->max_bytes)
		spool_held_drop_oldest(spool);
	if (spool->counters.held == 0)
		return 0;

	result = spool_begin(spool->database);
	if (result < 0)
		goto fail;
	if (spool->max_bytes > 0 && spool->counters.bytes + spool->held_bytes > spool->max_bytes) {
		result = spool_drop_rows(spool, spool->counters.bytes + spool->held_bytes - spool->max_bytes,
		                         &dropped_rows, &dropped_bytes, &short_of_rows, &orphans, &orphan_count);
		if (result < 0)
			goto fail;
	}
	for (size_t i = 0; i < spool->counters.held; i++) {
		const struct held_line *line = &spool->held[spool->held_first + i];
		sqlite3_bind_text(spool->insert, 1, line->text, (int)line->length, SQLITE_STATIC);
		int code = sqlite3_step(spool->insert);
		sqlite3_reset(spool->insert);
		sqlite3_clear_bindings(spool->insert);
		if (code != SQLITE_DONE) {
			result = -EIO;
			goto fail;
		}
	}
	result = spool_exec(spool->database, "COMMIT");
	if (result < 0)
		goto fail;

	spool->counters.pending = spool_minus(spool->counters.pending, dropped_rows) + spool->counters.held;
	spool->counters.bytes = spool_minus(spool->counters.bytes, dropped_bytes) + spool->held_bytes;
	/* Rows of the batch in flight are counted only if it ends without
	 * the store taking them; out of memory, they are counted now. */
	if (spool_add_orphans(spool, orphans, orphan_count) < 0)
		orphan_count = 0;
	spool_count_drops(spool, dropped_rows - orphan_count);
	free(orphans);
	spool_held_clear(spool);
	/* The totals were off (someone else wrote to the table): count
	 * again, so the next bound is right.  Committed either way. */
	if (short_of_rows)
		spool_read_totals(spool);
	return 0;
fail:
	free(orphans);
	spool_rollback(spool->database);
	while (spool->held_bytes > SPOOL_HELD_MAX_BYTES)
		spool_held_drop_oldest(spool);
	return -EIO;
}

int spool_append(struct spool *spool, char *const *lines, size_t count)
{
	if (count == 0)
		return 0;
	if (!lines)
		return -EINVAL;
	int result = spool_held_push(spool, lines, count);
	if (result < 0)
		return result;
	/* Refused: the lines stay held, and the caller learns of it from
	 * the counters, as there is nothing it should do differently. */
	if (spool_write_held(spool) < 0)
		spool->counters.write_failures++;
	return 0;
}

int spool_retry(struct spool *spool)
{
	return spool_write_held(spool);
}

/* ---- reading and removing ---- */

void spool_batch_free(struct spool_batch *batch)
{
	free(batch->body);
	free(batch->ids);
	free(batch->offsets);
	free(batch->lengths);
	memset(batch, 0, sizeof(*batch));
}

/* Room in the batch for one more line of length bytes (a '\n' and the
 * closing NUL included). */
static int spool_batch_reserve(struct spool_batch *batch, size_t *line_capacity, size_t *body_capacity,
                               size_t length)
{
	if (batch->lines == *line_capacity) {
		size_t capacity = *line_capacity ? *line_capacity * 2 : 64;
		int64_t *ids = realloc(batch->ids, capacity * sizeof(*ids));
		if (!ids)
			return -ENOMEM;
		batch->ids = ids;
		size_t *offsets = realloc(batch->offsets, capacity * sizeof(*offsets));
		if (!offsets)
			return -ENOMEM;
		batch->offsets = offsets;
		size_t *lengths = realloc(batch->lengths, capacity * sizeof(*lengths));
		if (!lengths)
			return -ENOMEM;
		batch->lengths = lengths;
		*line_capacity = capacity;
	}
	size_t needed = batch->length + length + 2;
	if (needed > *body_capacity) {
		size_t capacity = *body_capacity ? *body_capacity : 4096;
		while (capacity < needed)
			capacity *= 2;
		char *body = realloc(batch->body, capacity);
		if (!body)
			return -ENOMEM;
		batch->body = body;
		*body_capacity = capacity;
	}
	return 0;
}

int spool_peek_after(struct spool *spool, int64_t after, size_t max_lines, size_t max_bytes,
                     struct spool_batch *batch)
{
	sqlite3_stmt *statement = spool->select_after;
	size_t line_capacity = 0, body_capacity = 0;
	int result = 0, code;
	memset(batch, 0, sizeof(*batch));
	if (max_lines == 0)
		return -EINVAL;
	sqlite3_bind_int64(statement, 1, after);
	sqlite3_bind_int64(statement, 2, max_lines > INT64_MAX ? INT64_MAX : (sqlite3_int64)max_lines);
	while ((code = sqlite3_step(statement)) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(statement, 1);
		size_t length = (size_t)sqlite3_column_bytes(statement, 1);
		if (!line) {
			result = sqlite3_errcode(spool->database) == SQLITE_NOMEM ? -ENOMEM : -EIO;
			goto fail;
		}
		/* Stored with its '\n', normally; one is added if not. */
		bool add_newline = length == 0 || line[length - 1] != '\n';
		size_t body_length = length + (add_newline ? 1 : 0);
		if (max_bytes > 0 && batch->lines > 0 && batch->length + body_length > max_bytes) {
			code = SQLITE_DONE;
			break;
		}
		result = spool_batch_reserve(batch, &line_capacity, &body_capacity, length);
		if (result < 0)
			goto fail;
		batch->ids[batch->lines] = sqlite3_column_int64(statement, 0);
		batch->offsets[batch->lines] = batch->length;
		batch->lengths[batch->lines] = body_length;
		memcpy(batch->body + batch->length, line, length);
		batch->length += length;
		if (add_newline)
			batch->body[batch->length++] = '\n';
		batch->body[batch->length] = '\0';
		batch->lines++;
	}
	if (code != SQLITE_DONE) {
		result = -EIO;
		goto fail;
	}
	sqlite3_reset(statement);
	return 0;
fail:
	sqlite3_reset(statement);
	spool_batch_free(batch);
	return result;
}

int spool_peek(struct spool *spool, size_t max_lines, size_t max_bytes, struct spool_batch *batch)
{
	if (max_lines == 0) {
		memset(batch, 0, sizeof(*batch));
		return -EINVAL;
	}
	/* The last batch is done with: what the bound dropped of it and the
	 * store never took is lost now. */
	spool_end_flight(spool);
	int result = spool_peek_after(spool, INT64_MIN, max_lines, max_bytes, batch);
	if (result == 0 && batch->lines > 0) {
		spool->flight_first = batch->ids[0];
		spool->flight_last = batch->ids[batch->lines - 1];
	}
	return result;
}

/* Ids only grow (AUTOINCREMENT), so no line can have come in among the
 * batch's, and before it is sent only the bound deletes any of them: it
 * deletes the oldest rows first, so a batch that lost a line lost its
 * first one.  The batch is whole, and follows the flight, when its first
 * line is still the next row after the flight's last. */
int spool_extend_flight(struct spool *spool, const struct spool_batch *batch)
{
	if (batch->lines == 0 || spool->flight_first > spool->flight_last || batch->ids[0] <= spool->flight_last)
		return 0;
	sqlite3_stmt *statement = spool->select_next;
	sqlite3_bind_int64(statement, 1, spool->flight_last);
	int code = sqlite3_step(statement);
	bool follows = code == SQLITE_ROW && sqlite3_column_int64(statement, 0) == batch->ids[0];
	sqlite3_reset(statement);
	if (code != SQLITE_ROW && code != SQLITE_DONE)
		return -EIO;
	if (!follows)
		return 0;
	spool->flight_last = batch->ids[batch->lines - 1];
	return 1;
}

/* Inside a transaction: delete one row; *rows and *bytes grow by what went
 * (nothing, when the id is not there). */
static int spool_delete_one(struct spool *spool, int64_t id, uint64_t *rows, uint64_t *bytes)
{
	sqlite3_stmt *statement = spool->delete_one;
	sqlite3_bind_int64(statement, 1, id);
	int code;
	while ((code = sqlite3_step(statement)) == SQLITE_ROW) {
		(*rows)++;
		*bytes += (uint64_t)sqlite3_column_int64(statement, 0);
	}
	sqlite3_reset(statement);
	return code == SQLITE_DONE ? 0 : -EIO;
}

/* The rows numbered first to last, every one of which the caller asked
 * to remove: what is there of them is counted and deleted. */
static int spool_delete_range(struct spool *spool, int64_t first, int64_t last, uint64_t *rows, uint64_t *bytes)
{
	if (first == last)
		return spool_delete_one(spool, first, rows, bytes);
	sqlite3_stmt *measure = spool->measure_range, *delete = spool->delete_range;
	sqlite3_bind_int64(measure, 1, first);
	sqlite3_bind_int64(measure, 2, last);
	int code = sqlite3_step(measure);
	if (code == SQLITE_ROW) {
		*rows += (uint64_t)sqlite3_column_int64(measure, 0);
		*bytes += (uint64_t)sqlite3_column_double(measure, 1);
	}
	sqlite3_reset(measure);
	if (code != SQLITE_ROW)
		return -EIO;
	sqlite3_bind_int64(delete, 1, first);
	sqlite3_bind_int64(delete, 2, last);
	code = sqlite3_step(delete);
	sqlite3_reset(delete);
	return code == SQLITE_DONE ? 0 : -EIO;
}

int spool_remove(struct spool *spool, const int64_t *ids, size_t count)
{
	uint64_t rows = 0, bytes = 0;
	if (count == 0)
		return 0;
	if (!ids)
		return -EINVAL;
	int result = spool_begin(spool->database);
	if (result < 0)
		goto fail;
	for (size_t i = 0; i < count;) {
		/* A run of numbers each one more than the last. */
		size_t end = i + 1;
		while (end < count && ids[end - 1] < INT64_MAX && ids[end] == ids[end - 1] + 1)
			end++;
		result = spool_delete_range(spool, ids[i], ids[end - 1], &rows, &bytes);
		if (result < 0)
			goto fail;
		i = end;
	}
	result = spool_exec(spool->database, "COMMIT");
	if (result < 0)
		goto fail;
	/* What was deleted, not what was asked: the bound may have dropped
	 * some of these lines while they were on their way. */
	spool->counters.pending = spool_minus(spool->counters.pending, rows);
	spool->counters.bytes = spool_minus(spool->counters.bytes, bytes);
	spool_settle_orphans(spool, ids, count);
	spool_maybe_end_episode(spool);
	return 0;
fail:
	spool_rollback(spool->database);
	return -EIO;
}

int spool_set_aside(struct spool *spool, int64_t id, long status, const char *answer)
{
	sqlite3_stmt *insert = spool->set_aside;
	uint64_t rows = 0, bytes = 0;
	int result = spool_begin(spool->database);
	if (result < 0)
		goto rollback;
	sqlite3_bind_int64(insert, 1, (sqlite3_int64)status);
	if (answer)
		sqlite3_bind_text(insert, 2, answer, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(insert, 2);
	sqlite3_bind_int64(insert, 3, (sqlite3_int64)time(NULL));
	sqlite3_bind_int64(insert, 4, id);
	int code = sqlite3_step(insert);
	int copied = sqlite3_changes(spool->database);
	sqlite3_reset(insert);
	sqlite3_clear_bindings(insert);
	if (code != SQLITE_DONE) {
		result = -EIO;
		goto rollback;
	}
	/* Not in the spool: dropped by the bound while it was on its way
	 * (counted there), or removed.  Its fate is settled, as after
	 * spool_remove() of an id that is gone; an error would only have
	 * the caller try again, forever. */
	if (copied == 0) {
		spool_settle_orphans(spool, &id, 1);
		goto rollback;
	}
	result = spool_delete_one(spool, id, &rows, &bytes);
	if (result < 0)
		goto rollback;
	result = spool_exec(spool->database, "COMMIT");
	if (result < 0)
		goto rollback;
	spool->counters.pending = spool_minus(spool->counters.pending, rows);
	spool->counters.bytes = spool_minus(spool->counters.bytes, bytes);
	spool->counters.rejected++;
	spool_maybe_end_episode(spool);
	return 0;
rollback:
	spool_rollback(spool->database);
	return result;
}

struct spool_counters spool_counters(const struct spool *spool)
{
	return spool->counters;
}

uint64_t spool_pending(const struct spool *spool)
{
	return spool->counters.pending + spool->counters.held;
}
