/* stop: storage of the run-wide stop request (see stop.h). */
#include "stop.h"

volatile sig_atomic_t stop_requested;
