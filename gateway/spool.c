/* spool.c — see spool.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "spool.h"

struct spool {
	sqlite3 *database;
	sqlite3_stmt *insert, *select, *delete;
	uint64_t pending;
};

int spool_open(sqlite3 *database, struct spool **out)
{
	sqlite3_stmt *count = NULL;
	int r = -EIO;
	struct spool *spool = calloc(1, sizeof(*spool));
	if (!spool)
		return -ENOMEM;
	spool->database = database;
	if (sqlite3_prepare_v2(database, "INSERT INTO spool (line) VALUES (?)", -1, &spool->insert, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(database, "SELECT id, line FROM spool ORDER BY id LIMIT ?", -1, &spool->select, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(database, "DELETE FROM spool WHERE id <= ?", -1, &spool->delete, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(database, "SELECT count(*) FROM spool", -1, &count, NULL) != SQLITE_OK ||
	    sqlite3_step(count) != SQLITE_ROW)
		goto fail;
	spool->pending = (uint64_t)sqlite3_column_int64(count, 0);
	sqlite3_finalize(count);
	*out = spool;
	return 0;
fail:
	sqlite3_finalize(count);
	spool_close(spool);
	return r;
}

void spool_close(struct spool *spool)
{
	if (!spool)
		return;
	sqlite3_finalize(spool->insert);
	sqlite3_finalize(spool->select);
	sqlite3_finalize(spool->delete);
	free(spool);
}

int spool_append(struct spool *spool, char *const *lines, size_t count)
{
	if (sqlite3_exec(spool->database, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return -EIO;
	for (size_t i = 0; i < count; i++) {
		sqlite3_bind_text(spool->insert, 1, lines[i], -1, SQLITE_STATIC);
		int rc = sqlite3_step(spool->insert);
		sqlite3_reset(spool->insert);
		if (rc != SQLITE_DONE)
			goto fail;
	}
	if (sqlite3_exec(spool->database, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	spool->pending += count;
	return 0;
fail:
	sqlite3_exec(spool->database, "ROLLBACK", NULL, NULL, NULL);
	return -EIO;
}

int spool_peek(struct spool *spool, size_t max_lines, struct spool_batch *batch)
{
	size_t capacity = 0;
	int r = 0;
	memset(batch, 0, sizeof(*batch));
	sqlite3_bind_int64(spool->select, 1, (sqlite3_int64)max_lines);
	int rc;
	while ((rc = sqlite3_step(spool->select)) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(spool->select, 1);
		size_t length = (size_t)sqlite3_column_bytes(spool->select, 1);
		if (batch->length + length + 2 > capacity) {
			size_t wanted = capacity ? capacity * 2 : 4096;
			while (wanted < batch->length + length + 2)
				wanted *= 2;
			char *body = realloc(batch->body, wanted);
			if (!body) {
				r = -ENOMEM;
				goto fail;
			}
			batch->body = body;
			capacity = wanted;
		}
		memcpy(batch->body + batch->length, line, length);
		batch->length += length;
		/* Lines are stored with their '\n'; add one if a line lacks it. */
		if (length == 0 || line[length - 1] != '\n')
			batch->body[batch->length++] = '\n';
		batch->body[batch->length] = '\0';
		batch->lines++;
		batch->last_id = sqlite3_column_int64(spool->select, 0);
	}
	if (rc != SQLITE_DONE) {
		r = -EIO;
		goto fail;
	}
	sqlite3_reset(spool->select);
	return 0;
fail:
	sqlite3_reset(spool->select);
	spool_batch_free(batch);
	return r;
}

void spool_batch_free(struct spool_batch *batch)
{
	free(batch->body);
	memset(batch, 0, sizeof(*batch));
}

int spool_ack(struct spool *spool, int64_t last_id)
{
	sqlite3_bind_int64(spool->delete, 1, last_id);
	int rc = sqlite3_step(spool->delete);
	int removed = sqlite3_changes(spool->database);
	sqlite3_reset(spool->delete);
	if (rc != SQLITE_DONE)
		return -EIO;
	spool->pending = spool->pending > (uint64_t)removed ? spool->pending - (uint64_t)removed : 0;
	return 0;
}

uint64_t spool_pending(const struct spool *spool)
{
	return spool->pending;
}
