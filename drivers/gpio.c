/* gpio.c — the "gpio" driver: footfall from a break-beam or a PIR on a GPIO
 * line (or direction from two beams on two lines), and a street lamp's
 * on/off from an opto-isolated input, through libgpiod 1.6 (the GPIO
 * character device, uAPI v1).
 *
 * Event-driven: the lines are requested for both edges, and the kernel's
 * time-stamped edges go through the decoder in edge.c, which holds every
 * timing rule (debounce, PIR hold-off, the dual-beam sequence).  A decision
 * that waits for a line to stay put (a beam that has cleared, a lamp that
 * has switched) needs a wake-up even if no further edge comes, so the
 * driver owns a timerfd and hands the loop one epoll descriptor over the
 * line(s) and that timer.  A lamp is polled as well: sample() and level()
 * read the line's logical value.
 *
 * open() allocates a struct gpio_state, which close() frees with the chip
 * handle (libgpiod's, which owns the lines and their event descriptors),
 * the epoll and the timer descriptors.  Nothing points into the sensor
 * config after open().  Its options are gpio_settings.c's. */
#include <errno.h>
#include <fcntl.h>
#include <gpiod.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "driver.h"
#include "edge.h"
#include "gpio_settings.h"

#define CONSUMER "tryggd"
/* The kernel keeps at most 16 edges per line (uAPI v1) and drops newer
 * ones when full, so each read takes that many and read_events() drains
 * every line before it returns. */
#define EDGE_BATCH 16

#define NS_PER_MS INT64_C(1000000)
#define NS_PER_S INT64_C(1000000000)
/* The kernel stamps an edge in its interrupt handler and queues it a
 * moment later, so an edge stamped just before "now" may not be readable
 * yet.  Decisions are taken this far behind the clock, and the timer
 * wakes this much after a deadline. */
#define SETTLE_NS (5 * NS_PER_MS)


/* ---- state ----------------------------------------------------------------- */

struct edge_read {
	int64_t time_ns;         /* CLOCK_MONOTONIC */
	bool level;              /* logical: active_low already applied by the kernel */
};

struct gpio_input {
	struct gpiod_line *line;           /* owned by the chip handle */
	int fd;                            /* the line's event descriptor, owned by libgpiod */
	struct edge_read edges[EDGE_BATCH];   /* read from the kernel, not fed yet */
	unsigned next, count;
	bool drained;                      /* the kernel had nothing more in this read_events() */
	bool full_read;                    /* a read came back full: edges may have been dropped */
};

struct gpio_state {
	enum sensor_type type;
	struct gpiod_chip *chip;
	unsigned input_count;
	struct gpio_input inputs[EDGE_LINES_MAX];
	int epoll_fd;
	int timer_fd;
	struct edge_decoder decoder;
};

static int64_t clock_ns(clockid_t clock)
{
	struct timespec now;
	clock_gettime(clock, &now);
	return (int64_t)now.tv_sec * NS_PER_S + now.tv_nsec;
}

/* Read one batch of a line's pending edges into input->edges. */
static int refill(struct gpio_input *input)
{
	struct gpiod_line_event batch[EDGE_BATCH];
	int count;
	do
		count = gpiod_line_event_read_fd_multiple(input->fd, batch, EDGE_BATCH);
	while (count < 0 && errno == EINTR);
	if (count < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			input->drained = true;
			return 0;
		}
		return errno ? -errno : -EIO;
	}
	if (count == 0) {
		input->drained = true;   /* libgpiod never returns 0; never loop on it */
		return 0;
	}
	if (count == EDGE_BATCH)
		input->full_read = true;
	/* The kernel's clock for these stamps depends on its version: see
	 * edge_monotonic_ns(). */
	int64_t monotonic_now = clock_ns(CLOCK_MONOTONIC);
	int64_t realtime_now = clock_ns(CLOCK_REALTIME);
	for (int i = 0; i < count; i++) {
		int64_t stamp = (int64_t)batch[i].ts.tv_sec * NS_PER_S + batch[i].ts.tv_nsec;
		input->edges[i] = (struct edge_read){
			.time_ns = edge_monotonic_ns(stamp, monotonic_now, realtime_now),
			.level = batch[i].event_type == GPIOD_LINE_EVENT_RISING_EDGE,
		};
	}
	input->next = 0;
	input->count = (unsigned)count;
	return 0;
}

