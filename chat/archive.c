/* archive.c — the SQLite chat archive: schema, a writer thread with batched transactions, range reads.
 * WAL lets the readers (VOD replay) run beside the writer without blocking either. */

#include "archive.h"

#include <sqlite3.h>

#include "chat-error.h"

/*
 * Writes are queued as small records and applied by one thread, many per
 * transaction: with synchronous=FULL each commit is an fsync, and a busy
 * room produces far more messages per second than a disk does fsyncs.
 * Reads open their own connection per call, as WAL allows.
 */

#define SCHEMA                                                                 \
  "CREATE TABLE IF NOT EXISTS chat_messages ("                                 \
  "  id TEXT PRIMARY KEY,"                                                     \
  "  room TEXT NOT NULL,"                                                      \
  "  user TEXT NOT NULL,"                                                      \
  "  display_name TEXT NOT NULL,"                                              \
  "  text TEXT NOT NULL,"                                                      \
  "  reply_to TEXT,"                                                           \
  "  ts_ms INTEGER NOT NULL,"                                                  \
  "  stream_offset_ms INTEGER,"                                                \
  "  deleted_ts_ms INTEGER,"                                                   \
  "  deleted_by TEXT,"                                                         \
  "  kind TEXT NOT NULL DEFAULT 'message',"                                    \
  "  amount INTEGER,"                                                          \
  "  currency TEXT);"                                                          \
  "CREATE INDEX IF NOT EXISTS chat_messages_room_ts"                           \
  "  ON chat_messages (room, ts_ms);"                                          \
  "CREATE INDEX IF NOT EXISTS chat_messages_room_offset"                       \
  "  ON chat_messages (room, stream_offset_ms);"                               \
  "CREATE INDEX IF NOT EXISTS chat_messages_room_user"                         \
  "  ON chat_messages (room, user);"                                           \
  "CREATE TABLE IF NOT EXISTS chat_audit ("                                    \
  "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"                                   \
  "  room TEXT NOT NULL,"                                                      \
  "  actor TEXT NOT NULL,"                                                     \
  "  action TEXT NOT NULL,"                                                    \
  "  target TEXT,"                                                             \
  "  reason TEXT,"                                                             \
  "  detail TEXT,"                                                             \
  "  ts_ms INTEGER NOT NULL);"                                                 \
  "CREATE INDEX IF NOT EXISTS chat_audit_room_ts ON chat_audit (room, ts_ms);"

typedef enum {
  OP_MESSAGE,
  OP_DELETE,
  OP_DELETE_USER,
  OP_AUDIT,
  OP_FLUSH,
  OP_STOP,
} OpKind;

typedef struct {
  OpKind kind;
  gchar *s[8]; /* string fields, by kind */
  gint64 n[3]; /* integer fields, by kind */
  /* OP_FLUSH: the waiter */
  GMutex *lock;
  GCond *cond;
  gboolean *done;
} Op;

struct _GcChatArchive {
  gchar *path;
  sqlite3 *db; /* the writer's connection, used by the writer thread only */
  GThread *writer;
  GAsyncQueue *ops;
};

static void
op_free (Op *op)
{
  for (guint i = 0; i < G_N_ELEMENTS (op->s); i++)
    g_free (op->s[i]);
  g_free (op);
}

void
gc_chat_archived_message_free (GcChatArchivedMessage *msg)
{
  if (msg == NULL)
    return;
  g_free (msg->id);
  g_free (msg->room);
  g_free (msg->user);
  g_free (msg->display_name);
  g_free (msg->text);
  g_free (msg->reply_to);
  g_free (msg->deleted_by);
  g_free (msg->currency);
  g_free (msg);
}

void
gc_chat_archived_audit_free (GcChatArchivedAudit *audit)
{
  if (audit == NULL)
    return;
  g_free (audit->room);
  g_free (audit->actor);
  g_free (audit->action);
  g_free (audit->target);
  g_free (audit->reason);
  g_free (audit->detail);
  g_free (audit);
}

