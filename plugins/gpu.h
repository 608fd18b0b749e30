/* gpu.h -- the gpu plugin's parts and how they meet: the candidates
 * (gpu_visible.c), the score (gpu_score.c), the leases and the ledger
 * (gpu_lease.c), the resource type (gpu_resource.c), `assay gpus`
 * (gpu_command.c) and init (gpu_plugin.c).  NVML itself is behind
 * gpu_nvml.h.  The pure parts (visible, score) take no host, so
 * tests/check_gpu.c drives them with tables. */
#ifndef ASSAY_GPU_H
#define ASSAY_GPU_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "assay/plugin.h"
#include "gpu_nvml.h"

#define GPU_MB (UINT64_C(1) << 20)
#define GPU_LOCK_DIR_DEFAULT "/run/lock/assay"

/* ---- candidates: gpu_visible.c ------------------------------------------ */

/* The runner's environment as it bears on which devices it may use.  NULL
 * members are unset variables. */
typedef struct gpu_env {
	const char *cuda_visible;    /* CUDA_VISIBLE_DEVICES */
	const char *slurm_step_gpus; /* SLURM_STEP_GPUS */
	const char *slurm_job_gpus;  /* SLURM_JOB_GPUS */
} gpu_env;

/* Reads the three variables of the process environment (pointers into it). */
void gpu_env_read(gpu_env *env);

/* Which variable decided (for `assay gpus` and the messages). */
typedef enum gpu_visible_source {
	GPU_VISIBLE_ALL,   /* none set: every device */
	GPU_VISIBLE_CUDA,  /* CUDA_VISIBLE_DEVICES */
	GPU_VISIBLE_SLURM_STEP,
	GPU_VISIBLE_SLURM_JOB
} gpu_visible_source;

/* Marks in allowed[0..n) the devices of devs[0..n) (a snapshot: GPUs in
 * NVML index order, each GPU's MIG units after it) that env allows, as
 * CUDA would read CUDA_VISIBLE_DEVICES: decimal indices (NVML order, which
 * is PCI bus order: what CUDA_DEVICE_ORDER=PCI_BUS_ID gives), `GPU-` UUIDs
 * or unique prefixes of them, `MIG-` UUIDs (or unique prefixes), the
 * legacy `MIG-GPU-<uuid>/<gi>/<ci>`; blanks around entries ignored; the
 * list cut at the first entry that is invalid, unknown or ambiguous; an
 * empty variable allows nothing.  A GPU in MIG mode that an entry names
 * allows its units, never itself.  Slurm's lists are NVML indices and win
 * over CUDA_VISIBLE_DEVICES (see gpu_visible.c).  Returns which variable
 * decided; *cut (if not NULL) gets the first entry that was dropped with
 * the rest of the list (a pointer into the variable, NULL when none). */
gpu_visible_source gpu_visible_select(const gpu_env *env, const gpu_device *devs, size_t n,
				      bool *allowed, const char **cut);

/* "CUDA_VISIBLE_DEVICES", "SLURM_STEP_GPUS", ... or "" for ALL. */
const char *gpu_visible_source_name(gpu_visible_source s);

/* ---- the score: gpu_score.c -------------------------------------------- */

/* What to make of compute processes on a device that no assay process
 * holds or has booked ([plugins.gpu] foreign). */
typedef enum gpu_foreign {
	GPU_FOREIGN_BUSY,   /* never choose it while they run (default) */
	GPU_FOREIGN_COUNT,  /* choose it only after every device without them */
	GPU_FOREIGN_IGNORE  /* choose it as if they were not there */
} gpu_foreign;

/* 0.6 x free-memory share + 0.4 x (1 - utilisation), in [0, 1]; memory
 * alone where NVML cannot give the utilisation (a MIG unit).  free_bytes
 * is the free memory to score with (the snapshot's, less what was booked
 * since it was taken). */
double gpu_score(const gpu_device *d, uint64_t free_bytes);

/* One device as the chooser sees it. */
typedef struct gpu_rank {
	size_t dev;          /* index in the snapshot */
	double score;
	unsigned foreign;    /* compute processes nobody in assay accounts for */
	const char *pci;     /* tie break: PCI bus id, then MIG unit index */
	unsigned mig_index;
} gpu_rank;

