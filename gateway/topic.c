/* topic.c — see topic.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slug.h"
#include "topic.h"

static const char *const gateway_leaves[] = {
	[TOPIC_STATUS] = "status",
	[TOPIC_HEALTH] = "health",
};

static const char *const sensor_leaves[] = {
	[TOPIC_READING] = "reading",
	[TOPIC_WINDOW] = "window",
	[TOPIC_ALERT] = "alert",
};

const char *topic_gateway_leaf(enum topic_gateway_kind kind)
{
	if ((unsigned)kind >= sizeof(gateway_leaves) / sizeof(gateway_leaves[0]))
		return NULL;
	return gateway_leaves[kind];
}

const char *topic_sensor_leaf(enum topic_sensor_kind kind)
{
	if ((unsigned)kind >= sizeof(sensor_leaves) / sizeof(sensor_leaves[0]))
		return NULL;
	return sensor_leaves[kind];
}

/* Text that may stand in a topic: not empty, no wildcard, no control
 * character; and no '/' at all unless slashes are allowed, in which case
 * none at either end and no empty level between two. */
static bool topic_part_ok(const char *text, bool slashes)
{
	if (!text || text[0] == '\0')
		return false;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '+' || *p == '#')
			return false;
		if (*p == '/' && (!slashes || p == (const unsigned char *)text || p[1] == '\0' || p[1] == '/'))
			return false;
	}
	return true;
}

/* PREFIX/D/G: the levels every topic of the gateway starts with. */
static int topic_base(const char *prefix, const struct identity *identity, char **out)
{
	*out = NULL;
	if (!identity || !topic_part_ok(prefix, true) || !topic_part_ok(identity->gateway, false) ||
	    !identity->district)
		return -EINVAL;
	/* A slug is never longer than its text: each character it has stands
	 * for at least one byte of the text. */
	size_t size = strlen(identity->district) + 1;
	char *slug = malloc(size);
	if (!slug)
		return -ENOMEM;
	int r = slug_make(identity->district, slug, size);
	if (r >= 0 && asprintf(out, "%s/%s/%s", prefix, slug, identity->gateway) < 0) {
		*out = NULL;
		r = -ENOMEM;
	}
	free(slug);
	return r < 0 ? r : 0;
}

int topic_gateway(const char *prefix, const struct identity *identity, enum topic_gateway_kind kind, char **out)
{
	char *base = NULL;
	*out = NULL;
	const char *leaf = topic_gateway_leaf(kind);
	if (!leaf)
		return -EINVAL;
	int r = topic_base(prefix, identity, &base);
	if (r < 0)
		return r;
	if (asprintf(out, "%s/%s", base, leaf) < 0) {
		*out = NULL;
		r = -ENOMEM;
	}
	free(base);
	return r;
}

int topic_sensor(const char *prefix, const struct identity *identity, const char *sensor,
                 enum topic_sensor_kind kind, char **out)
{
	char *base = NULL;
	*out = NULL;
	const char *leaf = topic_sensor_leaf(kind);
	if (!leaf || !topic_part_ok(sensor, false))
		return -EINVAL;
	int r = topic_base(prefix, identity, &base);
	if (r < 0)
		return r;
	if (asprintf(out, "%s/%s/%s", base, sensor, leaf) < 0) {
		*out = NULL;
		r = -ENOMEM;
	}
	free(base);
	return r;
}
