/* kwtab: one copy of each distinct keyword string (a message's sorted,
 * space-separated keywords, as flagrule_parse makes them) for the whole
 * process, so that a message's metadata holds a 32-bit id instead of a
 * string of its own: a million messages' listing shares the few keyword
 * sets a mailbox has, and equal keywords have equal ids.
 *
 * The table belongs to the process: strings are never freed, so an id and
 * the string it names stay valid until exit, in every thread. It grows
 * with the distinct keyword sets seen, not with the messages. */
#ifndef IMAPFERRY_KWTAB_H
#define IMAPFERRY_KWTAB_H

#include <stdint.h>

/* The id of kw (copied into the table when new); 0 for NULL or "" (no
 * keywords). Thread-safe. */
uint32_t kwtab_intern(const char *kw);
/* The string of an id kwtab_intern returned; NULL for 0. Thread-safe
 * without a lock: an id reaches a thread only with (after) its string. */
const char *kwtab_str(uint32_t id);

#endif
