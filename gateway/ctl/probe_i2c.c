/* probe_i2c.c — the I2C part of `tryggctl probe`: every i2c-N under the
 * device root, and whether a BH1750 light sensor answers at either of the
 * two addresses it can have, 0x23 and 0x5c, through options->i2c (i2c-dev
 * on a board, a fake bus in the tests).  Probing writes to whatever chip
 * is at those addresses, so no other address is tried.
 *
 * Nothing is kept: bh1750_detect() opens and closes each address. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bh1750.h"
#include "driver.h"
#include "probe_internal.h"

/* Errors that say the bus itself cannot be used, whatever the address. */
static bool bus_error(int error)
{
	return error == -EACCES || error == -EPERM || error == -ENOENT || error == -ENOTTY || error == -ENODEV ||
	       error == -ENXIO;
}

static int probe_i2c_bus(struct probe *probe, const char *path, const char *entry_name)
{
	static const unsigned addresses[] = { BH1750_ADDRESS_LOW, BH1750_ADDRESS_HIGH };
	probe_listing(probe, "  %s\n", path);
	for (size_t i = 0; i < sizeof(addresses) / sizeof(addresses[0]); i++) {
		unsigned address = addresses[i];
		int found = bh1750_detect(probe->options->i2c, path, address);
		if (found == 0) {
			probe_listing(probe, "    0x%02x  no BH1750\n", address);
			continue;
		}
		if (found == -EBUSY) {
			probe_listing(probe, "    0x%02x  taken by a kernel driver, likely the kernel's own bh1750: "
			              "read it through iio (IIO devices above)\n", address);
			continue;
		}
		if (found == -ENOTTY) {
			probe_problem(probe, 4, "%s: not an I2C bus", path);
			break;
		}
		if (bus_error(found)) {
			probe_problem(probe, 4, "%s: cannot open: %s%s", path, strerror(-found),
			              found == -EACCES || found == -EPERM ? " (add the user to group i2c, or run as root)"
			                                                  : "");
			break;
		}
		if (found < 0) {
			probe_problem(probe, 4, "%s at 0x%02x: %s", path, address, strerror(-found));
			continue;
		}
		probe_listing(probe, "    0x%02x  a BH1750 answers (to be read with driver bh1750)\n", address);
		char address_text[8], suffix[PROBE_NAME_SIZE], base[PROBE_NAME_SIZE];
		struct section section = { .type = SENSOR_LIGHT, .driver = &bh1750_driver };
		snprintf(address_text, sizeof(address_text), "0x%02x", address);
		probe_section_option(&section, "bus", path);
		probe_section_option(&section, "address", address_text);
		probe_section_comment(&section, "a BH1750 on %s at %s (ADDR pin %s)", path, address_text,
		                      address == BH1750_ADDRESS_LOW ? "low or open" : "high");
		snprintf(base, sizeof(base), "bh1750-%.*s", PROBE_NAME_SIZE - 8, entry_name);
		snprintf(suffix, sizeof(suffix), "%02x", address);
		int result = probe_section_write(probe, &section, base, suffix);
		if (result < 0)
			return result;
	}
	return 0;
}

static int is_i2c_bus(const struct dirent *entry)
{
	return probe_numbered(entry->d_name, "i2c-");
}

int probe_i2c(struct probe *probe)
{
	probe_listing(probe, "I2C buses (%s/i2c-*), BH1750 light sensors at 0x23 and 0x5c\n",
	              probe_root_prefix(probe->options->dev_root));
	return probe_dev_root(probe, is_i2c_bus, "  no I2C buses (is I2C enabled, and the i2c-dev module loaded?)",
	                      probe_i2c_bus);
}
