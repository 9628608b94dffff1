/* daemon_resume.c — a stop's cut windows kept for a start within them
 * (window_resume.h says why): recorded at a stop, taken up and forgotten
 * at the next start.  A disk that refuses costs only the resumption: the
 * cut window was flushed all the same, as before. */
#include <string.h>

#include "daemon_internal.h"
#include "log.h"
#include "schedule.h"
#include "sensor.h"
#include "state.h"
#include "window_resume.h"

void daemon_forget_cut_windows(struct daemon *daemon)
{
	/* The table was made at the start (daemon_resume_windows()). */
	int r = window_resume_forget(state_database(daemon->state));
	if (r < 0)
		log_debug("state: cannot clear the cut windows: %s", strerror(-r));
}

void daemon_keep_cut_window(struct daemon *daemon, struct daemon_sensor *entry, const struct window *cut,
                            int64_t cut_ms)
{
	const char *name = sensor_config(entry->sensor)->name;
	int r = window_resume_save(state_database(daemon->state), name, cut, cut_ms);
	if (r < 0)
		log_warning("sensor %s: cannot keep its window cut short for a start within it: %s; a start "
		            "before the window ends sends it again with only what is read then",
		            name, strerror(-r));
}

void daemon_resume_windows(struct daemon *daemon)
{
	sqlite3 *database = state_database(daemon->state);
	int64_t now_ms = schedule_now(daemon->schedule);
	int r = window_resume_open(database);
	if (r < 0) {
		log_warning("state: cannot read the windows a stop cut short: %s", strerror(-r));
		return;
	}
	for (size_t i = 0; i < daemon->sensor_count; i++) {
		struct sensor *sensor = daemon->sensors[i].sensor;
		bool resumed = false;
		r = window_resume_take(database, sensor_config(sensor)->name, sensor_open_window(sensor), now_ms,
		                       &resumed);
		if (r < 0)
			log_warning("sensor %s: cannot read its window cut short by the stop: %s",
			            sensor_config(sensor)->name, strerror(-r));
		else if (resumed)
			log_info("sensor %s: goes on with the window the stop cut short", sensor_config(sensor)->name);
	}
	daemon_forget_cut_windows(daemon);
}
