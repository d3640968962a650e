/* test-ledger.c — unit tests of the billing ledger (billing/ledger.c): posting, append-only triggers, flows, split versions.
 * Each test gets a fresh database in its own temporary directory and a clock it can move; after each, the ledger must sum to zero. */

#include <string.h>

#include <glib/gstdio.h>

#include "ledger.h"

#define START_TIME G_GINT64_CONSTANT (1700000000)
#define CREATOR 42

typedef struct {
  gchar *dir;
  gchar *path;
  GcLedger *ledger;
  gint64 now;
} Fixture;

static gint64
fixture_clock (gpointer user_data)
{
  Fixture *f = user_data;

  return f->now;
}

static GcLedger *
open_ledger (Fixture *f, const gchar *path)
{
  g_autoptr (GError) error = NULL;
  GcLedger *ledger = gc_ledger_open (path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (ledger);
  gc_ledger_set_clock (ledger, fixture_clock, f);
  return ledger;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("gc-ledger-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "ledger.db", NULL);
  f->now = START_TIME;
  f->ledger = open_ledger (f, f->path);
}

static void
remove_dir (const gchar *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL) {
    g_autofree gchar *file = g_build_filename (dir, name, NULL);

    g_unlink (file);
  }
  g_rmdir (dir);
}

/* Every currency's entries add up to zero, by the library's check and by
 * plain SQL. */
static void
assert_ledger_sums_to_zero (GcLedger *ledger)
{
  g_autoptr (GError) error = NULL;
  sqlite3_stmt *stmt = NULL;

  g_assert_true (gc_ledger_verify (ledger, &error));
  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_prepare_v2 (gc_ledger_get_db (ledger),
                                       "SELECT currency, sum (amount)"
                                       " FROM entries GROUP BY currency",
                                       -1, &stmt, NULL),
                   ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_assert_cmpint (sqlite3_column_int64 (stmt, 1), ==, 0);
  sqlite3_finalize (stmt);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  if (f->ledger != NULL)
    assert_ledger_sums_to_zero (f->ledger);
  g_clear_pointer (&f->ledger, gc_ledger_free);
  remove_dir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static GcMoney
money (gint64 amount, const gchar *currency)
{
  g_autoptr (GError) error = NULL;
  GcMoney m;

  g_assert_true (gc_money_init (&m, amount, currency, &error));
  g_assert_no_error (error);
  return m;
}

static gint64
balance_of (GcLedger *ledger, const gchar *account, const gchar *currency)
{
  g_autoptr (GError) error = NULL;
  gint64 value = -1;

  g_assert_true (gc_ledger_balance (ledger, account, currency, &value, &error));
  g_assert_no_error (error);
  return value;
}

static gint64
creator_balance (GcLedger *ledger, gint64 creator, const gchar *currency)
{
  g_autofree gchar *account = gc_ledger_creator_account (creator);

  return balance_of (ledger, account, currency);
}

static gint64
fees (GcLedger *ledger, const gchar *currency)
{
  return balance_of (ledger, GC_LEDGER_ACCOUNT_PLATFORM_FEES, currency);
}

static gint64
viewers (GcLedger *ledger, const gchar *currency)
{
  return balance_of (ledger, GC_LEDGER_ACCOUNT_VIEWER_PAYMENTS, currency);
}

static gint64
held (GcLedger *ledger, const gchar *currency)
{
  return balance_of (ledger, GC_LEDGER_ACCOUNT_DISPUTES_HELD, currency);
}

static gint64
charge (Fixture *f, GcLedger *ledger, const gchar *id, gint64 amount,
        const gchar *currency)
{
  g_autoptr (GError) error = NULL;
  GcMoney gross = money (amount, currency);
  gint64 journal = 0;

  g_assert_cmpint (
      gc_ledger_charge (ledger, id, CREATOR, &gross, f->now, &journal, &error),
      ==, GC_LEDGER_APPLIED);
  g_assert_no_error (error);
  g_assert_cmpint (journal, >, 0);
  return journal;
}

static GcLedgerOutcome
refund (Fixture *f, GcLedger *ledger, const gchar *id, const gchar *charge_id,
        gint64 amount, const gchar *currency, GError **error)
{
  GcMoney m = money (amount, currency);

  return gc_ledger_refund (ledger, id, charge_id, &m, f->now, NULL, error);
}

static GcLedgerOutcome
dispute_opened (Fixture *f, GcLedger *ledger, const gchar *id,
                const gchar *charge_id, gint64 amount, GError **error)
{
  GcMoney m = money (amount, "USD");

  return gc_ledger_dispute_opened (ledger, id, charge_id, &m, f->now, NULL,
                                   error);
}

static gint64
query_int (GcLedger *ledger, const gchar *sql)
{
  sqlite3_stmt *stmt = NULL;
  gint64 value;

  g_assert_cmpint (
      sqlite3_prepare_v2 (gc_ledger_get_db (ledger), sql, -1, &stmt, NULL), ==,
      SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return value;
}

static void
assert_sql_refused (GcLedger *ledger, const gchar *sql)
{
  int rc = sqlite3_exec (gc_ledger_get_db (ledger), sql, NULL, NULL, NULL);

  g_test_message ("%s: %s", sql, sqlite3_errmsg (gc_ledger_get_db (ledger)));
  g_assert_cmpint (rc, ==, SQLITE_CONSTRAINT);
}

/* --- store ------------------------------------------------------------- */

static void
test_open_sets_durability_pragmas (Fixture *f, gconstpointer data)
{
  sqlite3_stmt *stmt = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (gc_ledger_get_db (f->ledger),
                                       "PRAGMA journal_mode", -1, &stmt, NULL),
                   ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const gchar *)sqlite3_column_text (stmt, 0), ==, "wal");
  sqlite3_finalize (stmt);
  g_assert_cmpint (query_int (f->ledger, "PRAGMA synchronous"), ==, 2);
  g_assert_cmpint (query_int (f->ledger, "PRAGMA foreign_keys"), ==, 1);
}

static void
test_state_survives_reopen (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  GcMoney gross = money (1000, "USD");
  gint64 version = 0, journal = 0, again = 0;
  guint32 ppm = 0;

  journal = charge (f, f->ledger, "ch_keep", 1000, "USD");
  g_assert_true (gc_ledger_add_split_version (f->ledger, 200000, f->now + 60,
                                              &version, &error));
  g_clear_pointer (&f->ledger, gc_ledger_free);

  f->ledger = open_ledger (f, f->path);
  g_assert_cmpint (fees (f->ledger, "USD"), ==, 150);
  g_assert_cmpint (creator_balance (f->ledger, CREATOR, "USD"), ==, 850);
  g_assert_true (
      gc_ledger_split_at (f->ledger, f->now + 60, &again, &ppm, &error));
  g_assert_cmpint (again, ==, version);
  g_assert_cmpuint (ppm, ==, 200000);
  /* Exactly-once holds across restarts, and the triggers are still there. */
  g_assert_cmpint (gc_ledger_charge (f->ledger, "ch_keep", CREATOR, &gross,
                                     f->now, &again, &error),
                   ==, GC_LEDGER_ALREADY_APPLIED);
  g_assert_cmpint (again, ==, journal);
  assert_sql_refused (f->ledger, "DELETE FROM entries");
}

/* --- posting ----------------------------------------------------------- */

static void
test_adjustment_must_sum_to_zero (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  const GcLedgerEntry one_sided[] = {{"platform:fees", 100, "USD"},
                                     {"ops:cash", -99, "USD"}};
  const GcLedgerEntry mixed[] = {{"platform:fees", 100, "USD"},
                                 {"ops:cash", -100, "EUR"}};
  const GcLedgerEntry single[] = {{"platform:fees", 100, "USD"}};
  const GcLedgerEntry overflowing[] = {{"a:a", G_MAXINT64, "USD"},
                                       {"a:b", G_MAXINT64, "USD"},
                                       {"a:c", -G_MAXINT64, "USD"},
                                       {"a:d", -G_MAXINT64, "USD"}};
  const GcLedgerEntry balanced[] = {{"platform:fees", 100, "USD"},
                                    {"ops:cash", -100, "USD"},
                                    {"ops:cash", 7, "jpy"},
                                    {"platform:fees", -7, "JPY"}};

  g_assert_cmpint (
      gc_ledger_adjust (f->ledger, "adj-1", one_sided, 2, f->now, NULL, &error),
      ==, GC_LEDGER_FAILED);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_UNBALANCED);
  g_clear_error (&error);
  g_assert_cmpint (
      gc_ledger_adjust (f->ledger, "adj-1", mixed, 2, f->now, NULL, &error), ==,
      GC_LEDGER_FAILED);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_UNBALANCED);
  g_clear_error (&error);
  g_assert_cmpint (
      gc_ledger_adjust (f->ledger, "adj-1", single, 1, f->now, NULL, &error),
      ==, GC_LEDGER_FAILED);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_UNBALANCED);
  g_clear_error (&error);
  g_assert_cmpint (gc_ledger_adjust (f->ledger, "adj-1", overflowing, 4, f->now,
                                     NULL, &error),
                   ==, GC_LEDGER_FAILED);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_OVERFLOW);
  g_clear_error (&error);
  g_assert_cmpint (query_int (f->ledger, "SELECT count (*) FROM journals"), ==,
                   0);

  g_assert_cmpint (
      gc_ledger_adjust (f->ledger, "adj-1", balanced, 4, f->now, NULL, &error),
      ==, GC_LEDGER_APPLIED);
  g_assert_no_error (error);
  g_assert_cmpint (balance_of (f->ledger, "ops:cash", "USD"), ==, -100);
  g_assert_cmpint (balance_of (f->ledger, "ops:cash", "JPY"), ==, 7);
  g_assert_cmpint (fees (f->ledger, "JPY"), ==, -7);
}

