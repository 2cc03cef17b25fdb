/* crashpoint: the test hook that ends the process at its Nth step.
 *
 * The crash tests (tests/integration/test_crash.py) run a copy once per N
 * with IMAPFERRY_TEST_CRASH_AT=N and require the rerun after each to end
 * with nothing missing and nothing twice, as mbsync's tests do. A step is
 * a moment where a kill would leave the most doubt: an APPEND sent but not
 * yet answered, a state file written but not yet renamed, and just after.
 * Without the variable a step costs one atomic add. Not documented for
 * users: it only ever makes the program stop. */
#ifndef IMAPFERRY_CRASHPOINT_H
#define IMAPFERRY_CRASHPOINT_H

/* Counts one step; at the Nth, says which on stderr and _exit(137)s. */
void crashpoint(const char *what);

#endif