/* Sorts r[0..n) best first: (foreign count first under COUNT), score
 * descending, PCI bus id, MIG unit index -- deterministic for equal
 * scores. */
void gpu_rank_sort(gpu_rank *r, size_t n, gpu_foreign foreign);

/* ---- leases and the ledger: gpu_lease.c -------------------------------- */

/* A booking of gpu_shared memory: one OFD lock on one slot of the
 * device's ledger, held by its own open file description. */
typedef struct gpu_booking {
	int fd;
	unsigned slot;
	uint64_t mb;
} gpu_booking;

/* Why a device could not be had. */
typedef enum gpu_take {
	GPU_TAKEN = 0,
	GPU_BUSY_HERE,   /* this process holds it: ask again at a release */
	GPU_BUSY_ELSEWHERE, /* another process holds it: ask again later */
	GPU_NOT_NOW      /* the ledger is being updated elsewhere: 1-5 ms */
} gpu_take;

typedef struct gpu_leases gpu_leases;

/* The process's leases under lock_dir (copied).  Nothing is opened until
 * a device is first asked for.  Freed by gpu_leases_free(). */
gpu_leases *gpu_leases_new(const char *lock_dir);
void gpu_leases_free(gpu_leases *l);
const char *gpu_leases_dir(const gpu_leases *l);

/* An exclusive lease on uuid: flock LOCK_EX on <lock_dir>/<uuid>.lock, the
 * holder (pid, host, node, since) written inside.  GPU_TAKEN or why not;
 * a negative ASSAY_E* code (errno set) when the lock file cannot be used.
 * *holder_pid gets the other process's pid when it says (0 if not). */
int gpu_lease_take(gpu_leases *l, const char *uuid, const char *node, pid_t *holder_pid);
void gpu_lease_give(gpu_leases *l, const char *uuid);

/* A booking of mb on uuid (total_mb: the device's memory; free_mb: NVML's
 * free memory at snapshot_ns, CLOCK_MONOTONIC): it is made when the
 * bookings of every process fit in total_mb and free_mb, less what was
 * booked since snapshot_ns, holds mb.  Also holds a shared flock on the
 * device's lease, so an exclusive lease waits for the last booking.
 * GPU_TAKEN (*b set), a gpu_take reason, or a negative ASSAY_E* code. */
int gpu_book(gpu_leases *l, const char *uuid, uint64_t mb, uint64_t total_mb, uint64_t free_mb,
	     int64_t snapshot_ns, const char *node, gpu_booking *b, pid_t *holder_pid);
void gpu_unbook(gpu_leases *l, const char *uuid, gpu_booking *b);

/* What is known of uuid's holders without taking anything, for messages
 * and `assay gpus`.  probe: also ask the kernel whether another process
 * holds it (a lock taken and dropped at once: for `assay gpus`, never
 * while a run is choosing). */
typedef struct gpu_holders {
	bool here;           /* leased by this process */
	unsigned here_booked; /* bookings of this process */
	pid_t elsewhere_pid; /* another process's lease, as last seen (0: none) */
	char holder[160];    /* the lock file's diagnostics line, when probed */
	unsigned bookings;   /* bookings of every process (probe only) */
	uint64_t booked_mb;  /* their memory (probe only) */
} gpu_holders;
void gpu_lease_holders(gpu_leases *l, const char *uuid, bool probe, gpu_holders *out);

/* What this process knows of each of devs[0..n) at once (one lock, no
 * system call): the choosing's view, every try. */
typedef struct gpu_lease_view {
	bool here;            /* leased by this process */
	unsigned here_booked; /* its bookings */
	pid_t elsewhere_pid;  /* another holder, as last seen */
	int64_t released_ns;  /* its last release here (0: never) */
} gpu_lease_view;
void gpu_leases_view(gpu_leases *l, const gpu_device *devs, size_t n, gpu_lease_view *out);

/* When this process last gave uuid back (CLOCK_MONOTONIC ns; 0: never):
 * a snapshot older than that still counts our finished node as running. */
