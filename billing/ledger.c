/* ledger.c — the ledger store: SQLite schema and append-only triggers, zero-sum posting, balances,
 * effective-dated split versions, and the charge/refund/dispute/payout flows, each applied once per reference. */

#include "ledger.h"

#include <string.h>

#define BUSY_TIMEOUT_MS 5000
#define ADJUST_ENTRIES_MAX 64
#define SAVEPOINT "gc_ledger_flow"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

struct _GcLedger {
  sqlite3 *db;
  /* A caller's gc_ledger_begin() is open: flows use savepoints inside it. */
  gboolean in_transaction;
  GcLedgerClockFunc clock;
  gpointer clock_data;
};

/* Amounts are STRICT integers and never G_MININT64 (money.h). Triggers make
 * accounts, journals, entries and split versions insert-only; with
 * recursive_triggers on (set at open) that also covers INSERT OR REPLACE,
 * whose implicit delete would otherwise skip the DELETE triggers. They stop
 * mistakes and stray SQL, not someone who can DROP a trigger. */
static const gchar schema[] =
    "CREATE TABLE IF NOT EXISTS accounts ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE) STRICT;"
    "CREATE TABLE IF NOT EXISTS split_versions ("
    "  version INTEGER PRIMARY KEY,"
    "  platform_ppm INTEGER NOT NULL"
    "    CHECK (platform_ppm BETWEEN 0 AND 1000000),"
    "  effective_from INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL) STRICT;"
    "CREATE INDEX IF NOT EXISTS split_versions_by_time"
    "  ON split_versions (effective_from, version);"
    "CREATE TABLE IF NOT EXISTS journals ("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL CHECK (kind IN ('charge', 'refund',"
    "    'dispute_opened', 'dispute_won', 'dispute_lost', 'payout',"
    "    'adjustment')),"
    "  reference TEXT NOT NULL,"
    "  request TEXT NOT NULL,"
    "  charge INTEGER REFERENCES journals (id),"
    "  creator INTEGER,"
    "  split_version INTEGER REFERENCES split_versions (version),"
    "  occurred_at INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  UNIQUE (kind, reference)) STRICT;"
    "CREATE INDEX IF NOT EXISTS journals_by_charge ON journals (charge);"
    "CREATE TABLE IF NOT EXISTS entries ("
    "  id INTEGER PRIMARY KEY,"
    "  journal INTEGER NOT NULL REFERENCES journals (id),"
    "  account INTEGER NOT NULL REFERENCES accounts (id),"
    "  amount INTEGER NOT NULL"
    "    CHECK (amount != 0 AND amount >= -9223372036854775807),"
    "  currency TEXT NOT NULL"
    "    CHECK (length (currency) = 3 AND currency = upper (currency)))"
    "  STRICT;"
    "CREATE INDEX IF NOT EXISTS entries_by_account"
    "  ON entries (account, currency);"
    "CREATE INDEX IF NOT EXISTS entries_by_journal ON entries (journal);"
    "CREATE TRIGGER IF NOT EXISTS entries_no_update BEFORE UPDATE ON entries"
    "  BEGIN SELECT RAISE (ABORT, 'ledger entries are append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS entries_no_delete BEFORE DELETE ON entries"
    "  BEGIN SELECT RAISE (ABORT, 'ledger entries are append-only'); END;"
    /* A journal is sealed once the next one starts: entries can't be
     * slipped into history. */
    "CREATE TRIGGER IF NOT EXISTS entries_newest_journal_only"
    "  BEFORE INSERT ON entries"
    "  WHEN NEW.journal IS NOT (SELECT max (id) FROM journals)"
    "  BEGIN SELECT RAISE (ABORT,"
    "    'entries may only be added to the newest journal'); END;"
    "CREATE TRIGGER IF NOT EXISTS journals_no_update BEFORE UPDATE ON journals"
    "  BEGIN SELECT RAISE (ABORT, 'ledger journals are append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS journals_no_delete BEFORE DELETE ON journals"
    "  BEGIN SELECT RAISE (ABORT, 'ledger journals are append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS accounts_no_update BEFORE UPDATE ON accounts"
    "  BEGIN SELECT RAISE (ABORT, 'ledger accounts are append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS accounts_no_delete BEFORE DELETE ON accounts"
    "  BEGIN SELECT RAISE (ABORT, 'ledger accounts are append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS split_versions_no_update"
    "  BEFORE UPDATE ON split_versions"
    "  BEGIN SELECT RAISE (ABORT, 'split versions are insert-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS split_versions_no_delete"
    "  BEFORE DELETE ON split_versions"
    "  BEGIN SELECT RAISE (ABORT, 'split versions are insert-only'); END;"
    "PRAGMA user_version = 1;";

/* One line of a journal being built. */
typedef struct {
  gchar *account;
  gint64 amount;
  gchar currency[4];
} Line;

/* What a journal row says besides its entries; zero ids mean none. */
typedef struct {
  const gchar *kind;
  const gchar *reference;
  const gchar *request;
  gint64 charge;
  gint64 creator;
  gint64 split_version;
  gint64 occurred_at;
} JournalHead;

/* A charge as the ledger knows it, for refunds and disputes. */
typedef struct {
  gint64 journal;
  gint64 creator;
  gint64 split_version;
  guint32 platform_ppm;
  GcMoney gross;
  gint64 reversed; /* refunded + in or lost to disputes */
} Charge;

typedef enum {
  REFERENCE_NEW,
  REFERENCE_DONE, /* same request already applied */
  REFERENCE_ERROR,
} ReferenceState;

static gboolean
storage_error (GcLedger *ledger, GError **error, const gchar *what)
{
  g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_STORAGE, "%s: %s",
               what, sqlite3_errmsg (ledger->db));
  return FALSE;
}

static gint64
now_seconds (GcLedger *ledger)
{
  if (ledger->clock != NULL)
    return ledger->clock (ledger->clock_data);
  return g_get_real_time () / G_USEC_PER_SEC;
}

static gboolean
exec (GcLedger *ledger, const gchar *sql, GError **error)
{
  if (sqlite3_exec (ledger->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return storage_error (ledger, error, "database");
  return TRUE;
}

static sqlite3_stmt *
prepare (GcLedger *ledger, const gchar *sql, GError **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (ledger->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
    storage_error (ledger, error, "prepare");
    return NULL;
  }
  return stmt;
}

static gboolean
step_done (GcLedger *ledger, sqlite3_stmt *stmt, GError **error)
{
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return storage_error (ledger, error, "write");
  return TRUE;
}

/* Steps a query whose first column is an integer. @found: FALSE if no row
 * (and @value untouched). */
static gboolean
step_int64 (GcLedger *ledger, sqlite3_stmt *stmt, gint64 *value,
            gboolean *found, GError **error)
{
  int rc = sqlite3_step (stmt);

  *found = rc == SQLITE_ROW;
  if (rc == SQLITE_ROW)
    *value = sqlite3_column_int64 (stmt, 0);
  else if (rc != SQLITE_DONE)
    return storage_error (ledger, error, "read");
  return TRUE;
}

static void
line_clear (gpointer data)
{
  Line *line = data;

  g_free (line->account);
}

static GArray *
lines_new (void)
{
  GArray *lines = g_array_new (FALSE, TRUE, sizeof (Line));

  g_array_set_clear_func (lines, line_clear);
  return lines;
}

/* Adds a line unless its amount is zero (a 0% fee has no entry). */
static void
lines_add (GArray *lines, const gchar *account, gint64 amount,
           const gchar *currency)
{
  Line line = {NULL, amount, {0}};

  if (amount == 0)
    return;
  line.account = g_strdup (account);
  memcpy (line.currency, currency, sizeof line.currency);
  g_array_append_val (lines, line);
}

/* [a-z0-9_-] segments joined by ':', as "creator:42:balance". */
static gboolean
account_name_is_valid (const gchar *name)
{
  gsize len;
  gboolean segment_empty = TRUE;

  if (name == NULL)
    return FALSE;
  len = strnlen (name, GC_LEDGER_NAME_MAX + 1);
  if (len == 0 || len > GC_LEDGER_NAME_MAX)
    return FALSE;
  for (gsize i = 0; i < len; i++) {
    gchar c = name[i];

    if (c == ':') {
      if (segment_empty)
        return FALSE;
      segment_empty = TRUE;
    } else if ((c >= 'a' && c <= 'z') || g_ascii_isdigit (c) || c == '_' ||
               c == '-') {
      segment_empty = FALSE;
    } else {
      return FALSE;
    }
  }
  return !segment_empty;
}

/* External references are Stripe ids ("ch_3Nx..."): printable ASCII. */
static gboolean
check_reference_text (const gchar *reference, GError **error)
{
  gsize len =
      reference != NULL ? strnlen (reference, GC_LEDGER_NAME_MAX + 1) : 0;

  for (gsize i = 0; i < len; i++) {
    if (reference[i] <= ' ' || reference[i] > '~')
      len = 0;
  }
  if (len == 0 || len > GC_LEDGER_NAME_MAX) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT,
                 "a reference is 1 to %d printable ASCII characters",
                 GC_LEDGER_NAME_MAX);
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_creator (gint64 creator_id, GError **error)
{
  if (creator_id <= 0) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT,
                 "no creator %" G_GINT64_FORMAT, creator_id);
    return FALSE;
  }
  return TRUE;
}

/* A caller's GcMoney: a known currency, upper-case, amount in range, and
 * positive unless @zero_ok. */
static gboolean
check_money (const GcMoney *money, gboolean zero_ok, GError **error)
{
  if (money->currency[3] != '\0' ||
      gc_currency_exponent (money->currency) < 0) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_UNKNOWN_CURRENCY,
                 "unknown currency \"%.3s\"", money->currency);
    return FALSE;
  }
  if (!g_ascii_isupper (money->currency[0]) ||
      !g_ascii_isupper (money->currency[1]) ||
      !g_ascii_isupper (money->currency[2])) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_UNKNOWN_CURRENCY,
                 "currency \"%s\" is not upper-case (use gc_money_init())",
                 money->currency);
    return FALSE;
  }
  if (money->amount < 0 || (money->amount == 0 && !zero_ok)) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT,
                 "amount must be %s, not %" G_GINT64_FORMAT,
                 zero_ok ? "zero or more" : "positive", money->amount);
    return FALSE;
  }
  return TRUE;
}

