/* mqtt_outbox.c — see mqtt_outbox.h. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "mqtt_outbox.h"

/* Stamped into the file header so that a database of another program (or
 * of another tryggd table layout) is recognised as not ours before a
 * single row of it is trusted.  "tryg" in ASCII. */
#define OUTBOX_APPLICATION_ID 0x74727967
#define OUTBOX_SCHEMA_VERSION 1
#define OUTBOX_QUOTE(x) #x
#define OUTBOX_TEXT(x) OUTBOX_QUOTE(x)

/* outbox_connect()'s answer for a file that is there but not usable as
 * ours: the caller sets it aside.  Positive, so that it cannot be taken for
 * an errno. */
#define OUTBOX_BROKEN 1

struct mqtt_outbox {
	sqlite3 *database;
	char *path;
	uint64_t max_messages, max_bytes;
	/* The last number handed out.  Kept here rather than taken from
	 * AUTOINCREMENT so that it never goes back within a run, not even when
	 * a failed commit rolls rows back: the owner's cursor (after_id) may
	 * already be past a number that SQLite would hand out again. */
	int64_t last_id;
	int system_error;                /* errno of the last failed connect, for the caller */
	struct outbox_counters counters;
	sqlite3_stmt *begin, *commit, *rollback;
	sqlite3_stmt *savepoint, *release, *rollback_to_savepoint;
	sqlite3_stmt *insert, *select_next, *remove_row, *drop_oldest, *select_totals;
};

/* How SQLite's refusal (a result code) reads to the caller: a full disk
 * (or page limit) is worth telling apart, the rest is an I/O error. */
