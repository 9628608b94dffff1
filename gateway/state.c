/* state.c — see state.h: opening, checking and setting aside the state
 * database, and the sequence number in it. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "database_file.h"
#include "log.h"
#include "state.h"

struct state {
	sqlite3 *database;
	sqlite3_stmt *store_sequence;
	char error[256];             /* why the last state_sequence_store() failed */
	struct state_damage damage;  /* what state_open() set aside */
};

static int state_make_directory(const char *path, char *err, size_t err_size)
{
	char *copy = strdup(path);
	int r = 0;
	if (!copy)
		return -ENOMEM;
	/* mkdir -p: each ancestor in turn. */
	for (char *p = copy + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(copy, 0750) < 0 && errno != EEXIST) {
			r = -errno;
			snprintf(err, err_size, "cannot create %s: %s", copy, strerror(errno));
			goto out;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
out:
	free(copy);
	return r;
}

/* state_connect()'s answer for a file that is there but damaged: the
 * caller sets it aside.  Positive, so that it cannot be taken for an
 * errno. */
#define STATE_DAMAGED 1
/* Problems integrity_check lists at most: enough to say what is wrong in
 * one line of the log. */
#define STATE_CHECK_ROWS "3"

/* An SQLite result code as a negative errno. */
int state_sqlite_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return -EROFS;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

/* What SQLite's answer means here: damaged (set the file aside), or an
 * errno (the disk, a lock, memory: setting aside would not help). */
static int state_verdict(int code)
{
	switch (code & 0xff) {
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return STATE_DAMAGED;
	case SQLITE_CANTOPEN:
		return -EROFS;
	default:
		return state_sqlite_errno(code);
	}
}

static int state_exec(sqlite3 *database, const char *sql, char *why, size_t why_size)
{
	char *message = NULL;
	int code = sqlite3_exec(database, sql, NULL, NULL, &message);
	if (code == SQLITE_OK)
		return 0;
	snprintf(why, why_size, "%s", message ? message : sqlite3_errmsg(database));
	sqlite3_free(message);
	return state_verdict(sqlite3_extended_errcode(database));
}

/* integrity_check answers one row "ok", or a row per problem found. */
static int state_check(sqlite3 *database, char *why, size_t why_size)
{
	sqlite3_stmt *statement = NULL;
	int code, result = 0;
	size_t used = 0;
	if (sqlite3_prepare_v2(database, "PRAGMA integrity_check(" STATE_CHECK_ROWS ")", -1, &statement, NULL) !=
	    SQLITE_OK) {
		snprintf(why, why_size, "integrity_check: %s", sqlite3_errmsg(database));
		result = state_verdict(sqlite3_extended_errcode(database));
		goto out;
	}
	while ((code = sqlite3_step(statement)) == SQLITE_ROW) {
		const char *answer = (const char *)sqlite3_column_text(statement, 0);
		if (answer && strcmp(answer, "ok") == 0)
			continue;
		result = STATE_DAMAGED;
		if (used < why_size) {
			int length = snprintf(why + used, why_size - used, "%s%s", used ? "; " : "integrity_check: ",
			                      answer ? answer : "no answer");
			used += length > 0 ? (size_t)length : 0;
		}
	}
	if (code != SQLITE_DONE) {
		snprintf(why, why_size, "integrity_check: %s", sqlite3_errmsg(database));
		result = state_verdict(sqlite3_extended_errcode(database));
	}
	/* One line in the log: SQLite's problems may hold newlines. */
	for (char *character = why; *character; character++)
		if (*character == '\n')
			*character = ' ';
out:
	sqlite3_finalize(statement);
	return result;
}

static bool state_in_wal_mode(sqlite3 *database)
{
	sqlite3_stmt *statement = NULL;
	bool wal = false;
	if (sqlite3_prepare_v2(database, "PRAGMA journal_mode", -1, &statement, NULL) == SQLITE_OK &&
	    sqlite3_step(statement) == SQLITE_ROW) {
		const char *mode = (const char *)sqlite3_column_text(statement, 0);
		wal = mode && strcmp(mode, "wal") == 0;
	}
	sqlite3_finalize(statement);
	return wal;
}

/* One integer from a damaged database, if it still gives it. */
static bool state_salvage_integer(sqlite3 *database, const char *sql, int64_t *value)
{
	sqlite3_stmt *statement = NULL;
	bool read = sqlite3_prepare_v2(database, sql, -1, &statement, NULL) == SQLITE_OK &&
	            sqlite3_step(statement) == SQLITE_ROW && sqlite3_column_type(statement, 0) == SQLITE_INTEGER;
	if (read)
		*value = sqlite3_column_int64(statement, 0);
	sqlite3_finalize(statement);
	return read;
}

/* Opens path and makes sure it is sound, creating the tables in a new
 * file.  0; STATE_DAMAGED with why filled for a file to set aside (the
 * connection stays open, for what can still be read of it); a negative
 * errno with why. */
static int state_connect(struct state *state, const char *path, char *why, size_t why_size)
{
	int result;
	if (database_orphan_wal(path)) {
		snprintf(why, why_size, "its -wal file is there without the database it belongs to");
		return STATE_DAMAGED;
	}
	if (sqlite3_open_v2(path, &state->database, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		snprintf(why, why_size, "cannot open: %s",
		         state->database ? sqlite3_errmsg(state->database) : "out of memory");
		return state->database ? state_verdict(sqlite3_extended_errcode(state->database)) : -ENOMEM;
	}
	/* A damaged file is left as found: no checkpoint of its -wal into
	 * it at close, and the -wal not removed.  Switched back on below. */
	sqlite3_db_config(state->database, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	/* WAL with synchronous=NORMAL: a commit survives a crash of tryggd;
	 * a power cut may lose the last commits but never corrupts the file.
	 * The first statement reads the header: a text file, garbage or a
	 * truncated file answers here. */
	result = state_exec(state->database, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", why, why_size);
	if (result != 0)
		return result;
	/* The whole file: a damaged page found now is a file set aside with
	 * a word, rather than windows lost without one later. */
	result = state_check(state->database, why, why_size);
	if (result != 0)
		return result;
	result = state_exec(state->database,
	                    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('sequence', 0);"
	                    "CREATE TABLE IF NOT EXISTS spool (id INTEGER PRIMARY KEY AUTOINCREMENT, line TEXT NOT NULL);"
	                    /* Lines the store refused for what they are, with its
	                     * answer, kept for a person to look at; `at` is the
	                     * unix time they were set aside. */
	                    "CREATE TABLE IF NOT EXISTS rejected (id INTEGER PRIMARY KEY, line TEXT NOT NULL, status INTEGER,"
	                    " answer TEXT, at INTEGER NOT NULL);",
	                    why, why_size);
	if (result != 0)
		return result;
	/* One statement, prepared once: recording a number is one small
	 * commit, one page appended to the WAL. */
	if (sqlite3_prepare_v2(state->database, "UPDATE meta SET value = ? WHERE key = 'sequence'", -1,
	                       &state->store_sequence, NULL) != SQLITE_OK) {
		snprintf(why, why_size, "%s", sqlite3_errmsg(state->database));
		return state_verdict(sqlite3_extended_errcode(state->database));
	}
	sqlite3_db_config(state->database, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, NULL);
	return 0;
}

static void state_disconnect(struct state *state)
{
	sqlite3_finalize(state->store_sequence);
	state->store_sequence = NULL;
	sqlite3_close(state->database);
	state->database = NULL;
}

/* "1234 " or "an unknown number of " for the warning. */
static const char *state_count(bool known, int64_t count, char *buffer, size_t size)
{
	if (known)
		snprintf(buffer, size, "%lld ", (long long)count);
	else
		snprintf(buffer, size, "an unknown number of ");
	return buffer;
}

/* The damaged database at path, still connected: what it held, as far as
 * it can be read, then set aside and said in one warning.  0, or a
 * negative errno with err when it stays in the way. */
static int state_set_aside(struct state *state, const char *path, const char *why, char *err, size_t err_size)
{
	char aside[PATH_MAX], aside_wal[PATH_MAX + 8], points[32], rejected[32], sequence[96];
	int64_t point_count = 0, rejected_count = 0, sequence_value = 0;
	bool points_known = false, rejected_known = false;
	if (state->database) {
		points_known = state_salvage_integer(state->database, "SELECT count(*) FROM spool", &point_count);
		rejected_known = state_salvage_integer(state->database, "SELECT count(*) FROM rejected", &rejected_count);
		state->damage.sequence_known = state_salvage_integer(
			state->database, "SELECT value FROM meta WHERE key = 'sequence'", &sequence_value) &&
			sequence_value > 0;
	}
	state_disconnect(state);
	int r = database_set_aside(path, aside, sizeof(aside));
	if (r < 0) {
		snprintf(err, err_size, "%s is damaged (%s), and cannot be set aside: %s", path, why, strerror(-r));
		return r;
	}
	state->damage.set_aside = true;
	if (state->damage.sequence_known) {
		state->damage.sequence = (uint64_t)sequence_value;
		snprintf(sequence, sizeof(sequence), "its reading sequence number (%llu) is carried over",
		         (unsigned long long)sequence_value);
	} else {
		snprintf(sequence, sizeof(sequence), "its reading sequence number cannot be read");
	}
	snprintf(aside_wal, sizeof(aside_wal), "%s-wal", aside);
	struct stat status;
	bool wal = lstat(aside_wal, &status) == 0;
	log_warning("state: %s is damaged (%s); set aside as %s%s, starting afresh: lost %spoints waiting for the store "
	            "and %slines the store refused; %s", path, why, aside, wal ? " (and its -wal)" : "",
	            state_count(points_known, point_count, points, sizeof(points)),
	            state_count(rejected_known, rejected_count, rejected, sizeof(rejected)), sequence);
	return 0;
}

int state_open(const char *state_dir, struct state **out, char *err, size_t err_size)
{
	char *path = NULL, why[512] = "";
	int r;
	struct state *state = calloc(1, sizeof(*state));
	if (!state)
		return -ENOMEM;

	r = state_make_directory(state_dir, err, err_size);
	if (r < 0)
		goto fail;
	if (asprintf(&path, "%s/tryggd.db", state_dir) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	r = state_connect(state, path, why, sizeof(why));
	if (r == STATE_DAMAGED) {
		r = state_set_aside(state, path, why, err, err_size);
		if (r < 0)
			goto fail;
		r = state_connect(state, path, why, sizeof(why));
		if (r == STATE_DAMAGED)
			r = -EIO;
	}
	if (r < 0) {
		snprintf(err, err_size, "%s: %s", path, why);
		goto fail;
	}
	/* PRAGMA journal_mode answers with the mode it is in: a file system
	 * that cannot share memory between processes keeps the rollback
	 * journal, and then every number costs a journal file of its own. */
	if (!state_in_wal_mode(state->database))
		log_warning("state: %s is not in WAL mode; every write (the spool, the sequence number) will be slow", path);
	/* The floor carried over from a damaged file; should this write
	 * fail, state_sequence_load() still answers with it. */
	if (state->damage.sequence_known)
		state_sequence_store(state, state->damage.sequence);
	free(path);
	*out = state;
	return 0;
fail:
	free(path);
	state_close(state);
	return r;
}

void state_close(struct state *state)
{
	if (!state)
		return;
	state_disconnect(state);
	free(state);
}

sqlite3 *state_database(struct state *state)
{
	return state->database;
}

struct state_damage state_damage(const struct state *state)
{
	return state->damage;
}

const char *state_error(const struct state *state)
{
	return state->error;
}

int state_sequence_load(struct state *state, uint64_t *seq)
{
	sqlite3_stmt *statement = NULL;
	int r = -EIO;
	if (sqlite3_prepare_v2(state->database, "SELECT value FROM meta WHERE key = 'sequence'", -1,
	                       &statement, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(statement) != SQLITE_ROW)
		goto out;
	*seq = (uint64_t)sqlite3_column_int64(statement, 0);
	if (state->damage.sequence_known && state->damage.sequence > *seq)
		*seq = state->damage.sequence;
	r = 0;
out:
	sqlite3_finalize(statement);
	return r;
}

int state_sequence_store(struct state *state, uint64_t seq)
{
	state->error[0] = '\0';
	/* Recorded means committed: inside a transaction someone left open,
	 * the update would only be as durable as that transaction. */
	if (!sqlite3_get_autocommit(state->database)) {
		snprintf(state->error, sizeof(state->error), "a transaction is open on the database");
		return -EBUSY;
	}
	sqlite3_stmt *statement = state->store_sequence;
	sqlite3_bind_int64(statement, 1, (sqlite3_int64)seq);
	int rc = sqlite3_step(statement);
	int r = 0;
	if (rc != SQLITE_DONE) {
		snprintf(state->error, sizeof(state->error), "%s", sqlite3_errmsg(state->database));
		r = state_sqlite_errno(rc);
	} else if (sqlite3_changes(state->database) != 1) {
		snprintf(state->error, sizeof(state->error), "the sequence number's row is missing");
		r = -EIO;
	}
	sqlite3_reset(statement);
	return r;
}