static void
test_adjustment_refuses_bad_entries (Fixture *f, gconstpointer data)
{
  static const GcLedgerEntry bad_name[] = {{"Platform:Fees", 1, "USD"},
                                           {"ops:cash", -1, "USD"}};
  static const GcLedgerEntry empty_segment[] = {{"platform::fees", 1, "USD"},
                                                {"ops:cash", -1, "USD"}};
  static const GcLedgerEntry bad_currency[] = {{"platform:fees", 1, "ABC"},
                                               {"ops:cash", -1, "ABC"}};
  static const GcLedgerEntry zero[] = {{"platform:fees", 0, "USD"},
                                       {"ops:cash", 0, "USD"}};
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (
      gc_ledger_adjust (f->ledger, "adj", bad_name, 2, f->now, NULL, &error),
      ==, GC_LEDGER_FAILED);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpint (gc_ledger_adjust (f->ledger, "adj", empty_segment, 2, f->now,
                                     NULL, &error),
                   ==, GC_LEDGER_FAILED);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpint (gc_ledger_adjust (f->ledger, "adj", bad_currency, 2, f->now,
                                     NULL, &error),
                   ==, GC_LEDGER_FAILED);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_UNKNOWN_CURRENCY);
  g_clear_error (&error);
  g_assert_cmpint (
      gc_ledger_adjust (f->ledger, "adj", zero, 2, f->now, NULL, &error), ==,
      GC_LEDGER_FAILED);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT);
}

