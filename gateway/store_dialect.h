/* store_dialect.h — what differs between the stores tryggd writes to, in
 * one table: the write path and its query, how the request authenticates,
 * how a tag value's backslash is written, whether text fields are kept,
 * and how a 2xx is proven.
 *
 *   api              path                 query                      auth
 *   v1               /write               db, rp, precision=s        basic (user, password_file)
 *   v2               /api/v2/write        org, bucket, precision=s   Authorization: Token (token_file)
 *   v3               /api/v3/write_lp     db, precision=second       Authorization: Bearer (token_file)
 *   victoriametrics  /write               db, precision=s            basic, when user is set
 *
 * The table is constant; nothing here allocates but store_dialect_write_url(). */
#ifndef TRYGGD_STORE_DIALECT_H
#define TRYGGD_STORE_DIALECT_H

#include <stdbool.h>

#include "config.h"
#include "lineproto.h"

enum store_auth {
	STORE_AUTH_BASIC,            /* user and password_file, when user is set */
	STORE_AUTH_TOKEN,            /* "Authorization: Token T" from token_file */
	STORE_AUTH_BEARER,           /* "Authorization: Bearer T" from token_file */
};

struct store_dialect {
	enum influx_api api;
	const char *name;            /* as written in the config */
	const char *product;         /* for messages */
	const char *write_path;
	enum store_auth auth;
	enum lineproto_backslash backslash;
	/* Whether it keeps a string field's text.  VictoriaMetrics does not:
	 * it reads a quoted value as a number where it can and as 0 where it
	 * cannot, so an alert's detail is left out there (lineproto_alert). */
	bool string_fields;
	enum influx_verify verify;   /* the default of the `verify` key */
	/* What a 404 means, for the message. */
	const char *not_found_hint;
};

/* The dialect of api; never NULL for a valid enum value. */
const struct store_dialect *store_dialect_of(enum influx_api api);
/* The dialect called name in the config, or NULL. */
const struct store_dialect *store_dialect_named(const char *name);
/* The names, for a config error: "v1, v2, v3 or victoriametrics". */
const char *store_dialect_names(void);

/* The full write URL for config (its url, database or org and bucket,
 * retention policy), every query value URL-encoded; *url is the caller's
 * to free().  0, -EINVAL (a URL libcurl refuses) or -ENOMEM. */
int store_dialect_write_url(const struct store_dialect *dialect, const struct influx_config *config, char **url);

/* config's url without user or password, for logs; the caller free()s it.
 * NULL when out of memory. */
char *store_dialect_url_for_logs(const struct influx_config *config);

#endif
