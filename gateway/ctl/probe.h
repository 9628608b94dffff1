/* probe.h — what `tryggctl probe` does, apart from its command line: look
 * at a board's GPIO chips, IIO devices and I2C buses, print what is there,
 * and write a [sensor.NAME] section for every sensor it found, ready to
 * paste into tryggd.conf.
 *
 * The I2C bus is reached through struct i2c_ops (drivers/i2c.h): the
 * subcommand passes i2c_dev_ops, a test passes a fake bus with a BH1750 on
 * it.  GPIO chips are opened with libgpiod, IIO devices read through sysfs
 * (drivers/iio.h), both under the roots the options give.
 *
 * Ownership: the options and everything they point to are borrowed for the
 * call only; probe_run() keeps nothing after it returns. */
#ifndef TRYGGCTL_PROBE_H
#define TRYGGCTL_PROBE_H

#include <stdbool.h>
#include <stdio.h>

#include "i2c.h"

#define PROBE_DEFAULT_SYSFS_ROOT "/sys"
#define PROBE_DEFAULT_DEV_ROOT "/dev"

struct probe_options {
	const char *sysfs_root;        /* absolute, no trailing '/': where sysfs is (IIO devices) */
	const char *dev_root;          /* absolute, no trailing '/': where gpiochipN and i2c-N are */
	const struct i2c_ops *i2c;     /* how I2C buses are opened: &i2c_dev_ops */
	bool sections_only;            /* only the sections on out; problems go to errors */
};

/* Probe the board and write the listing (unless sections_only), then the
 * sections, to out.  A part of the board that cannot be read (a chip that
 * cannot be opened, a bus without permission) is reported in the listing,
 * or on errors with sections_only, and the rest goes on.  0, or a negative
 * errno when the probe itself could not go on (out of memory). */
int probe_run(const struct probe_options *options, FILE *out, FILE *errors);

#endif
