/* state.h — the gateway's durable state in state_dir/tryggd.db (SQLite, WAL):
 * the reading sequence number, and the spool's table (spool.h).
 *
 * At open the whole file is checked (PRAGMA integrity_check: about 2 s for
 * a cold 100 MB spool on the build machine, 0.1 s warm; a spool is at most
 * spool_max_mb).  A damaged database (a garbage header, a text file, a
 * truncated file, a damaged page, a -wal without its database) is set
 * aside beside it (database_file.h), one warning says where and what it
 * held as far as that can still be read, and a fresh one is started; its
 * sequence number, if it can still be read, is carried over.
 *
 * state_open() owns the database handle; state_close() closes it. */
#ifndef TRYGGD_STATE_H
#define TRYGGD_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

struct state;

/* Create state_dir when missing and open (or create) the database in it,
 * setting a damaged one aside.  0, or a negative errno with a message in
 * err that names the file. */
int state_open(const char *state_dir, struct state **out, char *err, size_t err_size);
void state_close(struct state *state);

sqlite3 *state_database(struct state *state);

/* An SQLite result code as a negative errno: -ENOSPC for a full disk,
 * -EROFS, -EBUSY, -ENOMEM, otherwise -EIO. */
int state_sqlite_errno(int code);

/* What state_open() set aside, for the daemon to say what follows for the
 * sequence number; all zero when the database was sound. */
struct state_damage {
	bool set_aside;
	bool sequence_known;     /* the damaged file still gave its sequence number */
	uint64_t sequence;       /* that number, carried over as the floor */
};
struct state_damage state_damage(const struct state *state);

/* The reading sequence number as last recorded here (0 when none yet).
 * The MQTT outbox holds the number with its messages (mqtt.h); this one is
 * the floor a start goes on from should the outbox be set aside, and the
 * only one an older version kept. */
int state_sequence_load(struct state *state, uint64_t *seq);
/* Record seq: once per turn of the loop, after the outbox committed it and
 * before its messages reach the broker.  One commit of one prepared
 * statement (in WAL mode, one page appended to the log).  0 once
 * committed; otherwise a negative errno (-ENOSPC: the disk is full;
 * -EROFS, -EBUSY, -EIO), with SQLite's reason in state_error(), and
 * nothing recorded. */
int state_sequence_store(struct state *state, uint64_t seq);
/* Why the last state_sequence_store() failed ("" after a success); owned
 * by state, valid until the next call. */
const char *state_error(const struct state *state);

#endif
