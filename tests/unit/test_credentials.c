/* test_credentials.c — secret files (credentials.c): where a name is
 * looked up ($CREDENTIALS_DIRECTORY first, then the config's directory),
 * how a password file is read (one line, one line ending dropped) and
 * every way one is refused. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "credentials.h"
#include "temp_tree.h"

struct fixture {
	char root[64];
	char config_dir[128];           /* ROOT/etc */
	char credentials_dir[128];      /* ROOT/credentials */
};

static int setup(void **state)
{
	struct fixture *fixture = calloc(1, sizeof(*fixture));
	if (!fixture || !temp_tree_make(fixture->root, sizeof(fixture->root), "/tmp/test_credentials.XXXXXX")) {
		free(fixture);
		return -1;
	}
	snprintf(fixture->config_dir, sizeof(fixture->config_dir), "%s/etc", fixture->root);
	snprintf(fixture->credentials_dir, sizeof(fixture->credentials_dir), "%s/credentials", fixture->root);
	unsetenv("CREDENTIALS_DIRECTORY");
	*state = fixture;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fixture = *state;
	unsetenv("CREDENTIALS_DIRECTORY");
	temp_tree_remove(fixture->root);
	free(fixture);
	return 0;
}

static void put(const char *directory, const char *name, const char *bytes, size_t size)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", directory, name);
	temp_tree_make_parent(path);
	temp_tree_write_bytes(path, bytes, size);
}

static void assert_located(const char *name, const char *directory, const char *expected)
{
	char *path = NULL;
	assert_int_equal(credential_locate(name, directory, &path), 0);
	assert_string_equal(path, expected);
	free(path);
}

static void test_locate(void **state)
{
	struct fixture *fixture = *state;
	char expected[PATH_MAX * 2];

	/* Absolute: as given, wherever it is. */
	assert_located("/no/such/file", fixture->config_dir, "/no/such/file");

	/* Relative, no $CREDENTIALS_DIRECTORY: the config's directory. */
	snprintf(expected, sizeof(expected), "%s/mqtt-password", fixture->config_dir);
	assert_located("mqtt-password", fixture->config_dir, expected);
	assert_located("mqtt-password", "/", "/mqtt-password");

	/* Set, and the file is there: there first, even when the config's
	 * directory has one too. */
	put(fixture->config_dir, "mqtt-password", "old\n", 4);
	put(fixture->credentials_dir, "mqtt-password", "new\n", 4);
	setenv("CREDENTIALS_DIRECTORY", fixture->credentials_dir, 1);
	snprintf(expected, sizeof(expected), "%s/mqtt-password", fixture->credentials_dir);
	assert_located("mqtt-password", fixture->config_dir, expected);

	/* Set, and the file is not there: the config's directory. */
	snprintf(expected, sizeof(expected), "%s/client.key", fixture->config_dir);
	assert_located("client.key", fixture->config_dir, expected);

	/* A relative $CREDENTIALS_DIRECTORY is no systemd's: not used. */
	setenv("CREDENTIALS_DIRECTORY", "credentials", 1);
	snprintf(expected, sizeof(expected), "%s/mqtt-password", fixture->config_dir);
	assert_located("mqtt-password", fixture->config_dir, expected);
}

/* The file's bytes read as the password: r, and the password when 0. */
static void assert_read(struct fixture *fixture, const char *bytes, size_t size, int r, const char *expected)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/password", fixture->config_dir);
	put(fixture->config_dir, "password", bytes, size);
	char *secret = (char *)"untouched";
	assert_int_equal(credential_read(path, &secret), r);
	if (r == 0)
		assert_string_equal(secret, expected);
	else
		assert_null(secret);
	credential_free(secret);
}

static void test_read_password(void **state)
{
	struct fixture *fixture = *state;
	assert_read(fixture, "s3cret\n", 7, 0, "s3cret");
	assert_read(fixture, "s3cret", 6, 0, "s3cret");
	assert_read(fixture, "s3cret\r\n", 8, 0, "s3cret");
	/* Only one line ending goes; blanks are the password's own. */
	assert_read(fixture, " with spaces \n", 14, 0, " with spaces ");
	assert_read(fixture, "p\xC3\xA5ss\n", 6, 0, "p\xC3\xA5ss");

	assert_read(fixture, "", 0, -ENODATA, NULL);
	assert_read(fixture, "\n", 1, -ENODATA, NULL);
	assert_read(fixture, "\r\n", 2, -ENODATA, NULL);
	assert_read(fixture, "s3cret\n\n", 8, -EBADMSG, NULL);
	assert_read(fixture, "user\nsecret\n", 12, -EBADMSG, NULL);
	assert_read(fixture, "s3c\0ret\n", 8, -EBADMSG, NULL);

	/* CREDENTIAL_SIZE_MAX bytes are taken, one more is not. */
	char *big = malloc(CREDENTIAL_SIZE_MAX + 2);
	assert_non_null(big);
	memset(big, 'x', CREDENTIAL_SIZE_MAX + 1);
	big[CREDENTIAL_SIZE_MAX] = '\n';
	big[CREDENTIAL_SIZE_MAX + 1] = '\0';
	char *expected = strndup(big, CREDENTIAL_SIZE_MAX);
	assert_read(fixture, big, CREDENTIAL_SIZE_MAX + 1, -EFBIG, NULL);
	assert_read(fixture, big, CREDENTIAL_SIZE_MAX, 0, expected);
	free(expected);
	free(big);
}

static void test_read_problems(void **state)
{
	struct fixture *fixture = *state;
	char *secret = NULL;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/missing", fixture->root);
	assert_int_equal(credential_read(path, &secret), -ENOENT);
	assert_null(secret);
	assert_int_equal(credential_read(fixture->root, &secret), -EISDIR);
	assert_null(secret);
	/* A FIFO in the password's place: refused at once, not waited on
	 * (no writer ever comes; a blocking open would hang the test). */
	snprintf(path, sizeof(path), "%s/fifo", fixture->root);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(credential_read(path, &secret), -ENXIO);
	assert_null(secret);
	assert_string_equal(credential_strerror(-ENXIO), "not a regular file");

	assert_string_equal(credential_strerror(-ENODATA), "empty");
	assert_string_equal(credential_strerror(-EBADMSG),
	                    "more than one line (the file holds the password alone, with at most one newline at its end)");
	assert_string_equal(credential_strerror(-EFBIG), "larger than 4096 bytes, too large for a password");
	assert_string_equal(credential_strerror(-ENOENT), "No such file or directory");
	credential_free(NULL);
}

static void test_world_readable(void **state)
{
	struct fixture *fixture = *state;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/password", fixture->config_dir);
	put(fixture->config_dir, "password", "x\n", 2);
	assert_int_equal(chmod(path, 0644), 0);
	assert_true(credential_world_readable(path));
	assert_int_equal(chmod(path, 0640), 0);
	assert_false(credential_world_readable(path));
	assert_int_equal(chmod(path, 0400), 0);
	assert_false(credential_world_readable(path));
	snprintf(path, sizeof(path), "%s/missing", fixture->root);
	assert_false(credential_world_readable(path));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_locate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_password, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_problems, setup, teardown),
		cmocka_unit_test_setup_teardown(test_world_readable, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
