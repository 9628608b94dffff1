/* credentials.h — files that hold secrets or name them: [mqtt]
 * password_file, key_file and the other *_file keys.
 *
 * Secrets are never written in the configuration itself.  A *_file key
 * names a file; a relative name is looked up in $CREDENTIALS_DIRECTORY
 * first (where systemd puts what LoadCredential= gives a service), then in
 * the configuration file's directory.
 *
 * A password file holds the password alone: one line, one newline at its
 * end or none (as `echo` or an editor leaves it).  Its text is read into
 * memory that credential_free() zeroes before it is freed, and is never
 * logged: what can be shown is where it came from.
 *
 * Nothing here logs; callers say what a result means. */
#ifndef TRYGGD_CREDENTIALS_H
#define TRYGGD_CREDENTIALS_H

#include <stdbool.h>

/* A password longer than this is a mistake (a certificate named by accident). */
#define CREDENTIAL_SIZE_MAX 4096

/* Where the file called name is.  An absolute name as it is; a relative one
 * in $CREDENTIALS_DIRECTORY when it is set and the file is there, otherwise
 * in directory (which the caller gives absolute).  *path is the caller's to
 * free.  0, or -ENOMEM. */
int credential_locate(const char *name, const char *directory, char **path);

/* The password in path, as described above, into *secret (free it with
 * credential_free).  0, or a negative errno: the file's own (-ENOENT,
 * -EACCES, -EISDIR, ...), -EFBIG when larger than CREDENTIAL_SIZE_MAX,
 * -ENODATA when it is empty, -EBADMSG when it holds more than one line or a
 * NUL byte, -ENXIO when it is not a regular file (a FIFO, a socket, a
 * device: never waited on).  On failure *secret is NULL and nothing read is left in memory. */
int credential_read(const char *path, char **secret);

/* What a result of credential_read() means, for a message. */
const char *credential_strerror(int r);

/* Zeroes secret and frees it; NULL is fine. */
void credential_free(char *secret);

/* The file at path may be read by every user on the board (mode o+r). */
bool credential_world_readable(const char *path);

#endif
