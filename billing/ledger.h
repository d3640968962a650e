/* ledger.h — Glasscast's double-entry, append-only money ledger in SQLite (WAL, synchronous=FULL).
 * Every money movement is one journal of entries summing to zero per currency; balances are sums of entries. */

#pragma once

#include <glib.h>
#include <sqlite3.h>

#include "billing-error.h"
#include "money.h"

G_BEGIN_DECLS

/* Fixed account names (see billing/README.md for the journal each flow
 * writes). Creators' accounts are "creator:<id>:balance". A positive balance
 * is money attributed to that account: the platform's fees, what a creator
 * is owed; the outside world's accounts (viewers:payments) go negative as
 * money comes in. */
#define GC_LEDGER_ACCOUNT_VIEWER_PAYMENTS "viewers:payments"
#define GC_LEDGER_ACCOUNT_PLATFORM_FEES "platform:fees"
#define GC_LEDGER_ACCOUNT_PAYOUT_FEES "platform:payout-fees"
#define GC_LEDGER_ACCOUNT_DISPUTES_HELD "disputes:held"
#define GC_LEDGER_ACCOUNT_PAYOUTS_SENT "payouts:sent"
/* Longer account names and external references are refused. */
#define GC_LEDGER_NAME_MAX 128

/* Seconds since the Unix epoch; tests inject one to move time. */
typedef gint64 (*GcLedgerClockFunc) (gpointer user_data);

/* What a flow did. Applying the same external reference again does nothing
 * and says so: webhooks may be delivered twice. */
typedef enum {
  GC_LEDGER_FAILED = 0, /* with a GError; nothing was written */
  GC_LEDGER_APPLIED,
  GC_LEDGER_ALREADY_APPLIED,
} GcLedgerOutcome;

/* One line of an adjustment journal. */
typedef struct {
  const gchar *account;
  gint64 amount;
  const gchar *currency;
} GcLedgerEntry;

/* Not thread-safe: glasscastd uses it from its main context only (SQLite
 * work here is a few indexed statements per webhook). */
typedef struct _GcLedger GcLedger;

/* Opens (creating if needed) the ledger at @path: WAL, synchronous=FULL,
 * foreign keys, the append-only triggers, and split version 1 (the 85/15
 * default, effective from the epoch) if there is none.
 * Returns: (transfer full) (nullable): the ledger, or NULL with @error. */
GcLedger *gc_ledger_open (const gchar *path, GError **error);

void gc_ledger_free (GcLedger *ledger);

/* Replaces the wall clock (for tests); @func NULL restores it. */
void gc_ledger_set_clock (GcLedger *ledger, GcLedgerClockFunc func,
                          gpointer user_data);

/* The connection, for a caller's own tables in the same file (e.g. the
 * webhook events processed) written inside gc_ledger_begin()/commit().
 * Returns: (transfer none). */
sqlite3 *gc_ledger_get_db (GcLedger *ledger);

/* Exactly-once with a caller's writes: between gc_ledger_begin() (BEGIN
 * IMMEDIATE) and gc_ledger_commit(), flows join the caller's transaction
 * (each in a savepoint, so a refused flow leaves the caller's other writes
 * alone) and the caller writes through gc_ledger_get_db(); all of it
 * commits or none. gc_ledger_rollback() undoes everything since begin.
 * Not nestable. Outside begin/commit each flow is its own transaction. */
gboolean gc_ledger_begin (GcLedger *ledger, GError **error);
gboolean gc_ledger_commit (GcLedger *ledger, GError **error);
void gc_ledger_rollback (GcLedger *ledger);

/* Runs @func inside gc_ledger_begin()/commit(); rolls back when it returns
 * FALSE (it must then set @error). */
typedef gboolean (*GcLedgerTransactionFunc) (GcLedger *ledger, sqlite3 *db,
                                             gpointer user_data,
                                             GError **error);
gboolean gc_ledger_run_in_transaction (GcLedger *ledger,
                                       GcLedgerTransactionFunc func,
                                       gpointer user_data, GError **error);

/* Split configuration: insert-only, effective-dated versions. Adds a version
 * giving the platform @platform_ppm from @effective_from (seconds; not
 * before now: history is not rewritten). @version: (out) (optional). */
