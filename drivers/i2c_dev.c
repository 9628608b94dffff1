/* i2c_dev.c — struct i2c_ops over Linux i2c-dev (/dev/i2c-N): the address
 * is set once with ioctl(I2C_SLAVE), then each read(2) or write(2) is one
 * plain I2C transfer.  Plain transfers rather than SMBus calls because some
 * chips (a BH1750) answer a bare 2-byte read with no register.
 *
 * open() allocates a struct i2c_dev_handle holding the descriptor, which
 * close() closes and frees. */
#include <errno.h>
#include <fcntl.h>
#include <linux/i2c-dev.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "i2c.h"

/* 7-bit addresses outside 0x03–0x77 are reserved by the I2C specification. */
#define I2C_ADDRESS_FIRST 0x03u
#define I2C_ADDRESS_LAST 0x77u

struct i2c_dev_handle {
	int descriptor;
};

static int i2c_dev_open(void *context, const char *bus_path, unsigned address, void **handle_out)
{
	struct i2c_dev_handle *handle = NULL;
	int descriptor = -1;
	int result = 0;
	(void)context;

	if (!bus_path || address < I2C_ADDRESS_FIRST || address > I2C_ADDRESS_LAST) {
		result = -EINVAL;
		goto out;
	}
	descriptor = open(bus_path, O_RDWR | O_CLOEXEC);
	if (descriptor < 0) {
		result = -errno;
		goto out;
	}
	/* Not I2C_SLAVE_FORCE: a chip a kernel driver has bound (EBUSY) is
	 * that driver's, and two masters of one chip would confuse both. */
	if (ioctl(descriptor, I2C_SLAVE, (unsigned long)address) < 0) {
		result = -errno;
		goto out;
	}
	handle = malloc(sizeof(*handle));
	if (!handle) {
		result = -ENOMEM;
		goto out;
	}
	handle->descriptor = descriptor;
	descriptor = -1;   /* now the handle's */
	*handle_out = handle;

out:
	if (descriptor >= 0)
		close(descriptor);
	return result;
}

static int i2c_dev_write(void *opaque, const uint8_t *data, size_t length)
{
	struct i2c_dev_handle *handle = opaque;
	ssize_t written;
	do
		written = write(handle->descriptor, data, length);
	while (written < 0 && errno == EINTR);
	if (written < 0)
		return -errno;
	/* i2c-dev sends a message whole or not at all; a short count would
	 * mean a chip that stopped acknowledging midway. */
	return (size_t)written == length ? 0 : -EIO;
}

static int i2c_dev_read(void *opaque, uint8_t *data, size_t length)
{
	struct i2c_dev_handle *handle = opaque;
	ssize_t got;
	do
		got = read(handle->descriptor, data, length);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return -errno;
	return (size_t)got == length ? 0 : -EIO;
}

static void i2c_dev_close(void *opaque)
{
	struct i2c_dev_handle *handle = opaque;
	if (!handle)
		return;
	close(handle->descriptor);
	free(handle);
}

const struct i2c_ops i2c_dev_ops = {
	.context = NULL,
	.open = i2c_dev_open,
	.write = i2c_dev_write,
	.read = i2c_dev_read,
	.close = i2c_dev_close,
};
