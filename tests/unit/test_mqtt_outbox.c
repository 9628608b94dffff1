/* test_mqtt_outbox.c — the durable MQTT buffer on a real SQLite file in a
 * temporary folder: order and content across a close and reopen, next and
 * remove, what a crash (a child that _exit()s without closing) leaves,
 * the bounds and their counters, broken files set aside, a directory that
 * refuses, and a full disk, both at append (PRAGMA max_page_count, set on
 * every new connection by an auto-extension) and at commit (a VFS whose
 * writes answer SQLITE_FULL, as the unix VFS does on ENOSPC). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "mqtt_outbox.h"
#include "temp_tree.h"

#define LARGE 1000000

/* ---- a VFS whose writes can be made to fail as on a full disk ---- */

struct full_disk {
	sqlite3_vfs vfs;
	sqlite3_vfs *real;
	bool full;
	unsigned refused;        /* writes answered SQLITE_FULL */
};

struct full_disk_file {
	sqlite3_file base;
	struct full_disk *disk;
	sqlite3_file *real;      /* the real VFS's file, right after this struct */
};

static sqlite3_file *real_file(sqlite3_file *file)
{
	return ((struct full_disk_file *)file)->real;
}

static int shim_close(sqlite3_file *file)
{
	return real_file(file)->pMethods->xClose(real_file(file));
}

static int shim_read(sqlite3_file *file, void *buffer, int amount, sqlite3_int64 offset)
{
	return real_file(file)->pMethods->xRead(real_file(file), buffer, amount, offset);
}

static int shim_write(sqlite3_file *file, const void *buffer, int amount, sqlite3_int64 offset)
{
	struct full_disk *disk = ((struct full_disk_file *)file)->disk;
	if (disk->full) {
		disk->refused++;
		return SQLITE_FULL;
	}
	return real_file(file)->pMethods->xWrite(real_file(file), buffer, amount, offset);
}

static int shim_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	return real_file(file)->pMethods->xTruncate(real_file(file), size);
}

static int shim_sync(sqlite3_file *file, int flags)
{
	return real_file(file)->pMethods->xSync(real_file(file), flags);
}

static int shim_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	return real_file(file)->pMethods->xFileSize(real_file(file), size);
}

static int shim_lock(sqlite3_file *file, int level)
{
	return real_file(file)->pMethods->xLock(real_file(file), level);
}

static int shim_unlock(sqlite3_file *file, int level)
{
	return real_file(file)->pMethods->xUnlock(real_file(file), level);
}

static int shim_check_reserved_lock(sqlite3_file *file, int *out)
{
	return real_file(file)->pMethods->xCheckReservedLock(real_file(file), out);
}

static int shim_file_control(sqlite3_file *file, int operation, void *argument)
{
	return real_file(file)->pMethods->xFileControl(real_file(file), operation, argument);
}

static int shim_sector_size(sqlite3_file *file)
{
	return real_file(file)->pMethods->xSectorSize(real_file(file));
}

static int shim_device_characteristics(sqlite3_file *file)
{
	return real_file(file)->pMethods->xDeviceCharacteristics(real_file(file));
}

static int shim_shm_map(sqlite3_file *file, int page, int page_size, int extend, void volatile **out)
{
	return real_file(file)->pMethods->xShmMap(real_file(file), page, page_size, extend, out);
}

static int shim_shm_lock(sqlite3_file *file, int offset, int count, int flags)
{
	return real_file(file)->pMethods->xShmLock(real_file(file), offset, count, flags);
}

static void shim_shm_barrier(sqlite3_file *file)
{
	real_file(file)->pMethods->xShmBarrier(real_file(file));
}

static int shim_shm_unmap(sqlite3_file *file, int delete_flag)
{
	return real_file(file)->pMethods->xShmUnmap(real_file(file), delete_flag);
}

static int shim_fetch(sqlite3_file *file, sqlite3_int64 offset, int amount, void **out)
{
	return real_file(file)->pMethods->xFetch(real_file(file), offset, amount, out);
}

static int shim_unfetch(sqlite3_file *file, sqlite3_int64 offset, void *pointer)
{
	return real_file(file)->pMethods->xUnfetch(real_file(file), offset, pointer);
}

static const sqlite3_io_methods shim_methods = {
	3, shim_close, shim_read, shim_write, shim_truncate, shim_sync, shim_file_size, shim_lock, shim_unlock,
	shim_check_reserved_lock, shim_file_control, shim_sector_size, shim_device_characteristics, shim_shm_map,
	shim_shm_lock, shim_shm_barrier, shim_shm_unmap, shim_fetch, shim_unfetch,
};

static int shim_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out_flags)
{
	struct full_disk *disk = vfs->pAppData;
	struct full_disk_file *shim = (struct full_disk_file *)file;
	shim->base.pMethods = NULL;
	shim->disk = disk;
	shim->real = (sqlite3_file *)(shim + 1);
	int code = disk->real->xOpen(disk->real, name, shim->real, flags, out_flags);
	/* SQLite closes a file whose pMethods is set, even after a failed open. */
	if (shim->real->pMethods)
		shim->base.pMethods = &shim_methods;
	return code;
}

static struct full_disk *disk_of(sqlite3_vfs *vfs)
{
	return vfs->pAppData;
}

static int shim_delete(sqlite3_vfs *vfs, const char *name, int sync_directory)
{
	return disk_of(vfs)->real->xDelete(disk_of(vfs)->real, name, sync_directory);
}

static int shim_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	return disk_of(vfs)->real->xAccess(disk_of(vfs)->real, name, flags, out);
}

static int shim_full_pathname(sqlite3_vfs *vfs, const char *name, int size, char *out)
{
	return disk_of(vfs)->real->xFullPathname(disk_of(vfs)->real, name, size, out);
}

static int shim_randomness(sqlite3_vfs *vfs, int size, char *out)
{
	return disk_of(vfs)->real->xRandomness(disk_of(vfs)->real, size, out);
}

static int shim_sleep(sqlite3_vfs *vfs, int microseconds)
{
	return disk_of(vfs)->real->xSleep(disk_of(vfs)->real, microseconds);
}

static int shim_current_time(sqlite3_vfs *vfs, double *out)
{
	return disk_of(vfs)->real->xCurrentTime(disk_of(vfs)->real, out);
}

static int shim_get_last_error(sqlite3_vfs *vfs, int size, char *out)
{
	return disk_of(vfs)->real->xGetLastError(disk_of(vfs)->real, size, out);
}

static int shim_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	return disk_of(vfs)->real->xCurrentTimeInt64(disk_of(vfs)->real, out);
}

/* Registered as the default VFS, so that the outbox's plain
 * sqlite3_open_v2() goes through it. */
