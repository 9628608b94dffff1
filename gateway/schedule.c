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
 * heap of pointers is reordered and grows. */
struct schedule_timer {
	int64_t due_ms;          /* < 0: stopped (kept in the heap, last, while it has a handle) */
	int priority;
	uint64_t order;          /* when it was added: breaks ties between equal priorities */
	size_t index;            /* its place in the heap */
	schedule_callback callback;
	void *userdata;
	bool has_handle;         /* kept when stopped, until schedule_cancel() */
	bool cancelled;          /* cancelled from inside its own callback */
};

/* Real time may spend this long running due instants of a drain-paced
 * simulation before the loop looks at its I/O again: long enough that a
 * turn of the loop (and the outbox's one commit per turn) carries many
 * readings, short enough that the broker's answers are taken promptly. */
#define SCHEDULE_BATCH_US 4000

struct schedule {
	struct schedule_options options;
	sd_event *event;
	sd_event_source *source;          /* the timer: real time, or a paced simulation */
	sd_event_source *run_source;      /* a drain-paced simulation: a defer source, no kernel timer */
	/* A binary min-heap by (running before stopped, due, priority, order). */
	struct schedule_timer **timers;
	size_t timer_count, timer_capacity;
	uint64_t added;
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

/* ---- the heap ---- */

static bool timer_before(const struct schedule_timer *a, const struct schedule_timer *b)
{
	if ((a->due_ms < 0) != (b->due_ms < 0))
		return b->due_ms < 0;
	if (a->due_ms != b->due_ms)
		return a->due_ms < b->due_ms;
	if (a->priority != b->priority)
		return a->priority < b->priority;
	return a->order < b->order;
}

static void heap_place(struct schedule *schedule, size_t index, struct schedule_timer *t)
{
	schedule->timers[index] = t;
	t->index = index;
}

static void heap_up(struct schedule *schedule, size_t index)
{
	struct schedule_timer *t = schedule->timers[index];
	while (index > 0) {
		size_t parent = (index - 1) / 2;
		if (!timer_before(t, schedule->timers[parent]))
			break;
		heap_place(schedule, index, schedule->timers[parent]);
		index = parent;
	}
	heap_place(schedule, index, t);
}

static void heap_down(struct schedule *schedule, size_t index)
{
	struct schedule_timer *t = schedule->timers[index];
	for (;;) {
		size_t child = 2 * index + 1;
		if (child >= schedule->timer_count)
			break;
		if (child + 1 < schedule->timer_count && timer_before(schedule->timers[child + 1], schedule->timers[child]))
			child++;
		if (!timer_before(schedule->timers[child], t))
			break;
		heap_place(schedule, index, schedule->timers[child]);
		index = child;
	}
	heap_place(schedule, index, t);
}

/* t's key changed: put it where it belongs. */
static void heap_fix(struct schedule *schedule, struct schedule_timer *t)
{
	heap_up(schedule, t->index);
	heap_down(schedule, t->index);
}

/* Take t out of the heap and free it. */
static void schedule_remove(struct schedule *schedule, struct schedule_timer *t)
{
	size_t index = t->index;
	struct schedule_timer *last = schedule->timers[--schedule->timer_count];
	if (last != t) {
		heap_place(schedule, index, last);
		heap_fix(schedule, last);
	}
	free(t);
}

static struct schedule_timer *schedule_earliest(struct schedule *schedule)
{
	if (schedule->timer_count == 0 || schedule->timers[0]->due_ms < 0)
		return NULL;
	return schedule->timers[0];
}

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

static bool schedule_drain_paced(const struct schedule *schedule)
{
	return schedule->options.simulated && schedule->options.speed <= 0;
}

static void schedule_arm(struct schedule *schedule)
{
	if (schedule_drain_paced(schedule)) {
		/* The defer source runs whenever the loop comes round; it asks
		 * ready() itself and turns itself off when the answer is no.
		 * No kernel timer is set per virtual instant. */
		bool run = !schedule->halted && !schedule->ended;
		sd_event_source_set_enabled(schedule->run_source, run ? SD_EVENT_ON : SD_EVENT_OFF);
		return;
	}
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
	} else {
		double virtual_us = (double)(next->due_ms - schedule->options.start_ms) * 1000.0;
		when_us = schedule->origin_monotonic_us + (uint64_t)(virtual_us / schedule->options.speed);
		if (when_us == 0)
			when_us = 1;
	}
	sd_event_source_set_time(schedule->source, when_us);
	sd_event_source_set_enabled(schedule->source, SD_EVENT_ONESHOT);
}

static void schedule_fire(struct schedule *schedule, struct schedule_timer *t, int64_t now_ms)
{
	/* The callback may add, cancel or move timers, its own included;
	 * t itself stays in the heap until it is removed here. */
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
	else
		heap_fix(schedule, t);
}

