/* worker.h — GcWorker, glasscastd's handle on one glasscast-worker process: spawn, JSON lines both ways,
 * heartbeat watchdog, stop with a deadline, and one "exited" signal however the process ends. */

#pragma once

#include <gio/gio.h>

#include "config.h"
#include "worker-protocol.h"

G_BEGIN_DECLS

#define GC_TYPE_WORKER (gc_worker_get_type ())
G_DECLARE_FINAL_TYPE (GcWorker, gc_worker, GC, WORKER, GObject)

/* Why a worker ended, for logs, metrics and the channel API. */
typedef enum {
  GC_WORKER_EXIT_CLEAN,   /* exited 0 (after "stop" or its publisher left) */
  GC_WORKER_EXIT_FAILED,  /* exited non-zero */
  GC_WORKER_EXIT_CRASHED, /* killed by a signal we did not send */
  GC_WORKER_EXIT_HUNG,    /* missed heartbeats: we killed it */
  GC_WORKER_EXIT_STOP_TIMEOUT, /* ignored "stop": we killed it */
  GC_WORKER_EXIT_PROTOCOL,     /* wrote something that is not the protocol */
  GC_WORKER_EXIT_KILLED,       /* gc_worker_kill() */
} GcWorkerExit;

const gchar *gc_worker_exit_to_string (GcWorkerExit exit);

/* Spawns glasscast-worker for @channel running @pipeline, writing into
 * @location. Nothing is sent yet; messages arrive as "message" signals
 * (GcWorkerMsg *), the end as one "exited" signal (GcWorkerExit, const gchar
 * *detail), both on the thread-default main context of this call.
 * Returns: (transfer full) (nullable): the running worker, or NULL with
 * @error. */
GcWorker *gc_worker_spawn (const GcConfig *config, const gchar *channel,
                           const gchar *pipeline, const gchar *location,
                           GError **error);

/* Queues @msg on the worker's stdin (never blocks). Ignored once the worker
 * has exited. */
void gc_worker_send (GcWorker *worker, GcWorkerMsg *msg);

/* Sends "stop"; SIGKILLs the worker if it is still there after the
 * configured stop-timeout. */
void gc_worker_stop (GcWorker *worker, const gchar *reason);

/* SIGKILL now; "exited" follows (with @why, unless it had already exited). */
void gc_worker_kill (GcWorker *worker, GcWorkerExit why);

/* The process id, or 0 once it has exited. */
gint gc_worker_get_pid (GcWorker *worker);

gboolean gc_worker_has_exited (GcWorker *worker);

G_END_DECLS
