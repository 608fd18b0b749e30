/* progress_int.h -- what progress.c and progress_sweep.c share: the
 * display's state, and the estimate of what is left of one node, which the
 * progress line and each sweep's ETA take alike. */
#ifndef ASSAY_PROGRESS_INT_H
#define ASSAY_PROGRESS_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "progress.h"

#define NONE UINT32_MAX

/* The observed durations of a class of nodes: one sweep's trials, the
 * nodes of one kind and type, or every node (class 0). */
typedef struct progress_class {
	_Atomic uint64_t ns;
	atomic_uint n;
} progress_class;

typedef struct progress_node {
	_Atomic int64_t start_ns;     /* its first attempt's; 0: not started */
	atomic_bool final;
	atomic_uint items_done;       /* a validation's items that are final */
	_Atomic uint64_t items_ns;    /* ... and the time they took */
	atomic_bool waiting;          /* queued for a resource since its last START */
	uint32_t sweep;               /* the class of its sweep, or NONE */
	uint32_t kind;                /* the class of its kind and type */
} progress_node;

struct progress {
	const plan *p;
	const graph *g;
	const bool *keep;
	unsigned jobs;
	FILE *out;
	size_t total;                 /* the nodes to run */
	atomic_size_t done, running, failed;
	atomic_size_t waiting;        /* nodes queued for a resource */
	progress_node *nodes;         /* one per plan node */
	progress_class *classes;

	reactor *re;
	pthread_mutex_t lock;         /* timer and stopped, against progress_stop() */
	pthread_mutex_t wait_lock;    /* wait_text */
	char wait_text[160];          /* the last wait's reason ("2 GPUs with ...") */
	assay_timer *timer;
	bool stopped;
	/* The estimate: the reactor thread's alone. */
	double *finish;               /* when each node would end, from now */
	double eta;                   /* as of eta_ns; negative: unknown */
	int64_t eta_ns, cost_ns;      /* when it was made, and what it cost */

	/* The sweeps' block (progress_sweep.c). */
	sweeps *tracker;              /* what it shows; NULL: no block */
	struct progress_sweep *sweeps; /* one per plan sweep */
	int64_t plain_ms;             /* --progress plain: a line this often; 0: redraw */
	int64_t start_ns;             /* progress_start()'s */
	size_t drawn;                 /* lines of the block drawn under the line */
};

/* What the display keeps of a sweep besides the tracker's: what its ETA
 * needs of the run's resources, and the ETA. */
typedef struct progress_sweep {
	atomic_bool waited;           /* a trial queued for a resource (any thread) */
	double eta;                   /* the reactor thread's: as of pr->eta_ns */
} progress_sweep;

/* What is left of node v at now_ns: the time until it ends (*own) and the
 * execution time it still needs (*work).  False when nothing tells. */
bool progress_left(const progress *pr, size_t v, int64_t now_ns, double *own, double *work);

/* "4.5s", "12s", "4m10s", "2h05m"; "?" for a negative (unknown) s. */
void progress_format_eta(double s, char *buf, size_t size);

/* --- progress_sweep.c: the block of each sweep -------------------------- */

/* The sweeps' state, for pr->p's sweeps.  0 or ASSAY_ENOMEM. */
int progress_sweeps_new(progress *pr);
void progress_sweeps_free(progress *pr);

/* Node v queued for a resource (WAIT): its sweep's ETA shares what is
 * left by as many trials as were seen running at once.  Any thread. */
void progress_sweeps_wait(progress *pr, size_t v);

/* Each sweep's ETA at now_ns, redone with the progress line's. */
void progress_sweeps_eta(progress *pr, int64_t now_ns);

#endif /* ASSAY_PROGRESS_INT_H */
