/* schedule.c — see schedule.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "clock_trust.h"
#include "schedule.h"

/* Each timer is allocated on its own, so a handle stays put while the
 * array of pointers grows. */
struct schedule_timer {
	int64_t due_ms;          /* < 0: stopped */
	int priority;
	schedule_callback callback;
	void *userdata;
	bool has_handle;         /* kept when stopped, until schedule_cancel() */
	bool cancelled;          /* cancelled from inside its own callback */
};

struct schedule {
	struct schedule_options options;
	sd_event *event;
	sd_event_source *source;
	struct schedule_timer **timers;   /* in the order they were added */
	size_t timer_count;
	struct schedule_timer *firing;    /* whose callback runs now, or NULL */
	int64_t virtual_now_ms;
	uint64_t origin_monotonic_us;  /* real time at which virtual start was */
	bool ended, halted;
	bool step_pending;             /* simulation: the configured step is still to come */
	/* Real time: both clocks at the last look, to tell a step from drift. */
	int64_t seen_realtime_ms, seen_boottime_ms;
	int clock_set_fd;              /* real time: readable (ECANCELED) when the clock is set */
	sd_event_source *clock_set_source;
};

static int64_t clock_ms(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t realtime_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

int64_t schedule_now(const struct schedule *schedule)
{
	return schedule->options.simulated ? schedule->virtual_now_ms : realtime_ms();
}

/* The kernel stamps an event with CLOCK_MONOTONIC when it happens; the loop
 * reads it some microseconds to milliseconds later.  Its place on our clock
 * is now minus how long ago it happened, both clocks read together here, so
 * an edge is credited to the window it happened in however late the loop got
 * round to it, and a step of the wall clock (NTP) between the edge and the
 * read costs nothing.  A virtual clock stands still between its instants,
 * and only simulated drivers (which have no kernel events) run on it: there
 * the event is placed at the current instant. */
int64_t schedule_from_monotonic(const struct schedule *schedule, int64_t monotonic_ns)
{
	if (schedule->options.simulated)
		return schedule->virtual_now_ms;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t now_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	int64_t ago_ns = now_ns - monotonic_ns;
	if (ago_ns < 0)
		ago_ns = 0;
	return realtime_ms() - ago_ns / 1000000;
}

static struct schedule_timer *schedule_earliest(struct schedule *schedule)
{
	struct schedule_timer *best = NULL;
	for (size_t i = 0; i < schedule->timer_count; i++) {
		struct schedule_timer *t = schedule->timers[i];
		if (t->due_ms < 0)
			continue;
		if (!best || t->due_ms < best->due_ms ||
		    (t->due_ms == best->due_ms && t->priority < best->priority))
			best = t;
	}
	return best;
}

static void schedule_arm(struct schedule *schedule)
{
	struct schedule_timer *next = schedule_earliest(schedule);
	if (schedule->halted || schedule->ended || (!next && !schedule->options.simulated)) {
		sd_event_source_set_enabled(schedule->source, SD_EVENT_OFF);
		return;
	}

	uint64_t when_us;
	if (!schedule->options.simulated) {
		when_us = (uint64_t)next->due_ms * 1000;
	} else if (!next || (schedule->options.end_ms && next->due_ms >= schedule->options.end_ms)) {
		when_us = 1;  /* the end: at once */
	} else if (schedule->options.ready && !schedule->options.ready(schedule->options.userdata)) {
		/* Backpressure: wait for schedule_kick(). */
		sd_event_source_set_enabled(schedule->source, SD_EVENT_OFF);
		return;
	} else if (schedule->options.speed > 0) {
		double virtual_us = (double)(next->due_ms - schedule->options.start_ms) * 1000.0;
		when_us = schedule->origin_monotonic_us + (uint64_t)(virtual_us / schedule->options.speed);
		if (when_us == 0)
			when_us = 1;
	} else {
		when_us = 1;  /* in the past: fires on the next loop iteration, after pending I/O */
	}
	sd_event_source_set_time(schedule->source, when_us);
	sd_event_source_set_enabled(schedule->source, SD_EVENT_ONESHOT);
}

/* Take t out of the array, keeping the order of the rest (it breaks ties
 * between equal priorities), and free it. */
static void schedule_remove(struct schedule *schedule, struct schedule_timer *t)
{
	for (size_t i = 0; i < schedule->timer_count; i++) {
		if (schedule->timers[i] != t)
			continue;
		memmove(&schedule->timers[i], &schedule->timers[i + 1],
		        (schedule->timer_count - i - 1) * sizeof(*schedule->timers));
		schedule->timer_count--;
		break;
	}
	free(t);
}

static void schedule_fire(struct schedule *schedule, struct schedule_timer *t, int64_t now_ms)
{
	/* The callback may add, cancel or move timers, its own included;
	 * t itself stays where it is until it is removed here. */
	schedule->firing = t;
	int64_t next = t->callback(t->userdata, now_ms);
	schedule->firing = NULL;
	if (t->cancelled) {
		schedule_remove(schedule, t);
		return;
	}
	/* A callback that returns a time not after now would spin. */
	t->due_ms = next > now_ms ? next : -1;
	if (t->due_ms < 0 && !t->has_handle)
		schedule_remove(schedule, t);
}

/* The clock jumped by step_ms: every timer keeps its distance to now. */
static void schedule_step(struct schedule *schedule, int64_t step_ms, int64_t before_ms, int64_t now_ms)
{
	for (size_t i = 0; i < schedule->timer_count; i++) {
		struct schedule_timer *t = schedule->timers[i];
		if (t->due_ms >= 0)
			t->due_ms = t->due_ms + step_ms > 0 ? t->due_ms + step_ms : 1;
	}
	if (schedule->options.on_step)
		schedule->options.on_step(schedule->options.userdata, step_ms, before_ms, now_ms);
}

/* Real time: did the wall clock step since the last look?  BOOTTIME, not
 * MONOTONIC: it counts a suspend, which is no step. */
static void schedule_check_step(struct schedule *schedule)
{
	int64_t realtime = realtime_ms(), boottime = clock_ms(CLOCK_BOOTTIME);
	int64_t step = clock_trust_step_ms(schedule->seen_realtime_ms, schedule->seen_boottime_ms, realtime, boottime);
	schedule->seen_realtime_ms = realtime;
	schedule->seen_boottime_ms = boottime;
	if (step != 0 && !schedule->halted)
		schedule_step(schedule, step, realtime - step, realtime);
}

/* Readable once the clock is set; armed again each time (Linux cancels a
 * timer with TFD_TIMER_CANCEL_ON_SET at every set). */
static int schedule_watch_clock_set(struct schedule *schedule)
{
	struct itimerspec far = { .it_value = { .tv_sec = (time_t)INT32_MAX } };
	if (timerfd_settime(schedule->clock_set_fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &far, NULL) < 0)
		return -errno;
	return 0;
}

static int schedule_on_clock_set(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
	struct schedule *schedule = userdata;
	(void)source;
	(void)revents;
	uint64_t expirations;
	/* ECANCELED is the news; the read clears it. */
	if (read(fd, &expirations, sizeof(expirations)) < 0 && errno != ECANCELED && errno != EAGAIN)
		return 0;
	schedule_watch_clock_set(schedule);
	schedule_check_step(schedule);
	schedule_arm(schedule);
	return 0;
}

static int schedule_on_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
	struct schedule *schedule = userdata;
	(void)source;
	(void)usec;

	if (schedule->halted)
		return 0;
	if (!schedule->options.simulated) {
		schedule_check_step(schedule);
		int64_t now = realtime_ms();
		struct schedule_timer *t;
		while (!schedule->halted && (t = schedule_earliest(schedule)) && t->due_ms <= now)
			schedule_fire(schedule, t, now);
		schedule_arm(schedule);
		return 0;
	}

	struct schedule_timer *t = schedule_earliest(schedule);
	/* The end is exclusive: what is due at the end instant belongs to
	 * after it (a sample at the end would open a window past it). */
	if (!t || (schedule->options.end_ms && t->due_ms >= schedule->options.end_ms)) {
		if (schedule->options.end_ms)
			schedule->virtual_now_ms = schedule->options.end_ms;
		schedule->ended = true;
		sd_event_source_set_enabled(schedule->source, SD_EVENT_OFF);
		if (schedule->options.on_end)
			schedule->options.on_end(schedule->options.userdata);
		return 0;
	}
	if (schedule->options.ready && !schedule->options.ready(schedule->options.userdata)) {
		sd_event_source_set_enabled(schedule->source, SD_EVENT_OFF);
		return 0;
	}
	/* The configured step comes before the timers due at its instant.
	 * The pacing keeps going as if the clock had not jumped. */
	if (schedule->step_pending && t->due_ms >= schedule->options.step_at_ms) {
		int64_t step = schedule->options.step_ms, before = schedule->options.step_at_ms;
		schedule->step_pending = false;
		schedule->virtual_now_ms = before + step;
		schedule->options.start_ms += step;
		schedule_step(schedule, step, before, schedule->virtual_now_ms);
		schedule_arm(schedule);
		return 0;
	}
	/* Run every timer due at this instant, in priority order, then yield
	 * to the loop so I/O gets its turn between virtual instants. */
	int64_t instant = t->due_ms;
	schedule->virtual_now_ms = instant;
	while (!schedule->halted && (t = schedule_earliest(schedule)) && t->due_ms == instant)
		schedule_fire(schedule, t, instant);
	schedule_arm(schedule);
	return 0;
}

