/* mqtt_outbox.h — the durable MQTT buffer: every message tryggd accepts
 * for publishing is kept here, on disk in state_dir, in order, until the
 * broker has taken it, so a broker outage, a restart, a SIGKILL or a
 * power cut loses nothing the buffer's bounds allow.
 *
 * An SQLite database of its own (not the state database), one row per
 * message, numbered in the order accepted, and the last reading sequence
 * number used (table meta).  The loop appends, reads the
 * oldest rows after a given number to hand them to Paho, and removes a row
 * when the broker acknowledged it.  Writes are gathered into one
 * transaction until mqtt_outbox_commit(), which the owner calls once per
 * turn of the loop: a crash loses at most what was accepted in that turn.
 *
 * Bounds: max_messages and max_bytes (payload and topic bytes).  Appending
 * past either drops the oldest rows, counted in `dropped`.  A database
 * that cannot be opened or read as ours (truncated, garbage, another
 * schema) is renamed aside (FILE.broken-YYYYMMDDTHHMMSSZ, database_file.h),
 * counted in `set_aside` and logged, and a fresh one is started: never a
 * crash, never a refusal to start.
 *
 * struct mqtt_outbox owns its SQLite handle; a struct outbox_message owns
 * its strings until outbox_message_clear(). */
#ifndef TRYGGD_MQTT_OUTBOX_H
#define TRYGGD_MQTT_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mqtt_outbox;

struct outbox_message {
	int64_t id;              /* > 0, rising in the order accepted */
	char *topic;
	char *payload;           /* NUL-terminated too, for convenience */
	size_t payload_length;
	int qos;
	bool retained;
};

struct outbox_counters {
	uint64_t messages;       /* held now */
	uint64_t bytes;          /* held now: topics and payloads */
	uint64_t appended;       /* since open */
	uint64_t dropped;        /* oldest dropped to stay within the bounds, since open */
	int64_t dropped_max_id;  /* the highest number dropped so far, 0 when none */
	int64_t last_id;         /* the highest number handed out (by this run or held from before) */
	uint64_t set_aside;      /* broken databases renamed aside at open */
};

/* Open (or create) the outbox at path.  A broken file is set aside and a
 * fresh one made.  0 and *out, or a negative errno when even a fresh
 * database cannot be made (the directory is not writable). */
int mqtt_outbox_open(const char *path, uint64_t max_messages, uint64_t max_bytes, struct mqtt_outbox **out);
/* Commits what is pending and closes. */
void mqtt_outbox_close(struct mqtt_outbox *outbox);

/* Keep one message; *id its number.  Drops the oldest as needed to stay
 * within the bounds (a message larger than max_bytes alone is refused:
 * -EMSGSIZE).  -EIO and friends when the disk refuses (full): nothing
 * kept, the caller counts the loss. */
int mqtt_outbox_append(struct mqtt_outbox *outbox, const char *topic, const void *payload, size_t payload_length,
                       int qos, bool retained, int64_t *id);

/* The oldest message numbered above after_id: 0 with *out filled,
 * -ENOENT when there is none, another negative errno on a read error. */
int mqtt_outbox_next(struct mqtt_outbox *outbox, int64_t after_id, struct outbox_message *out);
void outbox_message_clear(struct outbox_message *message);

/* Around a run of mqtt_outbox_next() calls with no write between: one read
 * transaction for all of them, where each alone would take and give back
 * SQLite's file locks (two fcntl calls a message).  No-ops inside the
 * write transaction. */
void mqtt_outbox_begin_reading(struct mqtt_outbox *outbox);
void mqtt_outbox_end_reading(struct mqtt_outbox *outbox);

/* The broker has the message: forget it.  Removing a number that is not
 * there (dropped meanwhile) is not an error. */
int mqtt_outbox_remove(struct mqtt_outbox *outbox, int64_t id);

/* The last reading sequence number used, as the file had it at open (0
 * for a new file), and the one the next commit records with the messages
 * written in its transaction: a number and the message that carries it
 * are durable together or not at all. */
uint64_t mqtt_outbox_sequence(const struct mqtt_outbox *outbox);
void mqtt_outbox_set_sequence(struct mqtt_outbox *outbox, uint64_t sequence);
/* A sequence number was set that the file does not have yet. */
bool mqtt_outbox_sequence_changed(const struct mqtt_outbox *outbox);

/* Whether mqtt_outbox_commit() has anything to write. */
bool mqtt_outbox_pending(const struct mqtt_outbox *outbox);

/* Make the writes since the last commit durable.  0 or a negative errno. */
int mqtt_outbox_commit(struct mqtt_outbox *outbox);

struct outbox_counters mqtt_outbox_counters(const struct mqtt_outbox *outbox);

#endif