gchar *
gc_ledger_creator_account (gint64 creator_id)
{
  return g_strdup_printf ("creator:%" G_GINT64_FORMAT ":balance", creator_id);
}

/* --- transactions ------------------------------------------------------ */

/* Each flow runs in its own transaction, or in a savepoint inside the
 * caller's (gc_ledger_begin()), so that a refused flow undoes only itself. */
static gboolean
flow_begin (GcLedger *ledger, GError **error)
{
  return exec (ledger,
               ledger->in_transaction ? "SAVEPOINT " SAVEPOINT
                                      : "BEGIN IMMEDIATE",
               error);
}

static void
flow_undo (GcLedger *ledger)
{
  sqlite3_exec (ledger->db,
                ledger->in_transaction ? "ROLLBACK TO " SAVEPOINT
                                         "; RELEASE " SAVEPOINT
                                       : "ROLLBACK",
                NULL, NULL, NULL);
}

/* Commits (or releases) when @outcome is a success, else undoes. */
static GcLedgerOutcome
flow_finish (GcLedger *ledger, GcLedgerOutcome outcome, GError **error)
{
  if (outcome == GC_LEDGER_FAILED) {
    flow_undo (ledger);
    return GC_LEDGER_FAILED;
  }
  if (!exec (ledger, ledger->in_transaction ? "RELEASE " SAVEPOINT : "COMMIT",
             error)) {
    flow_undo (ledger);
    return GC_LEDGER_FAILED;
  }
  return outcome;
}

gboolean
gc_ledger_begin (GcLedger *ledger, GError **error)
{
  g_return_val_if_fail (ledger != NULL, FALSE);
  g_return_val_if_fail (!ledger->in_transaction, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!exec (ledger, "BEGIN IMMEDIATE", error))
    return FALSE;
  ledger->in_transaction = TRUE;
  return TRUE;
}