static void full_disk_register(struct full_disk *disk)
{
	memset(disk, 0, sizeof(*disk));
	disk->real = sqlite3_vfs_find(NULL);
	assert_non_null(disk->real);
	assert_true(disk->real->iVersion >= 2);
	disk->vfs = (sqlite3_vfs){
		.iVersion = 2,
		.szOsFile = (int)sizeof(struct full_disk_file) + disk->real->szOsFile,
		.mxPathname = disk->real->mxPathname,
		.zName = "test-full-disk",
		.pAppData = disk,
		.xOpen = shim_open,
		.xDelete = shim_delete,
		.xAccess = shim_access,
		.xFullPathname = shim_full_pathname,
		.xRandomness = shim_randomness,
		.xSleep = shim_sleep,
		.xCurrentTime = shim_current_time,
		.xGetLastError = shim_get_last_error,
		.xCurrentTimeInt64 = shim_current_time_int64,
	};
	assert_int_equal(sqlite3_vfs_register(&disk->vfs, 1), SQLITE_OK);
}

/* ---- a page limit on every connection, as a small disk ---- */

/* 24 pages of 4 KiB: room for some 80 messages of 1000 bytes. */
static int limit_pages(sqlite3 *database, char **error, const sqlite3_api_routines *routines)
{
	(void)routines;
	return sqlite3_exec(database, "PRAGMA max_page_count = 24", NULL, NULL, error);
}

/* ---- the fixture ---- */

struct fixture {
	char root[64];
	char path[128];          /* root/outbox.db */
	char wal[140], shm[140];
	char log[128];           /* stderr while an open is watched */
	struct full_disk disk;
	bool disk_registered, pages_limited;
};

static int setup(void **state)
{
	struct fixture *fixture = calloc(1, sizeof(*fixture));
	if (!fixture)
		return -1;
	if (!temp_tree_make(fixture->root, sizeof(fixture->root), "/tmp/test_mqtt_outbox.XXXXXX")) {
		free(fixture);
		return -1;
	}
	snprintf(fixture->path, sizeof(fixture->path), "%s/outbox.db", fixture->root);
	snprintf(fixture->wal, sizeof(fixture->wal), "%s-wal", fixture->path);
	snprintf(fixture->shm, sizeof(fixture->shm), "%s-shm", fixture->path);
	snprintf(fixture->log, sizeof(fixture->log), "%s.log", fixture->root);
	*state = fixture;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fixture = *state;
	if (fixture->disk_registered)
		sqlite3_vfs_unregister(&fixture->disk.vfs);
	if (fixture->pages_limited)
		sqlite3_cancel_auto_extension((void (*)(void))limit_pages);
	int result = temp_tree_remove(fixture->root);
	unlink(fixture->log);
	free(fixture);
	return result == 0 ? 0 : -1;
}

/* ---- helpers ---- */

static struct mqtt_outbox *open_outbox(struct fixture *fixture, uint64_t max_messages, uint64_t max_bytes)
{
	struct mqtt_outbox *outbox = NULL;
	assert_int_equal(mqtt_outbox_open(fixture->path, max_messages, max_bytes, &outbox), 0);
	assert_non_null(outbox);
	return outbox;
}

static int64_t append_text(struct mqtt_outbox *outbox, const char *topic, const char *payload)
{
	int64_t id = -1;
	assert_int_equal(mqtt_outbox_append(outbox, topic, payload, strlen(payload), 1, false, &id), 0);
	assert_true(id > 0);
	return id;
}

/* The message after after_id is numbered id, with this topic and payload. */
static void expect_next(struct mqtt_outbox *outbox, int64_t after_id, int64_t id, const char *topic,
                        const char *payload)
{
	struct outbox_message message;
	assert_int_equal(mqtt_outbox_next(outbox, after_id, &message), 0);
	assert_int_equal(message.id, id);
	assert_string_equal(message.topic, topic);
	assert_int_equal(message.payload_length, strlen(payload));
	assert_memory_equal(message.payload, payload, strlen(payload) + 1);
	outbox_message_clear(&message);
}

static void expect_none_after(struct mqtt_outbox *outbox, int64_t after_id)
{
	struct outbox_message message;
	assert_int_equal(mqtt_outbox_next(outbox, after_id, &message), -ENOENT);
	assert_null(message.topic);
	assert_null(message.payload);
}

/* How many messages next() walks through from the start, and their bytes. */
static uint64_t walk(struct mqtt_outbox *outbox, uint64_t *bytes, int64_t *first_id)
{
	struct outbox_message message;
	int64_t after = 0;
	uint64_t count = 0;
	*bytes = 0;
	*first_id = 0;
	int result;
	while ((result = mqtt_outbox_next(outbox, after, &message)) == 0) {
		assert_true(message.id > after);
		if (count == 0)
			*first_id = message.id;
		after = message.id;
		count++;
		*bytes += strlen(message.topic) + message.payload_length;
		outbox_message_clear(&message);
	}
	assert_int_equal(result, -ENOENT);
	return count;
}

static void expect_counters(struct mqtt_outbox *outbox, uint64_t messages, uint64_t bytes, uint64_t appended,
                            uint64_t dropped, uint64_t set_aside)
{
	struct outbox_counters counters = mqtt_outbox_counters(outbox);
	assert_int_equal(counters.messages, messages);
	assert_int_equal(counters.bytes, bytes);
	assert_int_equal(counters.appended, appended);
	assert_int_equal(counters.dropped, dropped);
	assert_int_equal(counters.set_aside, set_aside);
}

static bool exists(const char *path)
{
	struct stat status;
	return stat(path, &status) == 0;
}

static off_t file_size(const char *path)
{
	struct stat status;
	assert_int_equal(stat(path, &status), 0);
	return status.st_size;
}

/* Reads a whole (small) file; the caller frees. */
static char *read_whole(const char *path, size_t *size)
{
	FILE *file = fopen(path, "rb");
	assert_non_null(file);
	char *content = malloc(1 << 20);
	assert_non_null(content);
	*size = fread(content, 1, (1 << 20) - 1, file);
	content[*size] = '\0';
	fclose(file);
	return content;
}

/* The files set aside next to the outbox: how many outbox.db.broken-SECONDS
 * (with an optional .N) there are, the first one's path in aside, and each
 * stamp between not_before and not_after. */
