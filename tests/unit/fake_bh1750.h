/* fake_bh1750.h — a BH1750FVI light sensor and the I2C buses it sits on,
 * in memory, behind struct i2c_ops (drivers/i2c.h): what the bh1750
 * driver's tests use in place of /dev/i2c-N and a real chip.
 *
 * The fake chip follows the datasheet where a driver could get it wrong:
 * it starts powered down with MTreg 69; a one-time high-resolution command
 * (0x20) starts a conversion that takes the worst case, 180 ms × MTreg / 69,
 * on the fake's own clock (the test advances it), then powers the chip
 * down; a read before that returns the old data register, as the chip does,
 * and is counted in premature_reads, so a driver that does not wait long
 * enough is caught.  It records every byte it acknowledged and counts what
 * a BH1750 driver should never do (protocol_errors: a write that is not one
 * byte, a read that is not two; unexpected_commands: an opcode other than
 * power, reset, MTreg and one-time high resolution).
 *
 * Ownership: a struct fake_bh1750 lives where the test puts it (usually
 * the stack) after fake_bh1750_init(); nothing is allocated but the
 * handles its open() returns, freed by its close().  open_handles counts
 * those, so a test can see that every handle was closed. */
#ifndef TRYGGD_FAKE_BH1750_H
#define TRYGGD_FAKE_BH1750_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "i2c.h"

#define FAKE_BH1750_PATH_SIZE 64
#define FAKE_BH1750_BUSES_MAX 4
#define FAKE_BH1750_CHIPS_MAX 4
#define FAKE_BH1750_SENT_MAX 64

enum fake_bh1750_fault {
	FAKE_BH1750_WORKING,
	FAKE_BH1750_NACK,         /* acknowledges nothing: every transfer fails with -EREMOTEIO */
	FAKE_BH1750_READ_ERROR,   /* writes work, every read fails with -EIO */
	FAKE_BH1750_REMOVED,      /* unplugged: every transfer fails with -ENXIO; it comes back
	                           * power-cycled (powered down, MTreg 69, data 0) */
};

struct fake_bh1750_chip {
	char bus[FAKE_BH1750_PATH_SIZE];
	unsigned address;
	bool claimed;                 /* a kernel driver has bound it: open() gives -EBUSY */
	uint16_t count;               /* what the next conversions measure */
	enum fake_bh1750_fault fault; /* set with fake_bh1750_set_fault() */

	/* The chip's state, for the test to read. */
	bool powered;                 /* on, or converting; false: powered down */
	bool converting;
	int64_t conversion_start_us;
	unsigned mtreg;
	uint16_t data;                /* the data register a read returns */
	unsigned conversions;         /* conversions completed */
	unsigned reads;               /* reads acknowledged */
	unsigned premature_reads;     /* reads while a conversion was still running */
	unsigned protocol_errors;
	unsigned unexpected_commands;
	uint8_t sent[FAKE_BH1750_SENT_MAX];   /* every byte acknowledged, in order */
	size_t sent_length;
};

struct fake_bh1750_bus {
	char path[FAKE_BH1750_PATH_SIZE];
	int open_error;               /* 0, or the negative errno open() gives (-EACCES) */
};

struct fake_bh1750 {
	struct i2c_ops ops;           /* hand &fake.ops to the driver; ops.context is the fake */
	int64_t now_us;               /* the fake clock, moved only by fake_bh1750_advance_ms() */
	struct fake_bh1750_bus buses[FAKE_BH1750_BUSES_MAX];
	size_t bus_count;
	struct fake_bh1750_chip chips[FAKE_BH1750_CHIPS_MAX];
	size_t chip_count;
	unsigned open_handles;
};

void fake_bh1750_init(struct fake_bh1750 *fake);
/* A bus that exists; NULL when the fake is full. */
struct fake_bh1750_bus *fake_bh1750_add_bus(struct fake_bh1750 *fake, const char *path);
/* A chip at address on bus (added if needed), powered down; NULL when full. */
struct fake_bh1750_chip *fake_bh1750_add_chip(struct fake_bh1750 *fake, const char *bus, unsigned address);
/* Let time pass: a conversion whose time is up completes. */
void fake_bh1750_advance_ms(struct fake_bh1750 *fake, int64_t ms);
/* Break or mend the chip; mending after FAKE_BH1750_REMOVED brings it back power-cycled. */
void fake_bh1750_set_fault(struct fake_bh1750 *fake, struct fake_bh1750_chip *chip, enum fake_bh1750_fault fault);
/* Forget the bytes sent so far. */
void fake_bh1750_clear_sent(struct fake_bh1750_chip *chip);
/* How long a conversion at mtreg takes in the fake, in µs. */
int64_t fake_bh1750_conversion_us(unsigned mtreg);

#endif
