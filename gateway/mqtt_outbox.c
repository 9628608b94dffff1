/* mqtt_outbox.c — see mqtt_outbox.h.  The rows: append, next, remove,
 * commit, the counters, and open/close, which call on mqtt_outbox_file.c
 * for the file itself (see mqtt_outbox_internal.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "database_file.h"
#include "log.h"
#include "mqtt_outbox.h"
#include "mqtt_outbox_internal.h"

/* How SQLite's refusal (a result code) reads to the caller: a full disk
 * (or page limit) is worth telling apart, the rest is an I/O error. */
int outbox_errno(int code)
{
	switch (code & 0xff) {
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_TOOBIG:
		return -EMSGSIZE;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	default:
		return -EIO;
	}
}

/* One step of a statement that returns no rows, reset at once so that it
 * holds no lock and can be stepped again. */
static int outbox_run(sqlite3_stmt *statement)
{
	int code = sqlite3_step(statement);
	sqlite3_reset(statement);
	return code == SQLITE_DONE ? 0 : outbox_errno(code);
}

/* messages, bytes and the highest number, in one query: at open, and again
 * whenever SQLite rolled back more than the one operation that failed, so
 * that the running totals never drift from what the file holds. */
int outbox_read_totals(struct mqtt_outbox *outbox)
{
	sqlite3_stmt *statement = outbox->select_totals;
	int result = -EIO;
	if (sqlite3_step(statement) != SQLITE_ROW) {
		result = outbox_errno(sqlite3_errcode(outbox->database));
		goto out;
	}
	int64_t messages = sqlite3_column_int64(statement, 0);
	int64_t bytes = sqlite3_column_int64(statement, 1);
	int64_t highest = sqlite3_column_int64(statement, 2);
	if (messages < 0 || bytes < 0 || highest < 0)
		goto out;
	outbox->counters.messages = (uint64_t)messages;
	outbox->counters.bytes = (uint64_t)bytes;
	if (highest > outbox->last_id)
		outbox->last_id = highest;
	result = 0;
out:
	sqlite3_reset(statement);
	return result;
}

int outbox_read_sequence(struct mqtt_outbox *outbox)
{
	sqlite3_stmt *statement = outbox->select_sequence;
	int result = 0;
	int code = sqlite3_step(statement);
	if (code == SQLITE_ROW) {
		int64_t value = sqlite3_column_int64(statement, 0);
		outbox->sequence = outbox->sequence_next = value > 0 ? (uint64_t)value : 0;
	} else if (code != SQLITE_DONE) {
		result = outbox_errno(sqlite3_errcode(outbox->database));
	}
	sqlite3_reset(statement);
	return result;
}

/* After a failed write: when SQLite had to cancel the whole transaction
 * (it does for some errors, and always for a failed COMMIT), what was
 * written since the last commit is gone, and the totals are read anew. */
static void outbox_after_failure(struct mqtt_outbox *outbox, const char *what)
{
	if (!sqlite3_get_autocommit(outbox->database))
		return;
	uint64_t before = outbox->counters.messages;
	if (outbox_read_totals(outbox) < 0)
		log_warning("mqtt outbox %s: %s failed and the totals cannot be read again: %s", outbox->path, what,
		            sqlite3_errmsg(outbox->database));
	else if (outbox->counters.messages != before)
		/* The owner says what it lost, once per episode. */
		log_debug("mqtt outbox %s: %s failed; what was written since the last commit is undone (%llu messages now, "
		            "%llu before)", outbox->path, what, (unsigned long long)outbox->counters.messages,
		            (unsigned long long)before);
}

/* The one transaction that gathers the writes until mqtt_outbox_commit(). */
static int outbox_begin(struct mqtt_outbox *outbox)
{
	if (!sqlite3_get_autocommit(outbox->database))
		return 0;
	return outbox_run(outbox->begin);
}

