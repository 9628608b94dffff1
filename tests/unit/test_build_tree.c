/* test_build_tree.c — how a program run from its build tree finds the
 * checkout's district profiles (build_tree.c): through the seeds link
 * next to it, resolved to the checkout's own file; not at all where no
 * such link is (an installed program), and the link CMake made in this
 * build tree. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "build_tree.h"
#include "temp_tree.h"

struct fixture {
	char root[64];
	char real_root[PATH_MAX];       /* root with every link resolved, as results are */
	char path[PATH_MAX + 64];
};

static int setup(void **state)
{
	struct fixture *fixture = calloc(1, sizeof(*fixture));
	if (!fixture || !temp_tree_make(fixture->root, sizeof(fixture->root), "/tmp/test_build_tree.XXXXXX") ||
	    !realpath(fixture->root, fixture->real_root)) {
		free(fixture);
		return -1;
	}
	*state = fixture;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fixture = *state;
	int r = temp_tree_remove(fixture->root);
	free(fixture);
	return r;
}

/* ROOT/PATH in fixture->path. */
static const char *at(struct fixture *fixture, const char *path)
{
	snprintf(fixture->path, sizeof(fixture->path), "%s/%s", fixture->root, path);
	return fixture->path;
}

/* A checkout with its seeds, and a build tree with the link CMake makes. */
static void make_checkout_and_build(struct fixture *fixture)
{
	temp_tree_make_directory(at(fixture, "checkout"));
	temp_tree_make_directory(at(fixture, "checkout/seeds"));
	temp_tree_write(at(fixture, "checkout/seeds/districts.ini"), "[Årby]\n");
	temp_tree_make_directory(at(fixture, "build"));
	assert_int_equal(symlink("../checkout/seeds", at(fixture, "build/seeds")), 0);
}

static void expect_profiles(struct fixture *fixture, const char *program, const char *expected_below_root)
{
	char *profiles = NULL;
	char expected[PATH_MAX + 64];
	snprintf(expected, sizeof(expected), "%s/%s", fixture->real_root, expected_below_root);
	assert_int_equal(build_tree_profiles(program, &profiles), 0);
	assert_string_equal(profiles, expected);
	free(profiles);
}

static void expect_none(const char *program)
{
	char *profiles = NULL;
	assert_int_equal(build_tree_profiles(program, &profiles), -ENOENT);
	assert_null(profiles);
}

static void test_link_next_to_the_program(void **state)
{
	struct fixture *fixture = *state;
	make_checkout_and_build(fixture);
	char program[PATH_MAX + 64];
	snprintf(program, sizeof(program), "%s", at(fixture, "build/tryggd"));
	/* The checkout's file, not the link's path: --check and the logs
	 * name the file that is read. */
	expect_profiles(fixture, program, "checkout/seeds/districts.ini");
	/* tryggctl, next to it, alike. */
	snprintf(program, sizeof(program), "%s", at(fixture, "build/tryggctl"));
	expect_profiles(fixture, program, "checkout/seeds/districts.ini");
	/* A program rebuilt while it runs reads as "PATH (deleted)". */
	snprintf(program, sizeof(program), "%s", at(fixture, "build/tryggd (deleted)"));
	expect_profiles(fixture, program, "checkout/seeds/districts.ini");
}

static void test_no_link_no_profiles(void **state)
{
	struct fixture *fixture = *state;
	make_checkout_and_build(fixture);
	/* An installed program: nothing next to it. */
	temp_tree_make_directory(at(fixture, "bin"));
	expect_none(at(fixture, "bin/tryggd"));
	/* A program further down the build tree (the unit tests'). */
	temp_tree_make_directory(at(fixture, "build/tests"));
	expect_none(at(fixture, "build/tests/test_config"));
	/* A seeds folder without the profiles file. */
	temp_tree_make_directory(at(fixture, "other"));
	temp_tree_make_directory(at(fixture, "other/seeds"));
	expect_none(at(fixture, "other/tryggd"));
	/* A link into nothing (the checkout moved away). */
	temp_tree_make_directory(at(fixture, "moved"));
	assert_int_equal(symlink("../gone/seeds", at(fixture, "moved/seeds")), 0);
	expect_none(at(fixture, "moved/tryggd"));
	/* No folder at all. */
	expect_none("tryggd");
}

/* This test program runs from BUILD/tests: the real link is in BUILD,
 * next to tryggd, and leads to this checkout's seeds. */
static void test_this_build_tree(void **state)
{
	(void)state;
	char *program = NULL, *profiles = NULL;
	assert_int_equal(build_tree_program(&program), 0);
	assert_true(program[0] == '/');
	assert_non_null(strstr(program, "/test_build_tree"));
	expect_none(program);

	char *tests_folder_end = strrchr(program, '/');
	*tests_folder_end = '\0';
	char *build_folder_end = strrchr(program, '/');
	assert_non_null(build_folder_end);
	char tryggd[PATH_MAX + 16];
	snprintf(tryggd, sizeof(tryggd), "%.*s/tryggd", (int)(build_folder_end - program), program);
	free(program);

	char expected[PATH_MAX];
	assert_non_null(realpath(TRYGGD_SOURCE_DIR "/seeds/districts.ini", expected));
	assert_int_equal(build_tree_profiles(tryggd, &profiles), 0);
	assert_string_equal(profiles, expected);
	free(profiles);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_link_next_to_the_program, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_link_no_profiles, setup, teardown),
		cmocka_unit_test(test_this_build_tree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
