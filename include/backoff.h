/* backoff: one pause for the whole run when a server asks to slow down.
 *
 * Providers throttle per account, not per connection: Gmail adds
 * [THROTTLED] to answers (even OK ones) and Office 365 says "Suggested
 * Backoff Time: N milliseconds". The transport notes such a line on any
 * session; every folder worker then waits at its next batch or folder, so
 * the run as a whole slows down instead of one connection hammering on. */
#ifndef IMAPFERRY_BACKOFF_H
#define IMAPFERRY_BACKOFF_H

#include <stddef.h>

/* The longest pause one request may ask for (a lying server must not hang
 * the run). */
#define BACKOFF_MAX_MS 300000u
/* [THROTTLED] names no time: this long, doubled while it keeps coming. */
#define BACKOFF_THROTTLED_MS 2000u

/* Looks at one response line (outside literals; any length, only its
 * start is read) and notes the pause it asks for, if any. Thread-safe. */
void backoff_scan_line(const char *line, size_t len);
/* Asks for a pause of ms from now (the longest asked wins). Thread-safe. */
void backoff_note(unsigned ms);
/* Sleeps until the pause asked for is over, saying so once per pause;
 * wakes up at once for a stop request. */
void backoff_wait(void);

#endif
