/* edge.c — the edge decoder (see edge.h for the timing rules).
 *
 * Two stages.  Each line is debounced on its own: a change to a level
 * with a hold time of zero (a beam broken, any PIR change) is decided at
 * once; any other change (a beam clearing, a lamp switching) waits until
 * it has lasted its hold time and is then stamped with the moment it
 * happened.  The decided changes of all lines then go, in time order, to
 * the stage that counts passes and reports levels.  Because a clear is
 * decided late but stamped early, a change decided on one line is held
 * back while the other line has an undecided change from before it.
 *
 * Pure: no clock and no I/O; time comes only with the edges.  Owns nothing
 * outside the struct. */
#include <errno.h>
#include <string.h>

#include "edge.h"

static size_t queue_room(const struct edge_decoder *decoder)
{
	return EDGE_QUEUE_SIZE - decoder->queue_count;
}

static void emit(struct edge_decoder *decoder, struct driver_event event)
{
	/* Callers check the room before they start, so this cannot fail. */
	if (decoder->queue_count == EDGE_QUEUE_SIZE)
		return;
	size_t tail = (decoder->queue_head + decoder->queue_count) % EDGE_QUEUE_SIZE;
	decoder->queue[tail] = event;
	decoder->queue_count++;
}

static void emit_level(struct edge_decoder *decoder, bool active, int64_t time_ns)
{
	decoder->level = active;
	emit(decoder, (struct driver_event){
		.kind = DRIVER_EVENT_LEVEL, .time_ns = time_ns, .direction = DIRECTION_NONE, .active = active,
	});
}

static void emit_pass(struct edge_decoder *decoder, enum reading_direction direction, int64_t time_ns)
{
	emit(decoder, (struct driver_event){
		.kind = DRIVER_EVENT_PASS, .time_ns = time_ns, .direction = direction, .active = false,
	});
}

/* How long a change to level must last before it counts. */
static int64_t hold_ns(const struct edge_decoder *decoder, bool level)
{
	switch (decoder->config.mode) {
	case EDGE_BEAM:
	case EDGE_DUAL_BEAM:
		return level ? 0 : decoder->config.debounce_ns;
	case EDGE_LAMP:
		return decoder->config.debounce_ns;
	case EDGE_PIR:
		return 0;   /* the hold-off works on passes, not on the line */
	}
	return 0;
}

/* Beams as bits: 1 = A broken, 2 = B broken. */
static unsigned beam_bits(const bool settled[])
{
	return (settled[0] ? 1u : 0u) | (settled[1] ? 2u : 0u);
}

static void dual_beam_change(struct edge_decoder *decoder, unsigned before, unsigned after, int64_t time_ns)
{
	if (before == 0 && after != 0) {
		decoder->crossing_first = after;
		decoder->crossing_start_ns = time_ns;
		emit_level(decoder, true, time_ns);
		return;
	}
	if (after != 0)
		return;
	/* Lines change one at a time, so before is the beam cleared last. */
	emit_level(decoder, false, time_ns);
	bool counted = decoder->crossing_first != 0 && decoder->crossing_first != before &&
	               time_ns - decoder->crossing_start_ns <= decoder->config.crossing_ns;
	if (counted)
		emit_pass(decoder, decoder->crossing_first == 1 ? DIRECTION_IN : DIRECTION_OUT, time_ns);
	decoder->crossing_first = 0;
}

/* One decided change of one line, in time order: count and report. */
static void apply(struct edge_decoder *decoder, const struct edge_transition *change)
{
	unsigned before = beam_bits(decoder->settled);
	decoder->settled[change->line] = change->level;

	switch (decoder->config.mode) {
	case EDGE_BEAM:
		emit_level(decoder, change->level, change->time_ns);
		if (change->level)
			emit_pass(decoder, DIRECTION_NONE, change->time_ns);
		break;
	case EDGE_PIR:
		if (!change->level)
			break;
		if (decoder->have_pass && change->time_ns - decoder->last_pass_ns < decoder->config.debounce_ns)
			break;
		decoder->have_pass = true;
		decoder->last_pass_ns = change->time_ns;
		emit_pass(decoder, DIRECTION_NONE, change->time_ns);
		break;
	case EDGE_DUAL_BEAM:
		dual_beam_change(decoder, before, beam_bits(decoder->settled), change->time_ns);
		break;
	case EDGE_LAMP:
		emit_level(decoder, change->level, change->time_ns);
		break;
	}
}

/* The earliest undecided change of any line: nothing decided later than
 * it may be applied yet, since it may still turn out to come first. */
static int64_t earliest_pending(const struct edge_decoder *decoder)
{
	int64_t earliest = INT64_MAX;
	for (unsigned i = 0; i < decoder->line_count; i++)
		if (decoder->lines[i].pending && decoder->lines[i].change_ns < earliest)
			earliest = decoder->lines[i].change_ns;
	return earliest;
}

static void release_first(struct edge_decoder *decoder)
{
	struct edge_transition first = decoder->held[0];
	decoder->held_count--;
	memmove(&decoder->held[0], &decoder->held[1], decoder->held_count * sizeof(decoder->held[0]));
	apply(decoder, &first);
}

/* On ties the decided change goes first: for a dual beam that keeps a
 * person who covers B just as A clears on the A, A+B, B path. */
static void release(struct edge_decoder *decoder)
{
	int64_t limit = earliest_pending(decoder);
	while (decoder->held_count > 0 && decoder->held[0].time_ns <= limit)
		release_first(decoder);
}