static int find_set_aside(struct fixture *fixture, char *aside, size_t aside_size, time_t not_before, time_t not_after)
{
	static const char prefix[] = "outbox.db.broken-";
	DIR *directory = opendir(fixture->root);
	assert_non_null(directory);
	int count = 0;
	struct dirent *entry;
	while ((entry = readdir(directory))) {
		if (strncmp(entry->d_name, prefix, strlen(prefix)) != 0)
			continue;
		size_t length = strlen(entry->d_name);
		/* A -wal moved with it; SQLite's own files of a set-aside one
		 * opened to look inside. */
		if (length > 4 && (strcmp(entry->d_name + length - 4, "-wal") == 0 ||
		                   strcmp(entry->d_name + length - 4, "-shm") == 0))
			continue;
		/* PATH.broken-YYYYMMDDTHHMMSSZ, in UTC (database_file.h). */
		const char *stamp = entry->d_name + strlen(prefix);
		struct tm utc = { 0 };
		char *end = strptime(stamp, "%Y%m%dT%H%M%SZ", &utc);
		assert_non_null(end);
		assert_true(*end == '\0' || *end == '.');
		long long seconds = (long long)timegm(&utc);
		assert_true(seconds >= (long long)not_before && seconds <= (long long)not_after);
		if (count++ == 0)
			snprintf(aside, aside_size, "%s/%s", fixture->root, entry->d_name);
	}
	closedir(directory);
	return count;
}

/* mqtt_outbox_open() with stderr caught in fixture->log: the warnings it
 * logged come back in log. */
