/* temp_tree.h — temporary folders of files for the unit tests that read
 * real files (test_iio, test_probe, test_replay, test_config): make the
 * folder, make folders and write files in it, remove it all, and count the
 * process's open descriptors so that a test can see that the code under
 * test closed what it opened.
 *
 * Ownership: the caller owns every buffer and path; nothing here allocates
 * memory or keeps anything between calls.  A tree is the caller's from
 * temp_tree_make() until temp_tree_remove().
 *
 * Failures: the functions that only serve a test's own setup stop the test
 * through cmocka (fail_msg or an assertion) and are usable only from a
 * cmocka test or fixture; temp_tree_make() and temp_tree_remove() return
 * their result instead, for fixtures that report failure themselves. */
#ifndef TRYGGD_TEMP_TREE_H
#define TRYGGD_TEMP_TREE_H

#include <stddef.h>

/* A new folder from template, a path ending in XXXXXX (as mkdtemp), its
 * name left in root (size bytes).  Returns root, or NULL with errno set
 * when the name does not fit or the folder cannot be made. */
char *temp_tree_make(char *root, size_t size, const char *template);

/* Removes root and everything below it, not following symbolic links.
 * Returns 0, or -1 with errno set (nftw's result). */
int temp_tree_remove(const char *root);

/* Makes the folder path (mode 0755); one that is there already will do. */
void temp_tree_make_directory(const char *path);

/* Makes the folder path is in (its parent, one level). */
void temp_tree_make_parent(const char *path);

/* Writes size bytes as the whole content of path (mode 0644), created or
 * rewritten in place: O_TRUNC keeps the inode, so a descriptor already
 * open on path sees the new content, as with a sysfs value. */
void temp_tree_write_bytes(const char *path, const char *bytes, size_t size);

/* temp_tree_write_bytes() with the string text, without its NUL. */
void temp_tree_write(const char *path, const char *text);

/* How many descriptors the process has open, counted in /proc/self/fd
 * (the count includes the one used to read it, every time alike). */
int open_descriptor_count(void);

#endif
