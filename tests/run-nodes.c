/* run-nodes.c -- test tool: loads a configuration through the real loader
 * and runs each node's first attempt (each validation item) one after the
 * other on the real task and reactor code, printing one line per result:
 *   ID[ ITEM]<TAB>STATUS<TAB>MESSAGE<TAB>label=value;unit;warn;crit;min;max ...
 * It exercises plugins end to end before (and apart from) the scheduler. */
#ifdef HAVE_CONFIG_H
#include "autoconfig.h"
#endif

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "diag.h"
#include "host.h"
#include "plugin.h"
#include "reactor.h"
#include "task.h"

typedef struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
} waiter;

static void on_done(assay_task *t, void *arg)
{
	waiter *w = arg;

	pthread_mutex_lock(&w->lock);
	w->done = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static void print_result(const assay_task *t)
{
	size_t i;

	printf("%s%s%s\t%s\t%s\t", t->node->id, t->item ? " " : "", t->item ? t->item : "",
	       host_status_name(t->status), t->message ? t->message : "");
	for (i = 0; i < t->n_metrics; i++) {
		const assay_metric *m = &t->metrics[i];

		printf("%s%s=%g;%s;%s;%s", i ? " " : "", m->name, m->value, m->unit,
		       m->warn ? m->warn : "", m->crit ? m->crit : "");
		if (m->flags & ASSAY_METRIC_MIN)
			printf(";%g", m->min);
		else
			printf(";");
		if (m->flags & ASSAY_METRIC_MAX)
			printf(";%g", m->max);
		else
			printf(";");
	}
	printf("\n");
	fflush(stdout);
}

static void run_one(plan *p, const plan_node *n, const char *item, reactor *r)
{
	waiter w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false };
	assay_task t;

	task_init(&t, n, item, 1, r, n->timeout_ms ? n->timeout_ms : p->timeout_ms);
	t.done = on_done;
	t.done_arg = &w;
	t.secrets = (const char *const *)p->values.secrets;
	t.n_secrets = p->values.n_secrets;
	task_start(&t);
	pthread_mutex_lock(&w.lock);
	while (!w.done)
		pthread_cond_wait(&w.cond, &w.lock);
	pthread_mutex_unlock(&w.lock);
	print_result(&t);
	task_release(&t);
}

int main(int argc, char **argv)
{
	diag d = DIAG_INIT;
	registry reg;
	reactor *r;
	plan p;
	size_t i, j;
	int rc = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: run-nodes CONFIG (plugins from $ASSAY_PLUGIN_PATH)\n");
		return 64;
	}
	if (config_load(&p, argv[1], 1, &d) < 0 || registry_init(&reg, &d) < 0) {
		diag_print(&d, stderr);
		return 78;
	}
	registry_add_dirs(&reg, getenv("ASSAY_PLUGIN_PATH"));
	for (i = 0; p.load && i < value_len(p.load); i++) {
		const assay_value *v = value_at(p.load, i, NULL);

		registry_load(&reg, value_string(v), value_get(p.plugins, value_string(v)), v);
	}
	if (config_prepare(&p, &reg, &d)) {
		diag_print(&d, stderr);
		rc = 78;
		goto out;
	}
	if (reactor_new(&r) < 0) {
		rc = 70;
		goto out;
	}
	host_set_reactor(r);
	for (i = 0; i < p.n_nodes; i++) {
		if (p.nodes[i].kind == ASSAY_KIND_VALIDATION)
			for (j = 0; j < p.nodes[i].n_items; j++)
				run_one(&p, &p.nodes[i], p.nodes[i].items[j], r);
		else
			run_one(&p, &p.nodes[i], NULL, r);
	}
	host_set_reactor(NULL);
	reactor_free(r);
out:
	plan_release(&p);
	registry_release(&reg);
	diag_release(&d);
	return rc;
}