gboolean
gc_ledger_commit (GcLedger *ledger, GError **error)
{
  g_return_val_if_fail (ledger != NULL, FALSE);
  g_return_val_if_fail (ledger->in_transaction, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  ledger->in_transaction = FALSE;
  if (!exec (ledger, "COMMIT", error)) {
    sqlite3_exec (ledger->db, "ROLLBACK", NULL, NULL, NULL);
    return FALSE;
  }
  return TRUE;
}

void
gc_ledger_rollback (GcLedger *ledger)
{
  g_return_if_fail (ledger != NULL);
  g_return_if_fail (ledger->in_transaction);

  ledger->in_transaction = FALSE;
  sqlite3_exec (ledger->db, "ROLLBACK", NULL, NULL, NULL);
}

gboolean
gc_ledger_run_in_transaction (GcLedger *ledger, GcLedgerTransactionFunc func,
                              gpointer user_data, GError **error)
{
  g_return_val_if_fail (ledger != NULL && func != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!gc_ledger_begin (ledger, error))
    return FALSE;
  if (!func (ledger, ledger->db, user_data, error)) {
    gc_ledger_rollback (ledger);
    return FALSE;
  }
  return gc_ledger_commit (ledger, error);
}

/* --- open -------------------------------------------------------------- */

GcLedger *
gc_ledger_open (const gchar *path, GError **error)
{
  GcLedger *ledger;
  g_autoptr (sqlite3_stmt) seed = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ledger = g_new0 (GcLedger, 1);
  if (sqlite3_open_v2 (path, &ledger->db,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                           SQLITE_OPEN_NOMUTEX,
                       NULL) != SQLITE_OK) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_STORAGE,
                 "opening %s: %s", path,
                 ledger->db != NULL ? sqlite3_errmsg (ledger->db)
                                    : "out of memory");
    gc_ledger_free (ledger);
    return NULL;
  }
  sqlite3_busy_timeout (ledger->db, BUSY_TIMEOUT_MS);
  /* FULL: a payment acknowledged to Stripe survives a power cut. */
  if (!exec (ledger,
             "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
             "PRAGMA foreign_keys = ON; PRAGMA recursive_triggers = ON;",
             error) ||
      !exec (ledger, "BEGIN IMMEDIATE", error))
    goto fail;
  if (!exec (ledger, schema, error))
    goto rollback;
  seed = prepare (ledger,
                  "INSERT INTO split_versions"
                  " (version, platform_ppm, effective_from, created_at)"
                  " SELECT 1, ?, 0, ?"
                  " WHERE NOT EXISTS (SELECT 1 FROM split_versions)",
                  error);
  if (seed == NULL)
    goto rollback;
  sqlite3_bind_int64 (seed, 1, GC_SHARE_DEFAULT_PLATFORM_PPM);
  sqlite3_bind_int64 (seed, 2, now_seconds (ledger));
  if (!step_done (ledger, seed, error) || !exec (ledger, "COMMIT", error))
    goto rollback;
  return ledger;

rollback:
  sqlite3_exec (ledger->db, "ROLLBACK", NULL, NULL, NULL);
fail:
  g_clear_pointer (&seed, sqlite3_finalize);
  gc_ledger_free (ledger);
  return NULL;
}

void
gc_ledger_free (GcLedger *ledger)
{
  if (ledger == NULL)
    return;
  if (ledger->in_transaction)
    sqlite3_exec (ledger->db, "ROLLBACK", NULL, NULL, NULL);
  g_clear_pointer (&ledger->db, sqlite3_close);
  g_free (ledger);
}

void
gc_ledger_set_clock (GcLedger *ledger, GcLedgerClockFunc func,
                     gpointer user_data)
{
  g_return_if_fail (ledger != NULL);
  ledger->clock = func;
  ledger->clock_data = user_data;
}

sqlite3 *
gc_ledger_get_db (GcLedger *ledger)
{
  g_return_val_if_fail (ledger != NULL, NULL);
  return ledger->db;
}

/* --- split versions ---------------------------------------------------- */

static gboolean
split_at (GcLedger *ledger, gint64 when, gint64 *version, guint32 *ppm,
          GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = prepare (ledger,
                  "SELECT version, platform_ppm FROM split_versions"
                  " WHERE effective_from <= ?"
                  " ORDER BY effective_from DESC, version DESC LIMIT 1",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, when);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_NOT_FOUND,
                 "no split version in effect at %" G_GINT64_FORMAT, when);
    return FALSE;
  }
  if (rc != SQLITE_ROW)
    return storage_error (ledger, error, "read");
  if (version != NULL)
    *version = sqlite3_column_int64 (stmt, 0);
  if (ppm != NULL)
    *ppm = (guint32)sqlite3_column_int64 (stmt, 1);
  return TRUE;
}

gboolean
gc_ledger_split_at (GcLedger *ledger, gint64 when, gint64 *version,
                    guint32 *platform_ppm, GError **error)
{
  g_return_val_if_fail (ledger != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return split_at (ledger, when, version, platform_ppm, error);
}

gboolean
gc_ledger_add_split_version (GcLedger *ledger, guint32 platform_ppm,
                             gint64 effective_from, gint64 *version,
                             GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  GcLedgerOutcome outcome = GC_LEDGER_FAILED;
  gint64 now;

  g_return_val_if_fail (ledger != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  now = now_seconds (ledger);
  if (platform_ppm > GC_SHARE_PPM_ONE) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT,
                 "a share is at most %d ppm, not %u", GC_SHARE_PPM_ONE,
                 platform_ppm);
    return FALSE;
  }
  /* Charges record the version they used, so a retroactive version would
   * not change them, but it would make the history of "what was in effect"
   * disagree with what was charged. */
  if (effective_from < now) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT,
                 "a split version cannot take effect in the past "
                 "(%" G_GINT64_FORMAT " < %" G_GINT64_FORMAT ")",
                 effective_from, now);
    return FALSE;
  }
  if (!flow_begin (ledger, error))
    return FALSE;
  stmt = prepare (ledger,
                  "INSERT INTO split_versions"
                  " (platform_ppm, effective_from, created_at)"
                  " VALUES (?, ?, ?)",
                  error);
  if (stmt != NULL) {
    sqlite3_bind_int64 (stmt, 1, platform_ppm);
    sqlite3_bind_int64 (stmt, 2, effective_from);
    sqlite3_bind_int64 (stmt, 3, now);
    if (step_done (ledger, stmt, error)) {
      if (version != NULL)
        *version = sqlite3_last_insert_rowid (ledger->db);
      outcome = GC_LEDGER_APPLIED;
    }
  }
  return flow_finish (ledger, outcome, error) != GC_LEDGER_FAILED;
}

