/* accounts.c — the accounts store: SQLite schema, sign-up and password checks with libsodium's Argon2id,
 * session tokens (token.c) with revocation, per-channel roles. Never logs a password, hash or token. */

#include "accounts.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#define USERNAME_MIN 3
#define USERNAME_MAX 25
#define PASSWORD_MIN_CHARS 8
#define PASSWORD_MAX_BYTES 1024
#define CHANNEL_MAX_BYTES 64
#define TOKEN_TTL_MAX (366 * 24 * 3600)
#define SECRET_FILE "session-secret"
#define BUSY_TIMEOUT_MS 5000

struct _GcAccounts {
  GMutex lock;
  sqlite3 *db;                             /* guarded by lock */
  guint8 secret[GC_ACCOUNTS_SECRET_BYTES]; /* immutable after open */
  /* The hash an unknown user is checked against; immutable after open. */
  gchar dummy_hash[crypto_pwhash_STRBYTES];
  GcAccountsClockFunc clock; /* guarded by lock */
  gpointer clock_data;       /* guarded by lock */
};

static const gchar schema[] =
    "CREATE TABLE IF NOT EXISTS accounts ("
    "  id INTEGER PRIMARY KEY,"
    "  username TEXT NOT NULL UNIQUE,"
    "  password_hash TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS revoked_tokens ("
    "  nonce TEXT PRIMARY KEY,"
    "  expiry INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS channel_roles ("
    "  channel TEXT NOT NULL,"
    "  account INTEGER NOT NULL REFERENCES accounts (id),"
    "  roles INTEGER NOT NULL,"
    "  granted_by INTEGER NOT NULL,"
    "  granted_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (channel, account));"
    "PRAGMA user_version = 1;";

static gboolean
storage_error (GcAccounts *accounts, GError **error, const gchar *what)
{
  g_set_error (error, GC_ACCOUNTS_ERROR, GC_ACCOUNTS_ERROR_STORAGE, "%s: %s",
               what, sqlite3_errmsg (accounts->db));
  return FALSE;
}

/* Called with lock held. */
static gint64
now_seconds_locked (GcAccounts *accounts)
{
  if (accounts->clock != NULL)
    return accounts->clock (accounts->clock_data);
  return g_get_real_time () / G_USEC_PER_SEC;
}

static gint64
now_seconds (GcAccounts *accounts)
{
  gint64 now;

  g_mutex_lock (&accounts->lock);
  now = now_seconds_locked (accounts);
  g_mutex_unlock (&accounts->lock);
  return now;
}

