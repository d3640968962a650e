/* identity.c — GcChatIdentity: an immutable, atomically refcounted description of a chat user.
 * Immutable because the hub thread holds it while the main context reads it. */

#include "identity.h"

struct _GcChatIdentity {
  gchar *login;        /* (nullable) lower-cased */
  gchar *display_name; /* never NULL */
  gchar *address;      /* (nullable) */
  GcChatRoles roles;
  gint64 account_created_ms;
  gint64 followed_ms;
};

gboolean
gc_chat_login_is_valid (const gchar *login)
{
  gsize n = 0;

  if (login == NULL)
    return FALSE;
  for (const gchar *p = login; *p != '\0'; p++, n++) {
    gchar c = g_ascii_tolower (*p);

    if (!(g_ascii_isdigit (c) || (c >= 'a' && c <= 'z') || c == '_'))
      return FALSE;
  }
  return n >= 1 && n <= 32;
}

static void
identity_clear (gpointer data)
{
  GcChatIdentity *identity = data;

  g_free (identity->login);
  g_free (identity->display_name);
  g_free (identity->address);
}

GcChatIdentity *
gc_chat_identity_new (const gchar *login, const gchar *display_name,
                      GcChatRoles roles, gint64 account_created_ms,
                      gint64 followed_ms, const gchar *address)
{
  GcChatIdentity *identity = g_atomic_rc_box_new0 (GcChatIdentity);

  identity->login = login ? g_ascii_strdown (login, -1) : NULL;
  if (display_name != NULL && *display_name != '\0')
    identity->display_name = g_strdup (display_name);
  else
    identity->display_name = g_strdup (login ? login : "anonymous");
  identity->address = g_strdup (address);
  /* Computed roles are the room's business; an anonymous viewer has none. */
  identity->roles =
      login ? roles & ~(GC_CHAT_ROLE_BANNED | GC_CHAT_ROLE_TIMED_OUT) : 0;
  identity->account_created_ms = account_created_ms;
  identity->followed_ms = followed_ms;
  return identity;
}

GcChatIdentity *
gc_chat_identity_new_anonymous (const gchar *address)
{
  return gc_chat_identity_new (NULL, NULL, GC_CHAT_ROLE_NONE, 0, -1, address);
}

GcChatIdentity *
gc_chat_identity_ref (GcChatIdentity *identity)
{
  g_return_val_if_fail (identity != NULL, NULL);
  return g_atomic_rc_box_acquire (identity);
}

void
gc_chat_identity_unref (GcChatIdentity *identity)
{
  if (identity != NULL)
    g_atomic_rc_box_release_full (identity, identity_clear);
}

const gchar *
gc_chat_identity_get_login (const GcChatIdentity *identity)
{
  g_return_val_if_fail (identity != NULL, NULL);
  return identity->login;
}

const gchar *
gc_chat_identity_get_display_name (const GcChatIdentity *identity)
{
  g_return_val_if_fail (identity != NULL, NULL);
  return identity->display_name;
}

GcChatRoles
gc_chat_identity_get_roles (const GcChatIdentity *identity)
{
  g_return_val_if_fail (identity != NULL, 0);
  return identity->roles;
}

gint64
gc_chat_identity_get_account_created (const GcChatIdentity *identity)
{
  g_return_val_if_fail (identity != NULL, 0);
  return identity->account_created_ms;
}

gint64
gc_chat_identity_get_followed (const GcChatIdentity *identity)
{
  g_return_val_if_fail (identity != NULL, -1);
  return identity->followed_ms;
}

const gchar *
gc_chat_identity_get_address (const GcChatIdentity *identity)
{
  g_return_val_if_fail (identity != NULL, NULL);
  return identity->address;
}

gboolean
gc_chat_identity_is_anonymous (const GcChatIdentity *identity)
{
  g_return_val_if_fail (identity != NULL, TRUE);
  return identity->login == NULL;
}