/* --- posting ----------------------------------------------------------- */

/* Finds the journal for (@kind, @reference). REFERENCE_DONE if it exists
 * with the same @request (filling @journal_id), REFERENCE_ERROR with
 * CONFLICT if with another. */
static ReferenceState
check_reference (GcLedger *ledger, const gchar *kind, const gchar *reference,
                 const gchar *request, gint64 *journal_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = prepare (ledger,
                  "SELECT id, request FROM journals"
                  " WHERE kind = ? AND reference = ?",
                  error);
  if (stmt == NULL)
    return REFERENCE_ERROR;
  sqlite3_bind_text (stmt, 1, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, reference, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    return REFERENCE_NEW;
  if (rc != SQLITE_ROW) {
    storage_error (ledger, error, "read");
    return REFERENCE_ERROR;
  }
  if (g_strcmp0 ((const gchar *)sqlite3_column_text (stmt, 1), request) != 0) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_CONFLICT,
                 "%s %s was already applied with other details (%s)", kind,
                 reference, (const gchar *)sqlite3_column_text (stmt, 1));
    return REFERENCE_ERROR;
  }
  if (journal_id != NULL)
    *journal_id = sqlite3_column_int64 (stmt, 0);
  return REFERENCE_DONE;
}

/* Refuses @lines unless each currency's amounts add up to exactly zero. */
static gboolean
check_balanced (GArray *lines, GError **error)
{
  if (lines->len < 2) {
    g_set_error_literal (error, GC_BILLING_ERROR, GC_BILLING_ERROR_UNBALANCED,
                         "a journal needs at least two entries");
    return FALSE;
  }
  for (guint i = 0; i < lines->len; i++) {
    const Line *first = &g_array_index (lines, Line, i);
    gint64 sum = 0;

    for (guint j = 0; j < lines->len; j++) {
      const Line *line = &g_array_index (lines, Line, j);

      if (strcmp (line->currency, first->currency) != 0)
        continue;
      if (__builtin_add_overflow (sum, line->amount, &sum)) {
        g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_OVERFLOW,
                     "journal amounts in %s overflow", first->currency);
        return FALSE;
      }
    }
    if (sum != 0) {
      g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_UNBALANCED,
                   "journal entries in %s sum to %" G_GINT64_FORMAT
                   ", not zero",
                   first->currency, sum);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
account_id (GcLedger *ledger, const gchar *name, gint64 *id, GError **error)
{
  g_autoptr (sqlite3_stmt) insert = NULL;
  g_autoptr (sqlite3_stmt) select = NULL;
  gboolean found = FALSE;

  insert = prepare (ledger, "INSERT OR IGNORE INTO accounts (name) VALUES (?)",
                    error);
  if (insert == NULL)
    return FALSE;
  sqlite3_bind_text (insert, 1, name, -1, SQLITE_STATIC);
  if (!step_done (ledger, insert, error))
    return FALSE;
  select = prepare (ledger, "SELECT id FROM accounts WHERE name = ?", error);
  if (select == NULL)
    return FALSE;
  sqlite3_bind_text (select, 1, name, -1, SQLITE_STATIC);
  if (!step_int64 (ledger, select, id, &found, error))
    return FALSE;
  g_assert (found);
  return TRUE;
}

static void
bind_optional_id (sqlite3_stmt *stmt, int column, gint64 id)
{
  if (id > 0)
    sqlite3_bind_int64 (stmt, column, id);
  else
    sqlite3_bind_null (stmt, column);
}

/* Writes one journal and its entries. Inside a flow's transaction. */
static gboolean
post (GcLedger *ledger, const JournalHead *head, GArray *lines,
      gint64 *journal_id, GError **error)
{
  g_autoptr (sqlite3_stmt) journal = NULL;
  g_autoptr (sqlite3_stmt) entry = NULL;
  g_autoptr (sqlite3_stmt) check = NULL;
  gint64 id, unbalanced;
  gboolean found = FALSE;

  if (!check_balanced (lines, error))
    return FALSE;

  journal = prepare (ledger,
                     "INSERT INTO journals (kind, reference, request, charge,"
                     " creator, split_version, occurred_at, created_at)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     error);
  if (journal == NULL)
    return FALSE;
  sqlite3_bind_text (journal, 1, head->kind, -1, SQLITE_STATIC);
  sqlite3_bind_text (journal, 2, head->reference, -1, SQLITE_STATIC);
  sqlite3_bind_text (journal, 3, head->request, -1, SQLITE_STATIC);
  bind_optional_id (journal, 4, head->charge);
  bind_optional_id (journal, 5, head->creator);
  bind_optional_id (journal, 6, head->split_version);
  sqlite3_bind_int64 (journal, 7, head->occurred_at);
  sqlite3_bind_int64 (journal, 8, now_seconds (ledger));
  if (!step_done (ledger, journal, error))
    return FALSE;
  id = sqlite3_last_insert_rowid (ledger->db);

  entry = prepare (ledger,
                   "INSERT INTO entries (journal, account, amount, currency)"
                   " VALUES (?, ?, ?, ?)",
                   error);
  if (entry == NULL)
    return FALSE;
  for (guint i = 0; i < lines->len; i++) {
    const Line *line = &g_array_index (lines, Line, i);
    gint64 account = 0;

    if (!account_id (ledger, line->account, &account, error))
      return FALSE;
    sqlite3_reset (entry);
    sqlite3_bind_int64 (entry, 1, id);
    sqlite3_bind_int64 (entry, 2, account);
    sqlite3_bind_int64 (entry, 3, line->amount);
    sqlite3_bind_text (entry, 4, line->currency, -1, SQLITE_STATIC);
    if (!step_done (ledger, entry, error))
      return FALSE;
  }

  /* What was written, checked again by SQLite, before the commit. */
  check = prepare (ledger,
                   "SELECT 1 FROM entries WHERE journal = ?"
                   " GROUP BY currency HAVING sum (amount) != 0",
                   error);
  if (check == NULL)
    return FALSE;
  sqlite3_bind_int64 (check, 1, id);
  if (!step_int64 (ledger, check, &unbalanced, &found, error))
    return FALSE;
  if (found) {
    g_set_error_literal (error, GC_BILLING_ERROR, GC_BILLING_ERROR_UNBALANCED,
                         "journal does not sum to zero");
    return FALSE;
  }
  if (journal_id != NULL)
    *journal_id = id;
  return TRUE;
}

static gboolean
balance (GcLedger *ledger, const gchar *account, const gchar *currency,
         gint64 *value, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gboolean found = FALSE;

  stmt = prepare (ledger,
                  "SELECT coalesce (sum (e.amount), 0) FROM entries e"
                  " JOIN accounts a ON a.id = e.account"
                  " WHERE a.name = ? AND e.currency = ?",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, account, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, currency, -1, SQLITE_STATIC);
  /* sum() fails with "integer overflow" rather than wrapping. */
  return step_int64 (ledger, stmt, value, &found, error);
}

gboolean
gc_ledger_balance (GcLedger *ledger, const gchar *account,
                   const gchar *currency, gint64 *value, GError **error)
{
  GcMoney checked;

  g_return_val_if_fail (ledger != NULL && value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!account_name_is_valid (account)) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT,
                 "\"%s\" is not an account name",
                 account != NULL ? account : "(null)");
    return FALSE;
  }
  if (!gc_money_init (&checked, 0, currency, error))
    return FALSE;
  return balance (ledger, account, checked.currency, value, error);
}