int mqtt_outbox_open(const char *path, uint64_t max_messages, uint64_t max_bytes, struct mqtt_outbox **out)
{
	char why[256] = "", aside[PATH_MAX];
	int result;
	if (!path || !out || max_messages == 0 || max_bytes == 0 || max_messages > INT64_MAX || max_bytes > INT64_MAX)
		return -EINVAL;
	struct mqtt_outbox *outbox = calloc(1, sizeof(*outbox));
	if (!outbox)
		return -ENOMEM;
	outbox->max_messages = max_messages;
	outbox->max_bytes = max_bytes;
	outbox->path = strdup(path);
	if (!outbox->path) {
		result = -ENOMEM;
		goto fail;
	}

	/* A -wal without its database (the main file gone or empty): SQLite
	 * would make a fresh file and delete the -wal on the first read,
	 * and what it held with it, without a word.  Set aside instead. */
	if (database_orphan_wal(path)) {
		snprintf(why, sizeof(why), "its -wal file is there without the database it belongs to");
		result = OUTBOX_BROKEN;
	} else {
		result = outbox_connect(outbox, why, sizeof(why));
	}
	if (result == OUTBOX_BROKEN) {
		/* One line in the journal: quick_check answers in several. */
		for (char *character = why; *character; character++)
			if (*character == '\n')
				*character = ' ';
		result = database_set_aside(path, aside, sizeof(aside));
		if (result == 0) {
			outbox->counters.set_aside++;
			log_warning("mqtt outbox %s: %s; set aside as %s, starting empty", path, why, aside);
		} else if (result != -ENOENT) {
			log_warning("mqtt outbox %s: %s, and it cannot be set aside: %s", path, why, strerror(-result));
			goto fail;
		}
		/* Nothing was there (-ENOENT): the directory itself refuses, and
		 * the second try says with which errno. */
		result = outbox_connect(outbox, why, sizeof(why));
		if (result == OUTBOX_BROKEN) {
			result = outbox_refusal(path, outbox->system_error);
			log_warning("mqtt outbox %s: %s (%s)", path, why, strerror(-result));
		}
	}
	if (result < 0)
		goto fail;
	*out = outbox;
	return 0;
fail:
	free(outbox->path);
	free(outbox);
	return result;
}

void mqtt_outbox_close(struct mqtt_outbox *outbox)
{
	if (!outbox)
		return;
	int result = mqtt_outbox_commit(outbox);
	if (result < 0)
		log_warning("mqtt outbox %s: the last commit at close failed: %s", outbox->path, strerror(-result));
	/* The last connection's close checkpoints the -wal into the file and
	 * removes it. */
	outbox_disconnect(outbox);
	free(outbox->path);
	free(outbox);
}

/* Drops the oldest row, for the bounds; -ENOENT when there is none. */
static int outbox_drop_oldest(struct mqtt_outbox *outbox, uint64_t *bytes, int64_t *id)
{
	sqlite3_stmt *statement = outbox->drop_oldest;
	int result = 0;
	int code = sqlite3_step(statement);
	if (code == SQLITE_ROW) {
		*bytes = (uint64_t)sqlite3_column_int64(statement, 0);
		*id = sqlite3_column_int64(statement, 1);
		code = sqlite3_step(statement);
	} else if (code == SQLITE_DONE) {
		result = -ENOENT;
		goto out;
	}
	if (code != SQLITE_DONE)
		result = outbox_errno(code);
out:
	sqlite3_reset(statement);
	return result;
}

