/* stop: the run-wide stop request.
 *
 * Set from the SIGINT/SIGTERM handler; the socket waits fail at once and
 * the engine and the copy pipeline stop between batches, so a run ends
 * promptly with its statistics. Its own module so that the planners'
 * callers need not include the socket layer to read it. */
#ifndef IMAPFERRY_STOP_H
#define IMAPFERRY_STOP_H

#include <signal.h>

extern volatile sig_atomic_t stop_requested;

#endif
