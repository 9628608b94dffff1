/* mqtt_outbox_internal.h — shared between the two halves of the outbox;
 * not for use outside them (the public interface is mqtt_outbox.h).
 *
 *   mqtt_outbox.c       the rows: open and close, append, next, remove,
 *                       commit, the counters; owns struct mqtt_outbox and
 *                       its path, and the transaction.
 *   mqtt_outbox_file.c  the file: connecting to it (outbox_connect, which
 *                       prepares the statements and reads the totals),
 *                       checking it is ours, disconnecting (finalizing the
 *                       statements, closing the handle); a broken file is
 *                       set aside with database_file.h.  Owns no memory of
 *                       its own: it fills and empties the handle and
 *                       statements held in struct mqtt_outbox. */
#ifndef TRYGGD_MQTT_OUTBOX_INTERNAL_H
#define TRYGGD_MQTT_OUTBOX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "mqtt_outbox.h"


/* outbox_connect()'s answer for a file that is there but not usable as
 * ours: the caller sets it aside.  Positive, so that it cannot be taken for
 * an errno. */
#define OUTBOX_BROKEN 1

struct mqtt_outbox {
	sqlite3 *database;
	char *path;
	uint64_t max_messages, max_bytes;
	/* The last number handed out.  Kept here rather than taken from
	 * AUTOINCREMENT so that it never goes back within a run, not even when
	 * a failed commit rolls rows back: the owner's cursor (after_id) may
	 * already be past a number that SQLite would hand out again. */
	int64_t last_id;
	/* The last reading sequence number used, as the file has it, and
	 * the one to write with the next commit (in the same transaction as
	 * the messages that carry it). */
	uint64_t sequence, sequence_next;
	int system_error;                /* errno of the last failed connect, for the caller */
	bool reading;                    /* a read transaction of mqtt_outbox_begin_reading() is open */
	struct outbox_counters counters;
	sqlite3_stmt *begin, *commit, *rollback;
	sqlite3_stmt *savepoint, *release, *rollback_to_savepoint;
	sqlite3_stmt *insert, *select_next, *select_bytes, *remove_row, *drop_oldest, *select_totals;
	sqlite3_stmt *select_sequence, *update_sequence;
};

/* mqtt_outbox.c */
int outbox_errno(int code);
int outbox_read_totals(struct mqtt_outbox *outbox);
int outbox_read_sequence(struct mqtt_outbox *outbox);

/* mqtt_outbox_file.c */
int outbox_connect(struct mqtt_outbox *outbox, char *why, size_t why_size);
void outbox_disconnect(struct mqtt_outbox *outbox);
int outbox_refusal(const char *path, int system_error);

#endif
