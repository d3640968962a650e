/* worker-protocol.h — the JSON-lines control protocol between glasscastd and glasscast-worker.
 * Parsing and validation of one line, serialization, and a bounded line splitter; spec in WORKER-PROTOCOL.md. */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* A line longer than this is a protocol error: an SDP offer is at most
 * 64 KiB, a stats line a few hundred bytes. */
#define GC_WORKER_MAX_LINE (256 * 1024)

typedef enum {
  GC_WORKER_MSG_OFFER,     /* glasscastd -> worker: publisher's SDP offer */
  GC_WORKER_MSG_ANSWER,    /* worker -> glasscastd: SDP answer (or fragment) */
  GC_WORKER_MSG_CANDIDATE, /* glasscastd -> worker: trickled remote
                              candidate */
  GC_WORKER_MSG_RESTART,   /* glasscastd -> worker: ICE restart fragment */
  GC_WORKER_MSG_STATE,     /* worker -> glasscastd: session state change */
  GC_WORKER_MSG_STATS,     /* worker -> glasscastd: once a second */
  GC_WORKER_MSG_ERROR,     /* worker -> glasscastd: a request failed, or
                              fatal */
  GC_WORKER_MSG_INJECT,    /* glasscastd -> worker: timed metadata */
  GC_WORKER_MSG_STOP,      /* glasscastd -> worker: end the session */
  GC_WORKER_MSG_HEARTBEAT, /* worker -> glasscastd: every 500 ms */
} GcWorkerMsgType;

typedef struct _GcWorkerMsg GcWorkerMsg;

/* Parses and validates one line (without its newline): a JSON object whose
 * "type" is known and whose fields have the types WORKER-PROTOCOL.md gives.
 * Unknown fields are ignored.
 * Returns: (transfer full) (nullable): the message, or NULL with @error
 * (G_IO_ERROR_INVALID_DATA). */
GcWorkerMsg *gc_worker_msg_parse (const gchar *line, gsize len, GError **error);

/* Returns: (transfer full): an empty message of @type to fill with
 * gc_worker_msg_set_*(). */
GcWorkerMsg *gc_worker_msg_new (GcWorkerMsgType type);

GcWorkerMsg *gc_worker_msg_ref (GcWorkerMsg *msg);
void gc_worker_msg_unref (GcWorkerMsg *msg);

GcWorkerMsgType gc_worker_msg_get_msg_type (const GcWorkerMsg *msg);
const gchar *gc_worker_msg_type_to_string (GcWorkerMsgType type);

/* Field accessors: @def when the field is absent (parsed messages have
 * every present field of the right type). */
const gchar *gc_worker_msg_get_string (const GcWorkerMsg *msg,
                                       const gchar *field);
gint64 gc_worker_msg_get_int (const GcWorkerMsg *msg, const gchar *field,
                              gint64 def);
gdouble gc_worker_msg_get_double (const GcWorkerMsg *msg, const gchar *field,
                                  gdouble def);
gboolean gc_worker_msg_get_bool (const GcWorkerMsg *msg, const gchar *field,
                                 gboolean def);
gboolean gc_worker_msg_has (const GcWorkerMsg *msg, const gchar *field);

void gc_worker_msg_set_string (GcWorkerMsg *msg, const gchar *field,
                               const gchar *value);
void gc_worker_msg_set_int (GcWorkerMsg *msg, const gchar *field, gint64 value);
void gc_worker_msg_set_double (GcWorkerMsg *msg, const gchar *field,
                               gdouble value);
void gc_worker_msg_set_bool (GcWorkerMsg *msg, const gchar *field,
                             gboolean value);

/* Returns: (transfer full): @msg as one line, newline included. */
gchar *gc_worker_msg_to_line (const GcWorkerMsg *msg);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcWorkerMsg, gc_worker_msg_unref)

/* Splits a byte stream into lines of at most GC_WORKER_MAX_LINE bytes. */
typedef struct _GcLineBuffer GcLineBuffer;

GcLineBuffer *gc_line_buffer_new (void);
void gc_line_buffer_free (GcLineBuffer *buf);

/* Appends @len bytes. FALSE (and the buffer is unusable) once a line
 * exceeds the limit. */
gboolean gc_line_buffer_push (GcLineBuffer *buf, const guint8 *data, gsize len);

/* Returns: (transfer full) (nullable): the next complete line without its
 * newline (a trailing '\r' is dropped too), or NULL if none is complete. */
gchar *gc_line_buffer_pop (GcLineBuffer *buf, gsize *len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcLineBuffer, gc_line_buffer_free)

G_END_DECLS