static int open_watched(struct fixture *fixture, uint64_t max_messages, uint64_t max_bytes,
                        struct mqtt_outbox **outbox, char *log, size_t log_size)
{
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	int file = open(fixture->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(file >= 0);
	assert_true(dup2(file, STDERR_FILENO) >= 0);
	close(file);
	int result = mqtt_outbox_open(fixture->path, max_messages, max_bytes, outbox);
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	size_t size;
	char *content = read_whole(fixture->log, &size);
	snprintf(log, log_size, "%s", content);
	free(content);
	/* Shown again, for whoever reads the test's output. */
	fputs(log, stderr);
	return result;
}

static int count_lines(const char *text)
{
	int lines = 0;
	for (; *text; text++)
		lines += *text == '\n';
	return lines;
}

/* Opens what is at fixture->path, expecting it to be set aside with one
 * warning that says reason and a fresh, empty, working outbox in its
 * place; the set-aside file's path in aside. */
static void expect_set_aside(struct fixture *fixture, const char *reason, char *aside, size_t aside_size)
{
	char log[4096];
	struct mqtt_outbox *outbox = NULL;
	int descriptors = open_descriptor_count();
	time_t before = time(NULL);
	assert_int_equal(open_watched(fixture, 100, LARGE, &outbox, log, sizeof(log)), 0);
	time_t after = time(NULL);
	assert_int_equal(count_lines(log), 1);
	assert_non_null(strstr(log, "warning: "));
	assert_non_null(strstr(log, "set aside as"));
	assert_non_null(strstr(log, reason));
	expect_counters(outbox, 0, 0, 0, 0, 1);
	expect_none_after(outbox, 0);
	assert_int_equal(find_set_aside(fixture, aside, aside_size, before, after), 1);
	assert_non_null(strstr(log, aside));

	/* The fresh one works and stays: a reopen finds it ours. */
	int64_t id = append_text(outbox, "fresh", "start");
	mqtt_outbox_close(outbox);
	assert_int_equal(open_descriptor_count(), descriptors);
	outbox = open_outbox(fixture, 100, LARGE);
	expect_counters(outbox, 1, 10, 0, 0, 0);
	expect_next(outbox, 0, id, "fresh", "start");
	mqtt_outbox_close(outbox);
	assert_int_equal(find_set_aside(fixture, aside, aside_size, before, after), 1);
}

/* A valid outbox of rows messages with payloads of payload_length bytes,
 * closed cleanly (no -wal left). */
static void make_outbox(struct fixture *fixture, int rows, size_t payload_length)
{
	char *payload = malloc(payload_length + 1);
	assert_non_null(payload);
	memset(payload, 'p', payload_length);
	payload[payload_length] = '\0';
	struct mqtt_outbox *outbox = open_outbox(fixture, LARGE, 100 * (uint64_t)LARGE);
	for (int i = 0; i < rows; i++)
		append_text(outbox, "filler", payload);
	mqtt_outbox_close(outbox);
	free(payload);
	assert_false(exists(fixture->wal));
}

/* ---- order, next, remove ---- */

static void test_order_and_content_survive_reopen(void **state)
{
	struct fixture *fixture = *state;
	static const char binary[] = { 'a', '\0', 'b', '\xff', '\n' };
	int descriptors = open_descriptor_count();
	struct mqtt_outbox *outbox = open_outbox(fixture, 100, LARGE);
	expect_counters(outbox, 0, 0, 0, 0, 0);
	expect_none_after(outbox, 0);

	int64_t ids[4];
	assert_int_equal(mqtt_outbox_append(outbox, "tryggd/a/reading", "{\"v\":1}", 7, 0, false, &ids[0]), 0);
	assert_int_equal(mqtt_outbox_append(outbox, "tryggd/a/alert", "", 0, 1, true, &ids[1]), 0);
	assert_int_equal(mqtt_outbox_append(outbox, "tryggd/a/raw", binary, sizeof(binary), 2, false, &ids[2]), 0);
	assert_int_equal(mqtt_outbox_append(outbox, "tryggd/a/status", NULL, 0, 1, true, &ids[3]), 0);
	for (int i = 1; i < 4; i++)
		assert_true(ids[i] > ids[i - 1]);
	uint64_t bytes = 16 + 7 + 14 + 12 + sizeof(binary) + 15;
	expect_counters(outbox, 4, bytes, 4, 0, 0);
	assert_int_equal(mqtt_outbox_commit(outbox), 0);
	mqtt_outbox_close(outbox);
	assert_int_equal(open_descriptor_count(), descriptors);

	outbox = open_outbox(fixture, 100, LARGE);
	/* Held now, from the file; appended and dropped count from the open. */
	expect_counters(outbox, 4, bytes, 0, 0, 0);
	struct outbox_message message;
	assert_int_equal(mqtt_outbox_next(outbox, 0, &message), 0);
	assert_int_equal(message.id, ids[0]);
	assert_string_equal(message.topic, "tryggd/a/reading");
	assert_int_equal(message.payload_length, 7);
	assert_string_equal(message.payload, "{\"v\":1}");
	assert_int_equal(message.qos, 0);
	assert_false(message.retained);
	outbox_message_clear(&message);
	assert_null(message.topic);

	assert_int_equal(mqtt_outbox_next(outbox, ids[0], &message), 0);
	assert_int_equal(message.id, ids[1]);
	assert_string_equal(message.topic, "tryggd/a/alert");
	assert_int_equal(message.payload_length, 0);
	assert_non_null(message.payload);
	assert_string_equal(message.payload, "");
	assert_int_equal(message.qos, 1);
	assert_true(message.retained);
	outbox_message_clear(&message);

	assert_int_equal(mqtt_outbox_next(outbox, ids[1], &message), 0);
	assert_int_equal(message.id, ids[2]);
	assert_int_equal(message.payload_length, sizeof(binary));
	assert_memory_equal(message.payload, binary, sizeof(binary));
	assert_int_equal(message.payload[sizeof(binary)], '\0');
	assert_int_equal(message.qos, 2);
	outbox_message_clear(&message);

	assert_int_equal(mqtt_outbox_next(outbox, ids[2], &message), 0);
	assert_int_equal(message.id, ids[3]);
	assert_int_equal(message.payload_length, 0);
	outbox_message_clear(&message);
	expect_none_after(outbox, ids[3]);

	/* Numbers go on rising after a reopen. */
	assert_true(append_text(outbox, "tryggd/a/reading", "{}") > ids[3]);
	mqtt_outbox_close(outbox);
	assert_int_equal(open_descriptor_count(), descriptors);
}

static void test_next_and_remove(void **state)
{
	struct fixture *fixture = *state;
	struct mqtt_outbox *outbox = open_outbox(fixture, 100, LARGE);
	int64_t a = append_text(outbox, "t", "aa");
	int64_t b = append_text(outbox, "t", "bbb");
	int64_t c = append_text(outbox, "t", "cccc");
	expect_counters(outbox, 3, 12, 3, 0, 0);

	/* after_id need not be a number that is there. */
	expect_next(outbox, 0, a, "t", "aa");
	expect_next(outbox, -5, a, "t", "aa");
	expect_next(outbox, a, b, "t", "bbb");
	expect_next(outbox, a + (b - a) / 2, b, "t", "bbb");
	expect_next(outbox, b, c, "t", "cccc");
	expect_none_after(outbox, c);

	/* Removing the middle one: next() steps over it. */
	assert_int_equal(mqtt_outbox_remove(outbox, b), 0);
	expect_counters(outbox, 2, 8, 3, 0, 0);
	expect_next(outbox, a, c, "t", "cccc");
	/* Again, or a number never handed out: not an error, nothing changes. */
	assert_int_equal(mqtt_outbox_remove(outbox, b), 0);
	assert_int_equal(mqtt_outbox_remove(outbox, c + 1000), 0);
	expect_counters(outbox, 2, 8, 3, 0, 0);

	assert_int_equal(mqtt_outbox_remove(outbox, a), 0);
	assert_int_equal(mqtt_outbox_remove(outbox, c), 0);
	expect_counters(outbox, 0, 0, 3, 0, 0);
	expect_none_after(outbox, 0);

	/* Empty now, but numbers never go back within a run: a cursor
	 * already past c still sees what comes next. */
	int64_t d = append_text(outbox, "t", "d");
	assert_true(d > c);
	expect_next(outbox, c, d, "t", "d");
	assert_int_equal(mqtt_outbox_commit(outbox), 0);
	mqtt_outbox_close(outbox);

	/* The removes were kept. */
	outbox = open_outbox(fixture, 100, LARGE);
	expect_counters(outbox, 1, 2, 0, 0, 0);
	expect_next(outbox, 0, d, "t", "d");
	expect_none_after(outbox, d);
	mqtt_outbox_close(outbox);
}

static void test_close_commits(void **state)
{
	struct fixture *fixture = *state;
	struct mqtt_outbox *outbox = open_outbox(fixture, 100, LARGE);
	int64_t a = append_text(outbox, "t", "kept");
	mqtt_outbox_close(outbox);
	assert_false(exists(fixture->wal));
	outbox = open_outbox(fixture, 100, LARGE);
	expect_counters(outbox, 1, 5, 0, 0, 0);
	expect_next(outbox, 0, a, "t", "kept");
	mqtt_outbox_close(outbox);
}

/* ---- what a crash leaves ---- */

/* In a child: opens, appends committed messages "c0".."c(N-1)" and then
 * uncommitted ones "u0".., and _exit()s without closing, as a SIGKILL
 * would leave it.  Each message moves the sequence number on by one, as
 * a reading does.  Exits 0 when all went as asked. */
static void crash_after(struct fixture *fixture, int committed, int uncommitted)
{
	fflush(NULL);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct mqtt_outbox *outbox;
		char payload[16];
		if (mqtt_outbox_open(fixture->path, LARGE, 100 * (uint64_t)LARGE, &outbox) < 0)
			_exit(10);
		uint64_t sequence = mqtt_outbox_sequence(outbox);
		for (int i = 0; i < committed; i++) {
			snprintf(payload, sizeof(payload), "c%d", i);
			if (mqtt_outbox_append(outbox, "crash", payload, strlen(payload), 1, false, NULL) < 0)
				_exit(11);
			mqtt_outbox_set_sequence(outbox, ++sequence);
		}
		if (mqtt_outbox_commit(outbox) < 0)
			_exit(12);
		for (int i = 0; i < uncommitted; i++) {
			snprintf(payload, sizeof(payload), "u%d", i);
			if (mqtt_outbox_append(outbox, "crash", payload, strlen(payload), 1, false, NULL) < 0)
				_exit(13);
			mqtt_outbox_set_sequence(outbox, ++sequence);
		}
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* Not closed: the commits are in the -wal only. */
	assert_true(exists(fixture->wal));
}

static void test_commit_survives_crash(void **state)
{
	struct fixture *fixture = *state;
	crash_after(fixture, 3, 2);
	struct mqtt_outbox *outbox = open_outbox(fixture, 100, LARGE);
	/* The committed three, none of the two after the commit. */
	expect_counters(outbox, 3, 3 * 7, 0, 0, 0);
	struct outbox_message message;
	int64_t after = 0;
	for (int i = 0; i < 3; i++) {
		char payload[16];
		snprintf(payload, sizeof(payload), "c%d", i);
		assert_int_equal(mqtt_outbox_next(outbox, after, &message), 0);
		assert_string_equal(message.payload, payload);
		after = message.id;
		outbox_message_clear(&message);
	}
	expect_none_after(outbox, after);
	mqtt_outbox_close(outbox);
}

static void test_missing_wal_after_crash(void **state)
{
	struct fixture *fixture = *state;
	/* A first run that ended cleanly: its rows are in the main file. */
	struct mqtt_outbox *outbox = open_outbox(fixture, 100, LARGE);
	int64_t a = append_text(outbox, "clean", "one");
	int64_t b = append_text(outbox, "clean", "two");
	mqtt_outbox_close(outbox);
	/* A second that crashed with a commit in the -wal and more after it;
	 * then the -wal is lost, its -shm left behind. */
	crash_after(fixture, 2, 1);
	assert_true(exists(fixture->shm));
	assert_int_equal(unlink(fixture->wal), 0);

	/* The main file is whole and consistent without the -wal: SQLite
	 * opens it as it was at the last checkpoint.  What only the -wal held
	 * is gone, which nothing can bring back; nothing is set aside. */
	char log[4096];
	assert_int_equal(open_watched(fixture, 100, LARGE, &outbox, log, sizeof(log)), 0);
	assert_string_equal(log, "");
	expect_counters(outbox, 2, 16, 0, 0, 0);
	expect_next(outbox, 0, a, "clean", "one");
	expect_next(outbox, a, b, "clean", "two");
	expect_none_after(outbox, b);
	int64_t c = append_text(outbox, "after", "three");
	assert_true(c > b);
	mqtt_outbox_close(outbox);
	char aside[PATH_MAX];
	assert_int_equal(find_set_aside(fixture, aside, sizeof(aside), 0, time(NULL)), 0);
}

/* ---- bounds ---- */

static void test_bound_by_messages(void **state)
{
	struct fixture *fixture = *state;
	struct mqtt_outbox *outbox = open_outbox(fixture, 3, LARGE);
	int64_t ids[5];
	char payload[16];
	for (int i = 0; i < 5; i++) {
		snprintf(payload, sizeof(payload), "m%d", i);
		ids[i] = append_text(outbox, "t", payload);
	}
	/* The two oldest went. */
	expect_counters(outbox, 3, 9, 5, 2, 0);
	expect_next(outbox, 0, ids[2], "t", "m2");
	expect_next(outbox, ids[2], ids[3], "t", "m3");
	expect_next(outbox, ids[3], ids[4], "t", "m4");
	expect_none_after(outbox, ids[4]);
	mqtt_outbox_close(outbox);

	/* Reopened with a smaller bound: the next append brings it down. */
	outbox = open_outbox(fixture, 1, LARGE);
	expect_counters(outbox, 3, 9, 0, 0, 0);
	int64_t last = append_text(outbox, "t", "m5");
	expect_counters(outbox, 1, 3, 1, 3, 0);
	expect_next(outbox, 0, last, "t", "m5");
	expect_none_after(outbox, last);
	mqtt_outbox_close(outbox);

	outbox = open_outbox(fixture, 1, LARGE);
	expect_counters(outbox, 1, 3, 0, 0, 0);
	mqtt_outbox_close(outbox);
}

static void test_bound_by_bytes(void **state)
{
	struct fixture *fixture = *state;
	/* Topic "t" and 29 bytes of payload: 30 bytes a message. */
	static const char thirty[] = "abcdefghijklmnopqrstuvwxyz012";
	static const char seventy[] = "0123456789012345678901234567890123456789012345678901234567890123456789";
	_Static_assert(sizeof(thirty) == 30 && sizeof(seventy) == 71, "the sizes the bound is about");
	struct mqtt_outbox *outbox = open_outbox(fixture, 100, 100);
	int64_t a = append_text(outbox, "t", thirty);
	int64_t b = append_text(outbox, "t", thirty);
	int64_t c = append_text(outbox, "t", thirty);
	expect_counters(outbox, 3, 90, 3, 0, 0);
	/* 120 > 100: the oldest goes. */
	int64_t d = append_text(outbox, "t", thirty);
	expect_counters(outbox, 3, 90, 4, 1, 0);
	expect_next(outbox, 0, b, "t", thirty);
	/* 71 bytes: with even one of the three left it would be 101. */
	int64_t e = append_text(outbox, "t", seventy);
	expect_counters(outbox, 1, 71, 5, 4, 0);
	expect_next(outbox, 0, e, "t", seventy);
	expect_none_after(outbox, e);
	/* Exactly to the bound is within it. */
	int64_t f = append_text(outbox, "t", "abcdefghijklmnopqrstuvwxyz0");
	expect_counters(outbox, 2, 99, 6, 4, 0);
	int64_t g = append_text(outbox, "", "");
	expect_counters(outbox, 3, 99, 7, 4, 0);
	int64_t h = append_text(outbox, "", "x");
	expect_counters(outbox, 4, 100, 8, 4, 0);
	expect_next(outbox, 0, e, "t", seventy);
	expect_next(outbox, e, f, "t", "abcdefghijklmnopqrstuvwxyz0");
	expect_next(outbox, f, g, "", "");
	expect_next(outbox, g, h, "", "x");
	(void)a;
	(void)c;
	(void)d;
	expect_none_after(outbox, h);
	mqtt_outbox_close(outbox);

	outbox = open_outbox(fixture, 100, 100);
	expect_counters(outbox, 4, 100, 0, 0, 0);
	/* One more byte: the oldest goes even though it is the largest. */
	int64_t i = append_text(outbox, "", "y");
	expect_counters(outbox, 4, 30, 1, 1, 0);
	expect_next(outbox, 0, f, "t", "abcdefghijklmnopqrstuvwxyz0");
	expect_next(outbox, h, i, "", "y");
	mqtt_outbox_close(outbox);
}

/* Rows gone behind the outbox's back (another writer): the totals are
 * counted again at the append that finds nothing to drop, and the next
 * append is right. */
static void test_totals_drift(void **state)
{
	struct fixture *fixture = *state;
	struct mqtt_outbox *outbox = open_outbox(fixture, 2, LARGE);
	append_text(outbox, "t", "a");
	append_text(outbox, "t", "b");
	assert_int_equal(mqtt_outbox_commit(outbox), 0);
	sqlite3 *other = NULL;
	assert_int_equal(sqlite3_open(fixture->path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "DELETE FROM outbox", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(other), SQLITE_OK);
	expect_counters(outbox, 2, 4, 2, 0, 0);
	assert_int_equal(mqtt_outbox_append(outbox, "t", "c", 1, 1, false, NULL), -EIO);
	expect_counters(outbox, 0, 0, 2, 0, 0);
	int64_t d = append_text(outbox, "t", "d");
	expect_counters(outbox, 1, 2, 3, 0, 0);
	expect_next(outbox, 0, d, "t", "d");
	expect_none_after(outbox, d);
	mqtt_outbox_close(outbox);
}

static void test_message_bigger_than_bound(void **state)
{
	struct fixture *fixture = *state;
	char payload[101];
	memset(payload, 'x', sizeof(payload));
	struct mqtt_outbox *outbox = open_outbox(fixture, 100, 100);
	int64_t a = append_text(outbox, "t", "small");
	int64_t id = 12345;
	/* 1 + 100 bytes > 100: refused, nothing dropped for it. */
	assert_int_equal(mqtt_outbox_append(outbox, "t", payload, 100, 1, false, &id), -EMSGSIZE);
	assert_int_equal(id, 12345);
	expect_counters(outbox, 1, 6, 1, 0, 0);
	expect_next(outbox, 0, a, "t", "small");
	expect_none_after(outbox, a);
	/* 100 bytes fit, alone. */
	assert_int_equal(mqtt_outbox_append(outbox, "t", payload, 99, 1, false, &id), 0);
	expect_counters(outbox, 1, 100, 2, 1, 0);
	assert_true(id > a);
	/* Arguments that cannot be a message. */
	assert_int_equal(mqtt_outbox_append(outbox, NULL, "x", 1, 1, false, &id), -EINVAL);
	assert_int_equal(mqtt_outbox_append(outbox, "t", NULL, 1, 1, false, &id), -EINVAL);
	assert_int_equal(mqtt_outbox_append(outbox, "t", "x", 1, 3, false, &id), -EINVAL);
	assert_int_equal(mqtt_outbox_append(outbox, "t", "x", 1, -1, false, &id), -EINVAL);
	expect_counters(outbox, 1, 100, 2, 1, 0);
	mqtt_outbox_close(outbox);

	struct mqtt_outbox *none = NULL;
	assert_int_equal(mqtt_outbox_open(fixture->path, 0, 100, &none), -EINVAL);
	assert_int_equal(mqtt_outbox_open(fixture->path, 100, 0, &none), -EINVAL);
	assert_null(none);
}

static void test_totals_after_reopen(void **state)
{
	struct fixture *fixture = *state;
	struct mqtt_outbox *outbox = open_outbox(fixture, 50, 5000);
	uint64_t bytes = 0, messages = 0;
	int64_t ids[200];
	char payload[64];
	for (int i = 0; i < 200; i++) {
		snprintf(payload, sizeof(payload), "%0*d", 1 + i % 40, i);
		ids[i] = append_text(outbox, "topic/x", payload);
		if (i % 7 == 3)
			assert_int_equal(mqtt_outbox_commit(outbox), 0);
	}
	for (int i = 150; i < 200; i += 3)
		assert_int_equal(mqtt_outbox_remove(outbox, ids[i]), 0);
	struct outbox_counters before = mqtt_outbox_counters(outbox);
	int64_t first;
	messages = walk(outbox, &bytes, &first);
	assert_int_equal(before.messages, messages);
	assert_int_equal(before.bytes, bytes);
	assert_int_equal(before.appended, 200);
	/* Every message held is one not dropped and not removed. */
	assert_int_equal(before.messages + before.dropped + 17, 200);
	mqtt_outbox_close(outbox);

	outbox = open_outbox(fixture, 50, 5000);
	expect_counters(outbox, messages, bytes, 0, 0, 0);
	uint64_t bytes_again;
	int64_t first_again;
	assert_int_equal(walk(outbox, &bytes_again, &first_again), messages);
	assert_int_equal(bytes_again, bytes);
	assert_int_equal(first_again, first);
	mqtt_outbox_close(outbox);
}

/* ---- broken files ---- */

static void test_truncated_file(void **state)
{
	struct fixture *fixture = *state;
	/* Half the file, a page and a bit, a header cut short. */
	const off_t keep[] = { -2, 5000, 60 };
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		char aside[PATH_MAX];
		make_outbox(fixture, 300, 500);
		off_t size = file_size(fixture->path);
		assert_true(size > 100000);
		off_t length = keep[i] == -2 ? size / 2 : keep[i];
		assert_int_equal(truncate(fixture->path, length), 0);
		expect_set_aside(fixture, "malformed", aside, sizeof(aside));
		/* Moved, not removed or rewritten; it had no -wal to go with it. */
		assert_int_equal(file_size(aside), length);
		char aside_wal[PATH_MAX + 4];
		snprintf(aside_wal, sizeof(aside_wal), "%s-wal", aside);
		assert_false(exists(aside_wal));
		assert_int_equal(unlink(aside), 0);
		assert_int_equal(unlink(fixture->path), 0);
	}
}

static void test_garbage_file(void **state)
{
	struct fixture *fixture = *state;
	char garbage[8192];
	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (char)(i * 7 + 3);
	temp_tree_write_bytes(fixture->path, garbage, sizeof(garbage));
	/* Its -wal goes with it; a -shm is only an index of the -wal. */
	temp_tree_write(fixture->wal, "the broken file's wal");
	temp_tree_write(fixture->shm, "stale");
	char aside[PATH_MAX], aside_wal[PATH_MAX + 4];
	expect_set_aside(fixture, "not a database", aside, sizeof(aside));
	size_t size;
	char *content = read_whole(aside, &size);
	assert_int_equal(size, sizeof(garbage));
	assert_memory_equal(content, garbage, sizeof(garbage));
	free(content);
	snprintf(aside_wal, sizeof(aside_wal), "%s-wal", aside);
	content = read_whole(aside_wal, &size);
	assert_string_equal(content, "the broken file's wal");
	free(content);
}

/* A page in the middle gone bad, the file's size and header intact: only
 * PRAGMA quick_check sees it.  A crash left a -wal beside it, which goes
 * aside with it untouched, not checkpointed into it. */
static void test_damaged_page(void **state)
{
	struct fixture *fixture = *state;
	make_outbox(fixture, 300, 500);
	crash_after(fixture, 1, 0);
	off_t wal_size = file_size(fixture->wal);
	assert_true(wal_size > 0);
	off_t size = file_size(fixture->path);
	assert_true(size > 20 * 4096);
	char garbage[4096];
	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (char)(i * 13 + 5);
	int file = open(fixture->path, O_WRONLY | O_CLOEXEC);
	assert_true(file >= 0);
	assert_int_equal(pwrite(file, garbage, sizeof(garbage), 10 * 4096), (ssize_t)sizeof(garbage));
	assert_int_equal(close(file), 0);
	assert_int_equal(file_size(fixture->path), size);
	char aside[PATH_MAX];
	expect_set_aside(fixture, "quick_check", aside, sizeof(aside));
	assert_int_equal(file_size(aside), size);
	file = open(aside, O_RDONLY | O_CLOEXEC);
	assert_true(file >= 0);
	char again[4096];
	assert_int_equal(pread(file, again, sizeof(again), 10 * 4096), (ssize_t)sizeof(again));
	assert_int_equal(close(file), 0);
	assert_memory_equal(again, garbage, sizeof(garbage));
	char aside_wal[PATH_MAX + 4];
	snprintf(aside_wal, sizeof(aside_wal), "%s-wal", aside);
	assert_int_equal(file_size(aside_wal), wal_size);
}

static void write_database(const char *path, const char *sql)
{
	sqlite3 *database = NULL;
	assert_int_equal(sqlite3_open(path, &database), SQLITE_OK);
	char *message = NULL;
	if (sqlite3_exec(database, sql, NULL, NULL, &message) != SQLITE_OK)
		fail_msg("%s: %s", sql, message);
	assert_int_equal(sqlite3_close(database), SQLITE_OK);
}

static int64_t count_rows(const char *path, const char *table)
{
	sqlite3 *database = NULL;
	sqlite3_stmt *statement = NULL;
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	assert_int_equal(sqlite3_open_v2(path, &database, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(database, sql, -1, &statement, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(statement), SQLITE_ROW);
	int64_t count = sqlite3_column_int64(statement, 0);
	sqlite3_finalize(statement);
	sqlite3_close(database);
	return count;
}

static void test_other_schema(void **state)
{
	struct fixture *fixture = *state;
	char aside[PATH_MAX];
	/* Another program's database: left whole, beside. */
	write_database(fixture->path, "CREATE TABLE readings (ts INTEGER, value REAL);"
	                              "INSERT INTO readings VALUES (1, 2.5), (2, 3.5);");
	expect_set_aside(fixture, "not an outbox", aside, sizeof(aside));
	assert_int_equal(count_rows(aside, "readings"), 2);
	assert_int_equal(unlink(aside), 0);
	assert_int_equal(unlink(fixture->path), 0);

	/* Ours, from a later version. */
	make_outbox(fixture, 2, 10);
	write_database(fixture->path, "PRAGMA user_version = 3;");
	expect_set_aside(fixture, "user_version 3", aside, sizeof(aside));
	assert_int_equal(count_rows(aside, "outbox"), 2);
	assert_int_equal(unlink(aside), 0);
	assert_int_equal(unlink(fixture->path), 0);

	/* Ours in the stamp, but the table gone. */
	make_outbox(fixture, 2, 10);
	write_database(fixture->path, "DROP TABLE outbox; CREATE TABLE outbox (id INTEGER PRIMARY KEY);");
	expect_set_aside(fixture, "no column named topic", aside, sizeof(aside));
}

static void test_two_set_aside_in_one_second(void **state)
{
	struct fixture *fixture = *state;
	char first[PATH_MAX], second[PATH_MAX];
	time_t before = time(NULL);
	struct mqtt_outbox *outbox;
	temp_tree_write(fixture->path, "not a database, and long enough to be read as one: 0123456789abcdefghijklmnop"
	                               "qrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz");
	assert_int_equal(mqtt_outbox_open(fixture->path, 10, LARGE, &outbox), 0);
	mqtt_outbox_close(outbox);
	assert_int_equal(find_set_aside(fixture, first, sizeof(first), before, time(NULL)), 1);
	temp_tree_write(fixture->path, "again not a database, again long enough: 0123456789abcdefghijklmnopqrstuvwxyz"
	                               "0123456789abcdefghijklmnopqrstuvwxyz0123456789");
	assert_int_equal(mqtt_outbox_open(fixture->path, 10, LARGE, &outbox), 0);
	expect_counters(outbox, 0, 0, 0, 0, 1);
	mqtt_outbox_close(outbox);
	/* Both kept, whether or not the second came in the same second. */
	assert_int_equal(find_set_aside(fixture, second, sizeof(second), before, time(NULL)), 2);
}

/* ---- a directory that refuses ---- */

static void test_unwritable_directory(void **state)
{
	struct fixture *fixture = *state;
	struct mqtt_outbox *outbox = NULL;
	char path[PATH_MAX];
	int descriptors = open_descriptor_count();

	/* Below a plain file. */
	snprintf(path, sizeof(path), "%s/file", fixture->root);
	temp_tree_write(path, "");
	snprintf(path, sizeof(path), "%s/file/outbox.db", fixture->root);
	assert_int_equal(mqtt_outbox_open(path, 10, LARGE, &outbox), -ENOTDIR);
	assert_null(outbox);
	/* In a folder that is not there. */
	snprintf(path, sizeof(path), "%s/missing/outbox.db", fixture->root);
	assert_int_equal(mqtt_outbox_open(path, 10, LARGE, &outbox), -ENOENT);
	assert_null(outbox);
	assert_int_equal(open_descriptor_count(), descriptors);

	/* In a folder without write permission; for root, whom permissions do
	 * not stop, as nobody in a child. */
	char locked[256];
	snprintf(locked, sizeof(locked), "%s/locked", fixture->root);
	temp_tree_make_directory(locked);
	assert_int_equal(chmod(fixture->root, 0755), 0);
	assert_int_equal(chmod(locked, 0555), 0);
	snprintf(path, sizeof(path), "%s/outbox.db", locked);
	fflush(NULL);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(100);
		struct mqtt_outbox *refused = NULL;
		int result = mqtt_outbox_open(path, 10, LARGE, &refused);
		_exit(result < 0 && !refused ? -result : 101);
	}
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), EACCES);
	assert_false(exists(path));
	assert_int_equal(chmod(locked, 0755), 0);
}

