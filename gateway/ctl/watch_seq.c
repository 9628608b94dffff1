/* watch_seq.c — the gateway's reading numbers as a subscriber sees them
 * (see watch.h).  CONTRACT.md: `seq` rises by exactly 1 per reading message
 * of a gateway, across restarts, so any gap is a reading lost on the way;
 * tryggd delivers at least once, so a number may also come twice.
 *
 * The numbers up to WATCH_SEQ_WINDOW below the highest are remembered with
 * how often each came, in a ring indexed by number: a number that comes
 * again is a repeat, one that never came and now does came late (after a
 * reconnect the gateway sends again what the broker had not confirmed,
 * oldest first).  A number further below than that cannot be told apart,
 * and is taken as numbering that started over. */
#include <string.h>

#include "watch.h"

void watch_seq_init(struct watch_seq *seq)
{
	memset(seq, 0, sizeof(*seq));
}

static uint8_t *slot(struct watch_seq *seq, uint64_t number)
{
	return &seq->seen[number % WATCH_SEQ_WINDOW];
}

/* Start again from number: nothing below it is remembered. */
static void restart(struct watch_seq *seq, uint64_t number)
{
	memset(seq->seen, 0, sizeof(seq->seen));
	seq->started = true;
	seq->highest = number;
	*slot(seq, number) = 1;
}

struct watch_seq_verdict watch_seq_note(struct watch_seq *seq, uint64_t number)
{
	struct watch_seq_verdict verdict = { .kind = WATCH_SEQ_FIRST, .previous = seq->highest };
	seq->received++;
	if (!seq->started) {
		restart(seq, number);
		return verdict;
	}

	if (number > seq->highest) {
		uint64_t step = number - seq->highest;
		/* The numbers passed over are not seen (yet); their slots held
		 * numbers WATCH_SEQ_WINDOW lower, forgotten now. */
		if (step >= WATCH_SEQ_WINDOW)
			memset(seq->seen, 0, sizeof(seq->seen));
		else
			for (uint64_t n = seq->highest + 1; n < number; n++)
				*slot(seq, n) = 0;
		*slot(seq, number) = 1;
		seq->highest = number;
		if (step == 1) {
			verdict.kind = WATCH_SEQ_NEXT;
		} else {
			verdict.kind = WATCH_SEQ_GAP;
			verdict.missing = step - 1;
			seq->missing += step - 1;
		}
		return verdict;
	}

	if (seq->highest - number < WATCH_SEQ_WINDOW) {
		uint8_t *times = slot(seq, number);
		if (*times > 0) {
			if (*times < UINT8_MAX)
				(*times)++;
			verdict.kind = WATCH_SEQ_REPEAT;
			verdict.times = *times;
			seq->repeated++;
		} else {
			*times = 1;
			verdict.kind = WATCH_SEQ_LATE;
			if (seq->missing > 0)
				seq->missing--;
		}
		return verdict;
	}

	verdict.kind = WATCH_SEQ_BACK;
	seq->restarts++;
	restart(seq, number);
	return verdict;
}
