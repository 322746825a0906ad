/* SPDX-License-Identifier: MIT */
/*
 * A TCP and UDP echo server on one zcopy context, for the examples.  The
 * event loop watches two file descriptors and calls back in here:
 *
 *   echo_ctx_fd()     readable: echo_process()
 *   echo_listen_fd()  readable: echo_accept()
 *
 * until echo_done().  Options: [-a ADDR] [-p PORT] [-c CLIENTS]: listen on
 * ADDR:PORT (IPv4, 127.0.0.1 by default; TCP and UDP; PORT 0 picks one and
 * prints "port N"); with -c, done after CLIENTS TCP clients.
 */
#ifndef ZC_EXAMPLES_ECHO_H
#define ZC_EXAMPLES_ECHO_H

#include <stdbool.h>

#include <zcopy/zcopy.h>

/* Parse the options, listen, print the port.  0 or a negative errno. */
int echo_start(int argc, char **argv, const char *name);
int echo_ctx_fd(void);
int echo_listen_fd(void);
/* Accept every pending client. */
void echo_accept(void);
/* Run the context's work; close sockets that are done.  0 or -errno. */
int echo_process(void);
bool echo_done(void);
/* Print what moved, free everything; the exit status (ret: the loop's). */
int echo_finish(int ret);

#endif
