/* test_spool.c — the state database: the spool keeps lines in order until
 * the store has them (removed by id) or refuses them (set aside), stays
 * within its bound by dropping the oldest, keeps lines in memory while the
 * database refuses writes, and both it and the sequence number survive a
 * close and reopen (a restart of tryggd).
 *
 * A database that refuses writes is made with PRAGMA max_page_count: set
 * to the pages the file has, an insert that needs a new page gets
 * SQLITE_FULL, as on a full disk.  Lines meant to be refused are longer
 * than a page so that they cannot fit in the free room of one. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "spool.h"
#include "state.h"

#define BIG_LINE 6000 /* bytes: more than a page (4096) */

struct fixture {
	char directory[64];
	char state_dir[128];
};

static int setup(void **state)
{
	struct fixture *fixture = calloc(1, sizeof(*fixture));
	if (!fixture)
		return -1;
	strcpy(fixture->directory, "/tmp/test_spool.XXXXXX");
	if (!mkdtemp(fixture->directory))
		return -1;
	/* A state_dir that does not exist yet, two levels deep. */
	snprintf(fixture->state_dir, sizeof(fixture->state_dir), "%s/var/tryggd", fixture->directory);
	*state = fixture;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fixture = *state;
	char command[256];
	snprintf(command, sizeof(command), "rm -rf '%s'", fixture->directory);
	int rc = system(command);
	free(fixture);
	return rc == 0 ? 0 : -1;
}

static void open_both(struct fixture *fixture, uint64_t max_bytes, struct state **state, struct spool **spool)
{
	char err[256] = "";
	int r = state_open(fixture->state_dir, state, err, sizeof(err));
	if (r < 0)
		fail_msg("state_open: %s", err);
	assert_int_equal(spool_open(state_database(*state), max_bytes, spool), 0);
}

static void close_both(struct state *state, struct spool *spool)
{
	spool_close(spool);
	state_close(state);
}

/* A line of exactly length bytes, '\n' included: name, a space, then 'x'.
 * The caller frees it. */
static char *make_line(const char *name, size_t length)
{
	char *line = malloc(length + 1);
	assert_non_null(line);
	size_t name_length = strlen(name);
	assert_true(name_length + 2 <= length);
	memcpy(line, name, name_length);
	line[name_length] = ' ';
	memset(line + name_length + 1, 'x', length - name_length - 2);
	line[length - 1] = '\n';
	line[length] = '\0';
	return line;
}

static void append_one(struct spool *spool, const char *name, size_t length)
{
	char *line = make_line(name, length);
	assert_int_equal(spool_append(spool, &line, 1), 0);
	free(line);
}

