/* temp_tree.c — see temp_tree.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
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

#include "temp_tree.h"

char *temp_tree_make(char *root, size_t size, const char *template)
{
	if (strlen(template) >= size) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	strcpy(root, template);
	return mkdtemp(root);
}

static int remove_entry(const char *path, const struct stat *status, int kind, struct FTW *position)
{
	(void)status;
	(void)kind;
	(void)position;
	return remove(path);
}

int temp_tree_remove(const char *root)
{
	/* Depth first, so that a folder is empty when its turn comes. */
	return nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void temp_tree_make_directory(const char *path)
{
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		fail_msg("mkdir %s: %s", path, strerror(errno));
}

void temp_tree_make_parent(const char *path)
{
	char parent[PATH_MAX];
	const char *slash = strrchr(path, '/');
	assert_non_null(slash);
	assert_true((size_t)(slash - path) < sizeof(parent));
	memcpy(parent, path, (size_t)(slash - path));
	parent[slash - path] = '\0';
	temp_tree_make_directory(parent);
}

void temp_tree_write_bytes(const char *path, const char *bytes, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fail_msg("open %s: %s", path, strerror(errno));
	assert_int_equal(write(fd, bytes, size), (ssize_t)size);
	assert_int_equal(close(fd), 0);
}

void temp_tree_write(const char *path, const char *text)
{
	temp_tree_write_bytes(path, text, strlen(text));
}

int open_descriptor_count(void)
{
	DIR *directory = opendir("/proc/self/fd");
	assert_non_null(directory);
	int count = 0;
	while (readdir(directory))
		count++;
	closedir(directory);
	return count;
}