gboolean
gc_ledger_verify (GcLedger *ledger, GError **error)
{
  g_autoptr (sqlite3_stmt) journals = NULL;
  g_autoptr (sqlite3_stmt) totals = NULL;
  gint64 bad = 0;
  gboolean found = FALSE;

  g_return_val_if_fail (ledger != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  journals = prepare (ledger,
                      "SELECT journal FROM entries GROUP BY journal, currency"
                      " HAVING sum (amount) != 0 LIMIT 1",
                      error);
  if (journals == NULL || !step_int64 (ledger, journals, &bad, &found, error))
    return FALSE;
  if (found) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_UNBALANCED,
                 "journal %" G_GINT64_FORMAT " does not sum to zero", bad);
    return FALSE;
  }
  totals = prepare (ledger,
                    "SELECT count (*) FROM (SELECT currency FROM entries"
                    " GROUP BY currency HAVING sum (amount) != 0)",
                    error);
  if (totals == NULL || !step_int64 (ledger, totals, &bad, &found, error))
    return FALSE;
  if (bad != 0) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_UNBALANCED,
                 "the ledger does not sum to zero in %" G_GINT64_FORMAT
                 " currencies",
                 bad);
    return FALSE;
  }
  return TRUE;
}

/* --- flows ------------------------------------------------------------- */

/* Runs the part of a flow common to all: the reference check inside the
 * flow's transaction. Returns GC_LEDGER_APPLIED to go on and post. */
static GcLedgerOutcome
flow_start (GcLedger *ledger, const gchar *kind, const gchar *reference,
            const gchar *request, gint64 *journal_id, GError **error)
{
  if (!flow_begin (ledger, error))
    return GC_LEDGER_FAILED;
  switch (
      check_reference (ledger, kind, reference, request, journal_id, error)) {
    case REFERENCE_NEW:
      return GC_LEDGER_APPLIED;
    case REFERENCE_DONE:
      return flow_finish (ledger, GC_LEDGER_ALREADY_APPLIED, error);
    case REFERENCE_ERROR:
    default:
      return flow_finish (ledger, GC_LEDGER_FAILED, error);
  }
}

GcLedgerOutcome
gc_ledger_charge (GcLedger *ledger, const gchar *charge_id, gint64 creator_id,
                  const GcMoney *gross, gint64 occurred_at, gint64 *journal_id,
                  GError **error)
{
  g_autofree gchar *request = NULL;
  g_autofree gchar *creator_account = NULL;
  g_autoptr (GArray) lines = lines_new ();
  GcLedgerOutcome outcome;
  JournalHead head = {"charge", charge_id};
  GcMoney fee, creator;
  guint32 ppm = 0;

  g_return_val_if_fail (ledger != NULL && gross != NULL, GC_LEDGER_FAILED);
  g_return_val_if_fail (error == NULL || *error == NULL, GC_LEDGER_FAILED);

  if (!check_reference_text (charge_id, error) ||
      !check_creator (creator_id, error) || !check_money (gross, FALSE, error))
    return GC_LEDGER_FAILED;
  request = g_strdup_printf ("creator=%" G_GINT64_FORMAT
                             " gross=%" G_GINT64_FORMAT " %s",
                             creator_id, gross->amount, gross->currency);
  outcome =
      flow_start (ledger, "charge", charge_id, request, journal_id, error);
  if (outcome != GC_LEDGER_APPLIED)
    return outcome;

  head.request = request;
  head.creator = creator_id;
  head.occurred_at = occurred_at;
  if (!split_at (ledger, occurred_at, &head.split_version, &ppm, error) ||
      !gc_money_split (gross, ppm, &fee, &creator, error))
    return flow_finish (ledger, GC_LEDGER_FAILED, error);
  creator_account = gc_ledger_creator_account (creator_id);
  lines_add (lines, GC_LEDGER_ACCOUNT_VIEWER_PAYMENTS, -gross->amount,
             gross->currency);
  lines_add (lines, GC_LEDGER_ACCOUNT_PLATFORM_FEES, fee.amount, fee.currency);
  lines_add (lines, creator_account, creator.amount, creator.currency);
  if (!post (ledger, &head, lines, journal_id, error))
    return flow_finish (ledger, GC_LEDGER_FAILED, error);
  return flow_finish (ledger, GC_LEDGER_APPLIED, error);
}

