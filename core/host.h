/* host.h -- the host table handed to every plugin's init: the one
 * implementation of include/assay/plugin.h's assay_host. */
#ifndef ASSAY_HOST_H
#define ASSAY_HOST_H

#include "assay/plugin.h"
#include "reactor.h"

/* The table; static, valid for the life of the process. */
const assay_host *host_table(void);

/* The reactor behind fd_watch, timer_start and child_watch, which carry no
 * task to find it through.  Set while a run is on (by run_go(), cleared by
 * run_free()); NULL otherwise, when those functions answer ASSAY_ESTATE. */
void host_set_reactor(reactor *r);

#endif /* ASSAY_HOST_H */
