/* schedule.h — tryggd's clock and the timers that run on it.
 *
 * Everything that reads time asks the schedule.  In real time the clock is
 * CLOCK_REALTIME and a timer fires when its due time has come.  In a
 * simulation the clock is virtual: it jumps from one due time to the next,
 * paced by `speed` virtual seconds per real second, or at speed 0 as fast as
 * the pipeline drains: before each step it asks ready() and, when the answer
 * is no, waits for schedule_kick().  Timers fire at exactly their due time
 * in virtual time, so a simulated run is the same at any speed.
 *
 * One sd-event timer source drives all timers.  The schedule owns its
 * timers.  A timer added with schedule_add() has no handle: it runs until
 * its callback stops it.  One added with schedule_add_timer() hands its
 * caller a borrowed struct schedule_timer pointer, valid until the caller
 * gives it back with schedule_cancel() (or the schedule is freed), even
 * after the callback stopped the timer: whoever holds the memory the
 * callback's userdata points into cancels the timer before freeing it.
 *
 * A step of the clock (NTP correcting the wall clock; in a simulation the
 * configured clock_step) moves every timer by the step, so that a timer
 * due in 5 s is still due in 5 s, and then tells the owner (on_step), who
 * realigns what must sit on the new clock's boundaries (schedule_move).
 * In real time a step is noticed when the kernel says the clock was set
 * (a timerfd with TFD_TIMER_CANCEL_ON_SET: sd-event's CLOCK_REALTIME timer
 * would otherwise wait out a step back, an hour for an hour) and at every
 * timer, as a difference of more than CLOCK_STEP_MIN_MS between how far
 * CLOCK_REALTIME and CLOCK_BOOTTIME moved (clock_trust.h). */
#ifndef TRYGGD_SCHEDULE_H
#define TRYGGD_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

struct schedule;
struct schedule_timer;

/* Called at the timer's due time (now_ms == due in a simulation).  Returns
 * the next due time (must be > now_ms), or a negative number to stop. */
typedef int64_t (*schedule_callback)(void *userdata, int64_t now_ms);

struct schedule_options {
	bool simulated;
	int64_t start_ms, end_ms;    /* simulation: virtual start, end (exclusive; 0 = none) */
	double speed;                /* simulation: virtual s per real s, 0 = drain-paced */
	bool (*ready)(void *userdata);       /* simulation: may the clock advance? */
	void (*on_end)(void *userdata);      /* simulation: the virtual end was reached */
	/* The clock stepped by step_ms: it read before_ms just before, now_ms
	 * now; the timers have moved by step_ms already.  NULL: nobody asks. */
	void (*on_step)(void *userdata, int64_t step_ms, int64_t before_ms, int64_t now_ms);
	int64_t step_at_ms, step_ms;  /* simulation: at virtual step_at_ms the clock jumps by step_ms
	                               * (0: never); the end stays a reading of the clock */
	void *userdata;
};

int schedule_new(sd_event *event, const struct schedule_options *options, struct schedule **out);
void schedule_free(struct schedule *schedule);

int64_t schedule_now(const struct schedule *schedule);

/* A kernel timestamp (CLOCK_MONOTONIC, ns: GPIO edge events) on this
 * schedule's clock, in ms.  See schedule.c for how. */
int64_t schedule_from_monotonic(const struct schedule *schedule, int64_t monotonic_ns);

/* Add a timer; among timers due at the same time, lower priority runs
 * first (and among equal priorities, the one added first).  0 or -ENOMEM. */
int schedule_add(struct schedule *schedule, int64_t due_ms, int priority,
                 schedule_callback callback, void *userdata);

/* The same, and *out is the timer's handle (see above).  0 or -ENOMEM. */
int schedule_add_timer(struct schedule *schedule, int64_t due_ms, int priority,
                       schedule_callback callback, void *userdata, struct schedule_timer **out);

/* The timer never runs again, and its handle is given back (invalid from
 * now on).  Safe from inside any callback, the timer's own included: its
 * return value is then ignored, and a timer due at the same instant that
 * has not run yet does not run.  NULL does nothing. */
void schedule_cancel(struct schedule *schedule, struct schedule_timer *timer);

/* The timer runs next at due_ms instead (a stopped one runs again).  Not
 * for a timer from inside its own callback: its return value says when
 * it runs next. */
void schedule_move(struct schedule *schedule, struct schedule_timer *timer, int64_t due_ms);

/* The pipeline drained: let a waiting simulated clock go on. */
void schedule_kick(struct schedule *schedule);

/* Stop firing timers (shutdown). */
void schedule_halt(struct schedule *schedule);

#endif