/* Make room in the decoder by handing queued events to the caller.
 * False when the caller's buffer is full first. */
static bool make_room(struct gpio_state *state, struct driver_event *events, size_t max, size_t *count)
{
	if (!edge_decoder_has_room(&state->decoder))
		*count += edge_decoder_take(&state->decoder, events + *count, max - *count);
	return edge_decoder_has_room(&state->decoder);
}

/* Feed every pending edge of every line to the decoder, merged in time
 * order.  1 when all lines are drained, 0 when the caller's buffer filled
 * first (what was read stays in the inputs), or a negative errno. */
static int drain(struct gpio_state *state, struct driver_event *events, size_t max, size_t *count)
{
	for (;;) {
		struct gpio_input *earliest = NULL;
		unsigned earliest_index = 0;
		for (unsigned i = 0; i < state->input_count; i++) {
			struct gpio_input *input = &state->inputs[i];
			if (input->next == input->count && !input->drained) {
				int result = refill(input);
				if (result < 0)
					return result;
			}
			if (input->next < input->count &&
			    (!earliest || input->edges[input->next].time_ns < earliest->edges[earliest->next].time_ns)) {
				earliest = input;
				earliest_index = i;
			}
		}
		if (!earliest)
			return 1;
		if (!make_room(state, events, max, count))
			return 0;
		const struct edge_read *edge = &earliest->edges[earliest->next++];
		edge_decoder_feed(&state->decoder, earliest_index, edge->level, edge->time_ns);
	}
}

/* After a full read the kernel may have dropped edges, the last one
 * included: the caller is told (an OVERRUN event, which the sensor counts
 * and logs), and the line's level now puts the decoder right. */
static int resync(struct gpio_state *state, struct driver_event *events, size_t max, size_t *count)
{
	for (unsigned i = 0; i < state->input_count; i++) {
		struct gpio_input *input = &state->inputs[i];
		if (!input->full_read)
			continue;
		if (!make_room(state, events, max, count) || *count == max)
			return 0;   /* the flag stays: done on the next call */
		int value = gpiod_line_get_value(input->line);
		if (value < 0)
			return errno ? -errno : -EIO;
		input->full_read = false;
		events[(*count)++] = (struct driver_event){ .kind = DRIVER_EVENT_OVERRUN,
		                                            .time_ns = clock_ns(CLOCK_MONOTONIC) };
		if ((value == 1) != edge_decoder_raw(&state->decoder, i))
			edge_decoder_feed(&state->decoder, i, value == 1, clock_ns(CLOCK_MONOTONIC));
	}
	return 1;
}

/* Wake the loop when a decision falls due, or at once when decided events
 * or read edges are still waiting to be handed over. */
static int arm_timer(struct gpio_state *state)
{
	struct itimerspec when = { 0 };
	bool waiting = edge_decoder_queued(&state->decoder) > 0;
	for (unsigned i = 0; i < state->input_count; i++)
		waiting = waiting || state->inputs[i].next < state->inputs[i].count;
	int64_t deadline = edge_decoder_deadline(&state->decoder);
	if (waiting) {
		when.it_value.tv_nsec = 1;   /* long past on CLOCK_MONOTONIC: fires at once */
	} else if (deadline != EDGE_NO_DEADLINE) {
		int64_t wake = deadline + SETTLE_NS;
		when.it_value.tv_sec = (time_t)(wake / NS_PER_S);
		when.it_value.tv_nsec = (long)(wake % NS_PER_S);
	}
	if (timerfd_settime(state->timer_fd, TFD_TIMER_ABSTIME, &when, NULL) < 0)
		return -errno;
	return 0;
}

