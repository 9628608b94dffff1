/* fake_bh1750.c — see fake_bh1750.h.  The chip model is written from the
 * datasheet, not from drivers/bh1750.c, so that the two cannot share a
 * mistake: its timing is in µs and derived on its own.
 *
 * open() allocates a struct fake_handle, which close() frees; the handle
 * points into the struct fake_bh1750 the test owns. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_bh1750.h"

#define DEFAULT_MTREG 69u
/* Datasheet: high-resolution measurement time at MTreg 69, max. */
#define WORST_CONVERSION_US_AT_DEFAULT INT64_C(180000)

struct fake_handle {
	struct fake_bh1750 *fake;
	size_t bus;                  /* index in fake->buses */
	unsigned address;
};

int64_t fake_bh1750_conversion_us(unsigned mtreg)
{
	/* Rounded up: the chip is never faster than the worst case says. */
	int64_t scaled = WORST_CONVERSION_US_AT_DEFAULT * (int64_t)mtreg;
	return (scaled + DEFAULT_MTREG - 1) / DEFAULT_MTREG;
}

static void power_cycle(struct fake_bh1750_chip *chip)
{
	chip->powered = false;
	chip->converting = false;
	chip->mtreg = DEFAULT_MTREG;
	chip->data = 0;
}

static struct fake_bh1750_bus *find_bus(struct fake_bh1750 *fake, const char *path)
{
	for (size_t i = 0; i < fake->bus_count; i++)
		if (strcmp(fake->buses[i].path, path) == 0)
			return &fake->buses[i];
	return NULL;
}

static struct fake_bh1750_chip *find_chip(struct fake_bh1750 *fake, const char *bus, unsigned address)
{
	for (size_t i = 0; i < fake->chip_count; i++)
		if (strcmp(fake->chips[i].bus, bus) == 0 && fake->chips[i].address == address)
			return &fake->chips[i];
	return NULL;
}

struct fake_bh1750_bus *fake_bh1750_add_bus(struct fake_bh1750 *fake, const char *path)
{
	struct fake_bh1750_bus *bus = find_bus(fake, path);
	if (bus)
		return bus;
	if (fake->bus_count == FAKE_BH1750_BUSES_MAX || strlen(path) >= FAKE_BH1750_PATH_SIZE)
		return NULL;
	bus = &fake->buses[fake->bus_count++];
	snprintf(bus->path, sizeof(bus->path), "%s", path);
	return bus;
}

struct fake_bh1750_chip *fake_bh1750_add_chip(struct fake_bh1750 *fake, const char *bus, unsigned address)
{
	if (!fake_bh1750_add_bus(fake, bus) || fake->chip_count == FAKE_BH1750_CHIPS_MAX)
		return NULL;
	struct fake_bh1750_chip *chip = &fake->chips[fake->chip_count++];
	memset(chip, 0, sizeof(*chip));
	snprintf(chip->bus, sizeof(chip->bus), "%s", bus);
	chip->address = address;
	power_cycle(chip);
	return chip;
}

/* Complete a conversion whose time is up; one-time mode then powers down. */
static void settle(const struct fake_bh1750 *fake, struct fake_bh1750_chip *chip)
{
	if (!chip->converting || fake->now_us - chip->conversion_start_us < fake_bh1750_conversion_us(chip->mtreg))
		return;
	chip->converting = false;
	chip->powered = false;
	chip->data = chip->count;
	chip->conversions++;
}

void fake_bh1750_advance_ms(struct fake_bh1750 *fake, int64_t ms)
{
	fake->now_us += ms * 1000;
	for (size_t i = 0; i < fake->chip_count; i++)
		settle(fake, &fake->chips[i]);
}

void fake_bh1750_set_fault(struct fake_bh1750 *fake, struct fake_bh1750_chip *chip, enum fake_bh1750_fault fault)
{
	settle(fake, chip);
	if (fault == FAKE_BH1750_REMOVED || chip->fault == FAKE_BH1750_REMOVED)
		power_cycle(chip);
	chip->fault = fault;
}

void fake_bh1750_clear_sent(struct fake_bh1750_chip *chip)
{
	chip->sent_length = 0;
}

/* ---- the i2c_ops --------------------------------------------------------- */