/* Loads the charge journal @id (or, with @id 0, the one for @charge_id). */
static gboolean
load_charge (GcLedger *ledger, gint64 id, const gchar *charge_id,
             Charge *charge, GError **error)
{
  g_autoptr (sqlite3_stmt) head = NULL;
  g_autoptr (sqlite3_stmt) reversed = NULL;
  g_autofree gchar *creator_account = NULL;
  gboolean found = FALSE;
  gint64 sum = 0;
  int rc;

  head = prepare (
      ledger,
      "SELECT j.id, j.creator, j.split_version, s.platform_ppm, -e.amount,"
      " e.currency FROM journals j"
      " JOIN split_versions s ON s.version = j.split_version"
      " JOIN entries e ON e.journal = j.id"
      " JOIN accounts a ON a.id = e.account AND a.name = ?"
      " WHERE j.kind = 'charge' AND j.id = coalesce (?, (SELECT id"
      "   FROM journals WHERE kind = 'charge' AND reference = ?))",
      error);
  if (head == NULL)
    return FALSE;
  sqlite3_bind_text (head, 1, GC_LEDGER_ACCOUNT_VIEWER_PAYMENTS, -1,
                     SQLITE_STATIC);
  bind_optional_id (head, 2, id);
  if (charge_id != NULL)
    sqlite3_bind_text (head, 3, charge_id, -1, SQLITE_STATIC);
  rc = sqlite3_step (head);
  if (rc == SQLITE_DONE) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_NOT_FOUND,
                 "charge %s is not in the ledger",
                 charge_id != NULL ? charge_id : "(by id)");
    return FALSE;
  }
  if (rc != SQLITE_ROW)
    return storage_error (ledger, error, "read");
  charge->journal = sqlite3_column_int64 (head, 0);
  charge->creator = sqlite3_column_int64 (head, 1);
  charge->split_version = sqlite3_column_int64 (head, 2);
  charge->platform_ppm = (guint32)sqlite3_column_int64 (head, 3);
  charge->gross.amount = sqlite3_column_int64 (head, 4);
  g_strlcpy (charge->gross.currency,
             (const gchar *)sqlite3_column_text (head, 5),
             sizeof charge->gross.currency);

  /* What refunds and disputes have taken from the fee and the creator so
   * far: the fee has given back exactly fee(reversed) (see reverse()). */
  creator_account = gc_ledger_creator_account (charge->creator);
  reversed =
      prepare (ledger,
               "SELECT coalesce (sum (e.amount), 0) FROM entries e"
               " JOIN journals j ON j.id = e.journal"
               " JOIN accounts a ON a.id = e.account"
               " WHERE j.charge = ?"
               " AND j.kind IN ('refund', 'dispute_opened', 'dispute_won')"
               " AND a.name IN (?, ?)",
               error);
  if (reversed == NULL)
    return FALSE;
  sqlite3_bind_int64 (reversed, 1, charge->journal);
  sqlite3_bind_text (reversed, 2, GC_LEDGER_ACCOUNT_PLATFORM_FEES, -1,
                     SQLITE_STATIC);
  sqlite3_bind_text (reversed, 3, creator_account, -1, SQLITE_STATIC);
  if (!step_int64 (ledger, reversed, &sum, &found, error))
    return FALSE;
  charge->reversed = -sum;
  return TRUE;
}

/* Lines taking @amount (negative: giving it back) of @charge from the fee
 * and the creator to @counter_account. The fee's part is the change in
 * fee(total reversed), so however the reversals are cut and ordered, once
 * they total R the fee has given back exactly fee(R) — all of it for R =
 * gross — and each part is the split of its own amount to within one minor
 * unit. */
static void
reverse (const Charge *charge, const gchar *counter_account, gint64 amount,
         GArray *lines)
{
  g_autofree gchar *creator_account =
      gc_ledger_creator_account (charge->creator);
  gint64 after = charge->reversed + amount;
  gint64 fee_part =
      gc_money_platform_fee (after, charge->platform_ppm) -
      gc_money_platform_fee (charge->reversed, charge->platform_ppm);

  lines_add (lines, counter_account, amount, charge->gross.currency);
  lines_add (lines, GC_LEDGER_ACCOUNT_PLATFORM_FEES, -fee_part,
             charge->gross.currency);
  lines_add (lines, creator_account, -(amount - fee_part),
             charge->gross.currency);
}

/* Refunds and dispute openings: @amount out of what is left of the charge. */
static GcLedgerOutcome
take_from_charge (GcLedger *ledger, const gchar *kind, const gchar *reference,
                  const gchar *charge_id, const GcMoney *amount,
                  const gchar *counter_account, gint64 occurred_at,
                  gint64 *journal_id, GError **error)
{
  g_autofree gchar *request = NULL;
  g_autoptr (GArray) lines = lines_new ();
  GcLedgerOutcome outcome;
  JournalHead head = {kind, reference};
  Charge charge;

  if (!check_reference_text (reference, error) ||
      !check_reference_text (charge_id, error) ||
      !check_money (amount, FALSE, error))
    return GC_LEDGER_FAILED;
  request = g_strdup_printf ("charge=%s amount=%" G_GINT64_FORMAT " %s",
                             charge_id, amount->amount, amount->currency);
  outcome = flow_start (ledger, kind, reference, request, journal_id, error);
  if (outcome != GC_LEDGER_APPLIED)
    return outcome;

  if (!load_charge (ledger, 0, charge_id, &charge, error))
    return flow_finish (ledger, GC_LEDGER_FAILED, error);
  if (strcmp (charge.gross.currency, amount->currency) != 0) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_CURRENCY_MISMATCH,
                 "charge %s is in %s, not %s", charge_id, charge.gross.currency,
                 amount->currency);
    return flow_finish (ledger, GC_LEDGER_FAILED, error);
  }
  if (amount->amount > charge.gross.amount - charge.reversed) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_STATE,
                 "%" G_GINT64_FORMAT " is more than the %" G_GINT64_FORMAT
                 " left of charge %s",
                 amount->amount, charge.gross.amount - charge.reversed,
                 charge_id);
    return flow_finish (ledger, GC_LEDGER_FAILED, error);
  }
  head.request = request;
  head.charge = charge.journal;
  head.creator = charge.creator;
  head.split_version = charge.split_version;
  head.occurred_at = occurred_at;
  reverse (&charge, counter_account, amount->amount, lines);
  if (!post (ledger, &head, lines, journal_id, error))
    return flow_finish (ledger, GC_LEDGER_FAILED, error);
  return flow_finish (ledger, GC_LEDGER_APPLIED, error);
}