int mqtt_outbox_append(struct mqtt_outbox *outbox, const char *topic, const void *payload, size_t payload_length,
                       int qos, bool retained, int64_t *id)
{
	uint64_t dropped = 0, dropped_bytes = 0;
	int64_t dropped_max_id = 0;
	bool in_savepoint = false;
	int result;
	if (!topic || (!payload && payload_length > 0) || qos < 0 || qos > 2)
		return -EINVAL;
	size_t topic_length = strlen(topic);
	if (topic_length > INT_MAX || payload_length > INT_MAX || topic_length + payload_length > outbox->max_bytes)
		return -EMSGSIZE;
	uint64_t bytes = (uint64_t)topic_length + payload_length;

	result = outbox_begin(outbox);
	if (result < 0)
		goto fail;
	bool must_drop = outbox->counters.messages + 1 > outbox->max_messages ||
	                 outbox->counters.bytes + bytes > outbox->max_bytes;
	/* Drops and the row stand or fall together: a refused row must not
	 * cost the rows dropped to make room for it.  Only then, as a
	 * savepoint costs a little on every append. */
	if (must_drop) {
		result = outbox_run(outbox->savepoint);
		if (result < 0)
			goto fail;
		in_savepoint = true;
	}
	while (outbox->counters.messages - dropped + 1 > outbox->max_messages ||
	       outbox->counters.bytes - dropped_bytes + bytes > outbox->max_bytes) {
		uint64_t row_bytes = 0;
		int64_t row_id = 0;
		result = outbox_drop_oldest(outbox, &row_bytes, &row_id);
		if (result < 0)
			goto fail;
		if (row_id > dropped_max_id)
			dropped_max_id = row_id;
		dropped++;
		dropped_bytes += row_bytes;
	}

	sqlite3_stmt *insert = outbox->insert;
	sqlite3_bind_int64(insert, 1, outbox->last_id + 1);
	sqlite3_bind_text(insert, 2, topic, (int)topic_length, SQLITE_STATIC);
	/* A NULL pointer would bind SQL NULL; an empty payload is a blob. */
	sqlite3_bind_blob(insert, 3, payload_length > 0 ? payload : "", (int)payload_length, SQLITE_STATIC);
	sqlite3_bind_int(insert, 4, qos);
	sqlite3_bind_int(insert, 5, retained);
	sqlite3_bind_int64(insert, 6, (sqlite3_int64)bytes);
	result = outbox_run(insert);
	if (result < 0)
		goto fail;
	if (in_savepoint) {
		result = outbox_run(outbox->release);
		if (result < 0)
			goto fail;
	}

	outbox->last_id++;
	outbox->counters.messages = outbox->counters.messages - dropped + 1;
	outbox->counters.bytes = outbox->counters.bytes - dropped_bytes + bytes;
	outbox->counters.appended++;
	outbox->counters.dropped += dropped;
	if (dropped_max_id > outbox->counters.dropped_max_id)
		outbox->counters.dropped_max_id = dropped_max_id;
	if (id)
		*id = outbox->last_id;
	return 0;
fail:
	/* Undo the drops; the failed statement undid itself, unless SQLite
	 * cancelled the whole transaction, which outbox_after_failure()
	 * sees. */
	if (in_savepoint && !sqlite3_get_autocommit(outbox->database)) {
		outbox_run(outbox->rollback_to_savepoint);
		outbox_run(outbox->release);
	}
	if (result == -ENOENT) {
		/* Nothing left to drop while the totals said there was: they
		 * drifted from the file (someone else wrote to it).  Read
		 * again, so that the next append is right. */
		log_warning("mqtt outbox %s: the totals did not match the file; counted again", outbox->path);
		outbox_read_totals(outbox);
		result = -EIO;
	}
	outbox_after_failure(outbox, "an append");
	return result;
}

int mqtt_outbox_next(struct mqtt_outbox *outbox, int64_t after_id, struct outbox_message *out)
{
	sqlite3_stmt *statement = outbox->select_next;
	int result;
	memset(out, 0, sizeof(*out));
	sqlite3_bind_int64(statement, 1, after_id);
	int code = sqlite3_step(statement);
	if (code == SQLITE_DONE) {
		result = -ENOENT;
		goto out;
	}
	if (code != SQLITE_ROW) {
		result = outbox_errno(code);
		goto out;
	}
	const unsigned char *topic = sqlite3_column_text(statement, 1);
	size_t topic_length = (size_t)sqlite3_column_bytes(statement, 1);
	const void *payload = sqlite3_column_blob(statement, 2);
	size_t payload_length = (size_t)sqlite3_column_bytes(statement, 2);
	if (sqlite3_errcode(outbox->database) == SQLITE_NOMEM) {
		result = -ENOMEM;
		goto out;
	}
	out->topic = malloc(topic_length + 1);
	out->payload = malloc(payload_length + 1);
	if (!out->topic || !out->payload) {
		result = -ENOMEM;
		goto fail;
	}
	if (topic_length > 0)
		memcpy(out->topic, topic, topic_length);
	out->topic[topic_length] = '\0';
	if (payload_length > 0)
		memcpy(out->payload, payload, payload_length);
	out->payload[payload_length] = '\0';
	out->payload_length = payload_length;
	out->id = sqlite3_column_int64(statement, 0);
	out->qos = sqlite3_column_int(statement, 3);
	out->retained = sqlite3_column_int(statement, 4) != 0;
	result = 0;
	goto out;
fail:
	outbox_message_clear(out);
out:
	sqlite3_reset(statement);
	return result;
}

