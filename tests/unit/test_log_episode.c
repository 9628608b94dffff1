/* test_log_episode.c — a failure said once an episode (log_episode.h):
 * the first failure at its level, the repeats at debug only, the end with
 * its count; and a disk that takes a write now and then, whose episodes
 * begin and end every few seconds, said at most once a quiet period, and
 * a failure that began within one said once it is over.
 *
 * What log_message() writes to stderr is caught in a temporary file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log_episode.h"

#define SECOND UINT64_C(1000000)

struct capture {
	FILE *file;
	int saved_stderr;
};

static int capture_setup(void **state)
{
	struct capture *capture = calloc(1, sizeof(*capture));
	if (!capture || !(capture->file = tmpfile()))
		return -1;
	fflush(stderr);
	capture->saved_stderr = dup(STDERR_FILENO);
	if (capture->saved_stderr < 0 || dup2(fileno(capture->file), STDERR_FILENO) < 0)
		return -1;
	unsetenv("TRYGGD_DEBUG");
	unsetenv("JOURNAL_STREAM");
	*state = capture;
	return 0;
}

static int capture_teardown(void **state)
{
	struct capture *capture = *state;
	fflush(stderr);
	dup2(capture->saved_stderr, STDERR_FILENO);
	close(capture->saved_stderr);
	fclose(capture->file);
	free(capture);
	return 0;
}

/* What was logged since the last call, each line without its time:
 * "LEVEL: MESSAGE" or "MESSAGE" for info and debug, joined by '|'. */
static const char *logged(struct capture *capture)
{
	static char text[4096];
	char line[1024];
	fflush(stderr);
	rewind(capture->file);
	text[0] = '\0';
	while (fgets(line, sizeof(line), capture->file)) {
		line[strcspn(line, "\n")] = '\0';
		const char *start = strstr(line, "tryggd: ");
		assert_non_null(start);
		if (text[0])
			strcat(text, "|");
		strncat(text, start + strlen("tryggd: "), sizeof(text) - strlen(text) - 1);
	}
	assert_int_equal(ftruncate(fileno(capture->file), 0), 0);
	rewind(capture->file);
	return text;
}

static void test_once_an_episode(void **state)
{
	struct capture *capture = *state;
	struct log_episode episode = { 0 };
	log_episode_ended(&episode, "works");
	assert_string_equal(logged(capture), "");

	uint64_t now = 1000 * SECOND;
	log_episode_failed(&episode, now, LOG_LEVEL_ERROR, "cannot %s", "write");
	assert_true(log_episode_failing(&episode));
	for (int i = 0; i < 1000; i++)
		log_episode_failed(&episode, now + (uint64_t)i * SECOND, LOG_LEVEL_ERROR, "cannot %s", "write");
	assert_string_equal(logged(capture), "error: cannot write");
	log_episode_ended(&episode, "writes %s", "again");
	assert_false(log_episode_failing(&episode));
	assert_string_equal(logged(capture), "writes again, after 1001 failures");
	log_episode_ended(&episode, "writes again");
	assert_string_equal(logged(capture), "");

	/* With -v the repeats are there, counted. */
	setenv("TRYGGD_DEBUG", "1", 1);
	now += 2000 * SECOND;
	log_episode_failed(&episode, now, LOG_LEVEL_WARNING, "full");
	log_episode_failed(&episode, now, LOG_LEVEL_WARNING, "full");
	log_episode_ended(&episode, "room");
	unsetenv("TRYGGD_DEBUG");
	assert_string_equal(logged(capture), "warning: full|full (again: 2 failures so far)|room, after 2 failures");
}

static void test_flapping(void **state)
{
	struct capture *capture = *state;
	struct log_episode episode = { 0 };
	uint64_t start = 5 * SECOND;
	/* A nearly full disk: a failure, a success, every second, for two
	 * and a half minutes.  Said at the start of each quiet period, and
	 * ended once after each; the count of each end takes what was not
	 * said. */
	for (uint64_t second = 0; second < 150; second++) {
		log_episode_failed(&episode, start + second * SECOND, LOG_LEVEL_ERROR, "refused");
		log_episode_ended(&episode, "takes it");
	}
	assert_string_equal(logged(capture), "error: refused|takes it, after 1 failure|"
	                                     "error: refused|takes it, after 60 failures|"
	                                     "error: refused|takes it, after 60 failures");
	/* 29 failures not said since (seconds 121 to 149).  A failure that
	 * begins within the quiet period and goes on is said once the period
	 * is over, with everything since the last end said in its count. */
	uint64_t now = start + 150 * SECOND;
	log_episode_failed(&episode, now, LOG_LEVEL_ERROR, "refused");
	log_episode_failed(&episode, now + 29 * SECOND, LOG_LEVEL_ERROR, "refused");
	assert_string_equal(logged(capture), "");
	log_episode_failed(&episode, now + 31 * SECOND, LOG_LEVEL_ERROR, "refused");
	assert_string_equal(logged(capture), "error: refused");
	log_episode_failed(&episode, now + 40 * SECOND, LOG_LEVEL_ERROR, "refused");
	log_episode_ended(&episode, "takes it");
	assert_string_equal(logged(capture), "takes it, after 33 failures");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_once_an_episode, capture_setup, capture_teardown),
		cmocka_unit_test_setup_teardown(test_flapping, capture_setup, capture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
