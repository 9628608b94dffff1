/* credentials.c — see credentials.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "credentials.h"

int credential_locate(const char *name, const char *directory, char **path)
{
	char *found = NULL;
	if (name[0] == '/') {
		found = strdup(name);
		if (!found)
			return -ENOMEM;
		*path = found;
		return 0;
	}
	const char *credentials = getenv("CREDENTIALS_DIRECTORY");
	if (credentials && credentials[0] == '/') {
		if (asprintf(&found, "%s/%s", credentials, name) < 0)
			return -ENOMEM;
		if (access(found, F_OK) == 0) {
			*path = found;
			return 0;
		}
		free(found);
		found = NULL;
	}
	const char *separator = strcmp(directory, "/") == 0 ? "" : "/";
	if (asprintf(&found, "%s%s%s", directory, separator, name) < 0)
		return -ENOMEM;
	*path = found;
	return 0;
}

void credential_free(char *secret)
{
	if (!secret)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}

int credential_read(const char *path, char **secret)
{
	*secret = NULL;
	/* O_NONBLOCK: a FIFO or a device in its place must not hang the
	 * caller in open(); only a regular file is read. */
	int descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (descriptor < 0)
		return -errno;
	int r = 0;
	struct stat status;
	if (fstat(descriptor, &status) < 0) {
		r = -errno;
		close(descriptor);
		return r;
	}
	if (S_ISDIR(status.st_mode)) {
		close(descriptor);
		return -EISDIR;
	}
	if (!S_ISREG(status.st_mode)) {
		close(descriptor);
		return -ENXIO;
	}
	/* One byte more than allowed tells a file that is too large. */
	char *buffer = malloc(CREDENTIAL_SIZE_MAX + 2);
	if (!buffer) {
		close(descriptor);
		return -ENOMEM;
	}
	size_t length = 0;
	for (;;) {
		ssize_t got = read(descriptor, buffer + length, CREDENTIAL_SIZE_MAX + 1 - length);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = -errno;
			break;
		}
		if (got == 0)
			break;
		length += (size_t)got;
		if (length > CREDENTIAL_SIZE_MAX) {
			r = -EFBIG;
			break;
		}
	}
	close(descriptor);
	if (r == 0) {
		/* One line ending, as an editor or `echo` leaves it, is not part
		 * of the password; anything else is. */
		if (length > 0 && buffer[length - 1] == '\n')
			length--;
		if (length > 0 && buffer[length - 1] == '\r')
			length--;
		if (length == 0)
			r = -ENODATA;
		else if (memchr(buffer, '\n', length) || memchr(buffer, '\0', length))
			r = -EBADMSG;
	}
	if (r < 0) {
		explicit_bzero(buffer, CREDENTIAL_SIZE_MAX + 2);
		free(buffer);
		return r;
	}
	buffer[length] = '\0';
	*secret = buffer;
	return 0;
}

const char *credential_strerror(int r)
{
	switch (r) {
	case -EFBIG:
		return "larger than 4096 bytes, too large for a password";
	case -ENODATA:
		return "empty";
	case -EBADMSG:
		return "more than one line (the file holds the password alone, with at most one newline at its end)";
	case -ENXIO:
		return "not a regular file";
	default:
		return strerror(-r);
	}
}

bool credential_world_readable(const char *path)
{
	struct stat status;
	return stat(path, &status) == 0 && (status.st_mode & S_IROTH);
}