GcLedgerOutcome
gc_ledger_refund (GcLedger *ledger, const gchar *refund_id,
                  const gchar *charge_id, const GcMoney *amount,
                  gint64 occurred_at, gint64 *journal_id, GError **error)
{
  g_return_val_if_fail (ledger != NULL && amount != NULL, GC_LEDGER_FAILED);
  g_return_val_if_fail (error == NULL || *error == NULL, GC_LEDGER_FAILED);

  return take_from_charge (ledger, "refund", refund_id, charge_id, amount,
                           GC_LEDGER_ACCOUNT_VIEWER_PAYMENTS, occurred_at,
                           journal_id, error);
}

GcLedgerOutcome
gc_ledger_dispute_opened (GcLedger *ledger, const gchar *dispute_id,
                          const gchar *charge_id, const GcMoney *amount,
                          gint64 occurred_at, gint64 *journal_id,
                          GError **error)
{
  g_return_val_if_fail (ledger != NULL && amount != NULL, GC_LEDGER_FAILED);
  g_return_val_if_fail (error == NULL || *error == NULL, GC_LEDGER_FAILED);

  return take_from_charge (ledger, "dispute_opened", dispute_id, charge_id,
                           amount, GC_LEDGER_ACCOUNT_DISPUTES_HELD, occurred_at,
                           journal_id, error);
}

/* Closes dispute @dispute_id: @won gives the held money back to the fee and
 * the creator, otherwise it goes to the viewer. */
static GcLedgerOutcome
close_dispute (GcLedger *ledger, const gchar *dispute_id, gboolean won,
               gint64 occurred_at, gint64 *journal_id, GError **error)
{
  const gchar *kind = won ? "dispute_won" : "dispute_lost";
  g_autofree gchar *request = NULL;
  g_autoptr (GArray) lines = lines_new ();
  g_autoptr (sqlite3_stmt) opened = NULL;
  g_autoptr (sqlite3_stmt) closed = NULL;
  GcLedgerOutcome outcome;
  JournalHead head = {kind, dispute_id};
  Charge charge;
  gint64 charge_journal = 0, held = 0, other = 0;
  gboolean found = FALSE;

  if (!check_reference_text (dispute_id, error))
    return GC_LEDGER_FAILED;
  request = g_strdup_printf ("dispute=%s", dispute_id);
  outcome = flow_start (ledger, kind, dispute_id, request, journal_id, error);
  if (outcome != GC_LEDGER_APPLIED)
    return outcome;

  opened = prepare (ledger,
                    "SELECT j.charge, e.amount FROM journals j"
                    " JOIN entries e ON e.journal = j.id"
                    " JOIN accounts a ON a.id = e.account AND a.name = ?"
                    " WHERE j.kind = 'dispute_opened' AND j.reference = ?",
                    error);
  if (opened == NULL)
    return flow_finish (ledger, GC_LEDGER_FAILED, error);
  sqlite3_bind_text (opened, 1, GC_LEDGER_ACCOUNT_DISPUTES_HELD, -1,
                     SQLITE_STATIC);
  sqlite3_bind_text (opened, 2, dispute_id, -1, SQLITE_STATIC);
  if (!step_int64 (ledger, opened, &charge_journal, &found, error))
    return flow_finish (ledger, GC_LEDGER_FAILED, error);
  if (!found) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_NOT_FOUND,
                 "dispute %s was never opened in the ledger", dispute_id);
    return flow_finish (ledger, GC_LEDGER_FAILED, error);
  }
  held = sqlite3_column_int64 (opened, 1);

  closed = prepare (
      ledger, "SELECT 1 FROM journals WHERE kind = ? AND reference = ?", error);
  if (closed == NULL)
    return flow_finish (ledger, GC_LEDGER_FAILED, error);
  sqlite3_bind_text (closed, 1, won ? "dispute_lost" : "dispute_won", -1,
                     SQLITE_STATIC);
  sqlite3_bind_text (closed, 2, dispute_id, -1, SQLITE_STATIC);
  if (!step_int64 (ledger, closed, &other, &found, error))
    return flow_finish (ledger, GC_LEDGER_FAILED, error);
  if (found) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_STATE,
                 "dispute %s was already %s", dispute_id, won ? "lost" : "won");
    return flow_finish (ledger, GC_LEDGER_FAILED, error);
  }

  if (!load_charge (ledger, charge_journal, NULL, &charge, error))
    return flow_finish (ledger, GC_LEDGER_FAILED, error);
  head.request = request;
  head.charge = charge.journal;
  head.creator = charge.creator;
  head.split_version = charge.split_version;
  head.occurred_at = occurred_at;
  if (won) {
    reverse (&charge, GC_LEDGER_ACCOUNT_DISPUTES_HELD, -held, lines);
  } else {
    lines_add (lines, GC_LEDGER_ACCOUNT_DISPUTES_HELD, -held,
               charge.gross.currency);
    lines_add (lines, GC_LEDGER_ACCOUNT_VIEWER_PAYMENTS, held,
               charge.gross.currency);
  }
  if (!post (ledger, &head, lines, journal_id, error))
    return flow_finish (ledger, GC_LEDGER_FAILED, error);
  return flow_finish (ledger, GC_LEDGER_APPLIED, error);
}

GcLedgerOutcome
gc_ledger_dispute_won (GcLedger *ledger, const gchar *dispute_id,
                       gint64 occurred_at, gint64 *journal_id, GError **error)
{
  g_return_val_if_fail (ledger != NULL, GC_LEDGER_FAILED);
  g_return_val_if_fail (error == NULL || *error == NULL, GC_LEDGER_FAILED);

  return close_dispute (ledger, dispute_id, TRUE, occurred_at, journal_id,
                        error);
}

