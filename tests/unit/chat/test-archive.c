/* test-archive.c — unit tests of the SQLite chat archive (chat/archive.c): storing, offsets, deletions marked
 * not removed, time-range reads on both clocks, the audit log, reopening. */

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "archive.h"

typedef struct {
  gchar *dir;
  gchar *path;
  GcChatArchive *archive;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("gc-chat-archive-XXXXXX", NULL);
  f->path = g_build_filename (f->dir, "chat.db", NULL);
  f->archive = gc_chat_archive_open (f->path, NULL);
  g_assert_nonnull (f->archive);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_autoptr (GDir) d = NULL;
  const gchar *name;

  gc_chat_archive_close (f->archive);
  d = g_dir_open (f->dir, 0, NULL);
  while ((name = g_dir_read_name (d)) != NULL) {
    g_autofree gchar *p = g_build_filename (f->dir, name, NULL);

    g_unlink (p);
  }
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static void
add (GcChatArchive *a, const gchar *id, const gchar *user, gint64 ts,
     gint64 offset)
{
  g_autoptr (GcChatMessage) m = gc_chat_message_new ();

  m->id = g_strdup (id);
  m->room = g_strdup ("lobby");
  m->user = g_strdup (user);
  m->display_name = g_strdup (user);
  m->text = g_strdup_printf ("text of %s", id);
  m->ts_ms = ts;
  gc_chat_archive_add_message (a, m, offset);
}

static GPtrArray *
read_range (Fixture *f, GcChatArchiveClock clock, gint64 from, gint64 to,
            gboolean deleted)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *out;

  g_assert_true (gc_chat_archive_flush (f->archive, NULL));
  out = gc_chat_archive_read_range (f->archive, "lobby", clock, from, to,
                                    deleted, &error);
  g_assert_no_error (error);
  return out;
}

static void
test_stores_and_reads_range (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) got = NULL;
  GcChatArchivedMessage *m;

  add (f->archive, "a", "alice", 1000, 0);
  add (f->archive, "b", "bob", 2000, 1000);
  add (f->archive, "c", "alice", 3000, -1);
  got = read_range (f, GC_CHAT_ARCHIVE_BY_WALL_CLOCK, 1500, 3001, FALSE);
  g_assert_cmpuint (got->len, ==, 2);
  m = g_ptr_array_index (got, 0);
  g_assert_cmpstr (m->id, ==, "b");
  g_assert_cmpstr (m->text, ==, "text of b");
  g_assert_cmpint (m->ts_ms, ==, 2000);
  g_assert_cmpint (m->stream_offset_ms, ==, 1000);
  m = g_ptr_array_index (got, 1);
  g_assert_cmpint (m->stream_offset_ms, ==, -1);
}

static void
test_range_on_stream_clock (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) got = NULL;

  add (f->archive, "a", "alice", 1000, 0);
  add (f->archive, "b", "bob", 2000, 1000);
  add (f->archive, "c", "bob", 3000, -1); /* no stream: not on that clock */
  got = read_range (f, GC_CHAT_ARCHIVE_BY_STREAM, 0, 10000, FALSE);
  g_assert_cmpuint (got->len, ==, 2);
}

static void
test_deletion_is_marked_not_removed (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) visible = NULL;
  g_autoptr (GPtrArray) all = NULL;
  GcChatArchivedMessage *m;

  add (f->archive, "a", "alice", 1000, 0);
  add (f->archive, "b", "bob", 2000, 1000);
  gc_chat_archive_mark_deleted (f->archive, "lobby", "a", "mod", 1500);
  visible = read_range (f, GC_CHAT_ARCHIVE_BY_WALL_CLOCK, 0, 5000, FALSE);
  all = read_range (f, GC_CHAT_ARCHIVE_BY_WALL_CLOCK, 0, 5000, TRUE);
  g_assert_cmpuint (visible->len, ==, 1);
  g_assert_cmpuint (all->len, ==, 2);
  m = g_ptr_array_index (all, 0);
  g_assert_true (m->deleted);
  g_assert_cmpint (m->deleted_ts_ms, ==, 1500);
  g_assert_cmpstr (m->deleted_by, ==, "mod");
}