static void
test_entries_and_journals_are_append_only (Fixture *f, gconstpointer data)
{
  charge (f, f->ledger, "ch_1", 1000, "USD");
  charge (f, f->ledger, "ch_2", 500, "USD");

  assert_sql_refused (f->ledger, "UPDATE entries SET amount = amount + 1");
  assert_sql_refused (f->ledger, "DELETE FROM entries WHERE id = 1");
  assert_sql_refused (f->ledger, "UPDATE journals SET reference = 'x'");
  assert_sql_refused (f->ledger, "DELETE FROM journals");
  assert_sql_refused (f->ledger, "UPDATE accounts SET name = 'x:y'");
  assert_sql_refused (f->ledger, "DELETE FROM accounts");
  /* REPLACE's implicit delete is a delete too. */
  assert_sql_refused (f->ledger, "INSERT OR REPLACE INTO entries"
                                 " (id, journal, account, amount, currency)"
                                 " SELECT id, journal, account, 1, currency"
                                 " FROM entries WHERE id = 4");
  /* History is sealed: no new entries in an older journal. */
  assert_sql_refused (f->ledger,
                      "INSERT INTO entries (journal, account, amount,"
                      " currency) VALUES (1, 1, 5, 'USD')");
  /* No floating point, even by hand. */
  assert_sql_refused (f->ledger,
                      "INSERT INTO entries (journal, account, amount,"
                      " currency) VALUES (2, 1, 1.5, 'USD')");
  g_assert_cmpint (query_int (f->ledger, "SELECT count (*) FROM entries"), ==,
                   6);
  g_assert_cmpint (fees (f->ledger, "USD"), ==, 150 + 75);
}

/* --- split versions ---------------------------------------------------- */

static void
test_default_split_is_85_15 (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 version = 0;
  guint32 ppm = 0;

  g_assert_true (
      gc_ledger_split_at (f->ledger, f->now, &version, &ppm, &error));
  g_assert_cmpint (version, ==, 1);
  g_assert_cmpuint (ppm, ==, GC_SHARE_DEFAULT_PLATFORM_PPM);
  g_assert_true (gc_ledger_split_at (f->ledger, 0, &version, &ppm, &error));
  g_assert_cmpint (version, ==, 1);
  g_assert_false (gc_ledger_split_at (f->ledger, -1, &version, &ppm, &error));
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_NOT_FOUND);
}

static void
test_split_versions_are_effective_dated (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 v2 = 0, v3 = 0, version = 0;
  guint32 ppm = 0;
  GcMoney gross = money (1000, "USD");

  g_assert_true (gc_ledger_add_split_version (f->ledger, 200000, f->now + 100,
                                              &v2, &error));
  g_assert_no_error (error);
  g_assert_cmpint (v2, ==, 2);
  g_assert_true (
      gc_ledger_split_at (f->ledger, f->now + 99, &version, &ppm, &error));
  g_assert_cmpint (version, ==, 1);
  g_assert_true (
      gc_ledger_split_at (f->ledger, f->now + 100, &version, &ppm, &error));
  g_assert_cmpint (version, ==, v2);
  g_assert_cmpuint (ppm, ==, 200000);
  /* Same start: the later-added version wins. */
  g_assert_true (gc_ledger_add_split_version (f->ledger, 100000, f->now + 100,
                                              &v3, &error));
  g_assert_true (
      gc_ledger_split_at (f->ledger, f->now + 500, &version, &ppm, &error));
  g_assert_cmpint (version, ==, v3);
  g_assert_cmpuint (ppm, ==, 100000);

  /* A charge uses the version in effect when it happened, and says so. */
  g_assert_cmpint (gc_ledger_charge (f->ledger, "ch_before", CREATOR, &gross,
                                     f->now + 99, NULL, &error),
                   ==, GC_LEDGER_APPLIED);
  g_assert_cmpint (gc_ledger_charge (f->ledger, "ch_after", CREATOR, &gross,
                                     f->now + 100, NULL, &error),
                   ==, GC_LEDGER_APPLIED);
  g_assert_cmpint (fees (f->ledger, "USD"), ==, 150 + 100);
  g_assert_cmpint (query_int (f->ledger, "SELECT split_version FROM journals"
                                         " WHERE reference = 'ch_before'"),
                   ==, 1);
  g_assert_cmpint (query_int (f->ledger, "SELECT split_version FROM journals"
                                         " WHERE reference = 'ch_after'"),
                   ==, v3);
}

static void
test_split_versions_are_insert_only (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (gc_ledger_add_split_version (f->ledger, 100000, f->now - 1,
                                               NULL, &error));
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (gc_ledger_add_split_version (f->ledger, GC_SHARE_PPM_ONE + 1,
                                               f->now, NULL, &error));
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT);
  assert_sql_refused (f->ledger, "UPDATE split_versions SET platform_ppm = 0");
  assert_sql_refused (f->ledger, "DELETE FROM split_versions");
}

/* --- charge ------------------------------------------------------------ */

static void
test_charge_splits_gross (Fixture *f, gconstpointer data)
{
  charge (f, f->ledger, "ch_1", 1000, "USD");
  g_assert_cmpint (viewers (f->ledger, "USD"), ==, -1000);
  g_assert_cmpint (fees (f->ledger, "USD"), ==, 150);
  g_assert_cmpint (creator_balance (f->ledger, CREATOR, "USD"), ==, 850);

  /* Zero-decimal and three-decimal currencies: the same rule, in their own
   * minor units, and kept apart from USD. */
  charge (f, f->ledger, "ch_2", 999, "JPY");
  g_assert_cmpint (fees (f->ledger, "JPY"), ==, 150);
  g_assert_cmpint (creator_balance (f->ledger, CREATOR, "JPY"), ==, 849);
  charge (f, f->ledger, "ch_3", 10, "KWD");
  g_assert_cmpint (fees (f->ledger, "KWD"), ==, 2);
  g_assert_cmpint (creator_balance (f->ledger, CREATOR, "KWD"), ==, 8);
  g_assert_cmpint (fees (f->ledger, "USD"), ==, 150);
}