GcLedgerOutcome
gc_ledger_dispute_lost (GcLedger *ledger, const gchar *dispute_id,
                        gint64 occurred_at, gint64 *journal_id, GError **error)
{
  g_return_val_if_fail (ledger != NULL, GC_LEDGER_FAILED);
  g_return_val_if_fail (error == NULL || *error == NULL, GC_LEDGER_FAILED);

  return close_dispute (ledger, dispute_id, FALSE, occurred_at, journal_id,
                        error);
}

GcLedgerOutcome
gc_ledger_payout (GcLedger *ledger, const gchar *payout_id, gint64 creator_id,
                  const GcMoney *amount, const GcMoney *fee, gint64 occurred_at,
                  gint64 *journal_id, GError **error)
{
  g_autofree gchar *request = NULL;
  g_autofree gchar *creator_account = NULL;
  g_autoptr (GArray) lines = lines_new ();
  GcLedgerOutcome outcome;
  JournalHead head = {"payout", payout_id};
  gint64 available = 0;

  g_return_val_if_fail (ledger != NULL && amount != NULL && fee != NULL,
                        GC_LEDGER_FAILED);
  g_return_val_if_fail (error == NULL || *error == NULL, GC_LEDGER_FAILED);

  if (!check_reference_text (payout_id, error) ||
      !check_creator (creator_id, error) ||
      !check_money (amount, FALSE, error) || !check_money (fee, TRUE, error))
    return GC_LEDGER_FAILED;
  if (strcmp (amount->currency, fee->currency) != 0) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_CURRENCY_MISMATCH,
                 "payout in %s with a fee in %s", amount->currency,
                 fee->currency);
    return GC_LEDGER_FAILED;
  }
  if (fee->amount > amount->amount) {
    g_set_error_literal (error, GC_BILLING_ERROR,
                         GC_BILLING_ERROR_INVALID_ARGUMENT,
                         "a payout fee cannot exceed the payout");
    return GC_LEDGER_FAILED;
  }
  request = g_strdup_printf (
      "creator=%" G_GINT64_FORMAT " amount=%" G_GINT64_FORMAT
      " fee=%" G_GINT64_FORMAT " %s",
      creator_id, amount->amount, fee->amount, amount->currency);
  outcome =
      flow_start (ledger, "payout", payout_id, request, journal_id, error);
  if (outcome != GC_LEDGER_APPLIED)
    return outcome;

  creator_account = gc_ledger_creator_account (creator_id);
  if (!balance (ledger, creator_account, amount->currency, &available, error))
    return flow_finish (ledger, GC_LEDGER_FAILED, error);
  if (available < amount->amount) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INSUFFICIENT_FUNDS,
                 "creator %" G_GINT64_FORMAT " has %" G_GINT64_FORMAT
                 " %s, not %" G_GINT64_FORMAT,
                 creator_id, available, amount->currency, amount->amount);
    return flow_finish (ledger, GC_LEDGER_FAILED, error);
  }
  head.request = request;
  head.creator = creator_id;
  head.occurred_at = occurred_at;
  lines_add (lines, creator_account, -amount->amount, amount->currency);
  lines_add (lines, GC_LEDGER_ACCOUNT_PAYOUTS_SENT,
             amount->amount - fee->amount, amount->currency);
  lines_add (lines, GC_LEDGER_ACCOUNT_PAYOUT_FEES, fee->amount,
             amount->currency);
  if (!post (ledger, &head, lines, journal_id, error))
    return flow_finish (ledger, GC_LEDGER_FAILED, error);
  return flow_finish (ledger, GC_LEDGER_APPLIED, error);
}

GcLedgerOutcome
gc_ledger_adjust (GcLedger *ledger, const gchar *reference,
                  const GcLedgerEntry *entries, gsize n_entries,
                  gint64 occurred_at, gint64 *journal_id, GError **error)
{
  g_autoptr (GString) request = g_string_new (NULL);
  g_autoptr (GArray) lines = lines_new ();
  GcLedgerOutcome outcome;
  JournalHead head = {"adjustment", reference};

  g_return_val_if_fail (ledger != NULL, GC_LEDGER_FAILED);
  g_return_val_if_fail (entries != NULL || n_entries == 0, GC_LEDGER_FAILED);
  g_return_val_if_fail (error == NULL || *error == NULL, GC_LEDGER_FAILED);

  if (!check_reference_text (reference, error))
    return GC_LEDGER_FAILED;
  if (n_entries < 2 || n_entries > ADJUST_ENTRIES_MAX) {
    g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_UNBALANCED,
                 "an adjustment has 2 to %d entries", ADJUST_ENTRIES_MAX);
    return GC_LEDGER_FAILED;
  }
  for (gsize i = 0; i < n_entries; i++) {
    GcMoney money;

    if (!account_name_is_valid (entries[i].account)) {
      g_set_error (error, GC_BILLING_ERROR, GC_BILLING_ERROR_INVALID_ARGUMENT,
                   "\"%s\" is not an account name",
                   entries[i].account != NULL ? entries[i].account : "(null)");
      return GC_LEDGER_FAILED;
    }
    if (!gc_money_init (&money, entries[i].amount, entries[i].currency, error))
      return GC_LEDGER_FAILED;
    if (money.amount == 0) {
      g_set_error_literal (error, GC_BILLING_ERROR,
                           GC_BILLING_ERROR_INVALID_ARGUMENT,
                           "an entry of zero moves nothing");
      return GC_LEDGER_FAILED;
    }
    lines_add (lines, entries[i].account, money.amount, money.currency);
    g_string_append_printf (request, "%s%s %" G_GINT64_FORMAT " %s",
                            i > 0 ? "; " : "", entries[i].account, money.amount,
                            money.currency);
  }
  if (!check_balanced (lines, error))
    return GC_LEDGER_FAILED;

  outcome = flow_start (ledger, "adjustment", reference, request->str,
                        journal_id, error);
  if (outcome != GC_LEDGER_APPLIED)
    return outcome;
  head.request = request->str;
  head.occurred_at = occurred_at;
  if (!post (ledger, &head, lines, journal_id, error))
    return flow_finish (ledger, GC_LEDGER_FAILED, error);
  return flow_finish (ledger, GC_LEDGER_APPLIED, error);
}