static void
test_clear_user_marks_earlier_messages (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) visible = NULL;

  add (f->archive, "a", "bob", 1000, 0);
  add (f->archive, "b", "bob", 2000, 0);
  add (f->archive, "c", "alice", 2500, 0);
  gc_chat_archive_mark_user_deleted (f->archive, "lobby", "bob", "mod", 2500);
  add (f->archive, "d", "bob", 3000, 0); /* after the ban ended */
  visible = read_range (f, GC_CHAT_ARCHIVE_BY_WALL_CLOCK, 0, 5000, FALSE);
  g_assert_cmpuint (visible->len, ==, 2);
  g_assert_cmpstr (((GcChatArchivedMessage *)visible->pdata[0])->id, ==, "c");
  g_assert_cmpstr (((GcChatArchivedMessage *)visible->pdata[1])->id, ==, "d");
}

static void
test_duplicate_ids_stored_once (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) got = NULL;

  add (f->archive, "a", "bob", 1000, 0);
  add (f->archive, "a", "bob", 1000, 0);
  got = read_range (f, GC_CHAT_ARCHIVE_BY_WALL_CLOCK, 0, 5000, TRUE);
  g_assert_cmpuint (got->len, ==, 1);
}

static void
test_audit_log (Fixture *f, gconstpointer data)
{
  GcChatAuditRecord r = {
      "lobby", "mod", "ban", "bob", "spam", "{\"type\":\"ban\"}", 1234};
  g_autoptr (GPtrArray) got = NULL;
  g_autoptr (GError) error = NULL;
  GcChatArchivedAudit *a;

  gc_chat_archive_add_audit (f->archive, &r);
  gc_chat_archive_flush (f->archive, NULL);
  got = gc_chat_archive_read_audit (f->archive, "lobby", 0, 2000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (got->len, ==, 1);
  a = g_ptr_array_index (got, 0);
  g_assert_cmpstr (a->actor, ==, "mod");
  g_assert_cmpstr (a->action, ==, "ban");
  g_assert_cmpstr (a->target, ==, "bob");
  g_assert_cmpstr (a->reason, ==, "spam");
  g_assert_cmpint (a->ts_ms, ==, 1234);
}

static void
test_survives_reopen (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) got = NULL;

  add (f->archive, "a", "bob", 1000, 0);
  gc_chat_archive_close (f->archive);
  f->archive = gc_chat_archive_open (f->path, NULL);
  got = read_range (f, GC_CHAT_ARCHIVE_BY_WALL_CLOCK, 0, 5000, TRUE);
  g_assert_cmpuint (got->len, ==, 1);
}

/* A paid tip is archived as one, amount and currency with it. */
static void
test_tip_archived (Fixture *f, gconstpointer data)
{
  GcChatTip tip = {"pi_1", "lobby", "bob", "Bob", 1250, "EUR", NULL, 2000};
  g_autoptr (GcChatMessage) m = gc_chat_message_new_tip (&tip);
  g_autoptr (GPtrArray) got = NULL;
  GcChatArchivedMessage *a, *t;

  add (f->archive, "m1", "ann", 1000, 100);
  gc_chat_archive_add_message (f->archive, m, 1100);
  got = read_range (f, GC_CHAT_ARCHIVE_BY_STREAM, 0, 5000, FALSE);
  g_assert_cmpuint (got->len, ==, 2);
  a = got->pdata[0];
  t = got->pdata[1];
  g_assert_cmpint (a->kind, ==, GC_CHAT_MESSAGE_TEXT);
  g_assert_null (a->currency);
  g_assert_cmpint (t->kind, ==, GC_CHAT_MESSAGE_TIP);
  g_assert_cmpstr (t->id, ==, "pi_1");
  g_assert_cmpint (t->amount, ==, 1250);
  g_assert_cmpstr (t->currency, ==, "EUR");
  g_assert_cmpstr (t->text, ==, "");
  g_assert_cmpint (t->stream_offset_ms, ==, 1100);
}

