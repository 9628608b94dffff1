/* i2c.h — the seam between I2C chip drivers and the bus: plain I2C
 * transfers (a write of some bytes, a read of some bytes) to one address on
 * one bus.  Production code uses i2c_dev_ops (Linux i2c-dev, i2c_dev.c); a
 * test passes its own ops that play the chip in memory, because no real
 * chip exists there.
 *
 * Every function returns 0 or a negative errno.  What the errors mean on
 * i2c-dev: open() gives the errno of open(2) (-ENOENT no such bus, -EACCES
 * not allowed), -ENOTTY when the path is not an I2C adapter, -EBUSY when a
 * kernel driver has claimed the address; write() and read() give -ENXIO,
 * -EREMOTEIO or -EIO when no chip acknowledges (which one depends on the
 * bus controller), -ETIMEDOUT or -EAGAIN for a stuck or contested bus.
 *
 * Ownership: open() allocates *handle, which close() frees; the handle
 * keeps no pointer to bus_path.  context belongs to whoever built the ops
 * (NULL for i2c_dev_ops) and must outlive every handle opened through it. */
#ifndef TRYGGD_I2C_H
#define TRYGGD_I2C_H

#include <stddef.h>
#include <stdint.h>

struct i2c_ops {
	/* Handed to open(), so that an implementation that needs state (a
	 * fake bus with chips on it) keeps it here rather than in a global. */
	void *context;
	/* Open bus_path and address the 7-bit address (0x03–0x77) on it. */
	int (*open)(void *context, const char *bus_path, unsigned address, void **handle);
	/* One write transfer of exactly length bytes (START, address+W, data, STOP). */
	int (*write)(void *handle, const uint8_t *data, size_t length);
	/* One read transfer of exactly length bytes (START, address+R, data, STOP). */
	int (*read)(void *handle, uint8_t *data, size_t length);
	void (*close)(void *handle);
};

/* Linux i2c-dev: /dev/i2c-N, ioctl(I2C_SLAVE) and plain read(2)/write(2). */
extern const struct i2c_ops i2c_dev_ops;

#endif
