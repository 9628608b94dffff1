/* clock_trust.h — may the wall clock be trusted to stamp a window, and did
 * it step?
 *
 * A board without a battery-backed real-time clock starts in 1970 or at
 * its last shutdown, and NTP corrects it later, by a step.  A window
 * stamped before then would land in the store at a wrong time.  The
 * clock is trusted when
 *   - the kernel says NTP has synchronised it (adjtimex: not TIME_ERROR,
 *     STA_UNSYNC clear), unless [gateway] clock = trusted (a board with a
 *     battery RTC and no network time), and
 *   - it reads no earlier than a floor: the time tryggd was built
 *     (TRYGGD_BUILD_EPOCH), before which it cannot be.
 * In a simulation the kernel is not asked: the virtual clock is untrusted
 * before [simulation] clock_synchronised_at, and trusted from it on (a
 * later step back to before it does not undo that: it was synchronised).
 *
 * This file reads the kernel's NTP status, not the time: the time comes
 * from schedule.c, which also notices steps with clock_trust_step_ms().
 * struct clock_trust is a plain value owned by whoever embeds it. */
#ifndef TRYGGD_CLOCK_TRUST_H
#define TRYGGD_CLOCK_TRUST_H

#include <stdbool.h>
#include <stdint.h>

/* [gateway] clock */
enum clock_trust_mode {
	CLOCK_TRUST_SYNCHRONISED,   /* wait for the kernel to say NTP synchronised it (default) */
	CLOCK_TRUST_FLOOR_ONLY,     /* `trusted`: only the floor is checked */
};

struct clock_trust {
	enum clock_trust_mode mode;
	int64_t floor_ms;            /* a clock before this is wrong (the build time) */
	bool simulated;
	int64_t synchronised_at_ms;  /* simulated: untrusted before this (0: trusted from the start) */
	bool synchronised_seen;      /* simulated: the clock has reached synchronised_at */
};

/* A difference between how far the wall clock and CLOCK_MONOTONIC moved
 * beyond this is a step, not drift or NTP's slewing. */
#define CLOCK_STEP_MIN_MS 2000

/* The time tryggd was built, in ms since the epoch: the floor. */
int64_t clock_trust_build_floor_ms(void);

/* Whether the clock reading now_ms may stamp a window. */
bool clock_trust_now(struct clock_trust *trust, int64_t now_ms);

/* The pure part of clock_trust_now() for the real clock: the kernel's
 * answer (adjtimex's return value and status) with the mode and floor. */
bool clock_trust_judge(enum clock_trust_mode mode, int64_t floor_ms, int64_t now_ms, int adjtimex_state,
                       int adjtimex_status);

/* Both clocks read at one tick, then at a later one: how far the wall
 * clock stepped between them (positive: forward), or 0 when the two moved
 * alike within CLOCK_STEP_MIN_MS. */
int64_t clock_trust_step_ms(int64_t realtime_before_ms, int64_t monotonic_before_ms, int64_t realtime_now_ms,
                            int64_t monotonic_now_ms);

#endif
