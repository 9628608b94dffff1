/* bh1750.h — the ROHM BH1750FVI ambient light sensor on an I2C bus: what
 * the driver "bh1750" (bh1750_driver in driver.h) shares with tryggctl
 * probe and with the tests.
 *
 * Ownership: the ops passed in are borrowed and must outlive the state
 * bh1750_open_with() returns; bh1750_driver.close() frees that state. */
#ifndef TRYGGD_BH1750_H
#define TRYGGD_BH1750_H

#include <stddef.h>
#include <stdint.h>

#include "i2c.h"
#include "sensor_config.h"

#define BH1750_ADDRESS_LOW 0x23u    /* ADDR pin low (or open on most modules) */
#define BH1750_ADDRESS_HIGH 0x5cu   /* ADDR pin high */

#define BH1750_MTREG_MIN 31u
#define BH1750_MTREG_MAX 254u
#define BH1750_MTREG_DEFAULT 69u

/* The chip's opcodes (datasheet, "Instruction Set Architecture"). */
#define BH1750_POWER_DOWN 0x00u
#define BH1750_POWER_ON 0x01u
#define BH1750_RESET 0x07u
#define BH1750_ONE_TIME_HIGH_RESOLUTION 0x20u
#define BH1750_MTREG_HIGH_BITS 0x40u   /* | MTreg bits 7–5 */
#define BH1750_MTREG_LOW_BITS 0x60u    /* | MTreg bits 4–0 */

/* Illuminance in lx of a high-resolution count at measurement time mtreg:
 * count / 1.2 × 69 / mtreg. */
double bh1750_lux(uint16_t count, unsigned mtreg);

/* The longest a high-resolution conversion takes at mtreg, in whole ms:
 * the datasheet's 180 ms at 69, scaled by mtreg / 69 and rounded up. */
int bh1750_conversion_ms(unsigned mtreg);

/* The driver's open() with the bus given: opens the bus, powers the chip
 * on and sets its measurement time.  0 and *state set, or a negative errno
 * with a message in err naming the bus and the address. */
int bh1750_open_with(const struct i2c_ops *ops, const struct sensor_config *sc, void **state,
                     char *err, size_t err_size);

/* Whether a BH1750 answers at address on bus_path: 1 when the power-on
 * command is acknowledged and a 2-byte read succeeds (the chip is then
 * powered down again), 0 when nothing answers there, a negative errno when
 * the bus cannot be used (-ENOENT, -EACCES, -ENOTTY: not an I2C bus) or
 * the address is taken by a kernel driver (-EBUSY; likely the kernel's own
 * bh1750 driver, so the sensor is to be found through iio).  The chip has
 * no identity register: another chip at the address that acknowledges a
 * one-byte write and a 2-byte read (at 0x5c: an AM2320 or an LPS22 pressure
 * sensor) is reported as a BH1750 too. */
int bh1750_detect(const struct i2c_ops *ops, const char *bus_path, unsigned address);

#endif
