/* probe_iio.c — the IIO part of `tryggctl probe`: every IIO device under
 * the sysfs root, each illuminance, intensity and voltage channel with its
 * value now (read with iio.h, as the iio driver reads it), a section for
 * each illuminance channel, and a commented-out template for a device that
 * has only other channels (a photodiode on an ADC).
 *
 * The device and channel lists are the iio.h functions' and are freed
 * here; nothing outlives the call. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "driver.h"
#include "iio.h"
#include "probe_internal.h"

static const char *unit_of(const char *kind)
{
	if (strcmp(kind, "illuminance") == 0)
		return "lx";
	if (strcmp(kind, "voltage") == 0)
		return "mV";
	return "(no unit)";
}

/* What device = should say: its name, when that finds this device and no
 * other and the driver takes it; else iio:deviceN. */
static const char *device_option(const struct iio_device *devices, size_t count, size_t index)
{
	const struct iio_device *device = &devices[index];
	char message[256];
	if (!device->name ||
	    iio_driver.check_option(SENSOR_LIGHT, "device", device->name, message, sizeof(message)) < 0)
		return device->id;
	for (size_t i = 0; i < count; i++)
		if (i != index && devices[i].name && strcmp(devices[i].name, device->name) == 0)
			return device->id;
	return device->name;
}

static void iio_section(struct probe *probe, struct section *section, const char *device_text,
                        const char *channel)
{
	*section = (struct section){ .type = SENSOR_LIGHT, .driver = &iio_driver };
	probe_section_option(section, "device", device_text);
	probe_section_option(section, "channel", channel);
	if (strcmp(probe->options->sysfs_root, PROBE_DEFAULT_SYSFS_ROOT) != 0)
		probe_section_option(section, "sysfs_root", probe->options->sysfs_root);
}

static int probe_iio_device(struct probe *probe, const struct iio_device *devices, size_t count, size_t index)
{
	const struct iio_device *device = &devices[index];
	struct iio_channel *channels = NULL;
	size_t channel_count = 0, illuminance = 0;
	const char *device_text = device_option(devices, count, index);
	const char *comment_name = device->name ? device->name : "no name";
	int result = 0;

	probe_listing(probe, "  %s  %s\n", device->id, device->name ? device->name : "(no name)");
	int listed = iio_channel_list(device->directory, &channels, &channel_count);
	if (listed == -ENOMEM)
		return listed;
	if (listed < 0) {
		probe_problem(probe, 4, "%s: cannot list its channels: %s", device->id, strerror(-listed));
		return 0;
	}
	if (channel_count == 0)
		probe_listing(probe, "    no illuminance, intensity or voltage channel\n");
	for (size_t i = 0; i < channel_count; i++) {
		const struct iio_channel *channel = &channels[i];
		struct iio_reader reader = { .fd = -1 };
		char message[256] = "";
		double value = 0.0;
		int read = iio_reader_open(device->directory, device->id, channel->prefix, &reader, message,
		                           sizeof(message));
		if (read == 0)
			read = iio_reader_read(&reader, &value, message, sizeof(message));
		iio_reader_close(&reader);
		if (read == 0)
			probe_listing(probe, "    %-24s %.6g %s\n", channel->prefix, value, unit_of(channel->kind));
		else
			probe_problem(probe, 4, "%s %s: cannot read it: %s", device->id, channel->prefix,
			              message[0] ? message : strerror(-read));
		if (strcmp(channel->kind, "illuminance") != 0)
			continue;
		illuminance++;
		struct section section;
		iio_section(probe, &section, device_text, channel->prefix);
		if (read == 0)
			probe_section_comment(&section, "%s (%s), %s: %.6g lx when probed", device->id, comment_name,
			                      channel->prefix, value);
		else
			probe_section_comment(&section, "%s (%s), %s: it could not be read when probed", device->id,
			                      comment_name, channel->prefix);
		result = probe_section_write(probe, &section, device_text, channel->prefix + strlen("in_"));
		if (result < 0)
			goto out;
	}
	/* A device with no lux channel may still be a light sensor (a
	 * photodiode on an ADC): a template, since lux per unit is for the
	 * technician to find out. */
	if (illuminance == 0 && channel_count > 0) {
		const struct iio_channel *channel = &channels[0];
		struct section section;
		iio_section(probe, &section, device_text, channel->prefix);
		section.commented_out = true;
		probe_section_option(&section, "factor", "1");
		probe_section_comment(&section, "%s (%s), %s reads %s, not lx: if a light sensor is wired to it "
		                      "(or to", device->id, comment_name, channel->prefix, unit_of(channel->kind));
		probe_section_comment(&section, "another channel listed above), uncomment this and set factor to "
		                      "lux per unit.");
		result = probe_section_write(probe, &section, device_text, channel->prefix + strlen("in_"));
	}
out:
	iio_channel_list_free(channels, channel_count);
	return result;
}

int probe_iio(struct probe *probe)
{
	struct iio_device *devices = NULL;
	size_t count = 0;
	const char *root = probe->options->sysfs_root;
	int result = 0;

	probe_listing(probe, "IIO devices (%s/bus/iio/devices)\n", probe_root_prefix(root));
	int listed = iio_device_list(root, &devices, &count);
	if (listed == -ENOENT) {
		probe_listing(probe, "  no IIO devices (the directory does not exist: no IIO driver is loaded)\n");
	} else if (listed == -ENOMEM) {
		result = listed;
	} else if (listed < 0) {
		probe_problem(probe, 2, "cannot list the IIO devices: %s", strerror(-listed));
	} else if (count == 0) {
		probe_listing(probe, "  no IIO devices\n");
	}
	for (size_t i = 0; i < count && result == 0; i++) {
		probe->found++;
		result = probe_iio_device(probe, devices, count, i);
	}
	iio_device_list_free(devices, count);
	return result;
}