static void
test_charge_is_applied_once (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  GcMoney gross = money (1000, "USD"), other = money (999, "USD");
  gint64 first = charge (f, f->ledger, "ch_1", 1000, "USD"), again = 0;

  g_assert_cmpint (gc_ledger_charge (f->ledger, "ch_1", CREATOR, &gross, f->now,
                                     &again, &error),
                   ==, GC_LEDGER_ALREADY_APPLIED);
  g_assert_no_error (error);
  g_assert_cmpint (again, ==, first);
  g_assert_cmpint (creator_balance (f->ledger, CREATOR, "USD"), ==, 850);
  /* The same reference with other details is a bug upstream, not a retry. */
  g_assert_cmpint (gc_ledger_charge (f->ledger, "ch_1", CREATOR, &other, f->now,
                                     NULL, &error),
                   ==, GC_LEDGER_FAILED);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_CONFLICT);
  g_assert_cmpint (query_int (f->ledger, "SELECT count (*) FROM journals"), ==,
                   1);
}

static void
test_charge_refuses_bad_input (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  GcMoney gross = money (1000, "USD");
  GcMoney zero = money (0, "USD"), negative = money (-5, "USD");
  GcMoney unknown = {100, "ABC"}, lower = {100, "usd"};

  g_assert_cmpint (gc_ledger_charge (f->ledger, "ch_1", CREATOR, &zero, f->now,
                                     NULL, &error),
                   ==, GC_LEDGER_FAILED);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpint (gc_ledger_charge (f->ledger, "ch_1", CREATOR, &negative,
                                     f->now, NULL, &error),
                   ==, GC_LEDGER_FAILED);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpint (gc_ledger_charge (f->ledger, "ch_1", CREATOR, &unknown,
                                     f->now, NULL, &error),
                   ==, GC_LEDGER_FAILED);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_UNKNOWN_CURRENCY);
  g_clear_error (&error);
  g_assert_cmpint (gc_ledger_charge (f->ledger, "ch_1", CREATOR, &lower, f->now,
                                     NULL, &error),
                   ==, GC_LEDGER_FAILED);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_UNKNOWN_CURRENCY);
  g_clear_error (&error);
  g_assert_cmpint (
      gc_ledger_charge (f->ledger, "ch_1", 0, &gross, f->now, NULL, &error), ==,
      GC_LEDGER_FAILED);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpint (
      gc_ledger_charge (f->ledger, "", CREATOR, &gross, f->now, NULL, &error),
      ==, GC_LEDGER_FAILED);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpint (gc_ledger_charge (f->ledger, "ch 1", CREATOR, &gross, f->now,
                                     NULL, &error),
                   ==, GC_LEDGER_FAILED);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (query_int (f->ledger, "SELECT count (*) FROM journals"), ==,
                   0);
}

/* --- refund ------------------------------------------------------------ */

static void
test_full_refund_reverses_exactly (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  charge (f, f->ledger, "ch_1", 999, "USD"); /* fee 149.85 -> 150 */
  g_assert_cmpint (refund (f, f->ledger, "re_1", "ch_1", 999, "USD", &error),
                   ==, GC_LEDGER_APPLIED);
  g_assert_no_error (error);
  g_assert_cmpint (viewers (f->ledger, "USD"), ==, 0);
  g_assert_cmpint (fees (f->ledger, "USD"), ==, 0);
  g_assert_cmpint (creator_balance (f->ledger, CREATOR, "USD"), ==, 0);
}

/* Refunds in many parts, in two different orders, into two ledgers: each
 * ends with everything reversed, whatever the parts' own rounding. */
static void
test_partial_refunds_add_up_exactly (Fixture *f, gconstpointer data)
{
  static const gint64 parts[] = {1, 333, 2, 7, 250, 101, 307}; /* 1001 */
  g_autofree gchar *other_path = g_build_filename (f->dir, "b.db", NULL);
  GcLedger *other = open_ledger (f, other_path);
  g_autoptr (GError) error = NULL;

  f->now += 10;
  g_assert_true (
      gc_ledger_add_split_version (f->ledger, 123450, f->now, NULL, &error));
  g_assert_true (
      gc_ledger_add_split_version (other, 123450, f->now, NULL, &error));
  charge (f, f->ledger, "ch_1", 1001, "JPY"); /* fee 123.57... -> 124 */
  charge (f, other, "ch_1", 1001, "JPY");
  g_assert_cmpint (fees (f->ledger, "JPY"), ==, 124);

  for (gsize i = 0; i < G_N_ELEMENTS (parts); i++) {
    gsize j = G_N_ELEMENTS (parts) - 1 - i;
    g_autofree gchar *id = g_strdup_printf ("re_%" G_GSIZE_FORMAT, i);
    g_autofree gchar *other_id = g_strdup_printf ("re_%" G_GSIZE_FORMAT, j);
    gint64 fee_before = fees (f->ledger, "JPY");
    gint64 own_fee = gc_money_platform_fee (parts[i], 123450);

    g_assert_cmpint (refund (f, f->ledger, id, "ch_1", parts[i], "JPY", &error),
                     ==, GC_LEDGER_APPLIED);
    g_assert_no_error (error);
    /* Each part gives back its own split, to within a yen. */
    g_assert_cmpint (ABS (fee_before - fees (f->ledger, "JPY") - own_fee), <=,
                     1);
    g_assert_cmpint (
        refund (f, other, other_id, "ch_1", parts[j], "JPY", &error), ==,
        GC_LEDGER_APPLIED);
  }
  g_assert_cmpint (fees (f->ledger, "JPY"), ==, 0);
  g_assert_cmpint (creator_balance (f->ledger, CREATOR, "JPY"), ==, 0);
  g_assert_cmpint (viewers (f->ledger, "JPY"), ==, 0);
  g_assert_cmpint (fees (other, "JPY"), ==, 0);
  g_assert_cmpint (creator_balance (other, CREATOR, "JPY"), ==, 0);
  assert_ledger_sums_to_zero (other);
  gc_ledger_free (other);
}