static void decide(struct edge_decoder *decoder, unsigned line, bool level, int64_t time_ns)
{
	if (decoder->held_count == EDGE_HELD_MAX)
		release_first(decoder);   /* cannot happen with two lines; order over loss */
	unsigned at = decoder->held_count;
	while (at > 0 && decoder->held[at - 1].time_ns > time_ns) {
		decoder->held[at] = decoder->held[at - 1];
		at--;
	}
	decoder->held[at] = (struct edge_transition){ .line = line, .level = level, .time_ns = time_ns };
	decoder->held_count++;
}

/* Decide every undecided change that has lasted long enough by now_ns,
 * earliest first. */
static void settle(struct edge_decoder *decoder, int64_t now_ns)
{
	for (;;) {
		unsigned due = EDGE_LINES_MAX;
		for (unsigned i = 0; i < decoder->line_count; i++) {
			const struct edge_line *candidate = &decoder->lines[i];
			if (!candidate->pending || candidate->change_ns + hold_ns(decoder, candidate->raw) > now_ns)
				continue;
			if (due == EDGE_LINES_MAX || candidate->change_ns < decoder->lines[due].change_ns)
				due = i;
		}
		if (due == EDGE_LINES_MAX)
			break;
		struct edge_line *settling = &decoder->lines[due];
		settling->pending = false;
		settling->stable = settling->raw;
		decide(decoder, due, settling->raw, settling->change_ns);
	}
	release(decoder);
}

void edge_decoder_init(struct edge_decoder *decoder, const struct edge_config *config,
                       const bool initial[], int64_t start_ns)
{
	memset(decoder, 0, sizeof(*decoder));
	decoder->config = *config;
	decoder->line_count = config->mode == EDGE_DUAL_BEAM ? 2 : 1;
	decoder->last_ns = start_ns;
	for (unsigned i = 0; i < decoder->line_count; i++) {
		decoder->lines[i] = (struct edge_line){
			.raw = initial[i], .stable = initial[i], .pending = false, .change_ns = start_ns,
		};
		decoder->settled[i] = initial[i];
	}
	switch (config->mode) {
	case EDGE_BEAM:
	case EDGE_LAMP:
		decoder->level = initial[0];
		break;
	case EDGE_DUAL_BEAM:
		decoder->level = initial[0] || initial[1];
		break;
	case EDGE_PIR:
		decoder->level = false;
		break;
	}
	/* Someone already in the beams at the start: where they came from is
	 * unknown, so their crossing is not counted. */
	decoder->crossing_first = 0;
}

int edge_decoder_advance(struct edge_decoder *decoder, int64_t now_ns)
{
	if (!edge_decoder_has_room(decoder))
		return -ENOBUFS;
	if (now_ns > decoder->last_ns)
		decoder->last_ns = now_ns;
	settle(decoder, decoder->last_ns);
	return 0;
}

int edge_decoder_feed(struct edge_decoder *decoder, unsigned line, bool level, int64_t time_ns)
{
	if (line >= decoder->line_count)
		return -EINVAL;
	int result = edge_decoder_advance(decoder, time_ns);
	if (result < 0)
		return result;
	int64_t now_ns = decoder->last_ns;

	struct edge_line *input = &decoder->lines[line];
	if (level == input->raw)
		return 0;   /* the kernel missed the pulse in between */
	input->raw = level;
	input->change_ns = now_ns;
	if (level == input->stable) {
		input->pending = false;   /* back before the change counted: a bounce */
	} else if (hold_ns(decoder, level) == 0) {
		input->stable = level;
		decide(decoder, line, level, now_ns);
	} else {
		input->pending = true;
	}
	release(decoder);
	return 0;
}

int64_t edge_decoder_deadline(const struct edge_decoder *decoder)
{
	int64_t deadline = EDGE_NO_DEADLINE;
	for (unsigned i = 0; i < decoder->line_count; i++) {
		const struct edge_line *input = &decoder->lines[i];
		if (!input->pending)
			continue;
		int64_t due = input->change_ns + hold_ns(decoder, input->raw);
		if (due < deadline)
			deadline = due;
	}
	return deadline;
}

size_t edge_decoder_take(struct edge_decoder *decoder, struct driver_event *out, size_t max)
{
	size_t count = 0;
	while (count < max && decoder->queue_count > 0) {
		out[count++] = decoder->queue[decoder->queue_head];
		decoder->queue_head = (decoder->queue_head + 1) % EDGE_QUEUE_SIZE;
		decoder->queue_count--;
	}
	return count;
}

size_t edge_decoder_queued(const struct edge_decoder *decoder)
{
	return decoder->queue_count;
}

bool edge_decoder_has_room(const struct edge_decoder *decoder)
{
	return queue_room(decoder) >= EDGE_FEED_EVENTS_MAX;
}

bool edge_decoder_level(const struct edge_decoder *decoder)
{
	return decoder->level;
}

bool edge_decoder_raw(const struct edge_decoder *decoder, unsigned line)
{
	return line < decoder->line_count && decoder->lines[line].raw;
}

static int64_t distance(int64_t a, int64_t b)
{
	return a > b ? a - b : b - a;
}

int64_t edge_monotonic_ns(int64_t stamp_ns, int64_t monotonic_now_ns, int64_t realtime_now_ns)
{
	int64_t ns = stamp_ns;
	if (distance(ns, realtime_now_ns) < distance(ns, monotonic_now_ns))
		ns -= realtime_now_ns - monotonic_now_ns;
	return ns > monotonic_now_ns ? monotonic_now_ns : ns;
}
