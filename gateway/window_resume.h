/* window_resume.h — the windows a stop cut short, kept in tryggd.db so that
 * a start within the same window goes on from them.
 *
 * A graceful stop flushes each sensor's open window as it stands (its
 * coverage says how much of it was read).  Started again before that
 * window ends, tryggd would send a second point with the same series and
 * timestamp, holding only the rest of the window, and the store keeps one
 * point per series and time: the first part would be lost.  So the stop
 * also records each cut window here (table cut_window, one row per sensor:
 * the window's sums exactly, and when it was cut), and the next start adds
 * a recorded window to the sensor's open one when it is the same window
 * (sensor name, type, start and length) and the start comes after the cut:
 * the window's point then holds both parts.  A start that does not resume
 * (later, a different sensor, or a simulated clock run again from before
 * the cut) leaves the flushed point as it is.  Every start forgets the
 * rows once the sensors took theirs.
 *
 * The functions borrow the database (state_database()); nothing is kept. */
#ifndef TRYGGD_WINDOW_RESUME_H
#define TRYGGD_WINDOW_RESUME_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "window.h"

/* Create the table when missing.  0 or a negative errno. */
int window_resume_open(sqlite3 *database);

/* Record sensor's window as a stop cut it at cut_ms (after window_cut(),
 * before window_close()), replacing what the sensor had recorded.
 * 0 or a negative errno. */
int window_resume_save(sqlite3 *database, const char *sensor, const struct window *cut, int64_t cut_ms);

/* If sensor's recorded window is the one open in *open (type, start,
 * length) and now_ms is at or after its cut, add it to *open
 * (window_absorb()) and set *resumed.  0 or a negative errno. */
int window_resume_take(sqlite3 *database, const char *sensor, struct window *open, int64_t now_ms, bool *resumed);

/* Forget every recorded window.  0 or a negative errno. */
int window_resume_forget(sqlite3 *database);

#endif