/* ---- a full disk ---- */

static void test_full_disk_at_append(void **state)
{
	struct fixture *fixture = *state;
	char payload[1001];
	memset(payload, 'f', sizeof(payload) - 1);
	payload[sizeof(payload) - 1] = '\0';
	assert_int_equal(sqlite3_auto_extension((void (*)(void))limit_pages), SQLITE_OK);
	fixture->pages_limited = true;

	struct mqtt_outbox *outbox = open_outbox(fixture, LARGE, 100 * (uint64_t)LARGE);
	int64_t first = append_text(outbox, "first", "1");
	assert_int_equal(mqtt_outbox_commit(outbox), 0);

	/* One long turn until the pages run out: the refused message is not
	 * kept, and those accepted earlier in the same turn are. */
	int accepted = 0, result;
	int64_t id, last = first;
	while ((result = mqtt_outbox_append(outbox, "full", payload, 1000, 1, false, &id)) == 0 && accepted < 1000) {
		last = id;
		accepted++;
	}
	assert_int_equal(result, -ENOSPC);
	assert_true(accepted >= 10);
	expect_counters(outbox, 1 + accepted, 6 + 1004 * (uint64_t)accepted, 1 + accepted, 0, 0);
	uint64_t bytes;
	int64_t first_seen;
	assert_int_equal(walk(outbox, &bytes, &first_seen), 1 + accepted);
	assert_int_equal(first_seen, first);
	assert_int_equal(mqtt_outbox_commit(outbox), 0);
	mqtt_outbox_close(outbox);

	/* At the message bound, an append drops the oldest (one small row,
	 * which frees no page) and still does not fit: the drop is undone. */
	outbox = open_outbox(fixture, 1 + accepted, 100 * (uint64_t)LARGE);
	char *big = malloc(12001);
	assert_non_null(big);
	memset(big, 'b', 12000);
	big[12000] = '\0';
	assert_int_equal(mqtt_outbox_append(outbox, "big", big, 12000, 1, false, &id), -ENOSPC);
	free(big);
	expect_counters(outbox, 1 + accepted, 6 + 1004 * (uint64_t)accepted, 0, 0, 0);
	expect_next(outbox, 0, first, "first", "1");
	assert_int_equal(mqtt_outbox_commit(outbox), 0);

	/* Room again once rows go. */
	int64_t after = 0;
	struct outbox_message message;
	for (int i = 0; i < accepted - 1; i++) {
		assert_int_equal(mqtt_outbox_next(outbox, after, &message), 0);
		after = message.id;
		outbox_message_clear(&message);
		assert_int_equal(mqtt_outbox_remove(outbox, after), 0);
	}
	expect_counters(outbox, 2, 1004 * 2, 0, 0, 0);
	int64_t again = append_text(outbox, "full", payload);
	assert_true(again > last);
	assert_int_equal(mqtt_outbox_commit(outbox), 0);
	expect_counters(outbox, 3, 1004 * 3, 1, 0, 0);
	mqtt_outbox_close(outbox);

	assert_int_equal(sqlite3_cancel_auto_extension((void (*)(void))limit_pages), 1);
	fixture->pages_limited = false;
	outbox = open_outbox(fixture, LARGE, 100 * (uint64_t)LARGE);
	expect_counters(outbox, 3, 1004 * 3, 0, 0, 0);
	/* The two newest of the long turn, and the one after. */
	assert_int_equal(mqtt_outbox_next(outbox, after, &message), 0);
	assert_true(message.id > after && message.id < last);
	assert_string_equal(message.payload, payload);
	int64_t middle = message.id;
	outbox_message_clear(&message);
	expect_next(outbox, middle, last, "full", payload);
	expect_next(outbox, last, again, "full", payload);
	expect_none_after(outbox, again);
	mqtt_outbox_close(outbox);
}