/* The clock jumped by step_ms: every timer keeps its distance to now. */
static void schedule_step(struct schedule *schedule, int64_t step_ms, int64_t before_ms, int64_t now_ms)
{
	for (size_t i = 0; i < schedule->timer_count; i++) {
		struct schedule_timer *t = schedule->timers[i];
		if (t->due_ms >= 0)
			t->due_ms = t->due_ms + step_ms > 0 ? t->due_ms + step_ms : 1;
	}
	/* Every timer moved alike, except those clamped to 1 ms, which may
	 * now tie with others: order the heap again. */
	for (size_t i = schedule->timer_count / 2; i-- > 0;)
		heap_down(schedule, i);
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

enum advance { ADVANCED, WAITING, ENDED };

/* A simulation's next step: the end, the configured clock step, or every
 * timer due at the next instant, in priority order. */
static enum advance schedule_advance(struct schedule *schedule)
{
	struct schedule_timer *t = schedule_earliest(schedule);
	/* The end is exclusive: what is due at the end instant belongs to
	 * after it (a sample at the end would open a window past it). */
	if (!t || (schedule->options.end_ms && t->due_ms >= schedule->options.end_ms)) {
		if (schedule->options.end_ms)
			schedule->virtual_now_ms = schedule->options.end_ms;
		schedule->ended = true;
		sd_event_source_set_enabled(schedule->source, SD_EVENT_OFF);
		sd_event_source_set_enabled(schedule->run_source, SD_EVENT_OFF);
		if (schedule->options.on_end)
			schedule->options.on_end(schedule->options.userdata);
		return ENDED;
	}
	if (schedule->options.ready && !schedule->options.ready(schedule->options.userdata))
		return WAITING;
	/* The configured step comes before the timers due at its instant.
	 * The pacing keeps going as if the clock had not jumped. */
	if (schedule->step_pending && t->due_ms >= schedule->options.step_at_ms) {
		int64_t step = schedule->options.step_ms, before = schedule->options.step_at_ms;
		schedule->step_pending = false;
		schedule->virtual_now_ms = before + step;
		schedule->options.start_ms += step;
		schedule_step(schedule, step, before, schedule->virtual_now_ms);
		return ADVANCED;
	}
	int64_t instant = t->due_ms;
	schedule->virtual_now_ms = instant;
	while (!schedule->halted && (t = schedule_earliest(schedule)) && t->due_ms == instant)
		schedule_fire(schedule, t, instant);
	return ADVANCED;
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
	/* Paced: one instant, then the timer is set for the next. */
	enum advance advance = schedule_advance(schedule);
	if (advance == WAITING)
		sd_event_source_set_enabled(schedule->source, SD_EVENT_OFF);
	else if (advance == ADVANCED)
		schedule_arm(schedule);
	return 0;
}

/* Drain-paced: instant after instant until the pipeline says wait (then
 * schedule_kick() turns this on again), the end, or SCHEDULE_BATCH_US of
 * real time; then the loop takes its I/O and comes back here. */
static int schedule_on_run(sd_event_source *source, void *userdata)
{
	struct schedule *schedule = userdata;
	(void)source;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t deadline_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + SCHEDULE_BATCH_US;
	while (!schedule->halted) {
		enum advance advance = schedule_advance(schedule);
		if (advance == ENDED)
			return 0;
		if (advance == WAITING) {
			sd_event_source_set_enabled(schedule->run_source, SD_EVENT_OFF);
			return 0;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 >= deadline_us)
			return 0;
	}
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
	if (schedule_drain_paced(schedule)) {
		r = sd_event_add_defer(event, &schedule->run_source, schedule_on_run, schedule);
		if (r < 0)
			goto fail;
		/* After I/O of the same priority: the broker's answers that
		 * lift backpressure are taken before more is made. */
		sd_event_source_set_priority(schedule->run_source, SD_EVENT_PRIORITY_IDLE);
		sd_event_source_set_enabled(schedule->run_source, SD_EVENT_OFF);
	}
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
	sd_event_source_disable_unref(schedule->run_source);
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
	if (schedule->timer_count == schedule->timer_capacity) {
		size_t capacity = schedule->timer_capacity ? schedule->timer_capacity * 2 : 16;
		struct schedule_timer **timers = reallocarray(schedule->timers, capacity, sizeof(*timers));
		if (!timers) {
			free(t);
			return -ENOMEM;
		}
		schedule->timers = timers;
		schedule->timer_capacity = capacity;
	}
	*t = (struct schedule_timer){
		.due_ms = due_ms, .priority = priority, .order = schedule->added++, .callback = callback,
		.userdata = userdata, .has_handle = out != NULL,
	};
	heap_place(schedule, schedule->timer_count++, t);
	heap_up(schedule, t->index);
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
		heap_fix(schedule, timer);
		return;
	}
	schedule_remove(schedule, timer);
	schedule_arm(schedule);
}

void schedule_move(struct schedule *schedule, struct schedule_timer *timer, int64_t due_ms)
{
	timer->due_ms = due_ms;
	heap_fix(schedule, timer);
	schedule_arm(schedule);
}

void schedule_kick(struct schedule *schedule)
{
	sd_event_source *source = schedule_drain_paced(schedule) ? schedule->run_source : schedule->source;
	if (!schedule->halted && !schedule->ended && sd_event_source_get_enabled(source, NULL) == 0)
		schedule_arm(schedule);
}

void schedule_halt(struct schedule *schedule)
{
	schedule->halted = true;
	sd_event_source_set_enabled(schedule->source, SD_EVENT_OFF);
	sd_event_source_set_enabled(schedule->run_source, SD_EVENT_OFF);
}