int schedule_new(sd_event *event, const struct schedule_options *options, struct schedule **out)
{
	int r;
	struct schedule *schedule = calloc(1, sizeof(*schedule));
	if (!schedule)
		return -ENOMEM;
	schedule->options = *options;
	schedule->event = sd_event_ref(event);
	schedule->virtual_now_ms = options->start_ms;
	schedule->step_pending = options->simulated && options->step_ms != 0;
	schedule->clock_set_fd = -1;
	if (!options->simulated) {
		schedule->seen_realtime_ms = realtime_ms();
		schedule->seen_boottime_ms = clock_ms(CLOCK_BOOTTIME);
		schedule->clock_set_fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
		r = schedule->clock_set_fd < 0 ? -errno : schedule_watch_clock_set(schedule);
		if (r >= 0)
			r = sd_event_add_io(event, &schedule->clock_set_source, schedule->clock_set_fd, EPOLLIN,
			                    schedule_on_clock_set, schedule);
		if (r < 0)
			goto fail;
	}

	clockid_t clock = options->simulated ? CLOCK_MONOTONIC : CLOCK_REALTIME;
	r = sd_event_now(event, CLOCK_MONOTONIC, &schedule->origin_monotonic_us);
	if (r < 0)
		goto fail;
	/* Accuracy 1 ms: sd-event would otherwise coalesce wake-ups by up to
	 * 250 ms, which would shift real-time samples. */
	r = sd_event_add_time(event, &schedule->source, clock, 1, 1000, schedule_on_timer, schedule);
	if (r < 0)
		goto fail;
	sd_event_source_set_enabled(schedule->source, SD_EVENT_OFF);
	*out = schedule;
	return 0;
fail:
	schedule_free(schedule);
	return r;
}