static int64_t query_int(sqlite3 *database, const char *sql)
{
	sqlite3_stmt *statement = NULL;
	assert_int_equal(sqlite3_prepare_v2(database, sql, -1, &statement, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(statement), SQLITE_ROW);
	int64_t value = sqlite3_column_int64(statement, 0);
	sqlite3_finalize(statement);
	return value;
}

/* The database takes no more pages until allow_writes(). */
static void refuse_writes(sqlite3 *database)
{
	/* SQLite raises a limit below the file's size to that size. */
	assert_int_equal(sqlite3_exec(database, "PRAGMA max_page_count = 1", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(query_int(database, "PRAGMA max_page_count"), query_int(database, "PRAGMA page_count"));
}

static void allow_writes(sqlite3 *database)
{
	assert_int_equal(sqlite3_exec(database, "PRAGMA max_page_count = 1073741823", NULL, NULL, NULL), SQLITE_OK);
}

/* The names of the lines in the spool, oldest first, space-separated:
 * "a b c".  Checks the batch's arrays against its body on the way. */
static void assert_names(struct spool *spool, const char *expected)
{
	struct spool_batch batch;
	char names[256] = "";
	assert_int_equal(spool_peek(spool, 1000, 0, &batch), 0);
	size_t offset = 0;
	for (size_t i = 0; i < batch.lines; i++) {
		assert_int_equal(batch.offsets[i], offset);
		assert_int_equal(batch.body[offset + batch.lengths[i] - 1], '\n');
		if (i > 0)
			assert_true(batch.ids[i] > batch.ids[i - 1]);
		size_t name_length = strcspn(batch.body + offset, " \n");
		assert_true(strlen(names) + name_length + 2 < sizeof(names));
		if (i > 0)
			strcat(names, " ");
		strncat(names, batch.body + offset, name_length);
		offset += batch.lengths[i];
	}
	assert_int_equal(offset, batch.length);
	spool_batch_free(&batch);
	assert_string_equal(names, expected);
}

static void test_order_and_batches(void **state)
{
	struct fixture *fixture = *state;
	struct state *db;
	struct spool *spool;
	struct spool_batch batch;
	open_both(fixture, 0, &db, &spool);
	assert_int_equal(spool_pending(spool), 0);
	assert_int_equal(spool_peek(spool, 10, 0, &batch), 0);
	assert_int_equal(batch.lines, 0);
	spool_batch_free(&batch);

	char *first[] = { "a v=1i 60\n", "b v=2i 60\n", "c v=3i 60\n" };
	char *second[] = { "d v=4i 120\n", "e v=5i 120" }; /* no newline: the spool adds one */
	assert_int_equal(spool_append(spool, first, 3), 0);
	assert_int_equal(spool_append(spool, second, 2), 0);
	assert_int_equal(spool_pending(spool), 5);
	struct spool_counters counters = spool_counters(spool);
	assert_int_equal(counters.pending, 5);
	assert_int_equal(counters.bytes, 3 * 10 + 11 + 10);

	/* Oldest first, at most max_lines. */
	assert_int_equal(spool_peek(spool, 2, 0, &batch), 0);
	assert_int_equal(batch.lines, 2);
	assert_string_equal(batch.body, "a v=1i 60\nb v=2i 60\n");
	assert_int_equal(batch.length, strlen(batch.body));
	assert_int_equal(batch.offsets[1], 10);
	assert_int_equal(batch.lengths[1], 10);
	assert_true(batch.ids[0] < batch.ids[1]);
	spool_batch_free(&batch);

	/* At most max_bytes of body: the third line would make 30 > 29. */
	assert_int_equal(spool_peek(spool, 10, 29, &batch), 0);
	assert_int_equal(batch.lines, 2);
	assert_int_equal(batch.length, 20);
	spool_batch_free(&batch);
	assert_int_equal(spool_peek(spool, 10, 30, &batch), 0);
	assert_int_equal(batch.lines, 3);
	spool_batch_free(&batch);
	/* At least one line, whatever its size. */
	assert_int_equal(spool_peek(spool, 10, 3, &batch), 0);
	assert_int_equal(batch.lines, 1);
	assert_string_equal(batch.body, "a v=1i 60\n");
	spool_batch_free(&batch);

	/* The added newline counts in the body and the line's length. */
	assert_int_equal(spool_peek(spool, 10, 0, &batch), 0);
	assert_int_equal(batch.lines, 5);
	assert_string_equal(batch.body, "a v=1i 60\nb v=2i 60\nc v=3i 60\nd v=4i 120\ne v=5i 120\n");
	assert_int_equal(batch.offsets[4], 41);
	assert_int_equal(batch.lengths[4], 11);
	assert_int_equal(batch.length, 52);
	spool_batch_free(&batch);
	assert_int_equal(spool_peek(spool, 10, 51, &batch), 0);
	assert_int_equal(batch.lines, 4);
	spool_batch_free(&batch);

	/* Peeking takes nothing away. */
	assert_int_equal(spool_pending(spool), 5);
	assert_int_equal(spool_peek(spool, 0, 0, &batch), -EINVAL);
	close_both(db, spool);
}

static void test_remove_by_ids(void **state)
{
	struct fixture *fixture = *state;
	struct state *db;
	struct spool *spool;
	struct spool_batch batch;
	open_both(fixture, 0, &db, &spool);
	char *lines[] = { "a v=1i\n", "b v=2i\n", "c v=3i\n", "d v=4i\n", "e v=5i\n", "f v=6i\n" };
	assert_int_equal(spool_append(spool, lines, 6), 0);
	assert_int_equal(spool_counters(spool).bytes, 42);

	/* The store took b and d of a batch: exactly those leave. */
	assert_int_equal(spool_peek(spool, 6, 0, &batch), 0);
	int64_t taken[] = { batch.ids[1], batch.ids[3] };
	int64_t first_id = batch.ids[0];
	spool_batch_free(&batch);
	assert_int_equal(spool_remove(spool, taken, 2), 0);
	assert_names(spool, "a c e f");
	assert_int_equal(spool_pending(spool), 4);
	assert_int_equal(spool_counters(spool).bytes, 28);

	/* Ids no longer there count for nothing; the rest are removed. */
	int64_t again[] = { taken[0], first_id, taken[1] };
	assert_int_equal(spool_remove(spool, again, 3), 0);
	assert_names(spool, "c e f");
	assert_int_equal(spool_pending(spool), 3);
	assert_int_equal(spool_counters(spool).bytes, 21);
	assert_int_equal(spool_remove(spool, NULL, 0), 0);
	assert_int_equal(query_int(state_database(db), "SELECT count(*) FROM spool"), 3);
	close_both(db, spool);
}

static void test_set_aside(void **state)
{
	struct fixture *fixture = *state;
	struct state *db;
	struct spool *spool;
	struct spool_batch batch;
	open_both(fixture, 0, &db, &spool);
	sqlite3 *database = state_database(db);
	char *lines[] = { "good v=1i\n", "bad v=\n", "worse v=,\n" };
	assert_int_equal(spool_append(spool, lines, 3), 0);
	assert_int_equal(spool_peek(spool, 3, 0, &batch), 0);
	int64_t bad = batch.ids[1], worse = batch.ids[2];
	spool_batch_free(&batch);

	time_t before = time(NULL);
	assert_int_equal(spool_set_aside(spool, bad, 400, "{\"error\":\"unable to parse 'bad v='\"}"), 0);
	time_t after = time(NULL);
	assert_int_equal(spool_set_aside(spool, worse, 422, NULL), 0);
	assert_names(spool, "good");
	struct spool_counters counters = spool_counters(spool);
	assert_int_equal(counters.pending, 1);
	assert_int_equal(counters.bytes, 10);
	assert_int_equal(counters.rejected, 2);

	sqlite3_stmt *statement = NULL;
	assert_int_equal(sqlite3_prepare_v2(database, "SELECT line, status, answer, at FROM rejected ORDER BY id", -1,
	                                    &statement, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(statement), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(statement, 0), "bad v=\n");
	assert_int_equal(sqlite3_column_int64(statement, 1), 400);
	assert_string_equal((const char *)sqlite3_column_text(statement, 2), "{\"error\":\"unable to parse 'bad v='\"}");
	assert_in_range(sqlite3_column_int64(statement, 3), before, after);
	assert_int_equal(sqlite3_step(statement), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(statement, 0), "worse v=,\n");
	assert_int_equal(sqlite3_column_int64(statement, 1), 422);
	assert_int_equal(sqlite3_column_type(statement, 2), SQLITE_NULL);
	assert_int_equal(sqlite3_step(statement), SQLITE_DONE);
	sqlite3_finalize(statement);

	/* A line no longer in the spool (the bound dropped it meanwhile):
	 * nothing changes, and nothing to try again. */
	assert_int_equal(spool_set_aside(spool, bad, 400, "again"), 0);
	assert_int_equal(query_int(database, "SELECT count(*) FROM rejected"), 2);
	assert_int_equal(spool_counters(spool).rejected, 2);
	assert_int_equal(spool_pending(spool), 1);
	assert_true(sqlite3_get_autocommit(database));
	close_both(db, spool);
}

static void test_bound_drops_oldest_and_warns_once_per_episode(void **state)
{
	struct fixture *fixture = *state;
	struct state *db;
	struct spool *spool;
	struct spool_batch batch;
	/* Room for five lines of 20 bytes. */
	open_both(fixture, 100, &db, &spool);
	const char *names[] = { "a", "b", "c", "d", "e" };
	for (size_t i = 0; i < 5; i++)
		append_one(spool, names[i], 20);
	assert_int_equal(spool_counters(spool).bytes, 100);
	assert_int_equal(spool_counters(spool).dropped, 0);
	assert_false(spool_take_drop_warning(spool));

	append_one(spool, "f", 20);
	assert_names(spool, "b c d e f");
	struct spool_counters counters = spool_counters(spool);
	assert_int_equal(counters.dropped, 1);
	assert_int_equal(counters.bytes, 100);
	assert_int_equal(counters.pending, 5);
	assert_true(spool_take_drop_warning(spool));
	assert_false(spool_take_drop_warning(spool));

	/* The same episode: counted, no second warning. */
	append_one(spool, "g", 30);
	assert_names(spool, "d e f g");
	assert_int_equal(spool_counters(spool).dropped, 3);
	assert_int_equal(spool_counters(spool).bytes, 90);
	assert_false(spool_take_drop_warning(spool));
	assert_int_equal(query_int(state_database(db), "SELECT total(length(line)) FROM spool"), 90);

	/* A removal that leaves 90 bytes (not below 90%) keeps the episode
	 * on: the store took only the newest line. */
	append_one(spool, "h", 10);
	assert_int_equal(spool_peek(spool, 5, 0, &batch), 0);
	assert_int_equal(batch.lines, 5);
	assert_int_equal(spool_remove(spool, &batch.ids[4], 1), 0);
	spool_batch_free(&batch);
	assert_int_equal(spool_counters(spool).bytes, 90);
	append_one(spool, "i", 20);
	assert_names(spool, "e f g i");
	assert_int_equal(spool_counters(spool).dropped, 4);
	assert_int_equal(spool_counters(spool).bytes, 90);
	assert_false(spool_take_drop_warning(spool));

	/* The store catches up: below 90% ends the episode; filling up again
	 * starts a new one, with its warning. */
	assert_int_equal(spool_peek(spool, 2, 0, &batch), 0);
	assert_int_equal(spool_remove(spool, batch.ids, 2), 0);
	spool_batch_free(&batch);
	assert_int_equal(spool_counters(spool).bytes, 50);
	append_one(spool, "k", 20);
	append_one(spool, "k", 20);
	assert_int_equal(spool_counters(spool).bytes, 90);
	assert_false(spool_take_drop_warning(spool));
	append_one(spool, "l", 20);
	assert_names(spool, "i k k l");
	assert_int_equal(spool_counters(spool).dropped, 5);
	assert_int_equal(spool_counters(spool).bytes, 80);
	assert_true(spool_take_drop_warning(spool));
	assert_false(spool_take_drop_warning(spool));
	close_both(db, spool);
}

/* A batch on its way to the store is in the forwarder's memory: the bound
 * may drop its rows from the table, but they count as dropped only if the
 * batch ends without the store taking them. */
static void test_drops_of_a_batch_in_flight(void **state)
{
	struct fixture *fixture = *state;
	struct state *database;
	struct spool *spool;
	open_both(fixture, 1000, &database, &spool);
	const char *names[] = { "a", "b", "c", "d", "e" };
	for (size_t i = 0; i < 5; i++)
		append_one(spool, names[i], 200);
	struct spool_batch batch;
	assert_int_equal(spool_peek(spool, 3, 0, &batch), 0);
	assert_int_equal(batch.lines, 3);
	/* f and g push a, b out: both in flight. */
	append_one(spool, "f", 200);
	append_one(spool, "g", 200);
	assert_int_equal(spool_counters(spool).pending, 5);
	assert_int_equal(spool_counters(spool).dropped, 0);
	assert_false(spool_take_drop_warning(spool));
	/* The store took the batch: nothing was lost. */
	assert_int_equal(spool_remove(spool, batch.ids, batch.lines), 0);
	spool_batch_free(&batch);
	assert_int_equal(spool_counters(spool).dropped, 0);
	assert_int_equal(spool_counters(spool).bytes, 800);

	/* This batch (d, e) never gets stored: i and j drop it (h fits), and
	 * once the next batch is peeked it counts, with one warning. */
	assert_int_equal(spool_peek(spool, 2, 0, &batch), 0);
	append_one(spool, "h", 200);
	append_one(spool, "i", 200);
	append_one(spool, "j", 200);
	assert_int_equal(spool_counters(spool).dropped, 0);
	assert_false(spool_take_drop_warning(spool));
	spool_batch_free(&batch);
	assert_int_equal(spool_peek(spool, 10, 0, &batch), 0);
	assert_int_equal(spool_counters(spool).dropped, 2);
	assert_true(spool_take_drop_warning(spool));
	assert_int_equal(batch.lines, 5);   /* f g h i j */

	/* Rows outside the batch in flight count at once: with f in flight,
	 * k drops f (on its way) and l drops g (not). */
	spool_batch_free(&batch);
	assert_int_equal(spool_peek(spool, 1, 0, &batch), 0);
	append_one(spool, "k", 200);
	append_one(spool, "l", 200);
	assert_int_equal(spool_counters(spool).dropped, 3);
	assert_int_equal(spool_remove(spool, batch.ids, batch.lines), 0);
	assert_int_equal(spool_counters(spool).dropped, 3);
	assert_names(spool, "h i j k l");
	spool_batch_free(&batch);
	close_both(database, spool);
}

static void test_append_larger_than_bound(void **state)
{
	struct fixture *fixture = *state;
	struct state *db;
	struct spool *spool;
	open_both(fixture, 100, &db, &spool);
	append_one(spool, "old1", 20);
	append_one(spool, "old2", 20);

	/* Seven lines of 20 bytes into 100: the newest five stay, the older
	 * two and everything already there go. */
	char *lines[7];
	char name[8];
	for (int i = 0; i < 7; i++) {
		snprintf(name, sizeof(name), "n%d", i + 1);
		lines[i] = make_line(name, 20);
	}
	assert_int_equal(spool_append(spool, lines, 7), 0);
	for (int i = 0; i < 7; i++)
		free(lines[i]);
	assert_names(spool, "n3 n4 n5 n6 n7");
	struct spool_counters counters = spool_counters(spool);
	assert_int_equal(counters.dropped, 4);
	assert_int_equal(counters.bytes, 100);
	assert_int_equal(counters.pending, 5);
	assert_int_equal(counters.held, 0);
	assert_true(spool_take_drop_warning(spool));

	/* One line that can never fit goes alone; it evicts nothing. */
	append_one(spool, "huge", 150);
	assert_names(spool, "n3 n4 n5 n6 n7");
	assert_int_equal(spool_counters(spool).dropped, 5);
	assert_int_equal(spool_pending(spool), 5);
	close_both(db, spool);
}

static void test_reopen_keeps_lines_bytes_and_rejected(void **state)
{
	struct fixture *fixture = *state;
	struct state *db;
	struct spool *spool;
	struct spool_batch batch;
	open_both(fixture, 1000, &db, &spool);
	/* Bytes, not characters: Å and ö are two bytes each in UTF-8. */
	char *lines[] = { "lux,district=Årby v=1 60\n", "lux,district=Fröslunda v=2 60\n", "lux,district=Nyfors v=3 60\n" };
	uint64_t bytes = strlen(lines[0]) + strlen(lines[1]) + strlen(lines[2]);
	assert_int_equal(spool_append(spool, lines, 3), 0);
	assert_int_equal(spool_counters(spool).bytes, bytes);
	assert_int_equal(spool_peek(spool, 1, 0, &batch), 0);
	assert_int_equal(spool_set_aside(spool, batch.ids[0], 400, "no"), 0);
	spool_batch_free(&batch);
	bytes -= strlen(lines[0]);
	append_one(spool, "huge", 2000); /* dropped: counts this run only */
	assert_int_equal(spool_counters(spool).dropped, 1);
	close_both(db, spool);

	/* A restart: the lines, their bytes and the rejected count are read
	 * back; the per-run counters start again. */
	open_both(fixture, 1000, &db, &spool);
	struct spool_counters counters = spool_counters(spool);
	assert_int_equal(counters.pending, 2);
	assert_int_equal(counters.bytes, bytes);
	assert_int_equal(counters.rejected, 1);
	assert_int_equal(counters.dropped, 0);
	assert_int_equal(counters.write_failures, 0);
	assert_int_equal(counters.held, 0);
	assert_int_equal(spool_peek(spool, 10, 0, &batch), 0);
	assert_string_equal(batch.body, "lux,district=Fröslunda v=2 60\nlux,district=Nyfors v=3 60\n");
	spool_batch_free(&batch);
	close_both(db, spool);
}

static void test_sequence_survives_reopen(void **state)
{
	struct fixture *fixture = *state;
	struct state *db;
	struct spool *spool;
	uint64_t seq = 99;
	open_both(fixture, 0, &db, &spool);
	assert_int_equal(state_sequence_load(db, &seq), 0);
	assert_int_equal(seq, 0);
	assert_int_equal(state_sequence_store(db, 41), 0);
	assert_int_equal(state_sequence_store(db, 42), 0);
	close_both(db, spool);

	/* The sequence goes on from the last number used. */
	open_both(fixture, 0, &db, &spool);
	assert_int_equal(state_sequence_load(db, &seq), 0);
	assert_int_equal(seq, 42);
	close_both(db, spool);
}

static void test_failed_write_holds_lines_in_order(void **state)
{
	struct fixture *fixture = *state;
	struct state *db;
	struct spool *spool;
	open_both(fixture, 0, &db, &spool);
	sqlite3 *database = state_database(db);
	append_one(spool, "a", 30);
	append_one(spool, "b", 30);

	refuse_writes(database);
	char *refused[] = { make_line("c", BIG_LINE), make_line("d", BIG_LINE) };
	assert_int_equal(spool_append(spool, refused, 2), 0);
	free(refused[0]);
	free(refused[1]);
	struct spool_counters counters = spool_counters(spool);
	assert_int_equal(counters.held, 2);
	assert_int_equal(counters.write_failures, 1);
	assert_int_equal(counters.pending, 2);
	assert_int_equal(counters.bytes, 60);
	assert_int_equal(counters.dropped, 0);
	assert_int_equal(spool_pending(spool), 4);
	/* Held lines are not in the database, so not sent yet. */
	assert_names(spool, "a b");
	/* No transaction left open: the sequence number can still be
	 * recorded (it fits its page). */
	assert_true(sqlite3_get_autocommit(database));
	assert_int_equal(state_sequence_store(db, 7), 0);

	/* Still refused: retry says so and keeps the lines. */
	assert_int_equal(spool_retry(spool), -EIO);
	assert_int_equal(spool_counters(spool).held, 2);

	/* The next append writes the held lines first. */
	allow_writes(database);
	append_one(spool, "e", 30);
	assert_names(spool, "a b c d e");
	counters = spool_counters(spool);
	assert_int_equal(counters.held, 0);
	assert_int_equal(counters.pending, 5);
	assert_int_equal(counters.bytes, 90 + 2 * BIG_LINE);
	assert_int_equal(counters.write_failures, 1);
	assert_int_equal(spool_pending(spool), 5);
	assert_int_equal(spool_retry(spool), 0);
	assert_false(spool_take_drop_warning(spool));
	close_both(db, spool);
}

static void test_retry_writes_held_lines_alone(void **state)
{
	struct fixture *fixture = *state;
	struct state *db;
	struct spool *spool;
	open_both(fixture, 0, &db, &spool);
	sqlite3 *database = state_database(db);
	append_one(spool, "a", 30);
	refuse_writes(database);
	append_one(spool, "b", BIG_LINE);
	append_one(spool, "c", BIG_LINE);
	assert_int_equal(spool_counters(spool).write_failures, 2);
	assert_int_equal(spool_counters(spool).held, 2);
	allow_writes(database);
	assert_int_equal(spool_retry(spool), 0);
	assert_names(spool, "a b c");
	assert_int_equal(spool_counters(spool).held, 0);
	assert_int_equal(spool_counters(spool).pending, 3);
	close_both(db, spool);
}

/* Here the database refuses through a trigger, not a page limit: the
 * drops free pages that the insert in the same transaction would take. */
static void test_failed_write_undoes_its_drops(void **state)
{
	struct fixture *fixture = *state;
	struct state *db;
	struct spool *spool;
	open_both(fixture, 60, &db, &spool);
	sqlite3 *database = state_database(db);
	append_one(spool, "a", 20);
	append_one(spool, "b", 20);
	append_one(spool, "c", 20);

	/* d would drop a; refused after the drop, a stays and is not
	 * counted. */
	assert_int_equal(sqlite3_exec(database,
	                              "CREATE TEMP TRIGGER refuse BEFORE INSERT ON spool "
	                              "BEGIN SELECT RAISE(ABORT, 'refused'); END",
	                              NULL, NULL, NULL), SQLITE_OK);
	append_one(spool, "d", 20);
	assert_true(sqlite3_get_autocommit(database));
	assert_names(spool, "a b c");
	struct spool_counters counters = spool_counters(spool);
	assert_int_equal(counters.dropped, 0);
	assert_int_equal(counters.held, 1);
	assert_int_equal(counters.write_failures, 1);
	assert_int_equal(counters.bytes, 60);
	assert_false(spool_take_drop_warning(spool));

	assert_int_equal(sqlite3_exec(database, "DROP TRIGGER temp.refuse", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(spool_retry(spool), 0);
	assert_names(spool, "b c d");
	counters = spool_counters(spool);
	assert_int_equal(counters.dropped, 1);
	assert_int_equal(counters.held, 0);
	assert_int_equal(counters.bytes, 60);
	assert_true(spool_take_drop_warning(spool));
	close_both(db, spool);
}

static void test_held_lines_are_bounded(void **state)
{
	struct fixture *fixture = *state;
	struct state *db;
	struct spool *spool;
	open_both(fixture, 0, &db, &spool);
	sqlite3 *database = state_database(db);
	refuse_writes(database);
	/* Five lines of a quarter of the bound: the fifth pushes the oldest
	 * out. */
	const size_t length = SPOOL_HELD_MAX_BYTES / 4;
	const char *names[] = { "h1", "h2", "h3", "h4", "h5" };
	for (size_t i = 0; i < 4; i++)
		append_one(spool, names[i], length);
	assert_int_equal(spool_counters(spool).held, 4);
	assert_int_equal(spool_counters(spool).dropped, 0);
	assert_false(spool_take_drop_warning(spool));
	append_one(spool, names[4], length);
	struct spool_counters counters = spool_counters(spool);
	assert_int_equal(counters.held, 4);
	assert_int_equal(counters.dropped, 1);
	assert_int_equal(counters.write_failures, 5);
	assert_int_equal(spool_pending(spool), 4);
	assert_true(spool_take_drop_warning(spool));

	allow_writes(database);
	assert_int_equal(spool_retry(spool), 0);
	assert_names(spool, "h2 h3 h4 h5");
	assert_int_equal(spool_counters(spool).bytes, 4 * length);
	close_both(db, spool);
}

static void test_database_from_before_rejected(void **state)
{
	struct fixture *fixture = *state;
	struct state *db;
	struct spool *spool;
	char path[256];
	sqlite3 *old = NULL;
	/* A database as tryggd made it before the rejected table. */
	snprintf(path, sizeof(path), "%s/var", fixture->directory);
	assert_int_equal(mkdir(path, 0750), 0);
	assert_int_equal(mkdir(fixture->state_dir, 0750), 0);
	snprintf(path, sizeof(path), "%s/tryggd.db", fixture->state_dir);
	assert_int_equal(sqlite3_open(path, &old), SQLITE_OK);
	assert_int_equal(sqlite3_exec(old,
	                              "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	                              "INSERT INTO meta (key, value) VALUES ('sequence', 5);"
	                              "CREATE TABLE spool (id INTEGER PRIMARY KEY AUTOINCREMENT, line TEXT NOT NULL);"
	                              "INSERT INTO spool (line) VALUES ('old v=1i 60\n');",
	                              NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(old);

	open_both(fixture, 0, &db, &spool);
	assert_int_equal(spool_pending(spool), 1);
	assert_int_equal(spool_counters(spool).bytes, 12);
	assert_int_equal(spool_counters(spool).rejected, 0);
	struct spool_batch batch;
	assert_int_equal(spool_peek(spool, 10, 0, &batch), 0);
	assert_string_equal(batch.body, "old v=1i 60\n");
	assert_int_equal(spool_set_aside(spool, batch.ids[0], 400, "no"), 0);
	spool_batch_free(&batch);
	assert_int_equal(spool_counters(spool).rejected, 1);
	uint64_t seq = 0;
	assert_int_equal(state_sequence_load(db, &seq), 0);
	assert_int_equal(seq, 5);
	close_both(db, spool);
}

static void test_state_dir_that_cannot_be_made(void **state)
{
	struct fixture *fixture = *state;
	char path[256], err[256] = "";
	struct state *db = NULL;
	/* A file where a directory should be. */
	snprintf(path, sizeof(path), "%s/file", fixture->directory);
	FILE *file = fopen(path, "w");
	assert_non_null(file);
	fclose(file);
	snprintf(path, sizeof(path), "%s/file/tryggd", fixture->directory);
	int r = state_open(path, &db, err, sizeof(err));
	assert_true(r < 0);
	assert_null(db);
	assert_non_null(strstr(err, "cannot create"));
	assert_non_null(strstr(err, "/file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_and_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_by_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_drops_oldest_and_warns_once_per_episode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drops_of_a_batch_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_larger_than_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_keeps_lines_bytes_and_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sequence_survives_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_write_holds_lines_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_writes_held_lines_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_write_undoes_its_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_lines_are_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_database_from_before_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_dir_that_cannot_be_made, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