void mqtt_outbox_begin_reading(struct mqtt_outbox *outbox)
{
	if (!sqlite3_get_autocommit(outbox->database))
		return;
	outbox->reading = outbox_run(outbox->begin) == 0;
}

void mqtt_outbox_end_reading(struct mqtt_outbox *outbox)
{
	if (!outbox->reading)
		return;
	outbox->reading = false;
	/* Nothing was written in it: the commit only lets go of the locks. */
	if (!sqlite3_get_autocommit(outbox->database) && outbox_run(outbox->commit) < 0)
		outbox_run(outbox->rollback);
}

void outbox_message_clear(struct outbox_message *message)
{
	if (!message)
		return;
	free(message->topic);
	free(message->payload);
	memset(message, 0, sizeof(*message));
}

int mqtt_outbox_remove(struct mqtt_outbox *outbox, int64_t id)
{
	uint64_t bytes = 0;
	int result = outbox_begin(outbox);
	if (result < 0)
		goto fail;
	sqlite3_bind_int64(outbox->select_bytes, 1, id);
	int code = sqlite3_step(outbox->select_bytes);
	if (code == SQLITE_ROW)
		bytes = (uint64_t)sqlite3_column_int64(outbox->select_bytes, 0);
	sqlite3_reset(outbox->select_bytes);
	if (code == SQLITE_DONE)
		return 0;   /* not there (dropped meanwhile, or removed before) */
	if (code != SQLITE_ROW) {
		result = outbox_errno(code);
		goto fail;
	}
	sqlite3_bind_int64(outbox->remove_row, 1, id);
	result = outbox_run(outbox->remove_row);
	if (result < 0)
		goto fail;
	outbox->counters.messages--;
	outbox->counters.bytes -= bytes;
	return 0;
fail:
	outbox_after_failure(outbox, "a remove");
	return result;
}

uint64_t mqtt_outbox_sequence(const struct mqtt_outbox *outbox)
{
	return outbox->sequence;
}

void mqtt_outbox_set_sequence(struct mqtt_outbox *outbox, uint64_t sequence)
{
	outbox->sequence_next = sequence;
}

bool mqtt_outbox_sequence_changed(const struct mqtt_outbox *outbox)
{
	return outbox->sequence_next != outbox->sequence;
}

bool mqtt_outbox_pending(const struct mqtt_outbox *outbox)
{
	return outbox->sequence_next != outbox->sequence || !sqlite3_get_autocommit(outbox->database);
}

int mqtt_outbox_commit(struct mqtt_outbox *outbox)
{
	int result;
	bool sequence = outbox->sequence_next != outbox->sequence;
	if (sequence) {
		/* One statement per commit, not one per reading. */
		result = outbox_begin(outbox);
		if (result == 0) {
			sqlite3_bind_int64(outbox->update_sequence, 1, (int64_t)outbox->sequence_next);
			result = outbox_run(outbox->update_sequence);
		}
		if (result < 0)
			goto fail;
	}
	if (sqlite3_get_autocommit(outbox->database))
		return 0;
	result = outbox_run(outbox->commit);
	if (result == 0 && sequence)
		outbox->sequence = outbox->sequence_next;
	if (result == 0)
		return 0;
fail:
	/* SQLite rolls back after a failed COMMIT; should the transaction
	 * still be open, end it here so that the next append starts a clean
	 * one. */
	if (!sqlite3_get_autocommit(outbox->database))
		outbox_run(outbox->rollback);
	outbox_after_failure(outbox, "a commit");
	return result;
}

struct outbox_counters mqtt_outbox_counters(const struct mqtt_outbox *outbox)
{
	struct outbox_counters counters = outbox->counters;
	counters.last_id = outbox->last_id;
	return counters;
}
