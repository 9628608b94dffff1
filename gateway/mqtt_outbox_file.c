/* mqtt_outbox_file.c — the outbox's database file: opening it, checking
 * that it is ours (application_id, user_version, quick_check), creating the
 * table in a new file; setting a broken file (and its -wal) aside is
 * database_file.c's.
 * See mqtt_outbox_internal.h. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "database_file.h"
#include "mqtt_outbox_internal.h"

/* Stamped into the file header so that a database of another program (or
 * of another tryggd table layout) is recognised as not ours before a
 * single row of it is trusted.  "tryg" in ASCII. */
#define OUTBOX_APPLICATION_ID 0x74727967
/* 2 added table meta (the reading sequence number); a file of version 1
 * is brought up to 2 in place. */
#define OUTBOX_SCHEMA_VERSION 2
#define OUTBOX_META \
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);" \
	"INSERT INTO meta (key, value) VALUES ('sequence', 0);"
#define OUTBOX_QUOTE(x) #x
#define OUTBOX_TEXT(x) OUTBOX_QUOTE(x)

static void outbox_finalize(struct mqtt_outbox *outbox)
{
	sqlite3_stmt **statements[] = {
		&outbox->begin, &outbox->commit, &outbox->rollback, &outbox->savepoint, &outbox->release,
		&outbox->rollback_to_savepoint, &outbox->insert, &outbox->select_next, &outbox->select_bytes, &outbox->remove_row,
		&outbox->drop_oldest, &outbox->select_totals, &outbox->select_sequence, &outbox->update_sequence,
	};
	for (size_t i = 0; i < sizeof(statements) / sizeof(statements[0]); i++) {
		sqlite3_finalize(*statements[i]);
		*statements[i] = NULL;
	}
}

void outbox_disconnect(struct mqtt_outbox *outbox)
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
		/* Not DELETE ... RETURNING: SQLite buffers a RETURNING statement's
		 * rows in a table of its own, which cost three times the delete
		 * (measured with SQLite 3.40: 27,000 instructions a message). */
		{ &outbox->select_bytes, "SELECT bytes FROM outbox WHERE id = ?" },
		{ &outbox->remove_row, "DELETE FROM outbox WHERE id = ?" },
		{ &outbox->drop_oldest, "DELETE FROM outbox WHERE id = (SELECT min(id) FROM outbox) RETURNING bytes, id" },
		{ &outbox->select_totals, "SELECT count(*), coalesce(sum(bytes), 0), coalesce(max(id), 0) FROM outbox" },
		{ &outbox->select_sequence, "SELECT value FROM meta WHERE key = 'sequence'" },
		{ &outbox->update_sequence, "UPDATE meta SET value = ? WHERE key = 'sequence'" },
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
int outbox_connect(struct mqtt_outbox *outbox, char *why, size_t why_size)
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
	if (!fresh && (application_id != OUTBOX_APPLICATION_ID || schema_version < 1 ||
	               schema_version > OUTBOX_SCHEMA_VERSION)) {
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
			OUTBOX_META
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
	if (!fresh && schema_version == 1) {
		static const char upgrade[] =
			"BEGIN;" OUTBOX_META "PRAGMA user_version = " OUTBOX_TEXT(OUTBOX_SCHEMA_VERSION) ";COMMIT;";
		if (sqlite3_exec(outbox->database, upgrade, NULL, NULL, &message) != SQLITE_OK) {
			snprintf(why, why_size, "cannot add the table meta: %s",
			         message ? message : sqlite3_errmsg(outbox->database));
			sqlite3_free(message);
			goto fail;
		}
	}
	if (outbox_prepare(outbox) < 0 || outbox_read_totals(outbox) < 0 || outbox_read_sequence(outbox) < 0) {
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

/* Why a fresh database cannot be made at path.  SQLite's errno is that of
 * its last try, a read-only open after the read-write one was refused
 * (ENOENT for a file it could not create); the folder itself says more. */
int outbox_refusal(const char *path, int system_error)
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