void schedule_free(struct schedule *schedule)
{
	if (!schedule)
		return;
	sd_event_source_disable_unref(schedule->source);
	sd_event_source_disable_unref(schedule->clock_set_source);
	if (schedule->clock_set_fd >= 0)
		close(schedule->clock_set_fd);
	sd_event_unref(schedule->event);
	for (size_t i = 0; i < schedule->timer_count; i++)
		free(schedule->timers[i]);
	free(schedule->timers);
	free(schedule);
}

int schedule_add_timer(struct schedule *schedule, int64_t due_ms, int priority,
                       schedule_callback callback, void *userdata, struct schedule_timer **out)
{
	struct schedule_timer *t = malloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	struct schedule_timer **timers = reallocarray(schedule->timers, schedule->timer_count + 1,
	                                              sizeof(*timers));
	if (!timers) {
		free(t);
		return -ENOMEM;
	}
	schedule->timers = timers;
	*t = (struct schedule_timer){
		.due_ms = due_ms, .priority = priority, .callback = callback, .userdata = userdata,
		.has_handle = out != NULL,
	};
	timers[schedule->timer_count++] = t;
	schedule_arm(schedule);
	if (out)
		*out = t;
	return 0;
}

int schedule_add(struct schedule *schedule, int64_t due_ms, int priority,
                 schedule_callback callback, void *userdata)
{
	return schedule_add_timer(schedule, due_ms, priority, callback, userdata, NULL);
}

void schedule_cancel(struct schedule *schedule, struct schedule_timer *timer)
{
	if (!timer)
		return;
	if (timer == schedule->firing) {
		/* Its callback is still on the stack: freed once it returns. */
		timer->cancelled = true;
		timer->due_ms = -1;
		return;
	}
	schedule_remove(schedule, timer);
	schedule_arm(schedule);
}

void schedule_move(struct schedule *schedule, struct schedule_timer *timer, int64_t due_ms)
{
	timer->due_ms = due_ms;
	schedule_arm(schedule);
}

void schedule_kick(struct schedule *schedule)
{
	if (!schedule->halted && !schedule->ended &&
	    sd_event_source_get_enabled(schedule->source, NULL) == 0)
		schedule_arm(schedule);
}

void schedule_halt(struct schedule *schedule)
{
	schedule->halted = true;
	sd_event_source_set_enabled(schedule->source, SD_EVENT_OFF);
}
