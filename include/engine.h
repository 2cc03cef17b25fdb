/* engine: one sync run, host1 -> host2.
 *
 * Opens both sessions, plans the folders, and per folder pair plans and
 * copies the messages host2 lacks. Message- and folder-level failures are
 * reported (report_error) and the run goes on; failures that end the run
 * (connection, login) are returned in st for the caller to report. */
#ifndef IMAPFERRY_ENGINE_H
#define IMAPFERRY_ENGINE_H

#include "config.h"
#include "report.h"
#include "status.h"

int engine_run(const struct config *cfg, struct report *rep, struct status *st);

#endif
