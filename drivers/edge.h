/* edge.h — turns the edges of one or two digital inputs into what the
 * gateway counts: passes (with direction for a dual beam) and debounced
 * levels.  Pure: no libgpiod, no clock reading, no allocation.  The gpio driver
 * feeds it the kernel's edges; the unit tests feed it made-up ones.  A
 * struct edge_decoder is a plain value owned by whoever embeds it.
 *
 * TIMING RULES (what a technician needs to know)
 *
 * "Broken" below is the logical level after active_low: a beam blocked by
 * someone, a PIR that sees someone, a lamp that is lit.  Every time is the
 * kernel's time stamp of an edge, so how busy the board is does not matter.
 *
 * Single beam (detector = beam, no line_b), debounce default 10ms:
 *   - A pass is counted the moment the beam is broken, provided it had
 *     been clear for at least `debounce` before.  A beam that flickers
 *     (broken, clear for less than `debounce`, broken again) is still the
 *     same person: one pass.  A clear gap of `debounce` or more between
 *     two breaks makes two passes (two people close together, or one
 *     person's legs); raise debounce if legs are counted twice.
 *   - Broken/clear is reported to the gateway (for the "blocked" alert):
 *     "broken" at once, with the pass; "clear" only once the beam has
 *     stayed clear for `debounce`, stamped with the moment it cleared.  A
 *     clear shorter than that is not reported at all, so a flickering
 *     beam that stays blocked keeps counting as held.
 *
 * PIR (detector = pir), debounce default 2s, read as a hold-off:
 *   - A pass is counted when the PIR output turns active, unless a pass
 *     was counted less than `debounce` before: within that time, new
 *     triggers are taken to be the same person.  The hold-off runs from
 *     the counted pass and is not extended by the triggers it swallows.
 *   - Nothing else is reported: a PIR held active is normal (someone
 *     standing there), not tampering.
 *
 * Dual beam (line = beam A, line_b = beam B), debounce default 10ms per
 * beam, crossing default 5s:
 *   - Mount the beams a hand's width apart (10–20 cm), A on the side
 *     called "out" (outside), B on the side called "in", so that a person
 *     walking through breaks both at once for a moment.
 *   - Each beam is debounced as a single beam is: a clear shorter than
 *     `debounce` is ignored.
 *   - A crossing starts when a beam is broken while both were clear, and
 *     ends when both are clear again.  It counts `in` when it started
 *     with A alone and ended with B alone (A, A+B, B, clear), `out` for
 *     the mirror (B, A+B, A, clear), and nothing otherwise: someone who
 *     turns back halfway (A, A+B, A, clear) or only touches one beam
 *     (A, clear).  Hesitating in the middle (A, A+B, A, A+B, B, clear)
 *     still counts once, by where it began and where it ended.
 *   - A crossing that takes longer than `crossing` from the first break
 *     to the last clear is not counted (someone loitering in the beams).
 *   - The pass is stamped with the moment the last beam cleared, and is
 *     reported `debounce` after it, when that clear is known to be real.
 *   - Two people walking through the beams at the same moment, close
 *     together, can count as one: a limit of every two-beam counter.
 *   - Broken/clear goes to the gateway as for a single beam: broken while
 *     either beam is broken.
 *
 * Lamp (type = lamp), debounce default 50ms:
 *   - Every change of the input that lasts at least `debounce` is
 *     reported (lit or dark), stamped with the moment it changed.  A
 *     flicker shorter than `debounce` is not reported.  The input must be
 *     steady while the lamp is lit (an opto-isolator with a DC output, or
 *     a filtered one); one that pulses at 50/100 Hz looks like flicker.
 *
 * Edges the kernel reports twice at the same level (it missed the short
 * pulse in between) are ignored.  An edge stamped earlier than one already
 * seen is taken to be at the time of that one. */
#ifndef TRYGGD_EDGE_H
#define TRYGGD_EDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "driver.h"

enum edge_mode {
	EDGE_BEAM,          /* one beam: a pass per debounced break; levels */
	EDGE_PIR,           /* passes with a hold-off; no levels */
	EDGE_DUAL_BEAM,     /* beams A (line 0) and B (line 1): passes in and out; levels */
	EDGE_LAMP,          /* levels only, debounced both ways */
};

struct edge_config {
	enum edge_mode mode;
	int64_t debounce_ns;     /* see the rules above; >= 0 */
	int64_t crossing_ns;     /* dual beam only */
};

