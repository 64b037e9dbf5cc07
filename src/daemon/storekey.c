/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * storekey.c: the store's body key file.  32 random bytes, nothing else,
 * in a file of its own next to the store (not inside it): a copy of the
 * data file alone, a backup made with mdb_copy say, does not give away
 * the bodies.  It does not protect them from whoever can read the key
 * file too (root, the daemon's user on the running host), and the
 * records' metadata (names, channels, sizes, times) are in clear.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "storekey.h"

/* create(path): a new key file with a fresh key; 0, 1 if one exists. */
static int
create(const char *path, char *why, size_t whylen)
{
	uint8_t k[STOREKEY_LEN];
	ssize_t w;
	int fd, rc = -1;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		if (errno == EEXIST)
			return (1);
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	randombytes_buf(k, sizeof(k));
	w = write(fd, k, sizeof(k));
	sodium_memzero(k, sizeof(k));
	if (w != (ssize_t)sizeof(k) || fsync(fd) == -1) {
		snprintf(why, whylen, "%s: cannot write: %s", path,
		    w == -1 || w == (ssize_t)sizeof(k) ? strerror(errno) :
		    "short write");
		(void)unlink(path);
	} else
		rc = 0;
	(void)close(fd);
	return (rc);
}

uint8_t *
storekey_load(const char *path, int may_create, char *why, size_t whylen)
{
	struct stat sb;
	uint8_t *k = NULL, extra;
	ssize_t r;
	int fd;

	if (may_create && create(path, why, whylen) == -1)
		return (NULL);
	/* O_NONBLOCK: a FIFO in its place must not hang us before fstat. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1) {
		snprintf(why, whylen, "%s: %s%s", path, strerror(errno),
		    errno == ENOENT ? " (the store exists: its key file is "
		    "needed to read it)" : "");
		return (NULL);
	}
	if (fstat(fd, &sb) == -1) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		goto err;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size != STOREKEY_LEN) {
		snprintf(why, whylen, "%s: not a key file (%d bytes of "
		    "random)", path, STOREKEY_LEN);
		goto err;
	}
	if ((sb.st_mode & 077) != 0 || sb.st_uid != geteuid()) {
		snprintf(why, whylen, "%s: must be mode 0600 and owned by "
		    "the daemon's user", path);
		goto err;
	}
	if ((k = sodium_malloc(STOREKEY_LEN)) == NULL) {
		snprintf(why, whylen, "%s: out of memory", path);
		goto err;
	}
	r = read(fd, k, STOREKEY_LEN);
	if (r != STOREKEY_LEN || read(fd, &extra, 1) != 0) {
		snprintf(why, whylen, "%s: cannot read the key", path);
		sodium_free(k);
		k = NULL;
		goto err;
	}
	(void)sodium_mprotect_readonly(k);
err:
	(void)close(fd);
	return (k);
}

void
storekey_free(uint8_t *k)
{
	if (k != NULL)
		sodium_free(k);		/* wipes it */
}
