/* database_file.c — see database_file.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "database_file.h"

/* Renames from to to (or removes from, when to is NULL) if from is
 * there.  0 when done, -ENOENT when there was nothing, another negative
 * errno when it stays in the way.  remove_if_stuck: a side file that
 * cannot be moved is removed rather than let it meet the fresh database;
 * the main file never is. */
static int database_move(const char *from, const char *to, bool remove_if_stuck)
{
	if (to ? rename(from, to) == 0 : unlink(from) == 0)
		return 0;
	if (errno == ENOENT || errno == ENOTDIR)
		return -ENOENT;
	if (to && remove_if_stuck && unlink(from) == 0)
		return 0;
	return -errno;
}

static bool database_exists(const char *path)
{
	struct stat status;
	return lstat(path, &status) == 0;
}

bool database_orphan_wal(const char *path)
{
	char wal[PATH_MAX];
	struct stat main_status, wal_status;
	if ((size_t)snprintf(wal, sizeof(wal), "%s-wal", path) >= sizeof(wal))
		return false;
	if (lstat(wal, &wal_status) != 0 || wal_status.st_size == 0)
		return false;
	return lstat(path, &main_status) != 0 || main_status.st_size == 0;
}

int database_set_aside(const char *path, char *aside, size_t aside_size)
{
	char wal[PATH_MAX], shm[PATH_MAX], aside_wal[PATH_MAX], stamp[32] = "unknown";
	int result;
	/* UTC, so that the name sorts by time and reads the same on every
	 * board whatever its time zone. */
	time_t now = time(NULL);
	struct tm utc;
	if (gmtime_r(&now, &utc))
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &utc);
	if ((size_t)snprintf(wal, sizeof(wal), "%s-wal", path) >= sizeof(wal) ||
	    (size_t)snprintf(shm, sizeof(shm), "%s-shm", path) >= sizeof(shm))
		return -ENAMETOOLONG;
	for (unsigned attempt = 0;; attempt++) {
		int length = attempt == 0 ? snprintf(aside, aside_size, "%s.broken-%s", path, stamp)
		                          : snprintf(aside, aside_size, "%s.broken-%s.%u", path, stamp, attempt);
		if (length < 0 || (size_t)length >= aside_size ||
		    (size_t)snprintf(aside_wal, sizeof(aside_wal), "%s-wal", aside) >= sizeof(aside_wal))
			return -ENAMETOOLONG;
		if (!database_exists(aside) && !database_exists(aside_wal))
			break;
		if (attempt == 1000)
			return -EEXIST;
	}
	result = database_move(path, aside, false);
	if (result < 0 && result != -ENOENT)
		return result;
	/* An empty -wal (SQLite makes one when it opens a file whose header
	 * says WAL) holds nothing worth keeping; the -shm file is only an
	 * index of the -wal, rebuilt from it. */
	struct stat status;
	bool empty_wal = lstat(wal, &status) == 0 && status.st_size == 0;
	int wal_result = database_move(wal, empty_wal ? NULL : aside_wal, true);
	int shm_result = database_move(shm, NULL, true);
	if (result == -ENOENT && wal_result == 0)
		result = 0;
	if (result == 0 || result == -ENOENT) {
		if (wal_result < 0 && wal_result != -ENOENT)
			result = wal_result;
		else if (shm_result < 0 && shm_result != -ENOENT)
			result = shm_result;
	}
	return result;
}
