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

/* The last reading sequence number used (0 when none yet). */
int state_sequence_load(struct state *state, uint64_t *seq);
/* Record seq as used, before the message carrying it leaves, so a restart
 * never reuses a number: one commit of one prepared statement (in WAL
 * mode, one page appended to the log).  0 once committed; otherwise a
 * negative errno (-ENOSPC: the disk is full; -EROFS, -EBUSY, -EIO), with
 * SQLite's reason in state_error(), and nothing recorded: the caller must
 * not use seq. */
int state_sequence_store(struct state *state, uint64_t seq);
/* Why the last state_sequence_store() failed ("" after a success); owned
 * by state, valid until the next call. */
const char *state_error(const struct state *state);

#endif