static gboolean
sql_error (sqlite3 *db, GError **error, const gchar *what)
{
  g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_STORAGE, "%s: %s", what,
               db ? sqlite3_errmsg (db) : "out of memory");
  return FALSE;
}

static sqlite3 *
open_db (const gchar *path, gboolean create, GError **error)
{
  sqlite3 *db = NULL;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
              (create ? SQLITE_OPEN_CREATE : 0);

  if (sqlite3_open_v2 (path, &db, flags, NULL) != SQLITE_OK) {
    sql_error (db, error, "cannot open the chat archive");
    sqlite3_close (db);
    return NULL;
  }
  sqlite3_busy_timeout (db, 5000);
  return db;
}

static void
bind_text (sqlite3_stmt *st, int i, const gchar *s)
{
  if (s != NULL)
    sqlite3_bind_text (st, i, s, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (st, i);
}

static void
apply_op (sqlite3 *db, Op *op)
{
  static const gchar *const sql[] = {
      [OP_MESSAGE] = "INSERT OR IGNORE INTO chat_messages (id, room, user, "
                     "display_name, text, reply_to, ts_ms, stream_offset_ms, "
                     "kind, amount, currency) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
      [OP_DELETE] = "UPDATE chat_messages SET deleted_ts_ms = ?3, "
                    "deleted_by = ?4 WHERE room = ?1 AND id = ?2 AND "
                    "deleted_ts_ms IS NULL",
      [OP_DELETE_USER] = "UPDATE chat_messages SET deleted_ts_ms = ?3, "
                         "deleted_by = ?4 WHERE room = ?1 AND user = ?2 AND "
                         "ts_ms <= ?3 AND deleted_ts_ms IS NULL",
      [OP_AUDIT] = "INSERT INTO chat_audit (room, actor, action, target, "
                   "reason, detail, ts_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
  };
  sqlite3_stmt *st = NULL;

  if (sqlite3_prepare_v2 (db, sql[op->kind], -1, &st, NULL) != SQLITE_OK) {
    g_warning ("chat archive: %s", sqlite3_errmsg (db));
    return;
  }
  switch (op->kind) {
    case OP_MESSAGE:
      for (int i = 0; i < 6; i++)
        bind_text (st, i + 1, op->s[i]);
      sqlite3_bind_int64 (st, 7, op->n[0]);
      if (op->n[1] >= 0)
        sqlite3_bind_int64 (st, 8, op->n[1]);
      else
        sqlite3_bind_null (st, 8);
      /* s[6]: the currency of a tip, NULL for a chat message. */
      bind_text (st, 9, op->s[6] != NULL ? "tip" : "message");
      if (op->s[6] != NULL)
        sqlite3_bind_int64 (st, 10, op->n[2]);
      else
        sqlite3_bind_null (st, 10);
      bind_text (st, 11, op->s[6]);
      break;
    case OP_DELETE:
    case OP_DELETE_USER:
      bind_text (st, 1, op->s[0]);
      bind_text (st, 2, op->s[1]);
      sqlite3_bind_int64 (st, 3, op->n[0]);
      bind_text (st, 4, op->s[2]);
      break;
    case OP_AUDIT:
      for (int i = 0; i < 6; i++)
        bind_text (st, i + 1, op->s[i]);
      sqlite3_bind_int64 (st, 7, op->n[0]);
      break;
    default:
      break;
  }
  if (sqlite3_step (st) != SQLITE_DONE)
    g_warning ("chat archive: %s", sqlite3_errmsg (db));
  sqlite3_finalize (st);
}

static void
signal_waiter (Op *op)
{
  g_mutex_lock (op->lock);
  *op->done = TRUE;
  g_cond_signal (op->cond);
  g_mutex_unlock (op->lock);
}

static gpointer
writer_thread (gpointer data)
{
  GcChatArchive *archive = data;
  gboolean running = TRUE;

  while (running) {
    Op *op = g_async_queue_pop (archive->ops);
    GPtrArray *waiters = g_ptr_array_new ();
    guint n = 0;

    sqlite3_exec (archive->db, "BEGIN", NULL, NULL, NULL);
    /* Everything already queued goes into this transaction. */
    while (op != NULL) {
      if (op->kind == OP_FLUSH) {
        g_ptr_array_add (waiters, op);
      } else if (op->kind == OP_STOP) {
        running = FALSE;
        op_free (op);
        break;
      } else {
        apply_op (archive->db, op);
        op_free (op);
      }
      if (++n >= 1000)
        break;
      op = g_async_queue_try_pop (archive->ops);
    }
    if (sqlite3_exec (archive->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
      g_warning ("chat archive commit: %s", sqlite3_errmsg (archive->db));
    for (guint i = 0; i < waiters->len; i++) {
      Op *w = g_ptr_array_index (waiters, i);

      signal_waiter (w);
      op_free (w);
    }
    g_ptr_array_unref (waiters);
  }
  return NULL;
}

/* An archive made before tips were archived gets their columns. */
static gboolean
add_tip_columns (sqlite3 *db, GError **error)
{
  sqlite3_stmt *st = NULL;
  gboolean have = FALSE;

  if (sqlite3_prepare_v2 (db, "PRAGMA table_info (chat_messages)", -1, &st,
                          NULL) != SQLITE_OK)
    return sql_error (db, error, "cannot read the chat archive's columns");
  while (sqlite3_step (st) == SQLITE_ROW)
    have |= g_strcmp0 ((const gchar *)sqlite3_column_text (st, 1), "kind") == 0;
  sqlite3_finalize (st);
  if (have)
    return TRUE;
  if (sqlite3_exec (db,
                    "BEGIN;"
                    "ALTER TABLE chat_messages ADD COLUMN kind TEXT NOT NULL"
                    " DEFAULT 'message';"
                    "ALTER TABLE chat_messages ADD COLUMN amount INTEGER;"
                    "ALTER TABLE chat_messages ADD COLUMN currency TEXT;"
                    "COMMIT;",
                    NULL, NULL, NULL) != SQLITE_OK) {
    sql_error (db, error, "cannot add the tip columns to the chat archive");
    sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
    return FALSE;
  }
  return TRUE;
}

GcChatArchive *
gc_chat_archive_open (const gchar *path, GError **error)
{
  GcChatArchive *archive;
  sqlite3 *db;
  gchar *errmsg = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  db = open_db (path, TRUE, error);
  if (db == NULL)
    return NULL;
  if (sqlite3_exec (db,
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; " SCHEMA,
                    NULL, NULL, &errmsg) != SQLITE_OK) {
    g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_STORAGE,
                 "cannot prepare the chat archive: %s", errmsg);
    sqlite3_free (errmsg);
    sqlite3_close (db);
    return NULL;
  }
  if (!add_tip_columns (db, error)) {
    sqlite3_close (db);
    return NULL;
  }
  archive = g_new0 (GcChatArchive, 1);
  archive->path = g_strdup (path);
  archive->db = db;
  archive->ops = g_async_queue_new ();
  archive->writer = g_thread_new ("gc-chat-archive", writer_thread, archive);
  return archive;
}

void
gc_chat_archive_close (GcChatArchive *archive)
{
  Op *stop;

  if (archive == NULL)
    return;
  stop = g_new0 (Op, 1);
  stop->kind = OP_STOP;
  g_async_queue_push (archive->ops, stop);
  g_thread_join (archive->writer);
  g_async_queue_unref (archive->ops);
  sqlite3_close (archive->db);
  g_free (archive->path);
  g_free (archive);
}

static void
push (GcChatArchive *archive, Op *op)
{
  g_async_queue_push (archive->ops, op);
}

void
gc_chat_archive_add_message (GcChatArchive *archive, const GcChatMessage *msg,
                             gint64 stream_offset_ms)
{
  Op *op;

  g_return_if_fail (archive != NULL);
  op = g_new0 (Op, 1);
  op->kind = OP_MESSAGE;
  op->s[0] = g_strdup (msg->id);
  op->s[1] = g_strdup (msg->room);
  op->s[2] = g_strdup (msg->user);
  op->s[3] = g_strdup (msg->display_name ? msg->display_name : msg->user);
  op->s[4] = g_strdup (msg->text);
  op->s[5] = g_strdup (msg->reply_to);
  op->n[0] = msg->ts_ms;
  op->n[1] = stream_offset_ms;
  if (msg->kind == GC_CHAT_MESSAGE_TIP) {
    op->s[6] = g_strdup (msg->currency ? msg->currency : "");
    op->n[2] = msg->amount;
  }
  push (archive, op);
}

static void
mark (GcChatArchive *archive, OpKind kind, const gchar *room, const gchar *what,
      const gchar *actor, gint64 ts_ms)
{
  Op *op = g_new0 (Op, 1);

  op->kind = kind;
  op->s[0] = g_strdup (room);
  op->s[1] = g_strdup (what);
  op->s[2] = g_strdup (actor);
  op->n[0] = ts_ms;
  push (archive, op);
}

void
gc_chat_archive_mark_deleted (GcChatArchive *archive, const gchar *room,
                              const gchar *id, const gchar *actor, gint64 ts_ms)
{
  g_return_if_fail (archive != NULL);
  mark (archive, OP_DELETE, room, id, actor, ts_ms);
}

void
gc_chat_archive_mark_user_deleted (GcChatArchive *archive, const gchar *room,
                                   const gchar *user, const gchar *actor,
                                   gint64 ts_ms)
{
  g_return_if_fail (archive != NULL);
  mark (archive, OP_DELETE_USER, room, user, actor, ts_ms);
}

void
gc_chat_archive_add_audit (GcChatArchive *archive,
                           const GcChatAuditRecord *record)
{
  Op *op;

  g_return_if_fail (archive != NULL);
  op = g_new0 (Op, 1);
  op->kind = OP_AUDIT;
  op->s[0] = g_strdup (record->room);
  op->s[1] = g_strdup (record->actor);
  op->s[2] = g_strdup (record->action);
  op->s[3] = g_strdup (record->target);
  op->s[4] = g_strdup (record->reason);
  op->s[5] = g_strdup (record->detail);
  op->n[0] = record->ts_ms;
  push (archive, op);
}

gboolean
gc_chat_archive_flush (GcChatArchive *archive, GError **error)
{
  GMutex lock;
  GCond cond;
  gboolean done = FALSE;
  Op *op = g_new0 (Op, 1);

  g_return_val_if_fail (archive != NULL, FALSE);
  g_mutex_init (&lock);
  g_cond_init (&cond);
  op->kind = OP_FLUSH;
  op->lock = &lock;
  op->cond = &cond;
  op->done = &done;
  push (archive, op);
  g_mutex_lock (&lock);
  while (!done)
    g_cond_wait (&cond, &lock);
  g_mutex_unlock (&lock);
  g_mutex_clear (&lock);
  g_cond_clear (&cond);
  return TRUE;
}

static gchar *
column_text (sqlite3_stmt *st, int i)
{
  const guchar *t = sqlite3_column_text (st, i);

  return t ? g_strdup ((const gchar *)t) : NULL;
}

GPtrArray *
gc_chat_archive_read_range (GcChatArchive *archive, const gchar *room,
                            GcChatArchiveClock clock, gint64 from_ms,
                            gint64 to_ms, gboolean include_deleted,
                            GError **error)
{
  g_autofree gchar *sql = NULL;
  const gchar *col =
      clock == GC_CHAT_ARCHIVE_BY_STREAM ? "stream_offset_ms" : "ts_ms";
  sqlite3 *db;
  sqlite3_stmt *st = NULL;
  GPtrArray *out;
  int rc;

  g_return_val_if_fail (archive != NULL, NULL);
  g_return_val_if_fail (room != NULL, NULL);

  db = open_db (archive->path, FALSE, error);
  if (db == NULL)
    return NULL;
  sql = g_strdup_printf (
      "SELECT id, room, user, display_name, text, reply_to, ts_ms, "
      "stream_offset_ms, deleted_ts_ms, deleted_by, kind, amount, currency "
      "FROM chat_messages "
      "WHERE room = ?1 AND %s >= ?2 AND %s < ?3 %s ORDER BY %s, ts_ms, id",
      col, col, include_deleted ? "" : "AND deleted_ts_ms IS NULL", col);
  if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) != SQLITE_OK) {
    sql_error (db, error, "cannot read the chat archive");
    sqlite3_close (db);
    return NULL;
  }
  sqlite3_bind_text (st, 1, room, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 2, from_ms);
  sqlite3_bind_int64 (st, 3, to_ms);
  out = g_ptr_array_new_with_free_func (
      (GDestroyNotify)gc_chat_archived_message_free);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
    GcChatArchivedMessage *m = g_new0 (GcChatArchivedMessage, 1);

    m->id = column_text (st, 0);
    m->room = column_text (st, 1);
    m->user = column_text (st, 2);
    m->display_name = column_text (st, 3);
    m->text = column_text (st, 4);
    m->reply_to = column_text (st, 5);
    m->ts_ms = sqlite3_column_int64 (st, 6);
    m->stream_offset_ms = sqlite3_column_type (st, 7) == SQLITE_NULL
                              ? -1
                              : sqlite3_column_int64 (st, 7);
    m->deleted = sqlite3_column_type (st, 8) != SQLITE_NULL;
    m->deleted_ts_ms = m->deleted ? sqlite3_column_int64 (st, 8) : 0;
    m->deleted_by = column_text (st, 9);
    if (g_strcmp0 ((const gchar *)sqlite3_column_text (st, 10), "tip") == 0) {
      m->kind = GC_CHAT_MESSAGE_TIP;
      m->amount = sqlite3_column_int64 (st, 11);
      m->currency = column_text (st, 12);
    }
    g_ptr_array_add (out, m);
  }
  if (rc != SQLITE_DONE) {
    sql_error (db, error, "cannot read the chat archive");
    g_clear_pointer (&out, g_ptr_array_unref);
  }
  sqlite3_finalize (st);
  sqlite3_close (db);
  return out;
}