static void
test_refund_refuses_what_is_not_there (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (refund (f, f->ledger, "re_1", "ch_1", 10, "USD", &error), ==,
                   GC_LEDGER_FAILED);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_NOT_FOUND);
  g_clear_error (&error);

  charge (f, f->ledger, "ch_1", 1000, "USD");
  g_assert_cmpint (refund (f, f->ledger, "re_1", "ch_1", 10, "EUR", &error), ==,
                   GC_LEDGER_FAILED);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_CURRENCY_MISMATCH);
  g_clear_error (&error);
  g_assert_cmpint (refund (f, f->ledger, "re_1", "ch_1", 600, "USD", &error),
                   ==, GC_LEDGER_APPLIED);
  g_assert_cmpint (refund (f, f->ledger, "re_2", "ch_1", 401, "USD", &error),
                   ==, GC_LEDGER_FAILED);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_STATE);
  g_clear_error (&error);
  g_assert_cmpint (refund (f, f->ledger, "re_2", "ch_1", 400, "USD", &error),
                   ==, GC_LEDGER_APPLIED);
  g_assert_cmpint (creator_balance (f->ledger, CREATOR, "USD"), ==, 0);
}

static void
test_refund_is_applied_once (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  charge (f, f->ledger, "ch_1", 1000, "USD");
  g_assert_cmpint (refund (f, f->ledger, "re_1", "ch_1", 500, "USD", &error),
                   ==, GC_LEDGER_APPLIED);
  g_assert_cmpint (refund (f, f->ledger, "re_1", "ch_1", 500, "USD", &error),
                   ==, GC_LEDGER_ALREADY_APPLIED);
  g_assert_no_error (error);
  g_assert_cmpint (viewers (f->ledger, "USD"), ==, -500);
  g_assert_cmpint (fees (f->ledger, "USD"), ==, 75);
  g_assert_cmpint (creator_balance (f->ledger, CREATOR, "USD"), ==, 425);
}

/* --- disputes ---------------------------------------------------------- */

static void
test_dispute_won_restores_the_split (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  charge (f, f->ledger, "ch_1", 1000, "USD");
  g_assert_cmpint (dispute_opened (f, f->ledger, "dp_1", "ch_1", 1000, &error),
                   ==, GC_LEDGER_APPLIED);
  g_assert_no_error (error);
  g_assert_cmpint (held (f->ledger, "USD"), ==, 1000);
  g_assert_cmpint (fees (f->ledger, "USD"), ==, 0);
  g_assert_cmpint (creator_balance (f->ledger, CREATOR, "USD"), ==, 0);

  g_assert_cmpint (
      gc_ledger_dispute_won (f->ledger, "dp_1", f->now, NULL, &error), ==,
      GC_LEDGER_APPLIED);
  g_assert_no_error (error);
  g_assert_cmpint (held (f->ledger, "USD"), ==, 0);
  g_assert_cmpint (fees (f->ledger, "USD"), ==, 150);
  g_assert_cmpint (creator_balance (f->ledger, CREATOR, "USD"), ==, 850);
  g_assert_cmpint (viewers (f->ledger, "USD"), ==, -1000);
}

static void
test_dispute_lost_pays_the_viewer (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  charge (f, f->ledger, "ch_1", 1000, "USD");
  g_assert_cmpint (dispute_opened (f, f->ledger, "dp_1", "ch_1", 400, &error),
                   ==, GC_LEDGER_APPLIED);
  g_assert_cmpint (
      gc_ledger_dispute_lost (f->ledger, "dp_1", f->now, NULL, &error), ==,
      GC_LEDGER_APPLIED);
  g_assert_no_error (error);
  g_assert_cmpint (held (f->ledger, "USD"), ==, 0);
  g_assert_cmpint (viewers (f->ledger, "USD"), ==, -600);
  g_assert_cmpint (fees (f->ledger, "USD"), ==, 90);
  g_assert_cmpint (creator_balance (f->ledger, CREATOR, "USD"), ==, 510);
  /* What was lost can't be refunded as well. */
  g_assert_cmpint (refund (f, f->ledger, "re_1", "ch_1", 601, "USD", &error),
                   ==, GC_LEDGER_FAILED);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_STATE);
}

static void
test_dispute_closes_once (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (
      gc_ledger_dispute_won (f->ledger, "dp_1", f->now, NULL, &error), ==,
      GC_LEDGER_FAILED);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_NOT_FOUND);
  g_clear_error (&error);

  charge (f, f->ledger, "ch_1", 1000, "USD");
  g_assert_cmpint (dispute_opened (f, f->ledger, "dp_1", "ch_1", 1000, &error),
                   ==, GC_LEDGER_APPLIED);
  g_assert_cmpint (dispute_opened (f, f->ledger, "dp_1", "ch_1", 1000, &error),
                   ==, GC_LEDGER_ALREADY_APPLIED);
  g_assert_cmpint (
      gc_ledger_dispute_won (f->ledger, "dp_1", f->now, NULL, &error), ==,
      GC_LEDGER_APPLIED);
  g_assert_cmpint (
      gc_ledger_dispute_won (f->ledger, "dp_1", f->now, NULL, &error), ==,
      GC_LEDGER_ALREADY_APPLIED);
  g_assert_no_error (error);
  g_assert_cmpint (
      gc_ledger_dispute_lost (f->ledger, "dp_1", f->now, NULL, &error), ==,
      GC_LEDGER_FAILED);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_STATE);
  g_assert_cmpint (fees (f->ledger, "USD"), ==, 150);
  g_assert_cmpint (creator_balance (f->ledger, CREATOR, "USD"), ==, 850);
}