static void test_full_disk_at_commit(void **state)
{
	struct fixture *fixture = *state;
	full_disk_register(&fixture->disk);
	fixture->disk_registered = true;

	struct mqtt_outbox *outbox = open_outbox(fixture, 100, LARGE);
	int64_t a = append_text(outbox, "t", "kept");
	mqtt_outbox_set_sequence(outbox, 1);
	assert_int_equal(mqtt_outbox_commit(outbox), 0);
	assert_int_equal(mqtt_outbox_sequence(outbox), 1);

	/* A turn the disk refuses at its commit: SQLite takes all of it
	 * back, the removal and the sequence number too, and the totals
	 * follow. */
	int64_t b = append_text(outbox, "t", "lost1");
	append_text(outbox, "t", "lost2");
	mqtt_outbox_set_sequence(outbox, 3);
	assert_int_equal(mqtt_outbox_remove(outbox, a), 0);
	expect_counters(outbox, 2, 12, 3, 0, 0);
	fixture->disk.full = true;
	assert_int_equal(mqtt_outbox_commit(outbox), -ENOSPC);
	assert_true(fixture->disk.refused > 0);
	fixture->disk.full = false;
	assert_int_equal(mqtt_outbox_sequence(outbox), 1);
	expect_counters(outbox, 1, 5, 3, 0, 0);
	expect_next(outbox, 0, a, "t", "kept");
	expect_none_after(outbox, a);

	/* Usable afterwards; numbers do not go back to those handed out in
	 * the lost turn. */
	int64_t c = append_text(outbox, "t", "later");
	assert_true(c > b + 1);
	mqtt_outbox_set_sequence(outbox, 4);
	assert_int_equal(mqtt_outbox_commit(outbox), 0);
	mqtt_outbox_close(outbox);

	outbox = open_outbox(fixture, 100, LARGE);
	assert_int_equal(mqtt_outbox_sequence(outbox), 4);
	expect_counters(outbox, 2, 11, 0, 0, 0);
	expect_next(outbox, 0, a, "t", "kept");
	expect_next(outbox, a, c, "t", "later");
	expect_none_after(outbox, c);
	mqtt_outbox_close(outbox);
}

