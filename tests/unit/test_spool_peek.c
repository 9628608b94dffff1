/* test_spool_peek.c — reading the spool ahead (spool_peek_after) and
 * sending what was read ahead (spool_extend_flight): a batch read after
 * the one in flight is not in flight itself, so the bound's drops of its
 * lines count at once, and it can no longer be sent as if whole; once it
 * extends the flight, its lines dropped by the bound count only if the
 * store never takes them, as for a batch peeked. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "spool.h"
#include "state.h"

struct fixture {
	char directory[64];
	struct state *state;
	struct spool *spool;
};

/* A spool of 1000 bytes: five lines of 200. */
static int setup(void **state)
{
	struct fixture *fixture = calloc(1, sizeof(*fixture));
	char err[256] = "";
	if (!fixture)
		return -1;
	strcpy(fixture->directory, "/tmp/test_spool_peek.XXXXXX");
	if (!mkdtemp(fixture->directory))
		return -1;
	if (state_open(fixture->directory, &fixture->state, err, sizeof(err)) < 0 ||
	    spool_open(state_database(fixture->state), 1000, &fixture->spool) < 0)
		return -1;
	*state = fixture;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fixture = *state;
	char command[128];
	spool_close(fixture->spool);
	state_close(fixture->state);
	snprintf(command, sizeof(command), "rm -rf '%s'", fixture->directory);
	int rc = system(command);
	free(fixture);
	return rc == 0 ? 0 : -1;
}

/* A line of 200 bytes, '\n' included: name, a space, then 'x'. */
static void append(struct spool *spool, const char *names)
{
	for (const char *name = names; *name; name++) {
		if (*name == ' ')
			continue;
		char text[201];
		text[0] = *name;
		text[1] = ' ';
		memset(text + 2, 'x', 197);
		text[199] = '\n';
		text[200] = '\0';
		char *line = text;
		assert_int_equal(spool_append(spool, &line, 1), 0);
	}
}

/* The first letters of the batch's lines: "cd". */
static void assert_batch(const struct spool_batch *batch, const char *expected)
{
	char names[32] = "";
	assert_true(batch->lines < sizeof(names));
	for (size_t i = 0; i < batch->lines; i++)
		names[i] = batch->body[batch->offsets[i]];
	names[batch->lines] = '\0';
	assert_string_equal(names, expected);
}

/* The first letters of the table's lines, read without the spool (a peek
 * would end the flight). */
static void assert_table(struct fixture *fixture, const char *expected)
{
	sqlite3_stmt *statement = NULL;
	char names[32] = "";
	size_t count = 0;
	assert_int_equal(sqlite3_prepare_v2(state_database(fixture->state), "SELECT line FROM spool ORDER BY id", -1,
	                                    &statement, NULL),
	                 SQLITE_OK);
	while (sqlite3_step(statement) == SQLITE_ROW && count + 1 < sizeof(names))
		names[count++] = (char)sqlite3_column_text(statement, 0)[0];
	sqlite3_finalize(statement);
	assert_string_equal(names, expected);
}

static uint64_t dropped(struct fixture *fixture)
{
	return spool_counters(fixture->spool).dropped;
}

static void test_peek_after_reads_on(void **state)
{
	struct fixture *fixture = *state;
	struct spool_batch in_flight, ahead;
	append(fixture->spool, "abcde");
	assert_int_equal(spool_peek(fixture->spool, 2, 0, &in_flight), 0);
	assert_batch(&in_flight, "ab");
	int64_t last = in_flight.ids[1];

	assert_int_equal(spool_peek_after(fixture->spool, last, 2, 0, &ahead), 0);
	assert_batch(&ahead, "cd");
	assert_true(ahead.ids[0] > last);
	int64_t after_d = ahead.ids[1];
	spool_batch_free(&ahead);
	/* At most max_bytes (at least one line), at most max_lines. */
	assert_int_equal(spool_peek_after(fixture->spool, last, 10, 399, &ahead), 0);
	assert_batch(&ahead, "c");
	spool_batch_free(&ahead);
	assert_int_equal(spool_peek_after(fixture->spool, last, 10, 0, &ahead), 0);
	assert_batch(&ahead, "cde");
	assert_int_equal(ahead.length, 600);
	int64_t after_e = ahead.ids[2];
	spool_batch_free(&ahead);
	assert_int_equal(spool_peek_after(fixture->spool, after_e, 10, 0, &ahead), 0);
	assert_int_equal(ahead.lines, 0);
	spool_batch_free(&ahead);
	assert_int_equal(spool_peek_after(fixture->spool, last, 0, 0, &ahead), -EINVAL);
	assert_int_equal(spool_pending(fixture->spool), 5);

	/* Reading ahead left a and b in flight: f and g drop them, and they
	 * count only if the store never takes them.  It took them. */
	assert_int_equal(spool_peek_after(fixture->spool, last, 2, 0, &ahead), 0);
	append(fixture->spool, "fg");
	assert_int_equal(dropped(fixture), 0);
	/* c, read ahead, is not in flight: dropped and counted at once. */
	append(fixture->spool, "h");
	assert_int_equal(dropped(fixture), 1);
	assert_table(fixture, "defgh");
	/* So c d can no longer go out as they were read. */
	assert_int_equal(spool_extend_flight(fixture->spool, &ahead), 0);
	assert_int_equal(spool_remove(fixture->spool, in_flight.ids, in_flight.lines), 0);
	assert_int_equal(dropped(fixture), 1);
	spool_batch_free(&ahead);
	spool_batch_free(&in_flight);
	/* The next peek ends the flight: a and b were not lost. */
	assert_int_equal(spool_peek(fixture->spool, 10, 0, &in_flight), 0);
	assert_batch(&in_flight, "defgh");
	assert_int_equal(dropped(fixture), 1);
	assert_int_equal(in_flight.ids[0], after_d);
	spool_batch_free(&in_flight);
}