/* An archive written before tips were archived opens with its messages
 * and takes tips from then on. */
static void
test_old_archive_upgraded (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("gc-chat-archive-XXXXXX", NULL);
  g_autofree gchar *path = g_build_filename (dir, "chat.db", NULL);
  g_autofree gchar *wal = g_strconcat (path, "-wal", NULL);
  g_autofree gchar *shm = g_strconcat (path, "-shm", NULL);
  GcChatTip tip = {"pi_2", "lobby", "bob", "Bob", 5, "JPY", "hi", 3000};
  g_autoptr (GcChatMessage) m = gc_chat_message_new_tip (&tip);
  g_autoptr (GPtrArray) got = NULL;
  g_autoptr (GError) error = NULL;
  GcChatArchive *archive;
  sqlite3 *db;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (
      sqlite3_exec (
          db,
          "CREATE TABLE chat_messages (id TEXT PRIMARY KEY, room TEXT NOT "
          "NULL, user TEXT NOT NULL, display_name TEXT NOT NULL, text TEXT "
          "NOT NULL, reply_to TEXT, ts_ms INTEGER NOT NULL, stream_offset_ms "
          "INTEGER, deleted_ts_ms INTEGER, deleted_by TEXT);"
          "INSERT INTO chat_messages (id, room, user, display_name, text, "
          "ts_ms) VALUES ('old', 'lobby', 'ann', 'Ann', 'before', 1000);",
          NULL, NULL, NULL),
      ==, SQLITE_OK);
  sqlite3_close (db);

  archive = gc_chat_archive_open (path, &error);
  g_assert_no_error (error);
  gc_chat_archive_add_message (archive, m, -1);
  g_assert_true (gc_chat_archive_flush (archive, NULL));
  got = gc_chat_archive_read_range (
      archive, "lobby", GC_CHAT_ARCHIVE_BY_WALL_CLOCK, 0, 5000, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (got->len, ==, 2);
  g_assert_cmpint (((GcChatArchivedMessage *)got->pdata[0])->kind, ==,
                   GC_CHAT_MESSAGE_TEXT);
  g_assert_cmpint (((GcChatArchivedMessage *)got->pdata[1])->kind, ==,
                   GC_CHAT_MESSAGE_TIP);
  g_assert_cmpint (((GcChatArchivedMessage *)got->pdata[1])->amount, ==, 5);
  gc_chat_archive_close (archive);
  g_unlink (path);
  g_unlink (wal);
  g_unlink (shm);
  g_rmdir (dir);
}

static void
test_open_failure_reported (void)
{
  g_autoptr (GError) error = NULL;

  g_assert_null (gc_chat_archive_open ("/nonexistent-dir/x/chat.db", &error));
  g_assert_nonnull (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/chat/archive/range", test_stores_and_reads_range);
  ADD ("/chat/archive/stream-clock", test_range_on_stream_clock);
  ADD ("/chat/archive/deletion-marked", test_deletion_is_marked_not_removed);
  ADD ("/chat/archive/clear-user", test_clear_user_marks_earlier_messages);
  ADD ("/chat/archive/duplicates", test_duplicate_ids_stored_once);
  ADD ("/chat/archive/audit", test_audit_log);
  ADD ("/chat/archive/reopen", test_survives_reopen);
  ADD ("/chat/archive/tip", test_tip_archived);
#undef ADD
  g_test_add_func ("/chat/archive/old-archive-upgraded",
                   test_old_archive_upgraded);
  g_test_add_func ("/chat/archive/open-failure", test_open_failure_reported);
  return g_test_run ();
}