/* The reading sequence number is durable with the commit that carries it,
 * and only then: one set but not committed (a crash) is not there after. */
static void test_sequence_with_its_messages(void **state)
{
	struct fixture *fixture = *state;
	struct mqtt_outbox *outbox = open_outbox(fixture, 100, LARGE);
	assert_int_equal(mqtt_outbox_sequence(outbox), 0);
	append_text(outbox, "r", "seq 1");
	append_text(outbox, "r", "seq 2");
	mqtt_outbox_set_sequence(outbox, 2);
	assert_int_equal(mqtt_outbox_sequence(outbox), 0);
	assert_int_equal(mqtt_outbox_commit(outbox), 0);
	assert_int_equal(mqtt_outbox_sequence(outbox), 2);
	/* A commit with nothing but the number writes it too. */
	mqtt_outbox_set_sequence(outbox, 5);
	assert_int_equal(mqtt_outbox_commit(outbox), 0);
	mqtt_outbox_close(outbox);

	outbox = open_outbox(fixture, 100, LARGE);
	assert_int_equal(mqtt_outbox_sequence(outbox), 5);
	mqtt_outbox_close(outbox);

	/* A crash after a commit of 3 (numbers 6..8) with 2 more kept and
	 * numbered (9, 10) but not committed: neither those messages nor
	 * their numbers are there after. */
	crash_after(fixture, 3, 2);
	outbox = open_outbox(fixture, 100, LARGE);
	assert_int_equal(mqtt_outbox_sequence(outbox), 8);
	expect_counters(outbox, 5, 2 * (1 + 5) + 3 * (5 + 2), 0, 0, 0);
	mqtt_outbox_close(outbox);
}