gboolean gc_ledger_add_split_version (GcLedger *ledger, guint32 platform_ppm,
                                      gint64 effective_from, gint64 *version,
                                      GError **error);

/* The version in effect at @when: the one with the latest effective_from
 * at or before @when (the later-added one on a tie). */
gboolean gc_ledger_split_at (GcLedger *ledger, gint64 when, gint64 *version,
                             guint32 *platform_ppm, GError **error);

/* The flows. Each is idempotent by its external reference (Stripe's object
 * id): a second call with the same reference returns
 * GC_LEDGER_ALREADY_APPLIED and writes nothing, or fails with CONFLICT if
 * the request differs. @occurred_at: when it happened at Stripe (seconds);
 * @journal_id: (out) (optional): the journal written (or found). */

/* A viewer paid @gross (> 0) to creator @creator_id: the platform's fee by
 * the split version in effect at @occurred_at (recorded on the journal),
 * the rest to the creator. */
GcLedgerOutcome gc_ledger_charge (GcLedger *ledger, const gchar *charge_id,
                                  gint64 creator_id, const GcMoney *gross,
                                  gint64 occurred_at, gint64 *journal_id,
                                  GError **error);

/* @amount (> 0, the charge's currency, at most what is left of it) goes
 * back to the viewer, taken from the fee and the creator in the charge's
 * split, cumulatively: after refunds totalling R the fee has given back
 * exactly fee(R), so a full refund (in any number of parts) reverses the
 * charge exactly. NOT_FOUND if the charge is not in the ledger (yet). */
GcLedgerOutcome gc_ledger_refund (GcLedger *ledger, const gchar *refund_id,
                                  const gchar *charge_id, const GcMoney *amount,
                                  gint64 occurred_at, gint64 *journal_id,
                                  GError **error);

/* Stripe withdrew @amount for a dispute: moved to disputes:held out of the
 * fee and the creator's share, exactly like a refund. */
GcLedgerOutcome gc_ledger_dispute_opened (GcLedger *ledger,
                                          const gchar *dispute_id,
                                          const gchar *charge_id,
                                          const GcMoney *amount,
                                          gint64 occurred_at,
                                          gint64 *journal_id, GError **error);

/* The dispute was won: the held amount returns to the fee and the creator.
 * Lost: it goes to the viewer (the split stays as the opening left it).
 * A dispute closes once: INVALID_STATE for won after lost and vice versa. */
GcLedgerOutcome gc_ledger_dispute_won (GcLedger *ledger,
                                       const gchar *dispute_id,
                                       gint64 occurred_at, gint64 *journal_id,
                                       GError **error);
GcLedgerOutcome gc_ledger_dispute_lost (GcLedger *ledger,
                                        const gchar *dispute_id,
                                        gint64 occurred_at, gint64 *journal_id,
                                        GError **error);

/* Pays creator @creator_id out: @amount (> 0) leaves their balance,
 * @fee (0 to @amount, same currency) of it to platform:payout-fees, the
 * rest to payouts:sent. INSUFFICIENT_FUNDS above the balance. */
GcLedgerOutcome gc_ledger_payout (GcLedger *ledger, const gchar *payout_id,
                                  gint64 creator_id, const GcMoney *amount,
                                  const GcMoney *fee, gint64 occurred_at,
                                  gint64 *journal_id, GError **error);

/* A manual correction: any entries (2 to 64, non-zero amounts, known
 * currencies) that sum to zero per currency, else UNBALANCED. */
GcLedgerOutcome gc_ledger_adjust (GcLedger *ledger, const gchar *reference,
                                  const GcLedgerEntry *entries, gsize n_entries,
                                  gint64 occurred_at, gint64 *journal_id,
                                  GError **error);

/* The sum of @account's entries in @currency (0 for an unknown account). */
gboolean gc_ledger_balance (GcLedger *ledger, const gchar *account,
                            const gchar *currency, gint64 *balance,
                            GError **error);

/* Returns: (transfer full): "creator:<id>:balance". */
gchar *gc_ledger_creator_account (gint64 creator_id);

/* Checks the whole ledger: every journal, and all entries together, sum to
 * zero in each currency. UNBALANCED otherwise (which the posting code and
 * the triggers are there to make impossible). */
gboolean gc_ledger_verify (GcLedger *ledger, GError **error);

G_END_DECLS