static void
test_dispute_takes_only_what_is_left (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  charge (f, f->ledger, "ch_1", 1000, "USD");
  g_assert_cmpint (refund (f, f->ledger, "re_1", "ch_1", 300, "USD", &error),
                   ==, GC_LEDGER_APPLIED);
  g_assert_cmpint (dispute_opened (f, f->ledger, "dp_1", "ch_1", 701, &error),
                   ==, GC_LEDGER_FAILED);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_STATE);
  g_clear_error (&error);
  g_assert_cmpint (dispute_opened (f, f->ledger, "dp_1", "ch_1", 700, &error),
                   ==, GC_LEDGER_APPLIED);
  g_assert_cmpint (
      gc_ledger_dispute_lost (f->ledger, "dp_1", f->now, NULL, &error), ==,
      GC_LEDGER_APPLIED);
  g_assert_cmpint (viewers (f->ledger, "USD"), ==, 0);
  g_assert_cmpint (fees (f->ledger, "USD"), ==, 0);
  g_assert_cmpint (creator_balance (f->ledger, CREATOR, "USD"), ==, 0);
}

/* --- payouts ----------------------------------------------------------- */

static void
test_payout_moves_balance_and_fee (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  GcMoney amount = money (8000, "USD"), fee = money (25, "USD");
  GcMoney more = money (501, "USD"), none = money (0, "USD");

  charge (f, f->ledger, "ch_1", 10000, "USD");
  g_assert_cmpint (gc_ledger_payout (f->ledger, "po_1", CREATOR, &amount, &fee,
                                     f->now, NULL, &error),
                   ==, GC_LEDGER_APPLIED);
  g_assert_no_error (error);
  g_assert_cmpint (creator_balance (f->ledger, CREATOR, "USD"), ==, 500);
  g_assert_cmpint (
      balance_of (f->ledger, GC_LEDGER_ACCOUNT_PAYOUTS_SENT, "USD"), ==, 7975);
  g_assert_cmpint (balance_of (f->ledger, GC_LEDGER_ACCOUNT_PAYOUT_FEES, "USD"),
                   ==, 25);
  g_assert_cmpint (gc_ledger_payout (f->ledger, "po_1", CREATOR, &amount, &fee,
                                     f->now, NULL, &error),
                   ==, GC_LEDGER_ALREADY_APPLIED);
  g_assert_cmpint (creator_balance (f->ledger, CREATOR, "USD"), ==, 500);

  g_assert_cmpint (gc_ledger_payout (f->ledger, "po_2", CREATOR, &more, &none,
                                     f->now, NULL, &error),
                   ==, GC_LEDGER_FAILED);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INSUFFICIENT_FUNDS);
  g_clear_error (&error);
  more.amount = 500;
  g_assert_cmpint (gc_ledger_payout (f->ledger, "po_2", CREATOR, &more, &none,
                                     f->now, NULL, &error),
                   ==, GC_LEDGER_APPLIED);
  g_assert_cmpint (creator_balance (f->ledger, CREATOR, "USD"), ==, 0);
}

static void
test_payout_refuses_bad_fees (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  GcMoney amount = money (100, "USD"), big = money (101, "USD");
  GcMoney euros = money (1, "EUR");

  charge (f, f->ledger, "ch_1", 10000, "USD");
  g_assert_cmpint (gc_ledger_payout (f->ledger, "po_1", CREATOR, &amount, &big,
                                     f->now, NULL, &error),
                   ==, GC_LEDGER_FAILED);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpint (gc_ledger_payout (f->ledger, "po_1", CREATOR, &amount,
                                     &euros, f->now, NULL, &error),
                   ==, GC_LEDGER_FAILED);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_CURRENCY_MISMATCH);
}

/* --- exactly once with the caller's writes ---------------------------- */

/* What the webhook handler will do: record the event and apply its effect
 * in one transaction; a duplicate event changes nothing. */
