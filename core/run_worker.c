/* run_worker.c -- what a thread runs next: an execution on this thread at
 * once, as the continuation of the one it finished, or on the pool. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include "run_int.h"

_Thread_local run_worker worker_self = { .index = -1 };

void worker_run(run_exec *e)
{
	run_worker *w = &worker_self;
	bool outer = !w->in_loop;

	w->index = pool_worker_index(e->run->pool);
	w->in_loop = true;
	w->start_ns = 0;
	while (e) {
		exec_admit(e);
		e = w->next;
		w->next = NULL;
		w->start_ns = w->next_start_ns;
	}
	w->start_ns = 0;
	w->in_loop = !outer;
}

void worker_job(pool_job *job)
{
	worker_run((run_exec *)job);
}

/* A worker that finished a node continues with e itself (may_continue).
 * So does the reactor thread, when a plugin completed there, but only for
 * a type that just starts waiting work (ASSAY_TYPE_QUICK_RUN): it starts
 * sooner than a pool thread could be woken for it, while anything else
 * would hold up every timer and socket.  Any other thread (a plugin's
 * own) hands e to the pool. */
void worker_schedule(run_exec *e, bool may_continue)
{
	run_worker *w = &worker_self;

	if (may_continue && !w->next) {
		bool on_reactor = reactor_is_current(e->run->re);
		bool quick = on_reactor && (exec_plan_node(e)->type->flags & ASSAY_TYPE_QUICK_RUN);

		if (w->in_loop && (!on_reactor || quick)) {
			w->next = e;
			/* Only after its only predecessor: another one may have
			 * read the clock later than this one, yet finished first. */
			w->next_start_ns = run_n_preds(e->run, e->launch->index) == 1 ? w->end_ns : 0;
			return;
		}
		if (!w->in_loop && quick) {
			worker_run(e);
			return;
		}
	}
	if (pool_submit(e->run->pool, &e->job) < 0) {
		/* A deque could not grow: run it here rather than lose it. */
		worker_job(&e->job);
	}
}