static int gpio_read_events(void *opaque, struct driver_event *events, size_t max)
{
	struct gpio_state *state = opaque;
	if (max > INT_MAX)
		max = INT_MAX;   /* the count is returned as an int */
	size_t count = edge_decoder_take(&state->decoder, events, max);
	int result = 0;
	uint64_t expirations;

	/* Taken before the lines are drained, so that nothing stamped
	 * before it can still be on its way when decisions are taken. */
	int64_t now_ns = clock_ns(CLOCK_MONOTONIC);
	if (read(state->timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return -errno;

	if (count == max)
		goto rearm;
	for (unsigned i = 0; i < state->input_count; i++)
		state->inputs[i].drained = false;
	result = drain(state, events, max, &count);
	if (result == 1)
		result = resync(state, events, max, &count);
	if (result < 0)
		return result;
	if (result == 1 && make_room(state, events, max, &count))
		edge_decoder_advance(&state->decoder, now_ns - SETTLE_NS);
	count += edge_decoder_take(&state->decoder, events + count, max - count);

rearm:
	result = arm_timer(state);
	if (result < 0)
		return result;
	return (int)count;
}

static int gpio_event_fd(void *opaque)
{
	const struct gpio_state *state = opaque;
	return state->epoll_fd;
}

static int gpio_level(void *opaque)
{
	struct gpio_state *state = opaque;
	if (state->type == SENSOR_LAMP) {
		int value = gpiod_line_get_value(state->inputs[0].line);
		return value < 0 ? (errno ? -errno : -EIO) : value;
	}
	/* The debounced level the LEVEL events report; a PIR has none (one
	 * held active is someone standing there, never a held beam): 0. */
	return edge_decoder_level(&state->decoder) ? 1 : 0;
}

/* Footfall is counted from edges only: polling it would count nothing a
 * PASS event has not already counted. */
static int gpio_sample(void *opaque, int64_t now_ms, struct sample *out)
{
	struct gpio_state *state = opaque;
	(void)now_ms;
	if (state->type != SENSOR_LAMP)
		return -ENOTSUP;
	int value = gpiod_line_get_value(state->inputs[0].line);
	if (value < 0)
		return errno ? -errno : -EIO;
	memset(out, 0, sizeof(*out));
	out->value = value ? 1.0 : 0.0;
	return 0;
}

/* A dual beam tells in from out, so its windows carry both even when no
 * one passed; a single beam or a PIR cannot. */
static bool gpio_has_direction(void *opaque)
{
	const struct gpio_state *state = opaque;
	return state->type == SENSOR_FOOTFALL && state->input_count == 2;
}

static void gpio_close(void *opaque)
{
	struct gpio_state *state = opaque;
	if (!state)
		return;
	if (state->epoll_fd >= 0)
		close(state->epoll_fd);
	if (state->timer_fd >= 0)
		close(state->timer_fd);
	for (unsigned i = 0; i < state->input_count; i++)
		if (state->inputs[i].line)
			gpiod_line_release(state->inputs[i].line);
	if (state->chip)
		gpiod_chip_close(state->chip);
	free(state);
}

/* ---- open ------------------------------------------------------------------- */

static const char PERMISSION_HINT[] =
	"tryggd's user needs read and write access to /dev/gpiochip* (add it to group gpio)";

static int open_chip(const char *chip_text, struct gpiod_chip **chip, char *err, size_t err_size)
{
	errno = 0;
	*chip = gpiod_chip_open_lookup(chip_text);
	if (*chip)
		return 0;
	int error = errno ? errno : ENODEV;
	if (error == ENOENT)
		snprintf(err, err_size, "gpio: no GPIO chip '%s' (by name, label, path or number); "
		         "gpiodetect lists the chips", chip_text);
	else if (error == EACCES || error == EPERM)
		snprintf(err, err_size, "gpio: permission denied opening GPIO chip '%s': %s", chip_text,
		         PERMISSION_HINT);
	else if (error == ENOTTY || error == ENODEV)
		snprintf(err, err_size, "gpio: '%s' is not a GPIO chip", chip_text);
	else
		snprintf(err, err_size, "gpio: cannot open GPIO chip '%s': %s", chip_text, strerror(error));
	return -error;
}

/* The first line (found anywhere when no chip is given, which also opens
 * its chip) or line_b (on the chip of the first). */
static int find_line(struct gpio_state *state, const char *key, const struct line_spec *spec,
                     struct gpiod_line **line, char *err, size_t err_size)
{
	errno = 0;
	if (!state->chip) {
		*line = gpiod_line_find(spec->text);
		if (*line) {
			state->chip = gpiod_line_get_chip(*line);
			return 0;
		}
	} else if (spec->is_offset) {
		*line = gpiod_chip_get_line(state->chip, spec->offset);
	} else {
		*line = gpiod_chip_find_line(state->chip, spec->text);
	}
	if (*line)
		return 0;

	int error = errno ? errno : ENODEV;
	const char *chip_name = state->chip ? gpiod_chip_name(state->chip) : NULL;
	/* line_b is named in the message; line is what a technician expects. */
	const char *which = strcmp(key, "line") == 0 ? "" : " (line_b, on the same chip as line)";
	if (error == EACCES || error == EPERM)
		snprintf(err, err_size, "gpio: permission denied looking for line '%s'%s: %s", spec->text, which,
		         PERMISSION_HINT);
	else if (!chip_name && error == ENOENT)
		snprintf(err, err_size, "gpio: no line named '%s' on any chip; gpioinfo lists the lines", spec->text);
	else if (!chip_name)
		snprintf(err, err_size, "gpio: cannot look for line '%s': %s", spec->text, strerror(error));
	else if (spec->is_offset && error == EINVAL && gpiod_chip_num_lines(state->chip) == 0)
		snprintf(err, err_size, "gpio: %s has no lines at all, so no line %u%s", chip_name, spec->offset,
		         which);
	else if (spec->is_offset && error == EINVAL)
		snprintf(err, err_size, "gpio: %s has no line %u%s; its lines are 0 to %u", chip_name, spec->offset,
		         which, gpiod_chip_num_lines(state->chip) - 1);
	else if (!spec->is_offset && error == ENOENT)
		snprintf(err, err_size, "gpio: no line named '%s' on %s%s; gpioinfo %s lists the lines", spec->text,
		         chip_name, which, chip_name);
	else
		snprintf(err, err_size, "gpio: cannot get line '%s'%s on %s: %s", spec->text, which, chip_name,
		         strerror(error));
	return -error;
}

static void describe_line(struct gpio_state *state, struct gpiod_line *line, char *out, size_t out_size)
{
	const char *name = gpiod_line_name(line);
	if (name)
		snprintf(out, out_size, "line %u ('%s') on %s", gpiod_line_offset(line), name,
		         gpiod_chip_name(state->chip));
	else
		snprintf(out, out_size, "line %u on %s", gpiod_line_offset(line), gpiod_chip_name(state->chip));
}

static int request_line(struct gpio_state *state, struct gpio_input *input, const struct gpio_settings *settings,
                        char *err, size_t err_size)
{
	char what[96];
	int flags = settings->bias_flags | (settings->active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0);
	describe_line(state, input->line, what, sizeof(what));

	errno = 0;
	if (gpiod_line_request_both_edges_events_flags(input->line, CONSUMER, flags) < 0) {
		int error = errno ? errno : EIO;
		if (error == EBUSY) {
			gpiod_line_update(input->line);
			const char *consumer = gpiod_line_consumer(input->line);
			if (consumer)
				snprintf(err, err_size, "gpio: %s is in use by '%s'", what, consumer);
			else
				snprintf(err, err_size, "gpio: %s is in use (by the kernel, or a program that gave no name)",
				         what);
		} else if (error == EINVAL && settings->bias_flags) {
			snprintf(err, err_size, "gpio: cannot request %s with bias: %s (bias needs Linux 5.5 or later)",
			         what, strerror(error));
		} else if (error == ENXIO || error == ENODEV) {
			snprintf(err, err_size, "gpio: %s cannot report edges (no interrupt for it): %s", what,
			         strerror(error));
		} else {
			snprintf(err, err_size, "gpio: cannot request %s for edges: %s", what, strerror(error));
		}
		input->line = NULL;   /* not requested: nothing to release */
		return -error;
	}

	input->fd = gpiod_line_event_get_fd(input->line);
	int file_flags = input->fd < 0 ? -1 : fcntl(input->fd, F_GETFL);
	if (file_flags < 0 || fcntl(input->fd, F_SETFL, file_flags | O_NONBLOCK) < 0) {
		int error = errno ? errno : EBADF;
		snprintf(err, err_size, "gpio: cannot set up the edges of %s: %s", what, strerror(error));
		return -error;
	}
	struct epoll_event watch = { .events = EPOLLIN };
	if (epoll_ctl(state->epoll_fd, EPOLL_CTL_ADD, input->fd, &watch) < 0) {
		int error = errno;
		snprintf(err, err_size, "gpio: cannot watch %s: %s", what, strerror(error));
		return -error;
	}
	return 0;
}

static int gpio_open(const struct sensor_config *sc, const struct driver_env *env,
                     void **state_out, char *err, size_t err_size)
{
	struct gpio_settings settings;
	struct gpio_state *state = NULL;
	char message[256];
	int result;
	(void)env;

	result = gpio_read_settings(sc, &settings, message, sizeof(message));
	if (result < 0) {
		snprintf(err, err_size, "gpio: %s", message);
		goto out;
	}

	state = calloc(1, sizeof(*state));
	if (!state) {
		snprintf(err, err_size, "gpio: out of memory");
		result = -ENOMEM;
		goto out;
	}
	state->type = sc->type;
	state->epoll_fd = -1;
	state->timer_fd = -1;
	state->input_count = settings.line_b.given ? 2 : 1;
	for (unsigned i = 0; i < EDGE_LINES_MAX; i++)
		state->inputs[i].fd = -1;

	struct epoll_event watch = { .events = EPOLLIN };
	state->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (state->epoll_fd >= 0)
		state->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (state->epoll_fd < 0 || state->timer_fd < 0 ||
	    epoll_ctl(state->epoll_fd, EPOLL_CTL_ADD, state->timer_fd, &watch) < 0) {
		result = -errno;
		snprintf(err, err_size, "gpio: cannot set up event descriptors: %s", strerror(-result));
		goto out;
	}

	if (settings.chip) {
		result = open_chip(settings.chip, &state->chip, err, err_size);
		if (result < 0)
			goto out;
	}
	const struct line_spec *specs[EDGE_LINES_MAX] = { &settings.line, &settings.line_b };
	const char *const keys[EDGE_LINES_MAX] = { "line", "line_b" };
	for (unsigned i = 0; i < state->input_count; i++) {
		result = find_line(state, keys[i], specs[i], &state->inputs[i].line, err, err_size);
		if (result < 0)
			goto out;
	}
	if (state->input_count == 2 && state->inputs[0].line == state->inputs[1].line) {
		snprintf(err, err_size, "gpio: line and line_b are the same line (%u on %s)",
		         gpiod_line_offset(state->inputs[0].line), gpiod_chip_name(state->chip));
		result = -EINVAL;
		goto out;
	}
	for (unsigned i = 0; i < state->input_count; i++) {
		result = request_line(state, &state->inputs[i], &settings, err, err_size);
		if (result < 0)
			goto out;
	}

	/* The level now: edges from here on are queued by the kernel, and one
	 * that repeats this level is ignored by the decoder. */
	bool initial[EDGE_LINES_MAX] = { false, false };
	for (unsigned i = 0; i < state->input_count; i++) {
		int value = gpiod_line_get_value(state->inputs[i].line);
		if (value < 0) {
			result = errno ? -errno : -EIO;
			char what[96];
			describe_line(state, state->inputs[i].line, what, sizeof(what));
			snprintf(err, err_size, "gpio: cannot read %s: %s", what, strerror(-result));
			goto out;
		}
		initial[i] = value == 1;
	}
	struct edge_config config = {
		.mode = sc->type == SENSOR_LAMP ? EDGE_LAMP
		        : settings.pir          ? EDGE_PIR
		        : state->input_count == 2 ? EDGE_DUAL_BEAM
		                                  : EDGE_BEAM,
		.debounce_ns = settings.debounce_ms * NS_PER_MS,
		.crossing_ns = settings.crossing_ms * NS_PER_MS,
	};
	edge_decoder_init(&state->decoder, &config, initial, clock_ns(CLOCK_MONOTONIC));

	*state_out = state;
	state = NULL;   /* the caller's, until close() */
	result = 0;

out:
	gpio_close(state);
	return result;
}

const struct driver_ops gpio_driver = {
	.name = "gpio",
	.types = (1u << SENSOR_FOOTFALL) | (1u << SENSOR_LAMP),
	.simulated = false,
	.check_option = gpio_check_option,
	.check_sensor = gpio_check_sensor,
	.open = gpio_open,
	.close = gpio_close,
	.sample = gpio_sample,
	.event_fd = gpio_event_fd,
	.read_events = gpio_read_events,
	.level = gpio_level,
	.has_direction = gpio_has_direction,
};