static gboolean
deliver_charge (Fixture *f, const gchar *event_id, const gchar *charge_id,
                gint64 amount)
{
  g_autoptr (GError) error = NULL;
  sqlite3 *db = gc_ledger_get_db (f->ledger);
  GcMoney gross = money (amount, "USD");
  sqlite3_stmt *stmt = NULL;
  int rc;

  g_assert_true (gc_ledger_begin (f->ledger, &error));
  g_assert_cmpint (sqlite3_prepare_v2 (db,
                                       "INSERT INTO processed_events"
                                       " (event_id) VALUES (?)",
                                       -1, &stmt, NULL),
                   ==, SQLITE_OK);
  sqlite3_bind_text (stmt, 1, event_id, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  if (rc == SQLITE_CONSTRAINT) {
    gc_ledger_rollback (f->ledger);
    return FALSE;
  }
  g_assert_cmpint (rc, ==, SQLITE_DONE);
  g_assert_cmpint (gc_ledger_charge (f->ledger, charge_id, CREATOR, &gross,
                                     f->now, NULL, &error),
                   !=, GC_LEDGER_FAILED);
  g_assert_true (gc_ledger_commit (f->ledger, &error));
  g_assert_no_error (error);
  return TRUE;
}

static void
create_processed_events (Fixture *f)
{
  g_assert_cmpint (sqlite3_exec (gc_ledger_get_db (f->ledger),
                                 "CREATE TABLE processed_events"
                                 " (event_id TEXT PRIMARY KEY)",
                                 NULL, NULL, NULL),
                   ==, SQLITE_OK);
}

static void
test_flow_commits_with_caller_writes (Fixture *f, gconstpointer data)
{
  create_processed_events (f);
  g_assert_true (deliver_charge (f, "evt_1", "ch_1", 1000));
  g_assert_false (deliver_charge (f, "evt_1", "ch_1", 1000));
  /* Another event about the same charge: recorded, but no second effect. */
  g_assert_true (deliver_charge (f, "evt_2", "ch_1", 1000));
  g_assert_cmpint (
      query_int (f->ledger, "SELECT count (*) FROM processed_events"), ==, 2);
  g_assert_cmpint (query_int (f->ledger, "SELECT count (*) FROM journals"), ==,
                   1);
  g_assert_cmpint (creator_balance (f->ledger, CREATOR, "USD"), ==, 850);
}

static void
test_rollback_undoes_flow_and_caller_writes (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  GcMoney gross = money (1000, "USD");

  create_processed_events (f);
  g_assert_true (gc_ledger_begin (f->ledger, &error));
  g_assert_cmpint (sqlite3_exec (gc_ledger_get_db (f->ledger),
                                 "INSERT INTO processed_events VALUES ('e')",
                                 NULL, NULL, NULL),
                   ==, SQLITE_OK);
  g_assert_cmpint (gc_ledger_charge (f->ledger, "ch_1", CREATOR, &gross, f->now,
                                     NULL, &error),
                   ==, GC_LEDGER_APPLIED);
  gc_ledger_rollback (f->ledger);
  g_assert_cmpint (
      query_int (f->ledger, "SELECT count (*) FROM processed_events"), ==, 0);
  g_assert_cmpint (creator_balance (f->ledger, CREATOR, "USD"), ==, 0);
  /* Nothing was applied, so the charge applies now. */
  charge (f, f->ledger, "ch_1", 1000, "USD");
}

/* A refused flow inside the caller's transaction undoes only itself. */
static void
test_refused_flow_keeps_caller_writes (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  create_processed_events (f);
  g_assert_true (gc_ledger_begin (f->ledger, &error));
  g_assert_cmpint (sqlite3_exec (gc_ledger_get_db (f->ledger),
                                 "INSERT INTO processed_events VALUES ('e')",
                                 NULL, NULL, NULL),
                   ==, SQLITE_OK);
  g_assert_cmpint (
      refund (f, f->ledger, "re_1", "ch_unknown", 5, "USD", &error), ==,
      GC_LEDGER_FAILED);
  g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (gc_ledger_commit (f->ledger, &error));
  g_assert_cmpint (
      query_int (f->ledger, "SELECT count (*) FROM processed_events"), ==, 1);
  g_assert_cmpint (query_int (f->ledger, "SELECT count (*) FROM journals"), ==,
                   0);
}

typedef struct {
  Fixture *f;
  gboolean fail;
} TransactionData;

static gboolean
charge_then_maybe_fail (GcLedger *ledger, sqlite3 *db, gpointer user_data,
                        GError **error)
{
  TransactionData *d = user_data;
  GcMoney gross = money (1000, "USD");

  if (gc_ledger_charge (ledger, "ch_1", CREATOR, &gross, d->f->now, NULL,
                        error) == GC_LEDGER_FAILED)
    return FALSE;
  if (d->fail) {
    g_set_error_literal (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                         "caller failed");
    return FALSE;
  }
  return sqlite3_exec (db, "INSERT INTO processed_events VALUES ('e')", NULL,
                       NULL, NULL) == SQLITE_OK;
}

static void
test_run_in_transaction (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  TransactionData d = {f, TRUE};

  create_processed_events (f);
  g_assert_false (gc_ledger_run_in_transaction (
      f->ledger, charge_then_maybe_fail, &d, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_cmpint (creator_balance (f->ledger, CREATOR, "USD"), ==, 0);

  d.fail = FALSE;
  g_assert_true (gc_ledger_run_in_transaction (
      f->ledger, charge_then_maybe_fail, &d, &error));
  g_assert_no_error (error);
  g_assert_cmpint (creator_balance (f->ledger, CREATOR, "USD"), ==, 850);
  g_assert_cmpint (
      query_int (f->ledger, "SELECT count (*) FROM processed_events"), ==, 1);
}

/* --- order ------------------------------------------------------------- */

typedef enum {
  EV_CHARGE,
  EV_REFUND_A,
  EV_REFUND_B,
  EV_DISPUTE_OPENED,
  EV_DISPUTE_WON,
} Event;

/* Applies @event; FALSE when it must wait for one it depends on (the
 * webhook answers non-2xx and Stripe delivers it again later). */
static gboolean
apply_event (Fixture *f, GcLedger *ledger, Event event)
{
  g_autoptr (GError) error = NULL;
  GcMoney gross = money (1000, "USD");
  GcLedgerOutcome outcome = GC_LEDGER_FAILED;

  switch (event) {
    case EV_CHARGE:
      outcome = gc_ledger_charge (ledger, "ch_1", CREATOR, &gross, f->now, NULL,
                                  &error);
      break;
    case EV_REFUND_A:
      outcome = refund (f, ledger, "re_a", "ch_1", 333, "USD", &error);
      break;
    case EV_REFUND_B:
      outcome = refund (f, ledger, "re_b", "ch_1", 201, "USD", &error);
      break;
    case EV_DISPUTE_OPENED:
      outcome = dispute_opened (f, ledger, "dp_1", "ch_1", 400, &error);
      break;
    case EV_DISPUTE_WON:
      outcome = gc_ledger_dispute_won (ledger, "dp_1", f->now, NULL, &error);
      break;
  }
  if (outcome == GC_LEDGER_FAILED) {
    g_assert_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_NOT_FOUND);
    return FALSE;
  }
  return TRUE;
}

/* Delivers @events in order, with each one that had to wait redelivered
 * after the rest (as Stripe retries), until all are applied. */
static void
deliver_all (Fixture *f, GcLedger *ledger, const Event *events, gsize n)
{
  g_autoptr (GArray) pending = g_array_new (FALSE, FALSE, sizeof (Event));

  g_array_append_vals (pending, events, (guint)n);
  for (guint round = 0; pending->len > 0; round++) {
    g_autoptr (GArray) retry = g_array_new (FALSE, FALSE, sizeof (Event));

    g_assert_cmpuint (round, <, 10);
    for (guint i = 0; i < pending->len; i++) {
      if (!apply_event (f, ledger, g_array_index (pending, Event, i)))
        g_array_append_val (retry, g_array_index (pending, Event, i));
    }
    g_array_set_size (pending, 0);
    g_array_append_vals (pending, retry->data, retry->len);
  }
}

static void
test_out_of_order_and_duplicates_same_state (Fixture *f, gconstpointer data)
{
  static const Event in_order[] = {EV_CHARGE, EV_REFUND_A, EV_REFUND_B,
                                   EV_DISPUTE_OPENED, EV_DISPUTE_WON};
  static const Event shuffled[] = {
      EV_DISPUTE_WON, EV_REFUND_B,       EV_DISPUTE_OPENED, EV_REFUND_B,
      EV_CHARGE,      EV_DISPUTE_WON,    EV_CHARGE,         EV_REFUND_A,
      EV_REFUND_A,    EV_DISPUTE_OPENED, EV_DISPUTE_WON};
  static const gchar *const accounts[] = {
      GC_LEDGER_ACCOUNT_VIEWER_PAYMENTS, GC_LEDGER_ACCOUNT_PLATFORM_FEES,
      GC_LEDGER_ACCOUNT_DISPUTES_HELD, "creator:42:balance"};
  g_autofree gchar *other_path = g_build_filename (f->dir, "b.db", NULL);
  GcLedger *other = open_ledger (f, other_path);

  deliver_all (f, f->ledger, in_order, G_N_ELEMENTS (in_order));
  deliver_all (f, other, shuffled, G_N_ELEMENTS (shuffled));
  for (gsize i = 0; i < G_N_ELEMENTS (accounts); i++)
    g_assert_cmpint (balance_of (f->ledger, accounts[i], "USD"), ==,
                     balance_of (other, accounts[i], "USD"));
  /* 534 refunded: the fee gave back exactly fee(534) = 80. */
  g_assert_cmpint (fees (f->ledger, "USD"), ==, 150 - 80);
  g_assert_cmpint (query_int (other, "SELECT count (*) FROM journals"), ==, 5);
  assert_ledger_sums_to_zero (other);
  gc_ledger_free (other);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn)                                                          \
  g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/billing/ledger/store/durability-pragmas",
       test_open_sets_durability_pragmas);
  ADD ("/billing/ledger/store/survives-reopen", test_state_survives_reopen);
  ADD ("/billing/ledger/post/must-sum-to-zero",
       test_adjustment_must_sum_to_zero);
  ADD ("/billing/ledger/post/bad-entries", test_adjustment_refuses_bad_entries);
  ADD ("/billing/ledger/post/append-only",
       test_entries_and_journals_are_append_only);
  ADD ("/billing/ledger/split/default-85-15", test_default_split_is_85_15);
  ADD ("/billing/ledger/split/effective-dated",
       test_split_versions_are_effective_dated);
  ADD ("/billing/ledger/split/insert-only",
       test_split_versions_are_insert_only);
  ADD ("/billing/ledger/charge/splits-gross", test_charge_splits_gross);
  ADD ("/billing/ledger/charge/applied-once", test_charge_is_applied_once);
  ADD ("/billing/ledger/charge/bad-input", test_charge_refuses_bad_input);
  ADD ("/billing/ledger/refund/full-reverses-exactly",
       test_full_refund_reverses_exactly);
  ADD ("/billing/ledger/refund/partials-add-up-exactly",
       test_partial_refunds_add_up_exactly);
  ADD ("/billing/ledger/refund/only-what-is-there",
       test_refund_refuses_what_is_not_there);
  ADD ("/billing/ledger/refund/applied-once", test_refund_is_applied_once);
  ADD ("/billing/ledger/dispute/won-restores-split",
       test_dispute_won_restores_the_split);
  ADD ("/billing/ledger/dispute/lost-pays-viewer",
       test_dispute_lost_pays_the_viewer);
  ADD ("/billing/ledger/dispute/closes-once", test_dispute_closes_once);
  ADD ("/billing/ledger/dispute/only-what-is-left",
       test_dispute_takes_only_what_is_left);
  ADD ("/billing/ledger/payout/moves-balance-and-fee",
       test_payout_moves_balance_and_fee);
  ADD ("/billing/ledger/payout/bad-fees", test_payout_refuses_bad_fees);
  ADD ("/billing/ledger/transaction/commits-with-caller-writes",
       test_flow_commits_with_caller_writes);
  ADD ("/billing/ledger/transaction/rollback-undoes-both",
       test_rollback_undoes_flow_and_caller_writes);
  ADD ("/billing/ledger/transaction/refused-flow-keeps-caller-writes",
       test_refused_flow_keeps_caller_writes);
  ADD ("/billing/ledger/transaction/run-in-transaction",
       test_run_in_transaction);
  ADD ("/billing/ledger/order/out-of-order-and-duplicates",
       test_out_of_order_and_duplicates_same_state);
#undef ADD

  return g_test_run ();
}
