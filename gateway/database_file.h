/* database_file.h — an SQLite database file of state_dir as a file: a -wal
 * left without its database, and setting a damaged database (with its -wal
 * and -shm) aside under a new name beside it, so that a person can look at
 * it later and a fresh one can start.  Used by the state database
 * (state.c) and the MQTT outbox (mqtt_outbox_file.c).  No memory is
 * allocated; names go into the caller's buffers. */
#ifndef TRYGGD_DATABASE_FILE_H
#define TRYGGD_DATABASE_FILE_H

#include <stdbool.h>
#include <stddef.h>

/* A -wal file with something in it beside a database that is missing or
 * empty.  SQLite would make a fresh database and delete the -wal, and what
 * it held with it, without a word; the caller sets it aside instead. */
bool database_orphan_wal(const char *path);

/* Moves path to PATH.broken-YYYYMMDDTHHMMSSZ (UTC; with a further number
 * when that name is taken), and its -wal beside it to that name with -wal;
 * an empty -wal and the -shm (only an index of the -wal) are removed.  0
 * and the new name in aside; -ENOENT when there was no file; another
 * negative errno when the file stays in the way. */
int database_set_aside(const char *path, char *aside, size_t aside_size);

#endif