GPtrArray *
gc_chat_archive_read_audit (GcChatArchive *archive, const gchar *room,
                            gint64 from_ms, gint64 to_ms, GError **error)
{
  sqlite3 *db;
  sqlite3_stmt *st = NULL;
  GPtrArray *out;
  int rc;

  g_return_val_if_fail (archive != NULL, NULL);

  db = open_db (archive->path, FALSE, error);
  if (db == NULL)
    return NULL;
  if (sqlite3_prepare_v2 (db,
                          "SELECT room, actor, action, target, reason, "
                          "detail, ts_ms FROM chat_audit WHERE room = ?1 AND "
                          "ts_ms >= ?2 AND ts_ms < ?3 ORDER BY seq",
                          -1, &st, NULL) != SQLITE_OK) {
    sql_error (db, error, "cannot read the chat audit log");
    sqlite3_close (db);
    return NULL;
  }
  sqlite3_bind_text (st, 1, room, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 2, from_ms);
  sqlite3_bind_int64 (st, 3, to_ms);
  out = g_ptr_array_new_with_free_func (
      (GDestroyNotify)gc_chat_archived_audit_free);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
    GcChatArchivedAudit *a = g_new0 (GcChatArchivedAudit, 1);

    a->room = column_text (st, 0);
    a->actor = column_text (st, 1);
    a->action = column_text (st, 2);
    a->target = column_text (st, 3);
    a->reason = column_text (st, 4);
    a->detail = column_text (st, 5);
    a->ts_ms = sqlite3_column_int64 (st, 6);
    g_ptr_array_add (out, a);
  }
  if (rc != SQLITE_DONE) {
    sql_error (db, error, "cannot read the chat audit log");
    g_clear_pointer (&out, g_ptr_array_unref);
  }
  sqlite3_finalize (st);
  sqlite3_close (db);
  return out;
}