static void test_extend_flight(void **state)
{
	struct fixture *fixture = *state;
	struct spool_batch in_flight, ahead;
	append(fixture->spool, "abcde");
	assert_int_equal(spool_peek(fixture->spool, 2, 0, &in_flight), 0);
	assert_int_equal(spool_peek_after(fixture->spool, in_flight.ids[1], 2, 0, &ahead), 0);
	assert_int_equal(spool_extend_flight(fixture->spool, &ahead), 1);

	/* f g h drop a b c: all on their way, none counted. */
	append(fixture->spool, "fgh");
	assert_table(fixture, "defgh");
	assert_int_equal(dropped(fixture), 0);
	assert_false(spool_take_drop_warning(fixture->spool));
	/* The store took both batches (the first removed after the second
	 * went out): nothing was lost. */
	assert_int_equal(spool_remove(fixture->spool, ahead.ids, ahead.lines), 0);
	assert_int_equal(spool_remove(fixture->spool, in_flight.ids, in_flight.lines), 0);
	assert_int_equal(dropped(fixture), 0);
	assert_table(fixture, "efgh");
	assert_int_equal(spool_counters(fixture->spool).bytes, 800);
	spool_batch_free(&ahead);
	spool_batch_free(&in_flight);

	/* e in flight, f read ahead and sent too; i fits, j k drop e and f.
	 * The store never takes them (a stop): both lost, counted then. */
	assert_int_equal(spool_peek(fixture->spool, 1, 0, &in_flight), 0);
	assert_batch(&in_flight, "e");
	assert_int_equal(spool_peek_after(fixture->spool, in_flight.ids[0], 1, 0, &ahead), 0);
	assert_int_equal(spool_extend_flight(fixture->spool, &ahead), 1);
	append(fixture->spool, "ijk");
	assert_table(fixture, "ghijk");
	assert_int_equal(dropped(fixture), 0);
	spool_end_flight(fixture->spool);
	assert_int_equal(dropped(fixture), 2);
	assert_true(spool_take_drop_warning(fixture->spool));
	spool_batch_free(&ahead);
	spool_batch_free(&in_flight);

	/* Nothing in flight: nothing to extend. */
	assert_int_equal(spool_peek_after(fixture->spool, 0, 1, 0, &ahead), 0);
	assert_batch(&ahead, "g");
	assert_int_equal(spool_extend_flight(fixture->spool, &ahead), 0);
	spool_batch_free(&ahead);
	/* A batch that does not follow the one in flight (h lies between),
	 * or is empty, does not extend it. */
	assert_int_equal(spool_peek(fixture->spool, 1, 0, &in_flight), 0);
	assert_batch(&in_flight, "g");
	assert_int_equal(spool_peek_after(fixture->spool, in_flight.ids[0] + 1, 1, 0, &ahead), 0);
	assert_batch(&ahead, "i");
	assert_int_equal(spool_extend_flight(fixture->spool, &ahead), 0);
	spool_batch_free(&ahead);
	assert_int_equal(spool_peek_after(fixture->spool, INT64_MAX, 1, 0, &ahead), 0);
	assert_int_equal(spool_extend_flight(fixture->spool, &ahead), 0);
	spool_batch_free(&ahead);
	/* Unchanged: g alone is in flight.  l drops it, uncounted; m drops
	 * h, counted at once. */
	append(fixture->spool, "l");
	assert_int_equal(dropped(fixture), 2);
	append(fixture->spool, "m");
	assert_int_equal(dropped(fixture), 3);
	assert_table(fixture, "ijklm");
	spool_end_flight(fixture->spool);
	assert_int_equal(dropped(fixture), 4);
	spool_batch_free(&in_flight);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_peek_after_reads_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extend_flight, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
