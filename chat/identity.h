/* identity.h — who is on a chat connection: login, display name, channel roles, account and follow age, address.
 * glasscastd builds one per WebSocket from its session; the chat library only reads it. */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Roles in one channel. The first four come from glasscastd (accounts,
 * billing); BANNED and TIMED_OUT are computed by the room and only ever
 * reported (welcome frames), never passed in. */
typedef enum {
  GC_CHAT_ROLE_NONE = 0,
  GC_CHAT_ROLE_BROADCASTER = 1 << 0,
  GC_CHAT_ROLE_MODERATOR = 1 << 1,
  GC_CHAT_ROLE_VIP = 1 << 2,
  GC_CHAT_ROLE_SUBSCRIBER = 1 << 3,
  GC_CHAT_ROLE_BANNED = 1 << 4,
  GC_CHAT_ROLE_TIMED_OUT = 1 << 5,
} GcChatRoles;

/* Broadcaster or moderator: may moderate, exempt from the chat modes. */
#define GC_CHAT_ROLES_PRIVILEGED                                               \
  (GC_CHAT_ROLE_BROADCASTER | GC_CHAT_ROLE_MODERATOR)

/* Immutable and atomically refcounted: the hub thread and the main context
 * share it without a lock. */
typedef struct _GcChatIdentity GcChatIdentity;

/* @login: (nullable): the account's unique username; NULL for an anonymous
 * viewer. Stored lower-cased: logins are compared case-insensitively.
 * @display_name: (nullable): shown name; defaults to @login.
 * @account_created_ms: creation time of the account (ms since epoch), 0 if
 * unknown. @followed_ms: since when the account follows the channel, -1 if it
 * does not. @address: (nullable): the client's IP address (bans by address).
 * Returns: (transfer full): a new identity. */
GcChatIdentity *gc_chat_identity_new (const gchar *login,
                                      const gchar *display_name,
                                      GcChatRoles roles,
                                      gint64 account_created_ms,
                                      gint64 followed_ms, const gchar *address);

/* Returns: (transfer full): an anonymous (read-only) viewer. */
GcChatIdentity *gc_chat_identity_new_anonymous (const gchar *address);

GcChatIdentity *gc_chat_identity_ref (GcChatIdentity *identity);
void gc_chat_identity_unref (GcChatIdentity *identity);

/* Returns: (nullable): the lower-cased login, NULL when anonymous. */
const gchar *gc_chat_identity_get_login (const GcChatIdentity *identity);
const gchar *gc_chat_identity_get_display_name (const GcChatIdentity *identity);
GcChatRoles gc_chat_identity_get_roles (const GcChatIdentity *identity);
gint64 gc_chat_identity_get_account_created (const GcChatIdentity *identity);
gint64 gc_chat_identity_get_followed (const GcChatIdentity *identity);
/* Returns: (nullable) */
const gchar *gc_chat_identity_get_address (const GcChatIdentity *identity);
gboolean gc_chat_identity_is_anonymous (const GcChatIdentity *identity);

/* Logins: 1 to 32 of [a-z0-9_], after lower-casing. */
gboolean gc_chat_login_is_valid (const gchar *login);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcChatIdentity, gc_chat_identity_unref)

G_END_DECLS