static int fake_open(void *context, const char *bus_path, unsigned address, void **handle_out)
{
	struct fake_bh1750 *fake = context;
	struct fake_bh1750_bus *bus = find_bus(fake, bus_path);
	if (!bus)
		return -ENOENT;
	if (bus->open_error)
		return bus->open_error;
	if (address < 0x03 || address > 0x77)
		return -EINVAL;
	struct fake_bh1750_chip *chip = find_chip(fake, bus_path, address);
	if (chip && chip->claimed)
		return -EBUSY;

	struct fake_handle *handle = malloc(sizeof(*handle));
	if (!handle)
		return -ENOMEM;
	*handle = (struct fake_handle){ .fake = fake, .bus = (size_t)(bus - fake->buses), .address = address };
	fake->open_handles++;
	*handle_out = handle;
	return 0;
}

/* The chip behind a handle after time has been accounted for, or NULL with
 * the error the bus would give: nothing there acknowledges. */
static struct fake_bh1750_chip *reach(struct fake_handle *handle, int *error)
{
	struct fake_bh1750 *fake = handle->fake;
	struct fake_bh1750_chip *chip = find_chip(fake, fake->buses[handle->bus].path, handle->address);
	if (!chip) {
		*error = -ENXIO;
		return NULL;
	}
	settle(fake, chip);
	if (chip->fault == FAKE_BH1750_NACK) {
		*error = -EREMOTEIO;
		return NULL;
	}
	if (chip->fault == FAKE_BH1750_REMOVED) {
		*error = -ENXIO;
		return NULL;
	}
	return chip;
}

static void command(struct fake_bh1750 *fake, struct fake_bh1750_chip *chip, uint8_t opcode)
{
	if (opcode == 0x00) {
		chip->powered = false;
		chip->converting = false;   /* a conversion in progress is abandoned */
	} else if (opcode == 0x01) {
		chip->powered = true;
	} else if (opcode == 0x07) {
		/* Datasheet: reset is not accepted in power down. */
		if (chip->powered && !chip->converting)
			chip->data = 0;
	} else if (opcode == 0x20) {
		/* Accepted in power down too: the chip wakes for one conversion. */
		chip->powered = true;
		chip->converting = true;
		chip->conversion_start_us = fake->now_us;
	} else if ((opcode & 0xf8) == 0x40) {
		chip->mtreg = (chip->mtreg & 0x1fu) | ((opcode & 0x07u) << 5);
	} else if ((opcode & 0xe0) == 0x60) {
		chip->mtreg = (chip->mtreg & 0xe0u) | (opcode & 0x1fu);
	} else {
		chip->unexpected_commands++;   /* continuous or other modes: not for this driver */
	}
}

static int fake_write(void *opaque, const uint8_t *data, size_t length)
{
	struct fake_handle *handle = opaque;
	int error = 0;
	struct fake_bh1750_chip *chip = reach(handle, &error);
	if (!chip)
		return error;
	if (length != 1) {
		chip->protocol_errors++;
		return -EIO;
	}
	if (chip->sent_length < FAKE_BH1750_SENT_MAX)
		chip->sent[chip->sent_length++] = data[0];
	else
		chip->protocol_errors++;   /* more than any test expects: a runaway driver */
	command(handle->fake, chip, data[0]);
	return 0;
}

static int fake_read(void *opaque, uint8_t *data, size_t length)
{
	struct fake_handle *handle = opaque;
	int error = 0;
	struct fake_bh1750_chip *chip = reach(handle, &error);
	if (!chip)
		return error;
	if (chip->fault == FAKE_BH1750_READ_ERROR)
		return -EIO;
	if (length != 2) {
		chip->protocol_errors++;
		return -EIO;
	}
	if (chip->converting)
		chip->premature_reads++;
	chip->reads++;
	data[0] = (uint8_t)(chip->data >> 8);
	data[1] = (uint8_t)(chip->data & 0xff);
	return 0;
}

static void fake_close(void *opaque)
{
	struct fake_handle *handle = opaque;
	handle->fake->open_handles--;
	free(handle);
}

void fake_bh1750_init(struct fake_bh1750 *fake)
{
	memset(fake, 0, sizeof(*fake));
	fake->ops = (struct i2c_ops){
		.context = fake,
		.open = fake_open,
		.write = fake_write,
		.read = fake_read,
		.close = fake_close,
	};
}
