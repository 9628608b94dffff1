/* identity.h — who and where a gateway is: the labels every topic, payload
 * and point carries.  Borrowed pointers into struct config. */
#ifndef TRYGGD_IDENTITY_H
#define TRYGGD_IDENTITY_H

struct identity {
	const char *gateway;     /* gateway id */
	const char *district;    /* as written in the config (UTF-8) */
	const char *site;        /* or NULL */
};

#endif
