/* state.c — see state.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "state.h"

struct state {
	sqlite3 *database;
	sqlite3_stmt *store_sequence;
	char error[256];             /* why the last state_sequence_store() failed */
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

static int state_exec(sqlite3 *database, const char *sql, char *err, size_t err_size)
{
	char *message = NULL;
	if (sqlite3_exec(database, sql, NULL, NULL, &message) != SQLITE_OK) {
		snprintf(err, err_size, "%s", message ? message : sqlite3_errmsg(database));
		sqlite3_free(message);
		return -EIO;
	}
	return 0;
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

int state_open(const char *state_dir, struct state **out, char *err, size_t err_size)
{
	char *path = NULL;
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
	if (sqlite3_open_v2(path, &state->database, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		snprintf(err, err_size, "cannot open %s: %s", path, sqlite3_errmsg(state->database));
		r = -EIO;
		goto fail;
	}
	/* WAL with synchronous=NORMAL: a commit survives a crash of tryggd;
	 * a power cut may lose the last commits but never corrupts the file. */
	r = state_exec(state->database,
	               "PRAGMA journal_mode=WAL;"
	               "PRAGMA synchronous=NORMAL;"
	               "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	               "INSERT OR IGNORE INTO meta (key, value) VALUES ('sequence', 0);"
	               "CREATE TABLE IF NOT EXISTS spool (id INTEGER PRIMARY KEY AUTOINCREMENT, line TEXT NOT NULL);"
	               /* Lines the store refused for what they are, with its
	                * answer, kept for a person to look at; `at` is the
	                * unix time they were set aside. */
	               "CREATE TABLE IF NOT EXISTS rejected (id INTEGER PRIMARY KEY, line TEXT NOT NULL, status INTEGER,"
	               " answer TEXT, at INTEGER NOT NULL);",
	               err, err_size);
	if (r < 0)
		goto fail;
	/* PRAGMA journal_mode answers with the mode it is in: a file system
	 * that cannot share memory between processes keeps the rollback
	 * journal, and then every number costs a journal file of its own. */
	if (!state_in_wal_mode(state->database))
		log_warning("state: %s is not in WAL mode; every write (the spool, the sequence number) will be slow", path);
	/* One statement, prepared once: recording a number is one small
	 * commit, one page appended to the WAL. */
	if (sqlite3_prepare_v2(state->database, "UPDATE meta SET value = ? WHERE key = 'sequence'", -1,
	                       &state->store_sequence, NULL) != SQLITE_OK) {
		snprintf(err, err_size, "%s", sqlite3_errmsg(state->database));
		r = -EIO;
		goto fail;
	}
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
	sqlite3_finalize(state->store_sequence);
	sqlite3_close(state->database);
	free(state);
}

sqlite3 *state_database(struct state *state)
{
	return state->database;
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
	r = 0;
out:
	sqlite3_finalize(statement);
	return r;
}

/* An SQLite result code as a negative errno. */
static int state_errno(int rc)
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
		r = state_errno(rc);
	} else if (sqlite3_changes(state->database) != 1) {
		snprintf(state->error, sizeof(state->error), "the sequence number's row is missing");
		r = -EIO;
	}
	sqlite3_reset(statement);
	return r;
}
