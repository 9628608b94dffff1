/* build_tree.c — see build_tree.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build_tree.h"

int build_tree_program(char **program)
{
	char buffer[PATH_MAX];
	ssize_t length = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
	if (length < 0)
		return -errno;
	/* A rebuilt program that still runs reads as "PATH (deleted)": its
	 * folder, all that matters here, is right all the same. */
	buffer[length] = '\0';
	*program = strdup(buffer);
	return *program ? 0 : -ENOMEM;
}

int build_tree_profiles(const char *program, char **profiles)
{
	const char *slash = strrchr(program, '/');
	if (!slash)
		return -ENOENT;
	char *candidate = NULL;
	if (asprintf(&candidate, "%.*s/seeds/districts.ini", (int)(slash - program), program) < 0)
		return -ENOMEM;
	char *resolved = realpath(candidate, NULL);
	int error = errno;
	free(candidate);
	if (!resolved)
		return error == ENOMEM ? -ENOMEM : -ENOENT;
	*profiles = resolved;
	return 0;
}
