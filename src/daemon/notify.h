/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * notify.h: the systemd notification protocol (sd_notify(3)), a datagram
 * to $NOTIFY_SOCKET, implemented here so libsystemd is not a dependency.
 */
#ifndef SECMSG_NOTIFY_H
#define SECMSG_NOTIFY_H

/*
 * notify_send(state): send state (e.g. "READY=1") to $NOTIFY_SOCKET.  Does
 * nothing and returns 0 when the variable is unset; -1 on failure (errno).
 */
int	notify_send(const char *state);

#endif /* !SECMSG_NOTIFY_H */