#define EDGE_LINES_MAX 2u
/* Line changes already decided but waiting until the other line's
 * undecided clear (which may have come first) is settled.  One is the
 * most two lines can produce; the rest is margin. */
#define EDGE_HELD_MAX 4u
/* The most events one edge_decoder_feed() or edge_decoder_advance() can
 * queue: every line change it can settle gives at most two events. */
#define EDGE_FEED_EVENTS_MAX (2u * (EDGE_LINES_MAX + 1u + EDGE_HELD_MAX))
#define EDGE_QUEUE_SIZE 256u
/* edge_decoder_deadline() when nothing waits to be decided. */
#define EDGE_NO_DEADLINE INT64_MAX

struct edge_line {
	bool raw;                /* the level last fed */
	bool stable;             /* the debounced level */
	bool pending;            /* raw differs from stable and has not lasted long enough yet */
	int64_t change_ns;       /* when raw last changed */
};

struct edge_transition {
	unsigned line;
	bool level;
	int64_t time_ns;
};

struct edge_decoder {
	struct edge_config config;
	unsigned line_count;
	struct edge_line lines[EDGE_LINES_MAX];
	int64_t last_ns;                     /* latest time fed; time never goes back */

	struct edge_transition held[EDGE_HELD_MAX];   /* sorted by time */
	unsigned held_count;

	/* What the passes are decided on: the debounced lines as far as
	 * they have been settled, in time order. */
	bool settled[EDGE_LINES_MAX];
	bool level;                          /* reported: beam broken / lamp lit */
	bool have_pass;                      /* PIR: last_pass_ns is meaningful */
	int64_t last_pass_ns;
	unsigned crossing_first;             /* dual: 1 (A) or 2 (B) alone began it; 0 unknown */
	int64_t crossing_start_ns;

	struct driver_event queue[EDGE_QUEUE_SIZE];
	size_t queue_head, queue_count;
};

/* Start decoding config.mode with the lines at the given logical levels
 * (read from the hardware) at start_ns.  Those levels count as settled
 * since long before, so a beam clear at the start counts its first break. */
void edge_decoder_init(struct edge_decoder *decoder, const struct edge_config *config,
                       const bool initial[], int64_t start_ns);

/* One edge: line (0, or 1 = beam B) is now at level since time_ns.
 * Settles first whatever had lasted long enough by time_ns.  0, -EINVAL
 * for a line the mode does not have, -ENOBUFS when fewer than
 * EDGE_FEED_EVENTS_MAX events fit in the queue (take some, then retry;
 * nothing was changed). */
int edge_decoder_feed(struct edge_decoder *decoder, unsigned line, bool level, int64_t time_ns);

/* No edge came until now_ns: settle what has lasted long enough by then.
 * 0 or -ENOBUFS as for feed. */
int edge_decoder_advance(struct edge_decoder *decoder, int64_t now_ns);

/* When edge_decoder_advance() next has something to settle, or
 * EDGE_NO_DEADLINE. */
int64_t edge_decoder_deadline(const struct edge_decoder *decoder);

/* Move up to max queued events, oldest first, into out; how many. */
size_t edge_decoder_take(struct edge_decoder *decoder, struct driver_event *out, size_t max);
size_t edge_decoder_queued(const struct edge_decoder *decoder);
/* Whether another feed or advance is sure to fit in the queue. */
bool edge_decoder_has_room(const struct edge_decoder *decoder);

/* An edge's kernel time stamp on CLOCK_MONOTONIC.  Kernels from 5.7 stamp
 * GPIO uAPI v1 events with CLOCK_MONOTONIC, older ones with
 * CLOCK_REALTIME, and the event does not say which.  A stamp is a moment
 * old, so it is taken to be on whichever clock it is nearer to (both read
 * by the caller just now), and a realtime stamp is moved by the clocks'
 * offset now.  On an old kernel a step of the wall clock (NTP) between the
 * edge and the read shifts that edge by the step.  Never later than
 * monotonic_now_ns. */
int64_t edge_monotonic_ns(int64_t stamp_ns, int64_t monotonic_now_ns, int64_t realtime_now_ns);

/* The level last reported (beam broken, lamp lit); always false for PIR. */
bool edge_decoder_level(const struct edge_decoder *decoder);
/* The raw level last fed on line. */
bool edge_decoder_raw(const struct edge_decoder *decoder, unsigned line);

#endif
