/* window_resume.c — see window_resume.h. */
#include <errno.h>
#include <string.h>

#include "state.h"
#include "window_resume.h"

/* The window's sums as window.c keeps them, exactly: milliseconds, not the
 * rounded seconds of a point. */
#define COLUMNS                                                                                         \
	"type, start_ms, length_ms, cut_ms, covered_ms, samples, count, in_count, out_count, has_direction," \
	" lux_min, lux_max, lux_sum, dark_ms, on_ms, fault_ms"

static int resume_errno(sqlite3 *database)
{
	return state_sqlite_errno(sqlite3_extended_errcode(database));
}

int window_resume_open(sqlite3 *database)
{
	if (sqlite3_exec(database,
	                 "CREATE TABLE IF NOT EXISTS cut_window (sensor TEXT PRIMARY KEY, type INTEGER NOT NULL,"
	                 " start_ms INTEGER NOT NULL, length_ms INTEGER NOT NULL, cut_ms INTEGER NOT NULL,"
	                 " covered_ms INTEGER NOT NULL, samples INTEGER NOT NULL, count INTEGER NOT NULL,"
	                 " in_count INTEGER NOT NULL, out_count INTEGER NOT NULL, has_direction INTEGER NOT NULL,"
	                 " lux_min REAL NOT NULL, lux_max REAL NOT NULL, lux_sum REAL NOT NULL,"
	                 " dark_ms INTEGER NOT NULL, on_ms INTEGER NOT NULL, fault_ms INTEGER NOT NULL);",
	                 NULL, NULL, NULL) != SQLITE_OK)
		return resume_errno(database);
	return 0;
}

int window_resume_save(sqlite3 *database, const char *sensor, const struct window *cut, int64_t cut_ms)
{
	sqlite3_stmt *statement = NULL;
	int r = 0;
	if (sqlite3_prepare_v2(database,
	                       "INSERT OR REPLACE INTO cut_window (sensor, " COLUMNS ")"
	                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	                       -1, &statement, NULL) != SQLITE_OK) {
		r = resume_errno(database);
		goto out;
	}
	int i = 1;
	sqlite3_bind_text(statement, i++, sensor, -1, SQLITE_STATIC);
	sqlite3_bind_int(statement, i++, (int)cut->type);
	sqlite3_bind_int64(statement, i++, cut->start_ms);
	sqlite3_bind_int64(statement, i++, cut->length_ms);
	sqlite3_bind_int64(statement, i++, cut_ms);
	sqlite3_bind_int64(statement, i++, cut->covered_ms);
	sqlite3_bind_int64(statement, i++, cut->samples);
	/* Counts fit: a window of passes is nowhere near 2^63. */
	sqlite3_bind_int64(statement, i++, (sqlite3_int64)cut->count);
	sqlite3_bind_int64(statement, i++, (sqlite3_int64)cut->in);
	sqlite3_bind_int64(statement, i++, (sqlite3_int64)cut->out);
	sqlite3_bind_int(statement, i++, cut->has_direction);
	sqlite3_bind_double(statement, i++, cut->lux_min);
	sqlite3_bind_double(statement, i++, cut->lux_max);
	sqlite3_bind_double(statement, i++, cut->lux_sum);
	sqlite3_bind_int64(statement, i++, cut->dark_ms);
	sqlite3_bind_int64(statement, i++, cut->on_ms);
	sqlite3_bind_int64(statement, i++, cut->fault_ms);
	if (sqlite3_step(statement) != SQLITE_DONE)
		r = resume_errno(database);
out:
	sqlite3_finalize(statement);
	return r;
}

int window_resume_take(sqlite3 *database, const char *sensor, struct window *open, int64_t now_ms, bool *resumed)
{
	sqlite3_stmt *statement = NULL;
	int r = 0;
	*resumed = false;
	if (sqlite3_prepare_v2(database, "SELECT " COLUMNS " FROM cut_window WHERE sensor = ?", -1, &statement,
	                       NULL) != SQLITE_OK) {
		r = resume_errno(database);
		goto out;
	}
	sqlite3_bind_text(statement, 1, sensor, -1, SQLITE_STATIC);
	int step = sqlite3_step(statement);
	if (step == SQLITE_DONE)
		goto out;
	if (step != SQLITE_ROW) {
		r = resume_errno(database);
		goto out;
	}
	int i = 0;
	struct window cut;
	memset(&cut, 0, sizeof(cut));
	int type = sqlite3_column_int(statement, i++);
	cut.start_ms = sqlite3_column_int64(statement, i++);
	cut.length_ms = sqlite3_column_int64(statement, i++);
	int64_t cut_ms = sqlite3_column_int64(statement, i++);
	cut.covered_ms = sqlite3_column_int64(statement, i++);
	sqlite3_int64 samples = sqlite3_column_int64(statement, i++);
	sqlite3_int64 count = sqlite3_column_int64(statement, i++);
	sqlite3_int64 in = sqlite3_column_int64(statement, i++);
	sqlite3_int64 out = sqlite3_column_int64(statement, i++);
	cut.has_direction = sqlite3_column_int(statement, i++) != 0;
	cut.lux_min = sqlite3_column_double(statement, i++);
	cut.lux_max = sqlite3_column_double(statement, i++);
	cut.lux_sum = sqlite3_column_double(statement, i++);
	cut.dark_ms = sqlite3_column_int64(statement, i++);
	cut.on_ms = sqlite3_column_int64(statement, i++);
	cut.fault_ms = sqlite3_column_int64(statement, i++);
	/* The same window, started after the cut: a simulated clock run again
	 * from before it is another run, not the rest of this one.  A row a
	 * hand or a bad disk changed is left out rather than trusted. */
	bool same = type == (int)open->type && cut.start_ms == open->start_ms && cut.length_ms == open->length_ms &&
	            now_ms >= cut_ms && cut_ms >= cut.start_ms && cut_ms <= cut.start_ms + cut.length_ms;
	bool sane = cut.covered_ms >= 0 && cut.covered_ms <= cut_ms - cut.start_ms && samples >= 0 &&
	            count >= 0 && in >= 0 && out >= 0 && cut.dark_ms >= 0 && cut.on_ms >= 0 && cut.fault_ms >= 0 &&
	            samples <= UINT32_MAX;
	if (!same || !sane)
		goto out;
	cut.type = open->type;
	cut.samples = (unsigned)samples;
	cut.count = (uint64_t)count;
	cut.in = (uint64_t)in;
	cut.out = (uint64_t)out;
	window_absorb(open, &cut);
	*resumed = true;
out:
	sqlite3_finalize(statement);
	return r;
}

int window_resume_forget(sqlite3 *database)
{
	if (sqlite3_exec(database, "DELETE FROM cut_window", NULL, NULL, NULL) != SQLITE_OK)
		return resume_errno(database);
	return 0;
}
