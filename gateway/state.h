/* state.h — the gateway's durable state in state_dir/tryggd.db (SQLite, WAL):
 * the reading sequence number, and the spool's table (spool.h).
 * state_open() owns the database handle; state_close() closes it. */
#ifndef TRYGGD_STATE_H
#define TRYGGD_STATE_H

#include <stdint.h>

#include <sqlite3.h>

struct state;

/* Create state_dir when missing and open (or create) the database in it.
 * 0, or a negative errno with a message in err. */
int state_open(const char *state_dir, struct state **out, char *err, size_t err_size);
void state_close(struct state *state);

sqlite3 *state_database(struct state *state);

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