int64_t gpu_lease_released_ns(gpu_leases *l, const char *uuid);

/* The ledger's bookings on uuid made after since_ns, and all of them (MB,
 * every process).  Needs the caller to hold the ledger (inside gpu_book)
 * or accepts a moment's skew (describe, gpus).  0 or negative code. */
int gpu_ledger_sum(gpu_leases *l, const char *uuid, int64_t since_ns, uint64_t *since_mb,
		   uint64_t *all_mb, unsigned *count);

/* ---- the plugin: gpu_resource.c, gpu_command.c, gpu_plugin.c ------------ */

typedef struct gpu_stats {
	atomic_uint_fast64_t grants, tries, refused;
	atomic_uint_fast64_t acquire_ns, release_ns; /* inside try_acquire (every try), release */
	atomic_uint_fast64_t acquire_cpu_ns, release_cpu_ns; /* the thread's CPU time there */
	atomic_uint_fast64_t rounds;                 /* readings asked for */
} gpu_stats;

/* The plugin's state: made by init, freed by the resource type's free_data. */
typedef struct gpu_plugin {
	const assay_host *host;
	assay_plugin *plugin;
	gpu_nvml *nvml;         /* from the first prepare or `assay gpus` on (see
				 * gpu_nvml_ensure); NULL before, or when it could
				 * not be started: nvml_why says why */
	const char *nvml_why;
	bool nvml_started;      /* gpu_nvml_ensure() ran */
	char *nvml_library;     /* NULL: the soname */
	int64_t nvml_timeout_ms;
	uint32_t retry_ms;      /* asking again for devices held elsewhere */
	gpu_foreign foreign;
	gpu_leases *leases;
	gpu_env env;            /* the runner's, read at init */
	bool stats_on;          /* ASSAY_GPU_STATS */
	gpu_stats stats;
	int64_t nvml_interval_ms; /* readings asked for at most this often */
	atomic_bool refresh_wanted;  /* a release since the last reading asked for */
	_Atomic int64_t refresh_ns;  /* when one was last asked for */
	assay_resource_type type;
} gpu_plugin;

/* `assay gpus` as registered: apart from the plugin's state, which the
 * resource type frees, so that the host may unregister the two in any
 * order.  Freed by its own free_data. */
typedef struct gpu_command_reg {
	assay_command command;
	gpu_plugin *pl;
} gpu_command_reg;

/* A node's request (prepare's *req). */
typedef struct gpu_request {
	unsigned count;
	uint64_t memory_mb;
	bool shared;
} gpu_request;

/* The resource type's callbacks: prepare and release_request in
 * gpu_prepare.c, describe_wait in gpu_describe.c, the rest in
 * gpu_resource.c. */
int gpu_prepare(const assay_value *request, void *data, void **req);
int gpu_try_acquire(assay_task *task, void *req, void *data, void **grant, uint32_t *retry_ms);
void gpu_release(void *grant, void *data);
void gpu_release_request(void *req, void *data);
void gpu_describe_wait(void *req, void *data, char *buf, size_t size);

/* gpu_resource.c: ask the NVML child for a fresh reading, at most once per
 * nvml_interval; released: a device was given back (a reading is owed). */
void gpu_refresh(gpu_plugin *pl, bool released);

/* gpu_resource.c: the latest snapshot's candidates (allowed[i] for each
 * device that may be chosen), for `assay gpus` as for try_acquire. */
size_t gpu_candidates(const gpu_plugin *pl, const gpu_snapshot *snap, bool *allowed);

/* gpu_plugin.c: start the NVML reader if it is not started yet.  Main
 * thread, before any thread runs (it forks): a prepare and `assay gpus`
 * call it, so that loading the plugin alone (`assay plugins`, a run
 * without GPU nodes) starts no helper process. */
void gpu_nvml_ensure(gpu_plugin *pl);

/* gpu_command.c: `assay gpus` (data: its gpu_command_reg). */
int gpu_command_main(int argc, char **argv, FILE *out, void *data);

#endif /* ASSAY_GPU_H */