static int outbox_errno(int code)
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
static int outbox_read_totals(struct mqtt_outbox *outbox)
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
		log_warning("mqtt outbox %s: %s failed; what was written since the last commit is undone (%llu messages now, "
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

static void outbox_finalize(struct mqtt_outbox *outbox)
{
	sqlite3_stmt **statements[] = {
		&outbox->begin, &outbox->commit, &outbox->rollback, &outbox->savepoint, &outbox->release,
		&outbox->rollback_to_savepoint, &outbox->insert, &outbox->select_next, &outbox->remove_row,
		&outbox->drop_oldest, &outbox->select_totals,
	};
	for (size_t i = 0; i < sizeof(statements) / sizeof(statements[0]); i++) {
		sqlite3_finalize(*statements[i]);
		*statements[i] = NULL;
	}
}

static void outbox_disconnect(struct mqtt_outbox *outbox)
{
	outbox_finalize(outbox);
	sqlite3_close(outbox->database);
	outbox->database = NULL;
}

/* One integer from a statement that returns one row. */
static int outbox_query_integer(sqlite3 *database, const char *sql, int64_t *value)
{
	sqlite3_stmt *statement = NULL;
	int result = -EIO;
	if (sqlite3_prepare_v2(database, sql, -1, &statement, NULL) != SQLITE_OK ||
	    sqlite3_step(statement) != SQLITE_ROW) {
		result = outbox_errno(sqlite3_errcode(database));
		goto out;
	}
	*value = sqlite3_column_int64(statement, 0);
	result = 0;
out:
	sqlite3_finalize(statement);
	return result;
}

/* PRAGMA quick_check answers one row "ok", or the problems it found. */
static int outbox_quick_check(sqlite3 *database, char *why, size_t why_size)
{
	sqlite3_stmt *statement = NULL;
	int result = -EIO;
	if (sqlite3_prepare_v2(database, "PRAGMA quick_check", -1, &statement, NULL) != SQLITE_OK ||
	    sqlite3_step(statement) != SQLITE_ROW) {
		result = outbox_errno(sqlite3_errcode(database));
		snprintf(why, why_size, "quick_check: %s", sqlite3_errmsg(database));
		goto out;
	}
	const char *answer = (const char *)sqlite3_column_text(statement, 0);
	if (!answer || strcmp(answer, "ok") != 0) {
		snprintf(why, why_size, "quick_check: %s", answer ? answer : "no answer");
		goto out;
	}
	result = 0;
out:
	sqlite3_finalize(statement);
	return result;
}

static int outbox_prepare(struct mqtt_outbox *outbox)
{
	const struct {
		sqlite3_stmt **statement;
		const char *sql;
	} statements[] = {
		{ &outbox->begin, "BEGIN" },
		{ &outbox->commit, "COMMIT" },
		{ &outbox->rollback, "ROLLBACK" },
		{ &outbox->savepoint, "SAVEPOINT outbox_append" },
		{ &outbox->release, "RELEASE outbox_append" },
		{ &outbox->rollback_to_savepoint, "ROLLBACK TO outbox_append" },
		/* INSERT ... SELECT rather than VALUES: SQLite gives it a
		 * statement journal, so a full disk undoes this one row and
		 * keeps the transaction.  A single-row VALUES insert has none,
		 * and SQLITE_FULL there cancels the whole transaction, losing
		 * every message accepted since the last commit. */
		{ &outbox->insert, "INSERT INTO outbox (id, topic, payload, qos, retained, bytes) SELECT ?, ?, ?, ?, ?, ?" },
		{ &outbox->select_next, "SELECT id, topic, payload, qos, retained FROM outbox WHERE id > ? ORDER BY id LIMIT 1" },
		{ &outbox->remove_row, "DELETE FROM outbox WHERE id = ? RETURNING bytes" },
		{ &outbox->drop_oldest, "DELETE FROM outbox WHERE id = (SELECT min(id) FROM outbox) RETURNING bytes, id" },
		{ &outbox->select_totals, "SELECT count(*), coalesce(sum(bytes), 0), coalesce(max(id), 0) FROM outbox" },
	};
	for (size_t i = 0; i < sizeof(statements) / sizeof(statements[0]); i++)
		if (sqlite3_prepare_v2(outbox->database, statements[i].sql, -1, statements[i].statement, NULL) != SQLITE_OK)
			return outbox_errno(sqlite3_errcode(outbox->database));
	return 0;
}

/* Opens outbox->path and makes sure it is ours, creating the table in a
 * new file.  0; OUTBOX_BROKEN with why filled for a file to set aside;
 * a negative errno when setting the file aside would not help (out of
 * memory, locked by another process).  On failure the connection is
 * closed again and outbox->system_error says what the system refused. */
static int outbox_connect(struct mqtt_outbox *outbox, char *why, size_t why_size)
{
	int64_t application_id = 0, schema_version = 0, tables = 0;
	int result = OUTBOX_BROKEN;
	outbox->system_error = 0;
	/* NOMUTEX: the handle is used from the loop's thread only. */
	if (sqlite3_open_v2(outbox->path, &outbox->database,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(why, why_size, "cannot open: %s", outbox->database ? sqlite3_errmsg(outbox->database) : "out of memory");
		goto fail;
	}
	/* The first read also replays a -wal file left by a crash. */
	if (outbox_query_integer(outbox->database, "PRAGMA application_id", &application_id) < 0 ||
	    outbox_query_integer(outbox->database, "PRAGMA user_version", &schema_version) < 0 ||
	    outbox_query_integer(outbox->database, "SELECT count(*) FROM sqlite_master", &tables) < 0) {
		snprintf(why, why_size, "cannot read: %s", sqlite3_errmsg(outbox->database));
		goto fail;
	}
	bool fresh = application_id == 0 && schema_version == 0 && tables == 0;
	if (!fresh && (application_id != OUTBOX_APPLICATION_ID || schema_version != OUTBOX_SCHEMA_VERSION)) {
		snprintf(why, why_size, "not an outbox (application_id %#llx, user_version %lld, %lld tables)",
		         (unsigned long long)application_id, (long long)schema_version, (long long)tables);
		goto fail;
	}
	if (!fresh && outbox_quick_check(outbox->database, why, why_size) < 0)
		goto fail;
	/* WAL with synchronous=NORMAL: a commit is one append to the -wal
	 * file with no fsync, and survives a crash of tryggd; a power cut may
	 * lose the last commits but never leaves a corrupt file. */
	char *message = NULL;
	if (sqlite3_exec(outbox->database, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, &message) !=
	    SQLITE_OK) {
		snprintf(why, why_size, "cannot switch to WAL: %s", message ? message : sqlite3_errmsg(outbox->database));
		sqlite3_free(message);
		goto fail;
	}
	if (fresh) {
		/* The stamp and the table in one transaction: a file with the
		 * stamp always has the table. */
		static const char schema[] =
			"BEGIN;"
			"CREATE TABLE outbox (id INTEGER PRIMARY KEY, topic TEXT NOT NULL, payload BLOB NOT NULL,"
			" qos INTEGER NOT NULL, retained INTEGER NOT NULL, bytes INTEGER NOT NULL);"
			"PRAGMA application_id = " OUTBOX_TEXT(OUTBOX_APPLICATION_ID) ";"
			"PRAGMA user_version = " OUTBOX_TEXT(OUTBOX_SCHEMA_VERSION) ";"
			"COMMIT;";
		if (sqlite3_exec(outbox->database, schema, NULL, NULL, &message) != SQLITE_OK) {
			snprintf(why, why_size, "cannot create the table: %s",
			         message ? message : sqlite3_errmsg(outbox->database));
			sqlite3_free(message);
			goto fail;
		}
	}
	if (outbox_prepare(outbox) < 0 || outbox_read_totals(outbox) < 0) {
		snprintf(why, why_size, "cannot read the rows: %s", sqlite3_errmsg(outbox->database));
		goto fail;
	}
	return 0;
fail:
	if (outbox->database) {
		outbox->system_error = sqlite3_system_errno(outbox->database);
		switch (sqlite3_errcode(outbox->database) & 0xff) {
		case SQLITE_NOMEM:
			result = -ENOMEM;
			break;
		case SQLITE_BUSY:
		case SQLITE_LOCKED:
			result = -EBUSY;
			break;
		}
		/* A file about to be set aside is left as found: no checkpoint
		 * of its -wal into it, and the -wal not removed. */
		sqlite3_db_config(outbox->database, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	} else {
		result = -ENOMEM;
	}
	outbox_disconnect(outbox);
	return result;
}

/* Renames from to to (or removes from, when to is NULL) if from is
 * there.  0 when done, -ENOENT when there was nothing, another negative
 * errno when it stays in the way.  remove_if_stuck: a side file that
 * cannot be moved is removed rather than let it meet the fresh database;
 * the main file never is. */
static int outbox_move(const char *from, const char *to, bool remove_if_stuck)
{
	if (to ? rename(from, to) == 0 : unlink(from) == 0)
		return 0;
	if (errno == ENOENT || errno == ENOTDIR)
		return -ENOENT;
	if (to && remove_if_stuck && unlink(from) == 0)
		return 0;
	return -errno;
}

static bool outbox_exists(const char *path)
{
	struct stat status;
	return lstat(path, &status) == 0;
}

/* Moves path, and its -wal beside it, to PATH.broken-SECONDS (with a
 * further number when that name is taken), so that the broken set can be
 * looked at later and the fresh database starts from nothing.  0 and the
 * new name in aside, -ENOENT when there was no file, another negative
 * errno when the file cannot be moved. */
static bool outbox_orphan_wal(const char *path)
{
	char wal[PATH_MAX];
	struct stat main_status, wal_status;
	if ((size_t)snprintf(wal, sizeof(wal), "%s-wal", path) >= sizeof(wal))
		return false;
	if (lstat(wal, &wal_status) != 0 || wal_status.st_size == 0)
		return false;
	return lstat(path, &main_status) != 0 || main_status.st_size == 0;
}

static int outbox_set_aside(const char *path, char *aside, size_t aside_size)
{
	char wal[PATH_MAX], shm[PATH_MAX], aside_wal[PATH_MAX];
	int result;
	long long seconds = (long long)time(NULL);
	if ((size_t)snprintf(wal, sizeof(wal), "%s-wal", path) >= sizeof(wal) ||
	    (size_t)snprintf(shm, sizeof(shm), "%s-shm", path) >= sizeof(shm))
		return -ENAMETOOLONG;
	for (unsigned attempt = 0;; attempt++) {
		int length = attempt == 0 ? snprintf(aside, aside_size, "%s.broken-%lld", path, seconds)
		                          : snprintf(aside, aside_size, "%s.broken-%lld.%u", path, seconds, attempt);
		if (length < 0 || (size_t)length >= aside_size ||
		    (size_t)snprintf(aside_wal, sizeof(aside_wal), "%s-wal", aside) >= sizeof(aside_wal))
			return -ENAMETOOLONG;
		if (!outbox_exists(aside) && !outbox_exists(aside_wal))
			break;
		if (attempt == 1000)
			return -EEXIST;
	}
	result = outbox_move(path, aside, false);
	if (result < 0 && result != -ENOENT)
		return result;
	/* An empty -wal (SQLite makes one when it opens a file whose header
	 * says WAL) holds nothing worth keeping; the -shm file is only an
	 * index of the -wal, rebuilt from it. */
	struct stat status;
	bool empty_wal = lstat(wal, &status) == 0 && status.st_size == 0;
	int wal_result = outbox_move(wal, empty_wal ? NULL : aside_wal, true);
	int shm_result = outbox_move(shm, NULL, true);
	if (result == -ENOENT && wal_result == 0)
		result = 0;
	if (result == 0 || result == -ENOENT) {
		if (wal_result < 0 && wal_result != -ENOENT)
			result = wal_result;
		else if (shm_result < 0 && shm_result != -ENOENT)
			result = shm_result;
	}
	return result;
}

/* Why a fresh database cannot be made at path.  SQLite's errno is that of
 * its last try, a read-only open after the read-write one was refused
 * (ENOENT for a file it could not create); the folder itself says more. */
static int outbox_refusal(const char *path, int system_error)
{
	char copy[PATH_MAX], directory[PATH_MAX];
	if ((size_t)snprintf(copy, sizeof(copy), "%s", path) >= sizeof(copy) ||
	    (size_t)snprintf(directory, sizeof(directory), "%s/.", dirname(copy)) >= sizeof(directory))
		return -ENAMETOOLONG;
	/* "/." so that a plain file in the way answers ENOTDIR. */
	if (faccessat(AT_FDCWD, directory, W_OK | X_OK, AT_EACCESS) < 0)
		return -errno;
	return system_error > 0 ? -system_error : -EIO;
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
	if (outbox_orphan_wal(path)) {
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
		result = outbox_set_aside(path, aside, sizeof(aside));
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
	sqlite3_stmt *statement = outbox->remove_row;
	uint64_t bytes = 0;
	bool removed = false;
	int result = outbox_begin(outbox);
	if (result < 0)
		goto fail;
	sqlite3_bind_int64(statement, 1, id);
	int code = sqlite3_step(statement);
	if (code == SQLITE_ROW) {
		removed = true;
		bytes = (uint64_t)sqlite3_column_int64(statement, 0);
		code = sqlite3_step(statement);
	}
	sqlite3_reset(statement);
	if (code != SQLITE_DONE) {
		result = outbox_errno(code);
		goto fail;
	}
	if (removed) {
		outbox->counters.messages--;
		outbox->counters.bytes -= bytes;
	}
	return 0;
fail:
	outbox_after_failure(outbox, "a remove");
	return result;
}

int mqtt_outbox_commit(struct mqtt_outbox *outbox)
{
	if (sqlite3_get_autocommit(outbox->database))
		return 0;
	int result = outbox_run(outbox->commit);
	if (result < 0) {
		/* SQLite rolls back after a failed COMMIT; should the
		 * transaction still be open, end it here so that the next
		 * append starts a clean one. */
		if (!sqlite3_get_autocommit(outbox->database))
			outbox_run(outbox->rollback);
		outbox_after_failure(outbox, "a commit");
	}
	return result;
}

struct outbox_counters mqtt_outbox_counters(const struct mqtt_outbox *outbox)
{
	return outbox->counters;
}