static gboolean
exec (GcAccounts *accounts, const gchar *sql, GError **error)
{
  if (sqlite3_exec (accounts->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return storage_error (accounts, error, "database");
  return TRUE;
}

static sqlite3_stmt *
prepare (GcAccounts *accounts, const gchar *sql, GError **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (accounts->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
    storage_error (accounts, error, "prepare");
    return NULL;
  }
  return stmt;
}

/* Reads the secret file, or creates it (0600, O_EXCL so two processes
 * starting together can't both write one) when missing. */
static gboolean
load_secret (const gchar *db_path, guint8 *secret, GError **error)
{
  g_autofree gchar *dir = g_path_get_dirname (db_path);
  g_autofree gchar *file = g_build_filename (dir, SECRET_FILE, NULL);
  g_autofree gchar *contents = NULL;
  gsize len = 0;
  int fd;

  fd = g_open (file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    gsize done = 0;

    randombytes_buf (secret, GC_ACCOUNTS_SECRET_BYTES);
    while (done < GC_ACCOUNTS_SECRET_BYTES) {
      ssize_t n = write (fd, secret + done, GC_ACCOUNTS_SECRET_BYTES - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0) {
        int saved = errno;

        close (fd);
        g_unlink (file);
        g_set_error (error, GC_ACCOUNTS_ERROR, GC_ACCOUNTS_ERROR_STORAGE,
                     "writing %s: %s", file, g_strerror (saved));
        return FALSE;
      }
      done += (gsize)n;
    }
    if (fsync (fd) != 0 || close (fd) != 0) {
      g_set_error (error, GC_ACCOUNTS_ERROR, GC_ACCOUNTS_ERROR_STORAGE,
                   "writing %s: %s", file, g_strerror (errno));
      return FALSE;
    }
    return TRUE;
  }
  if (errno != EEXIST) {
    g_set_error (error, GC_ACCOUNTS_ERROR, GC_ACCOUNTS_ERROR_STORAGE,
                 "creating %s: %s", file, g_strerror (errno));
    return FALSE;
  }
  if (!g_file_get_contents (file, &contents, &len, error))
    return FALSE;
  if (len != GC_ACCOUNTS_SECRET_BYTES) {
    sodium_memzero (contents, len);
    g_set_error (error, GC_ACCOUNTS_ERROR, GC_ACCOUNTS_ERROR_STORAGE,
                 "%s: expected %d bytes", file, GC_ACCOUNTS_SECRET_BYTES);
    return FALSE;
  }
  memcpy (secret, contents, len);
  sodium_memzero (contents, len);
  return TRUE;
}

static GcAccounts *
open_store (const gchar *path, const guint8 *secret, GError **error)
{
  g_autoptr (GcAccounts) accounts = NULL;
  guint8 dummy_password[16];

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (sodium_init () < 0) {
    g_set_error_literal (error, GC_ACCOUNTS_ERROR, GC_ACCOUNTS_ERROR_STORAGE,
                         "libsodium failed to initialise");
    return NULL;
  }

  accounts = g_new0 (GcAccounts, 1);
  g_mutex_init (&accounts->lock);
  if (secret != NULL)
    memcpy (accounts->secret, secret, GC_ACCOUNTS_SECRET_BYTES);
  else if (!load_secret (path, accounts->secret, error))
    return NULL;

  if (sqlite3_open_v2 (path, &accounts->db,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                           SQLITE_OPEN_NOMUTEX,
                       NULL) != SQLITE_OK) {
    g_set_error (error, GC_ACCOUNTS_ERROR, GC_ACCOUNTS_ERROR_STORAGE,
                 "opening %s: %s", path,
                 accounts->db != NULL ? sqlite3_errmsg (accounts->db)
                                      : "out of memory");
    return NULL;
  }
  sqlite3_busy_timeout (accounts->db, BUSY_TIMEOUT_MS);
  /* FULL: an account or a revocation acknowledged to a client survives a
   * power cut. */
  if (!exec (accounts,
             "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
             "PRAGMA foreign_keys = ON;",
             error) ||
      !exec (accounts, schema, error))
    return NULL;

  /* Hashed once here so an unknown user costs the same Argon2id work as a
   * known one; the password is random and thrown away. */
  randombytes_buf (dummy_password, sizeof dummy_password);
  if (crypto_pwhash_str (accounts->dummy_hash, (const char *)dummy_password,
                         sizeof dummy_password,
                         crypto_pwhash_OPSLIMIT_INTERACTIVE,
                         crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    g_set_error_literal (error, GC_ACCOUNTS_ERROR, GC_ACCOUNTS_ERROR_STORAGE,
                         "out of memory hashing");
    return NULL;
  }
  sodium_memzero (dummy_password, sizeof dummy_password);

  if (!gc_accounts_purge_revoked (accounts, error))
    return NULL;
  return g_steal_pointer (&accounts);
}

GcAccounts *
gc_accounts_open (const gchar *path, GError **error)
{
  return open_store (path, NULL, error);
}

GcAccounts *
gc_accounts_open_with_secret (const gchar *path, const guint8 *secret,
                              GError **error)
{
  g_return_val_if_fail (secret != NULL, NULL);
  return open_store (path, secret, error);
}

void
gc_accounts_free (GcAccounts *accounts)
{
  if (accounts == NULL)
    return;
  g_clear_pointer (&accounts->db, sqlite3_close);
  sodium_memzero (accounts->secret, sizeof accounts->secret);
  g_mutex_clear (&accounts->lock);
  g_free (accounts);
}

void
gc_accounts_set_clock (GcAccounts *accounts, GcAccountsClockFunc func,
                       gpointer user_data)
{
  g_return_if_fail (accounts != NULL);
  g_mutex_lock (&accounts->lock);
  accounts->clock = func;
  accounts->clock_data = user_data;
  g_mutex_unlock (&accounts->lock);
}

gboolean
gc_accounts_username_is_valid (const gchar *username)
{
  gsize len;

  if (username == NULL)
    return FALSE;
  len = strnlen (username, USERNAME_MAX + 1);
  if (len < USERNAME_MIN || len > USERNAME_MAX)
    return FALSE;
  for (gsize i = 0; i < len; i++) {
    gchar c = g_ascii_tolower (username[i]);

    if (!(c >= 'a' && c <= 'z') && !g_ascii_isdigit (c) && c != '_')
      return FALSE;
  }
  return TRUE;
}

static gboolean
check_password (const gchar *password, GError **error)
{
  gsize len = strnlen (password, PASSWORD_MAX_BYTES + 1);

  if (len > PASSWORD_MAX_BYTES ||
      !g_utf8_validate (password, (gssize)len, NULL) ||
      g_utf8_strlen (password, (gssize)len) < PASSWORD_MIN_CHARS) {
    g_set_error (error, GC_ACCOUNTS_ERROR, GC_ACCOUNTS_ERROR_WEAK_PASSWORD,
                 "passwords need at least %d characters (at most %d bytes)",
                 PASSWORD_MIN_CHARS, PASSWORD_MAX_BYTES);
    return FALSE;
  }
  return TRUE;
}

gint64
gc_accounts_sign_up (GcAccounts *accounts, const gchar *username,
                     const gchar *password, GError **error)
{
  g_autofree gchar *login = NULL;
  gchar hash[crypto_pwhash_STRBYTES];
  sqlite3_stmt *stmt;
  gint64 id = 0;
  int rc;

  g_return_val_if_fail (accounts != NULL, 0);
  g_return_val_if_fail (username != NULL, 0);
  g_return_val_if_fail (password != NULL, 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  if (!gc_accounts_username_is_valid (username)) {
    g_set_error (error, GC_ACCOUNTS_ERROR, GC_ACCOUNTS_ERROR_INVALID_USERNAME,
                 "usernames are %d to %d of a-z, 0-9 and _", USERNAME_MIN,
                 USERNAME_MAX);
    return 0;
  }
  if (!check_password (password, error))
    return 0;
  login = g_ascii_strdown (username, -1);

  /* Hash outside the lock: it is the slow part. */
  if (crypto_pwhash_str (hash, password, strlen (password),
                         crypto_pwhash_OPSLIMIT_INTERACTIVE,
                         crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    g_set_error_literal (error, GC_ACCOUNTS_ERROR, GC_ACCOUNTS_ERROR_STORAGE,
                         "out of memory hashing");
    return 0;
  }

  g_mutex_lock (&accounts->lock);
  stmt = prepare (accounts,
                  "INSERT INTO accounts (username, password_hash, created_ms)"
                  " VALUES (?, ?, ?)",
                  error);
  if (stmt != NULL) {
    sqlite3_bind_text (stmt, 1, login, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 3, now_seconds_locked (accounts) * 1000);
    rc = sqlite3_step (stmt);
    if (rc == SQLITE_DONE)
      id = sqlite3_last_insert_rowid (accounts->db);
    else if (sqlite3_extended_errcode (accounts->db) ==
             SQLITE_CONSTRAINT_UNIQUE)
      g_set_error (error, GC_ACCOUNTS_ERROR, GC_ACCOUNTS_ERROR_USERNAME_TAKEN,
                   "username %s is taken", login);
    else
      storage_error (accounts, error, "sign-up");
    sqlite3_finalize (stmt);
  }
  g_mutex_unlock (&accounts->lock);
  sodium_memzero (hash, sizeof hash);
  return id;
}

gint64
gc_accounts_verify (GcAccounts *accounts, const gchar *username,
                    const gchar *password, GError **error)
{
  g_autofree gchar *login = NULL;
  gchar hash[crypto_pwhash_STRBYTES];
  gint64 id = 0;
  sqlite3_stmt *stmt;
  gboolean found = FALSE;
  gboolean ok;

  g_return_val_if_fail (accounts != NULL, 0);
  g_return_val_if_fail (username != NULL, 0);
  g_return_val_if_fail (password != NULL, 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  /* An invalid name can't exist; it still goes through the dummy hash so
   * nothing about the answer depends on the name's shape. */
  if (gc_accounts_username_is_valid (username))
    login = g_ascii_strdown (username, -1);

  if (login != NULL) {
    g_mutex_lock (&accounts->lock);
    stmt = prepare (accounts,
                    "SELECT id, password_hash FROM accounts WHERE username = ?",
                    error);
    if (stmt == NULL) {
      g_mutex_unlock (&accounts->lock);
      return 0;
    }
    sqlite3_bind_text (stmt, 1, login, -1, SQLITE_STATIC);
    if (sqlite3_step (stmt) == SQLITE_ROW) {
      const char *stored = (const char *)sqlite3_column_text (stmt, 1);

      if (stored != NULL && strlen (stored) < sizeof hash) {
        id = sqlite3_column_int64 (stmt, 0);
        g_strlcpy (hash, stored, sizeof hash);
        found = TRUE;
      }
    }
    sqlite3_finalize (stmt);
    g_mutex_unlock (&accounts->lock);
  }
  if (!found)
    g_strlcpy (hash, accounts->dummy_hash, sizeof hash);

  ok = crypto_pwhash_str_verify (hash, password, strlen (password)) == 0;
  sodium_memzero (hash, sizeof hash);
  if (!ok || !found) {
    g_set_error_literal (error, GC_ACCOUNTS_ERROR,
                         GC_ACCOUNTS_ERROR_BAD_CREDENTIALS,
                         "unknown username or wrong password");
    return 0;
  }
  return id;
}

gboolean
gc_accounts_lookup (GcAccounts *accounts, gint64 account_id, gchar **username,
                    gint64 *created_ms, GError **error)
{
  sqlite3_stmt *stmt;
  gboolean ok = FALSE;
  int rc;

  g_return_val_if_fail (accounts != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_mutex_lock (&accounts->lock);
  stmt =
      prepare (accounts,
               "SELECT username, created_ms FROM accounts WHERE id = ?", error);
  if (stmt != NULL) {
    sqlite3_bind_int64 (stmt, 1, account_id);
    rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW) {
      if (username != NULL)
        *username = g_strdup ((const gchar *)sqlite3_column_text (stmt, 0));
      if (created_ms != NULL)
        *created_ms = sqlite3_column_int64 (stmt, 1);
      ok = TRUE;
    } else if (rc == SQLITE_DONE) {
      g_set_error (error, GC_ACCOUNTS_ERROR, GC_ACCOUNTS_ERROR_NOT_FOUND,
                   "no account %" G_GINT64_FORMAT, account_id);
    } else {
      storage_error (accounts, error, "lookup");
    }
    sqlite3_finalize (stmt);
  }
  g_mutex_unlock (&accounts->lock);
  return ok;
}

gint64
gc_accounts_find (GcAccounts *accounts, const gchar *username, GError **error)
{
  g_autofree gchar *login = NULL;
  sqlite3_stmt *stmt;
  gint64 id = 0;
  int rc;

  g_return_val_if_fail (accounts != NULL, 0);
  g_return_val_if_fail (username != NULL, 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  if (!gc_accounts_username_is_valid (username)) {
    g_set_error_literal (error, GC_ACCOUNTS_ERROR, GC_ACCOUNTS_ERROR_NOT_FOUND,
                         "no such account");
    return 0;
  }
  login = g_ascii_strdown (username, -1);
  g_mutex_lock (&accounts->lock);
  stmt =
      prepare (accounts, "SELECT id FROM accounts WHERE username = ?", error);
  if (stmt != NULL) {
    sqlite3_bind_text (stmt, 1, login, -1, SQLITE_STATIC);
    rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW)
      id = sqlite3_column_int64 (stmt, 0);
    else if (rc == SQLITE_DONE)
      g_set_error (error, GC_ACCOUNTS_ERROR, GC_ACCOUNTS_ERROR_NOT_FOUND,
                   "no account %s", login);
    else
      storage_error (accounts, error, "find");
    sqlite3_finalize (stmt);
  }
  g_mutex_unlock (&accounts->lock);
  return id;
}

gchar *
gc_accounts_issue_token (GcAccounts *accounts, gint64 account_id,
                         gint64 ttl_seconds, GError **error)
{
  guint8 nonce[GC_ACCOUNTS_NONCE_BYTES];
  gchar *token;

  g_return_val_if_fail (accounts != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (account_id <= 0 || ttl_seconds <= 0 || ttl_seconds > TOKEN_TTL_MAX) {
    g_set_error (error, GC_ACCOUNTS_ERROR, GC_ACCOUNTS_ERROR_INVALID_ARGUMENT,
                 "token lifetimes are 1 to %d seconds", TOKEN_TTL_MAX);
    return NULL;
  }
  randombytes_buf (nonce, sizeof nonce);
  token =
      gc_accounts_token_format (accounts->secret, account_id,
                                now_seconds (accounts) + ttl_seconds, nonce);
  sodium_memzero (nonce, sizeof nonce);
  return token;
}

/* Called with lock held. Returns: TRUE if @nonce is revoked, FALSE if not or
 * on error (then @error is set). */
static gboolean
is_revoked_locked (GcAccounts *accounts, const gchar *nonce, GError **error)
{
  sqlite3_stmt *stmt;
  gboolean revoked = FALSE;
  int rc;

  stmt =
      prepare (accounts, "SELECT 1 FROM revoked_tokens WHERE nonce = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, nonce, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    revoked = TRUE;
  else if (rc != SQLITE_DONE)
    storage_error (accounts, error, "revocation lookup");
  sqlite3_finalize (stmt);
  return revoked;
}

gint64
gc_accounts_check_token (GcAccounts *accounts, const gchar *token,
                         GError **error)
{
  g_autofree gchar *nonce = NULL;
  GError *local = NULL;
  gint64 id, expiry;
  gboolean revoked;

  g_return_val_if_fail (accounts != NULL, 0);
  g_return_val_if_fail (token != NULL, 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  if (!gc_accounts_token_parse (accounts->secret, token, &id, &expiry, &nonce,
                                error))
    return 0;

  g_mutex_lock (&accounts->lock);
  if (now_seconds_locked (accounts) >= expiry) {
    g_mutex_unlock (&accounts->lock);
    g_set_error_literal (error, GC_ACCOUNTS_ERROR,
                         GC_ACCOUNTS_ERROR_TOKEN_EXPIRED, "session expired");
    return 0;
  }
  revoked = is_revoked_locked (accounts, nonce, &local);
  g_mutex_unlock (&accounts->lock);
  if (local != NULL) {
    g_propagate_error (error, local);
    return 0;
  }
  if (revoked) {
    g_set_error_literal (error, GC_ACCOUNTS_ERROR,
                         GC_ACCOUNTS_ERROR_TOKEN_REVOKED, "signed out");
    return 0;
  }
  return id;
}

gboolean
gc_accounts_revoke_token (GcAccounts *accounts, const gchar *token,
                          GError **error)
{
  g_autofree gchar *nonce = NULL;
  sqlite3_stmt *stmt;
  gint64 expiry;
  gboolean ok = FALSE;

  g_return_val_if_fail (accounts != NULL, FALSE);
  g_return_val_if_fail (token != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* Only signed tokens reach the table, so nobody can fill it with junk. */
  if (!gc_accounts_token_parse (accounts->secret, token, NULL, &expiry, &nonce,
                                error))
    return FALSE;

  g_mutex_lock (&accounts->lock);
  if (now_seconds_locked (accounts) >= expiry) {
    g_mutex_unlock (&accounts->lock);
    return TRUE;
  }
  stmt = prepare (accounts,
                  "INSERT OR IGNORE INTO revoked_tokens (nonce, expiry)"
                  " VALUES (?, ?)",
                  error);
  if (stmt != NULL) {
    sqlite3_bind_text (stmt, 1, nonce, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, expiry);
    if (sqlite3_step (stmt) == SQLITE_DONE)
      ok = TRUE;
    else
      storage_error (accounts, error, "revoke");
    sqlite3_finalize (stmt);
  }
  g_mutex_unlock (&accounts->lock);
  return ok;
}

gboolean
gc_accounts_purge_revoked (GcAccounts *accounts, GError **error)
{
  sqlite3_stmt *stmt;
  gboolean ok = FALSE;

  g_return_val_if_fail (accounts != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_mutex_lock (&accounts->lock);
  stmt =
      prepare (accounts, "DELETE FROM revoked_tokens WHERE expiry <= ?", error);
  if (stmt != NULL) {
    sqlite3_bind_int64 (stmt, 1, now_seconds_locked (accounts));
    if (sqlite3_step (stmt) == SQLITE_DONE)
      ok = TRUE;
    else
      storage_error (accounts, error, "purge");
    sqlite3_finalize (stmt);
  }
  g_mutex_unlock (&accounts->lock);
  return ok;
}

static gboolean
check_channel (const gchar *channel, GError **error)
{
  gsize len = strnlen (channel, CHANNEL_MAX_BYTES + 1);

  if (len == 0 || len > CHANNEL_MAX_BYTES ||
      !g_utf8_validate (channel, (gssize)len, NULL)) {
    g_set_error (error, GC_ACCOUNTS_ERROR, GC_ACCOUNTS_ERROR_INVALID_ARGUMENT,
                 "channel names are 1 to %d bytes of UTF-8", CHANNEL_MAX_BYTES);
    return FALSE;
  }
  return TRUE;
}

gboolean
gc_accounts_set_roles (GcAccounts *accounts, const gchar *channel,
                       gint64 account_id, GcAccountsRoles roles,
                       gint64 granted_by, GError **error)
{
  sqlite3_stmt *stmt;
  gboolean ok = FALSE;

  g_return_val_if_fail (accounts != NULL, FALSE);
  g_return_val_if_fail (channel != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_channel (channel, error))
    return FALSE;
  if ((roles & ~GC_ACCOUNTS_ROLES_ALL) != 0 || granted_by < 0) {
    g_set_error_literal (error, GC_ACCOUNTS_ERROR,
                         GC_ACCOUNTS_ERROR_INVALID_ARGUMENT,
                         "only broadcaster, moderator, VIP and subscriber "
                         "can be granted");
    return FALSE;
  }

  g_mutex_lock (&accounts->lock);
  if (roles == GC_ACCOUNTS_ROLE_NONE)
    stmt = prepare (accounts,
                    "DELETE FROM channel_roles WHERE channel = ?1"
                    " AND account = ?2",
                    error);
  else
    stmt = prepare (accounts,
                    "INSERT OR REPLACE INTO channel_roles"
                    " (channel, account, roles, granted_by, granted_ms)"
                    " VALUES (?1, ?2, ?3, ?4, ?5)",
                    error);
  if (stmt != NULL) {
    sqlite3_bind_text (stmt, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, account_id);
    if (roles != GC_ACCOUNTS_ROLE_NONE) {
      sqlite3_bind_int (stmt, 3, (int)roles);
      sqlite3_bind_int64 (stmt, 4, granted_by);
      sqlite3_bind_int64 (stmt, 5, now_seconds_locked (accounts) * 1000);
    }
    if (sqlite3_step (stmt) == SQLITE_DONE)
      ok = TRUE;
    else if (sqlite3_extended_errcode (accounts->db) ==
             SQLITE_CONSTRAINT_FOREIGNKEY)
      g_set_error (error, GC_ACCOUNTS_ERROR, GC_ACCOUNTS_ERROR_NOT_FOUND,
                   "no account %" G_GINT64_FORMAT, account_id);
    else
      storage_error (accounts, error, "set roles");
    sqlite3_finalize (stmt);
  }
  g_mutex_unlock (&accounts->lock);
  return ok;
}

gboolean
gc_accounts_get_roles (GcAccounts *accounts, const gchar *channel,
                       gint64 account_id, GcAccountsRoles *roles,
                       gint64 *granted_by, gint64 *granted_ms, GError **error)
{
  sqlite3_stmt *stmt;
  gboolean ok = FALSE;
  int rc;

  g_return_val_if_fail (accounts != NULL, FALSE);
  g_return_val_if_fail (channel != NULL, FALSE);
  g_return_val_if_fail (roles != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_channel (channel, error))
    return FALSE;

  g_mutex_lock (&accounts->lock);
  stmt = prepare (accounts,
                  "SELECT roles, granted_by, granted_ms FROM channel_roles"
                  " WHERE channel = ? AND account = ?",
                  error);
  if (stmt != NULL) {
    sqlite3_bind_text (stmt, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, account_id);
    rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
      gboolean row = rc == SQLITE_ROW;

      *roles = row ? (GcAccountsRoles)(sqlite3_column_int (stmt, 0) &
                                       GC_ACCOUNTS_ROLES_ALL)
                   : GC_ACCOUNTS_ROLE_NONE;
      if (granted_by != NULL)
        *granted_by = row ? sqlite3_column_int64 (stmt, 1) : 0;
      if (granted_ms != NULL)
        *granted_ms = row ? sqlite3_column_int64 (stmt, 2) : 0;
      ok = TRUE;
    } else {
      storage_error (accounts, error, "get roles");
    }
    sqlite3_finalize (stmt);
  }
  g_mutex_unlock (&accounts->lock);
  return ok;
}

void
gc_accounts_grant_free (GcAccountsGrant *grant)
{
  if (grant == NULL)
    return;
  g_free (grant->username);
  g_free (grant);
}

GPtrArray *
gc_accounts_list_roles (GcAccounts *accounts, const gchar *channel,
                        GError **error)
{
  g_autoptr (GPtrArray) grants = NULL;
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (accounts != NULL, NULL);
  g_return_val_if_fail (channel != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_channel (channel, error))
    return NULL;

  grants =
      g_ptr_array_new_with_free_func ((GDestroyNotify)gc_accounts_grant_free);
  g_mutex_lock (&accounts->lock);
  stmt = prepare (accounts,
                  "SELECT r.account, a.username, r.roles, r.granted_by,"
                  " r.granted_ms FROM channel_roles r"
                  " JOIN accounts a ON a.id = r.account"
                  " WHERE r.channel = ? ORDER BY a.username",
                  error);
  if (stmt == NULL) {
    g_mutex_unlock (&accounts->lock);
    return NULL;
  }
  sqlite3_bind_text (stmt, 1, channel, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
    GcAccountsGrant *grant = g_new0 (GcAccountsGrant, 1);

    grant->account_id = sqlite3_column_int64 (stmt, 0);
    grant->username = g_strdup ((const gchar *)sqlite3_column_text (stmt, 1));
    grant->roles =
        (GcAccountsRoles)(sqlite3_column_int (stmt, 2) & GC_ACCOUNTS_ROLES_ALL);
    grant->granted_by = sqlite3_column_int64 (stmt, 3);
    grant->granted_ms = sqlite3_column_int64 (stmt, 4);
    g_ptr_array_add (grants, grant);
  }
  if (rc != SQLITE_DONE) {
    storage_error (accounts, error, "list roles");
    sqlite3_finalize (stmt);
    g_mutex_unlock (&accounts->lock);
    return NULL;
  }
  sqlite3_finalize (stmt);
  g_mutex_unlock (&accounts->lock);
  return g_steal_pointer (&grants);
}
