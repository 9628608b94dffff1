/* clock_trust.c — see clock_trust.h. */
#include <sys/timex.h>

#include "clock_trust.h"

#ifndef TRYGGD_BUILD_EPOCH
#define TRYGGD_BUILD_EPOCH 0
#endif

int64_t clock_trust_build_floor_ms(void)
{
	return (int64_t)TRYGGD_BUILD_EPOCH * 1000;
}

bool clock_trust_judge(enum clock_trust_mode mode, int64_t floor_ms, int64_t now_ms, int adjtimex_state,
                       int adjtimex_status)
{
	if (now_ms < floor_ms)
		return false;
	if (mode == CLOCK_TRUST_FLOOR_ONLY)
		return true;
	/* adjtimex() fails only without the call itself (never on Linux);
	 * a failure is an answer we cannot trust. */
	return adjtimex_state >= 0 && adjtimex_state != TIME_ERROR && !(adjtimex_status & STA_UNSYNC);
}

bool clock_trust_now(struct clock_trust *trust, int64_t now_ms)
{
	if (trust->simulated) {
		if (now_ms >= trust->synchronised_at_ms)
			trust->synchronised_seen = true;
		return trust->synchronised_seen;
	}
	/* modes = 0: read only, no privilege needed. */
	struct timex timex = { .modes = 0 };
	int state = adjtimex(&timex);
	return clock_trust_judge(trust->mode, trust->floor_ms, now_ms, state, timex.status);
}

int64_t clock_trust_step_ms(int64_t realtime_before_ms, int64_t monotonic_before_ms, int64_t realtime_now_ms,
                            int64_t monotonic_now_ms)
{
	int64_t step = (realtime_now_ms - realtime_before_ms) - (monotonic_now_ms - monotonic_before_ms);
	if (step > -CLOCK_STEP_MIN_MS && step < CLOCK_STEP_MIN_MS)
		return 0;
	return step;
}
