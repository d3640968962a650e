/* archive.h — GcChatArchive: every accepted message and every moderation action, kept in SQLite for replay.
 * Writes go through a writer thread (batched transactions) so the main context never waits on fsync. */

#pragma once

#include <glib.h>

#include "audit.h"
#include "message.h"

G_BEGIN_DECLS

typedef struct _GcChatArchive GcChatArchive;

/* One message as stored. */
typedef struct {
  gchar *id;
  gchar *room;
  gchar *user;
  gchar *display_name;
  gchar *text;
  gchar *reply_to;         /* (nullable) */
  gint64 ts_ms;            /* server wall-clock time accepted */
  gint64 stream_offset_ms; /* media time in the live stream; -1: unknown */
  gboolean deleted;
  gint64 deleted_ts_ms;   /* 0 when not deleted */
  gchar *deleted_by;      /* (nullable) */
  GcChatMessageKind kind; /* a chat message or a paid tip */
  gint64 amount;          /* a tip: integer minor units */
  gchar *currency;        /* a tip: ISO 4217 */
} GcChatArchivedMessage;

void gc_chat_archived_message_free (GcChatArchivedMessage *msg);

/* Opens (creating if needed) the database at @path in WAL mode with full
 * sync, and starts the writer thread.
 * Returns: (transfer full) (nullable) */
GcChatArchive *gc_chat_archive_open (const gchar *path, GError **error);

/* Flushes pending writes, stops the writer, closes the database. */
void gc_chat_archive_close (GcChatArchive *archive);

/* Queue writes; they reach the disk in the writer's next transaction.
 * @stream_offset_ms: -1 when the stream's media time is unknown. */
void gc_chat_archive_add_message (GcChatArchive *archive,
                                  const GcChatMessage *msg,
                                  gint64 stream_offset_ms);
/* Marks, never removes: a replay must know a message existed and was
 * removed (and by whom) to match what live viewers saw. */
void gc_chat_archive_mark_deleted (GcChatArchive *archive, const gchar *room,
                                   const gchar *id, const gchar *actor,
                                   gint64 ts_ms);
/* Marks every message of @user in @room accepted before @ts_ms. */
void gc_chat_archive_mark_user_deleted (GcChatArchive *archive,
                                        const gchar *room, const gchar *user,
                                        const gchar *actor, gint64 ts_ms);
void gc_chat_archive_add_audit (GcChatArchive *archive,
                                const GcChatAuditRecord *record);

/* Blocks until everything queued before the call is committed. */
gboolean gc_chat_archive_flush (GcChatArchive *archive, GError **error);

typedef enum {
  GC_CHAT_ARCHIVE_BY_WALL_CLOCK, /* range on ts_ms */
  GC_CHAT_ARCHIVE_BY_STREAM,     /* range on stream_offset_ms */
} GcChatArchiveClock;

/* Messages of @room with time in [@from_ms, @to_ms), in time order. Reads
 * what is committed (flush first to see the latest writes). Safe from any
 * thread: reads use their own connection.
 * Returns: (transfer full) (element-type GcChatArchivedMessage) (nullable) */
GPtrArray *gc_chat_archive_read_range (GcChatArchive *archive,
                                       const gchar *room,
                                       GcChatArchiveClock clock, gint64 from_ms,
                                       gint64 to_ms, gboolean include_deleted,
                                       GError **error);

/* One audit row as stored. */
typedef struct {
  gchar *room;
  gchar *actor;
  gchar *action;
  gchar *target; /* (nullable) */
  gchar *reason; /* (nullable) */
  gchar *detail; /* (nullable) */
  gint64 ts_ms;
} GcChatArchivedAudit;

void gc_chat_archived_audit_free (GcChatArchivedAudit *audit);

/* Returns: (transfer full) (element-type GcChatArchivedAudit) (nullable) */
GPtrArray *gc_chat_archive_read_audit (GcChatArchive *archive,
                                       const gchar *room, gint64 from_ms,
                                       gint64 to_ms, GError **error);

G_END_DECLS
