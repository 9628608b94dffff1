/* test_spool.c — the state database: the spool keeps lines in order until
 * they are acknowledged, and both it and the sequence number survive a
 * close and reopen (a restart of tryggd). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "spool.h"
#include "state.h"

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

static void open_both(struct fixture *fixture, struct state **state, struct spool **spool)
{
	char err[256] = "";
	int r = state_open(fixture->state_dir, state, err, sizeof(err));
	if (r < 0)
		fail_msg("state_open: %s", err);
	assert_int_equal(spool_open(state_database(*state), spool), 0);
}

static void test_order_batches_and_ack(void **state)
{
	struct fixture *fixture = *state;
	struct state *db;
	struct spool *spool;
	struct spool_batch batch;
	open_both(fixture, &db, &spool);
	assert_int_equal(spool_pending(spool), 0);
	assert_int_equal(spool_peek(spool, 10, &batch), 0);
	assert_int_equal(batch.lines, 0);

	char *first[] = { "a v=1i 60\n", "b v=2i 60\n", "c v=3i 60\n" };
	char *second[] = { "d v=4i 120\n", "e v=5i 120" };   /* no newline: the spool adds one */
	assert_int_equal(spool_append(spool, first, 3), 0);
	assert_int_equal(spool_append(spool, second, 2), 0);
	assert_int_equal(spool_pending(spool), 5);

	/* Oldest first, at most max_lines. */
	assert_int_equal(spool_peek(spool, 2, &batch), 0);
	assert_int_equal(batch.lines, 2);
	assert_string_equal(batch.body, "a v=1i 60\nb v=2i 60\n");
	assert_int_equal(batch.length, strlen(batch.body));
	int64_t acked = batch.last_id;
	spool_batch_free(&batch);

	/* Peeking again without an ack gives the same lines: nothing leaves
	 * before the store said yes. */
	assert_int_equal(spool_peek(spool, 2, &batch), 0);
	assert_string_equal(batch.body, "a v=1i 60\nb v=2i 60\n");
	spool_batch_free(&batch);

	assert_int_equal(spool_ack(spool, acked), 0);
	assert_int_equal(spool_pending(spool), 3);
	assert_int_equal(spool_peek(spool, 100, &batch), 0);
	assert_int_equal(batch.lines, 3);
	assert_string_equal(batch.body, "c v=3i 60\nd v=4i 120\ne v=5i 120\n");
	spool_batch_free(&batch);

	spool_close(spool);
	state_close(db);
}

static void test_survives_reopen(void **state)
{
	struct fixture *fixture = *state;
	struct state *db;
	struct spool *spool;
	struct spool_batch batch;
	uint64_t seq = 99;

	open_both(fixture, &db, &spool);
	assert_int_equal(state_sequence_load(db, &seq), 0);
	assert_int_equal(seq, 0);
	char *lines[] = { "x v=1i 0\n", "y v=2i 0\n" };
	assert_int_equal(spool_append(spool, lines, 2), 0);
	assert_int_equal(spool_peek(spool, 1, &batch), 0);
	assert_int_equal(spool_ack(spool, batch.last_id), 0);
	spool_batch_free(&batch);
	assert_int_equal(state_sequence_store(db, 41), 0);
	assert_int_equal(state_sequence_store(db, 42), 0);
	spool_close(spool);
	state_close(db);

	/* A restart: what was not acknowledged is still there, and the
	 * sequence goes on from the last number used. */
	open_both(fixture, &db, &spool);
	assert_int_equal(spool_pending(spool), 1);
	assert_int_equal(spool_peek(spool, 10, &batch), 0);
	assert_string_equal(batch.body, "y v=2i 0\n");
	spool_batch_free(&batch);
	assert_int_equal(state_sequence_load(db, &seq), 0);
	assert_int_equal(seq, 42);
	spool_close(spool);
	state_close(db);
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
		cmocka_unit_test_setup_teardown(test_order_batches_and_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_survives_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_dir_that_cannot_be_made, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