/* A file of the first layout (no table meta) is brought up to date in
 * place, its messages kept, the sequence number starting from 0 (the
 * state database has it from before). */
static void test_upgrade_from_version_1(void **state)
{
	struct fixture *fixture = *state;
	make_outbox(fixture, 3, 10);
	write_database(fixture->path, "DROP TABLE meta; PRAGMA user_version = 1;");
	struct mqtt_outbox *outbox = open_outbox(fixture, 100, LARGE);
	expect_counters(outbox, 3, 3 * (6 + 10), 0, 0, 0);
	assert_int_equal(mqtt_outbox_sequence(outbox), 0);
	mqtt_outbox_set_sequence(outbox, 7);
	assert_int_equal(mqtt_outbox_commit(outbox), 0);
	mqtt_outbox_close(outbox);
	assert_int_equal(count_rows(fixture->path, "outbox"), 3);
	outbox = open_outbox(fixture, 100, LARGE);
	assert_int_equal(mqtt_outbox_sequence(outbox), 7);
	mqtt_outbox_close(outbox);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_and_content_survive_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_and_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_commits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_survives_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_wal_after_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_by_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_by_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_totals_drift, setup, teardown),
		cmocka_unit_test_setup_teardown(test_message_bigger_than_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_totals_after_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_set_aside_in_one_second, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwritable_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_disk_at_append, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_disk_at_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sequence_with_its_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_version_1, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
