/* room.c — GcChatRoom state: bans, timeouts, role grants, blocked terms, user clocks, history, review queue.
 * Actions from this node and from others (via Redis) change it through gc_chat_room_apply() alone. */

#include "room-private.h"

#include <string.h>

#include "chat-error.h"
#include "normalize.h"

void
gc_chat_limits_init (GcChatLimits *limits)
{
  limits->max_message_chars = 500;
  limits->rate_messages = 20;
  limits->rate_window_seconds = 30;
  limits->unique_window_seconds = 30;
  limits->history_length = 100;
  limits->max_blocked_terms = 1000;
}

void
gc_chat_check_clear (GcChatCheck *check)
{
  g_clear_pointer (&check->term, g_free);
  check->retry_after_ms = 0;
}

static void
known_user_free (gpointer data)
{
  KnownUser *k = data;

  g_ptr_array_unref (k->addresses);
  g_free (k);
}

static void
unique_entry_free (gpointer data)
{
  UniqueEntry *e = data;

  g_free (e->text);
  g_free (e);
}

static void
held_free (gpointer data)
{
  Held *h = data;

  gc_chat_message_unref (h->msg);
  g_free (h->term);
  g_free (h);
}

GcChatRoom *
gc_chat_room_new (const gchar *name, const GcChatLimits *limits)
{
  GcChatRoom *room = g_new0 (GcChatRoom, 1);

  g_return_val_if_fail (name != NULL, NULL);

  room->name = g_strdup (name);
  if (limits != NULL)
    room->limits = *limits;
  else
    gc_chat_limits_init (&room->limits);
  gc_chat_settings_init (&room->settings);
  room->bans = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  room->address_bans =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  room->timeouts =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  room->grants =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  room->known =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, known_user_free);
  room->clocks =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  room->term_specs =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  /* Entries are owned by the queue; the table only indexes them. */
  room->unique_seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_queue_init (&room->unique_queue);
  g_queue_init (&room->history);
  g_queue_init (&room->held);
  return room;
}

void
gc_chat_room_free (GcChatRoom *room)
{
  if (room == NULL)
    return;
  g_free (room->name);
  g_hash_table_unref (room->bans);
  g_hash_table_unref (room->address_bans);
  g_hash_table_unref (room->timeouts);
  g_hash_table_unref (room->grants);
  g_hash_table_unref (room->known);
  g_hash_table_unref (room->clocks);
  g_hash_table_unref (room->term_specs);
  g_clear_pointer (&room->terms, gc_chat_terms_free);
  g_hash_table_unref (room->unique_seen);
  g_queue_clear_full (&room->unique_queue, unique_entry_free);
  g_queue_clear_full (&room->history, (GDestroyNotify)gc_chat_message_unref);
  g_queue_clear_full (&room->held, held_free);
  g_free (room);
}

const gchar *
gc_chat_room_get_name (const GcChatRoom *room)
{
  return room->name;
}

const GcChatSettings *
gc_chat_room_get_settings (const GcChatRoom *room)
{
  return &room->settings;
}

const GcChatLimits *
gc_chat_room_get_limits (const GcChatRoom *room)
{
  return &room->limits;
}

gchar *
gc_chat_clean_text (const gchar *text)
{
  GString *out = g_string_sized_new (strlen (text));

  for (const gchar *p = text; *p != '\0'; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);

    if (g_unichar_iscntrl (c))
      g_string_append_c (out, ' ');
    else
      g_string_append_unichar (out, c);
  }
  g_strstrip (out->str);
  out->len = strlen (out->str);
  return g_string_free (out, FALSE);
}

void
gc_chat_room_note_identity (GcChatRoom *room, const GcChatIdentity *identity)
{
  const gchar *login = gc_chat_identity_get_login (identity);
  const gchar *address = gc_chat_identity_get_address (identity);
  KnownUser *k;

  if (login == NULL)
    return;
  k = g_hash_table_lookup (room->known, login);
  if (k == NULL) {
    k = g_new0 (KnownUser, 1);
    k->addresses = g_ptr_array_new_with_free_func (g_free);
    g_hash_table_insert (room->known, g_strdup (login), k);
  }
  k->roles = gc_chat_identity_get_roles (identity);
  if (address == NULL)
    return;
  for (guint i = 0; i < k->addresses->len; i++)
    if (g_str_equal (g_ptr_array_index (k->addresses, i), address))
      return;
  if (k->addresses->len >= 4)
    g_ptr_array_remove_index (k->addresses, 0);
  g_ptr_array_add (k->addresses, g_strdup (address));
}

static GcChatRoles
with_room_state (GcChatRoom *room, const gchar *login, GcChatRoles roles,
                 gint64 now_ms)
{
  Grant *g = g_hash_table_lookup (room->grants, login);

  if (g != NULL)
    roles = (roles | g->granted) & ~g->revoked;
  if (g_hash_table_contains (room->bans, login))
    roles |= GC_CHAT_ROLE_BANNED;
  if (gc_chat_room_get_timeout (room, login, now_ms) > 0)
    roles |= GC_CHAT_ROLE_TIMED_OUT;
  return roles;
}

GcChatRoles
gc_chat_room_get_roles (GcChatRoom *room, const GcChatIdentity *identity,
                        gint64 now_ms)
{
  const gchar *login = gc_chat_identity_get_login (identity);

  if (login == NULL)
    return GC_CHAT_ROLE_NONE;
  return with_room_state (room, login, gc_chat_identity_get_roles (identity),
                          now_ms);
}

GcChatRoles
gc_chat_room_get_login_roles (GcChatRoom *room, const gchar *login,
                              gint64 now_ms)
{
  KnownUser *k = g_hash_table_lookup (room->known, login);

  return with_room_state (room, login, k ? k->roles : 0, now_ms);
}

gboolean
gc_chat_room_is_banned (GcChatRoom *room, const gchar *login)
{
  return login != NULL && g_hash_table_contains (room->bans, login);
}

gboolean
gc_chat_room_is_address_banned (GcChatRoom *room, const gchar *address)
{
  return address != NULL && g_hash_table_contains (room->address_bans, address);
}

gint64
gc_chat_room_get_timeout (GcChatRoom *room, const gchar *login, gint64 now_ms)
{
  gint64 *until = login ? g_hash_table_lookup (room->timeouts, login) : NULL;

  return until != NULL && *until > now_ms ? *until : 0;
}

GPtrArray *
gc_chat_room_list_terms (GcChatRoom *room)
{
  GPtrArray *out = g_ptr_array_new ();
  GHashTableIter it;
  gpointer key;

  g_hash_table_iter_init (&it, room->term_specs);
  while (g_hash_table_iter_next (&it, &key, NULL))
    g_ptr_array_add (out, key);
  return out;
}

/* The automaton is rebuilt on every change of the list, never per message:
 * term lists change a few times per stream, messages arrive many times per
 * second. */
static void
recompile_terms (GcChatRoom *room)
{
  g_autoptr (GArray) specs =
      g_array_new (FALSE, FALSE, sizeof (GcChatTermSpec));
  GHashTableIter it;
  gpointer key, value;

  g_hash_table_iter_init (&it, room->term_specs);
  while (g_hash_table_iter_next (&it, &key, &value)) {
    GcChatTermSpec spec = {key, GPOINTER_TO_INT (value)};

    g_array_append_val (specs, spec);
  }
  g_clear_pointer (&room->terms, gc_chat_terms_free);
  if (specs->len > 0)
    room->terms =
        gc_chat_terms_compile ((GcChatTermSpec *)specs->data, specs->len);
}

void
gc_chat_room_reset_state (GcChatRoom *room)
{
  g_hash_table_remove_all (room->bans);
  g_hash_table_remove_all (room->address_bans);
  g_hash_table_remove_all (room->timeouts);
  g_hash_table_remove_all (room->grants);
  g_hash_table_remove_all (room->term_specs);
  g_clear_pointer (&room->terms, gc_chat_terms_free);
}

void
gc_chat_room_set_settings (GcChatRoom *room, const GcChatSettings *settings)
{
  room->settings = *settings;
}

void
gc_chat_room_set_ban (GcChatRoom *room, const gchar *login)
{
  g_hash_table_add (room->bans, g_ascii_strdown (login, -1));
}

void
gc_chat_room_set_address_ban (GcChatRoom *room, const gchar *address)
{
  g_hash_table_add (room->address_bans, g_strdup (address));
}

void
gc_chat_room_set_timeout (GcChatRoom *room, const gchar *login, gint64 until_ms)
{
  if (until_ms <= 0) {
    g_hash_table_remove (room->timeouts, login);
    return;
  }
  g_hash_table_insert (room->timeouts, g_ascii_strdown (login, -1),
                       g_memdup2 (&until_ms, sizeof until_ms));
}

void
gc_chat_room_set_grant (GcChatRoom *room, const gchar *login,
                        GcChatRoles granted, GcChatRoles revoked)
{
  Grant *g;

  if (granted == 0 && revoked == 0) {
    g_hash_table_remove (room->grants, login);
    return;
  }
  g = g_new0 (Grant, 1);
  g->granted = granted;
  g->revoked = revoked;
  g_hash_table_insert (room->grants, g_ascii_strdown (login, -1), g);
}

void
gc_chat_room_get_grant (GcChatRoom *room, const gchar *login,
                        GcChatRoles *granted, GcChatRoles *revoked)
{
  Grant *g = g_hash_table_lookup (room->grants, login);

  *granted = g ? g->granted : 0;
  *revoked = g ? g->revoked : 0;
}

gboolean
gc_chat_room_set_term (GcChatRoom *room, const gchar *term, gboolean hold,
                       GError **error)
{
  g_autofree gchar *canonical = gc_chat_term_canonicalize (term, error);

  if (canonical == NULL)
    return FALSE;
  if (!g_hash_table_contains (room->term_specs, canonical) &&
      g_hash_table_size (room->term_specs) >= room->limits.max_blocked_terms) {
    g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST,
                 "at most %u blocked terms per room",
                 room->limits.max_blocked_terms);
    return FALSE;
  }
  g_hash_table_insert (room->term_specs, g_steal_pointer (&canonical),
                       GINT_TO_POINTER (hold ? 1 : 0));
  recompile_terms (room);
  return TRUE;
}

UserClock *
gc_chat_room_clock (GcChatRoom *room, const gchar *login, gboolean create)
{
  UserClock *c = g_hash_table_lookup (room->clocks, login);

  if (c == NULL && create) {
    c = g_new0 (UserClock, 1);
    c->tokens = -1; /* full on first use */
    g_hash_table_insert (room->clocks, g_strdup (login), c);
  }
  return c;
}

void
gc_chat_room_refill (GcChatRoom *room, UserClock *clock, gdouble capacity,
                     gint64 now_ms)
{
  gdouble per_ms =
      capacity / (MAX (room->limits.rate_window_seconds, 1) * 1000.0);

  if (clock->tokens < 0 || now_ms < clock->tokens_ms)
    clock->tokens = capacity;
  else
    clock->tokens =
        MIN (capacity, clock->tokens + (now_ms - clock->tokens_ms) * per_ms);
  clock->tokens_ms = now_ms;
}

void
gc_chat_room_set_slow_clock (GcChatRoom *room, const gchar *login,
                             gint64 last_ms)
{
  UserClock *c = gc_chat_room_clock (room, login, TRUE);

  c->last_ms = MAX (c->last_ms, last_ms);
}

static void
ban_known_addresses (GcChatRoom *room, const gchar *login, GPtrArray *added)
{
  KnownUser *k = g_hash_table_lookup (room->known, login);

  for (guint i = 0; k && i < k->addresses->len; i++) {
    const gchar *a = g_ptr_array_index (k->addresses, i);

    if (g_hash_table_add (room->address_bans, g_strdup (a)))
      g_ptr_array_add (added, g_strdup (a));
  }
}

gboolean
gc_chat_room_apply (GcChatRoom *room, const GcChatAction *action, gint64 now_ms,
                    GPtrArray **added_addresses, GError **error)
{
  g_autoptr (GPtrArray) added = g_ptr_array_new_with_free_func (g_free);
  GcChatRoles granted = 0, revoked = 0;

  if (action->user != NULL)
    gc_chat_room_get_grant (room, action->user, &granted, &revoked);

  switch (action->type) {
    case GC_CHAT_ACTION_BAN:
      if (action->user != NULL) {
        gc_chat_room_set_ban (room, action->user);
        g_hash_table_remove (room->timeouts, action->user);
        if (action->by_address)
          ban_known_addresses (room, action->user, added);
      }
      if (action->address != NULL &&
          g_hash_table_add (room->address_bans, g_strdup (action->address)))
        g_ptr_array_add (added, g_strdup (action->address));
      break;
    case GC_CHAT_ACTION_UNBAN:
      if (action->user != NULL)
        g_hash_table_remove (room->bans, action->user);
      if (action->address != NULL)
        g_hash_table_remove (room->address_bans, action->address);
      break;
    case GC_CHAT_ACTION_TIMEOUT:
      gc_chat_room_set_timeout (room, action->user,
                                now_ms + action->seconds * 1000);
      break;
    case GC_CHAT_ACTION_UNTIMEOUT:
      g_hash_table_remove (room->timeouts, action->user);
      break;
    case GC_CHAT_ACTION_SETTINGS:
      gc_chat_settings_apply (&room->settings, &action->settings);
      break;
    case GC_CHAT_ACTION_MOD:
      gc_chat_room_set_grant (room, action->user,
                              granted | GC_CHAT_ROLE_MODERATOR,
                              revoked & ~GC_CHAT_ROLE_MODERATOR);
      break;
    case GC_CHAT_ACTION_UNMOD:
      gc_chat_room_set_grant (room, action->user,
                              granted & ~GC_CHAT_ROLE_MODERATOR,
                              revoked | GC_CHAT_ROLE_MODERATOR);
      break;
    case GC_CHAT_ACTION_VIP:
      gc_chat_room_set_grant (room, action->user, granted | GC_CHAT_ROLE_VIP,
                              revoked & ~GC_CHAT_ROLE_VIP);
      break;
    case GC_CHAT_ACTION_UNVIP:
      gc_chat_room_set_grant (room, action->user, granted & ~GC_CHAT_ROLE_VIP,
                              revoked | GC_CHAT_ROLE_VIP);
      break;
    case GC_CHAT_ACTION_BLOCK:
      if (!gc_chat_room_set_term (room, action->term, action->hold, error))
        return FALSE;
      break;
    case GC_CHAT_ACTION_UNBLOCK: {
      g_autofree gchar *canonical =
          gc_chat_term_canonicalize (action->term, error);

      if (canonical == NULL)
        return FALSE;
      if (!g_hash_table_remove (room->term_specs, canonical)) {
        g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_NOT_FOUND,
                     "\"%s\" is not a blocked term", canonical);
        return FALSE;
      }
      recompile_terms (room);
      break;
    }
    case GC_CHAT_ACTION_CLEAR:
    case GC_CHAT_ACTION_DELETE:
    case GC_CHAT_ACTION_APPROVE:
    case GC_CHAT_ACTION_REJECT:
    case GC_CHAT_ACTION_JOIN:
    case GC_CHAT_ACTION_SEND:
      /* History and queue effects: see the functions below. */
      break;
  }
  if (added_addresses != NULL)
    *added_addresses = g_steal_pointer (&added);
  return TRUE;
}

void
gc_chat_room_expire (GcChatRoom *room, gint64 now_ms)
{
  GHashTableIter it;
  gpointer value;
  gint64 keep_ms = MAX ((gint64)room->settings.slow_seconds * 1000,
                        (gint64)room->limits.rate_window_seconds * 1000);

  g_hash_table_iter_init (&it, room->clocks);
  while (g_hash_table_iter_next (&it, NULL, &value)) {
    UserClock *c = value;

    /* A clock older than the longest interval it can enforce is the same
     * as no clock: a full token bucket and no slow-mode wait. */
    if (now_ms - MAX (c->last_ms, c->tokens_ms) > keep_ms)
      g_hash_table_iter_remove (&it);
  }
  g_hash_table_iter_init (&it, room->timeouts);
  while (g_hash_table_iter_next (&it, NULL, &value))
    if (*(gint64 *)value <= now_ms)
      g_hash_table_iter_remove (&it);
  while (room->unique_queue.head != NULL) {
    UniqueEntry *e = room->unique_queue.head->data;

    if (now_ms - e->ts_ms < (gint64)room->limits.unique_window_seconds * 1000)
      break;
    g_hash_table_remove (room->unique_seen, e->text);
    unique_entry_free (g_queue_pop_head (&room->unique_queue));
  }
}

/* ---- history and review ------------------------------------------------ */

void
gc_chat_room_note_message (GcChatRoom *room, GcChatMessage *msg)
{
  UserClock *c = gc_chat_room_clock (room, msg->user, TRUE);
  g_autofree gchar *norm = gc_chat_normalize (msg->text, -1);
  gboolean privileged = (msg->badges & GC_CHAT_ROLES_PRIVILEGED) != 0;
  gdouble capacity = room->limits.rate_messages * (privileged ? 5.0 : 1.0);

  c->last_ms = MAX (c->last_ms, msg->ts_ms);
  gc_chat_room_refill (room, c, capacity, msg->ts_ms);
  c->tokens = MAX (c->tokens - 1, 0);

  if (norm != NULL) {
    UniqueEntry *e = g_hash_table_lookup (room->unique_seen, norm);

    if (e != NULL) {
      /* Keep the queue in time order: the old entry goes, a new one is
       * appended. */
      g_queue_remove (&room->unique_queue, e);
      g_hash_table_remove (room->unique_seen, norm);
      unique_entry_free (e);
    }
    e = g_new0 (UniqueEntry, 1);
    e->text = g_steal_pointer (&norm);
    e->ts_ms = msg->ts_ms;
    g_queue_push_tail (&room->unique_queue, e);
    g_hash_table_insert (room->unique_seen, e->text, e);
  }

  gc_chat_room_add_history (room, msg);
}

void
gc_chat_room_add_history (GcChatRoom *room, GcChatMessage *msg)
{
  if (gc_chat_room_find_message (room, msg->id) != NULL)
    return;
  g_queue_push_tail (&room->history, gc_chat_message_ref (msg));
  while (room->history.length > room->limits.history_length)
    gc_chat_message_unref (g_queue_pop_head (&room->history));
}

GPtrArray *
gc_chat_room_get_history (GcChatRoom *room, guint max, gint64 since_ms)
{
  GPtrArray *out = g_ptr_array_new ();
  GList *l = room->history.tail;

  /* Walk back past the newest @max messages newer than @since_ms; @l ends
   * on the first one left out (or NULL: none is). */
  for (guint n = 0; l != NULL && n < max; l = l->prev, n++)
    if (((GcChatMessage *)l->data)->ts_ms <= since_ms)
      break;
  for (GList *s = l ? l->next : room->history.head; s != NULL; s = s->next)
    g_ptr_array_add (out, s->data);
  return out;
}

GcChatMessage *
gc_chat_room_find_message (GcChatRoom *room, const gchar *id)
{
  for (GList *l = room->history.tail; l != NULL; l = l->prev)
    if (g_str_equal (((GcChatMessage *)l->data)->id, id))
      return l->data;
  return NULL;
}

gboolean
gc_chat_room_remove_message (GcChatRoom *room, const gchar *id)
{
  for (GList *l = room->history.head; l != NULL; l = l->next) {
    GcChatMessage *m = l->data;

    if (g_str_equal (m->id, id)) {
      g_queue_delete_link (&room->history, l);
      gc_chat_message_unref (m);
      return TRUE;
    }
  }
  return FALSE;
}

guint
gc_chat_room_remove_messages_by (GcChatRoom *room, const gchar *user)
{
  guint n = 0;

  for (GList *l = room->history.head; l != NULL;) {
    GList *next = l->next;
    GcChatMessage *m = l->data;

    if (user == NULL || g_str_equal (m->user, user)) {
      g_queue_delete_link (&room->history, l);
      gc_chat_message_unref (m);
      n++;
    }
    l = next;
  }
  return n;
}

void
gc_chat_room_merge_history (GcChatRoom *room, GPtrArray *newest_first)
{
  gint64 oldest_here = room->history.head
                           ? ((GcChatMessage *)room->history.head->data)->ts_ms
                           : G_MAXINT64;

  /* Everything from Redis older than what we hold goes underneath, oldest
   * at the head; newer or duplicate entries are already here. */
  for (guint i = 0; i < newest_first->len; i++) {
    GcChatMessage *m = g_ptr_array_index (newest_first, i);

    if (room->history.length >= room->limits.history_length)
      break;
    if (m->ts_ms > oldest_here || gc_chat_room_find_message (room, m->id))
      continue;
    g_queue_push_head (&room->history, gc_chat_message_ref (m));
  }
}

void
gc_chat_room_hold (GcChatRoom *room, GcChatMessage *msg, const gchar *term)
{
  Held *h;

  for (GList *l = room->held.head; l != NULL; l = l->next)
    if (g_str_equal (((Held *)l->data)->msg->id, msg->id))
      return;
  h = g_new0 (Held, 1);
  h->msg = gc_chat_message_ref (msg);
  h->term = g_strdup (term);
  g_queue_push_tail (&room->held, h);
  /* A queue nobody works through must not grow without bound. */
  while (room->held.length > 1000)
    held_free (g_queue_pop_head (&room->held));
}

GcChatMessage *
gc_chat_room_take_held (GcChatRoom *room, const gchar *id)
{
  for (GList *l = room->held.head; l != NULL; l = l->next) {
    Held *h = l->data;

    if (g_str_equal (h->msg->id, id)) {
      GcChatMessage *msg = gc_chat_message_ref (h->msg);

      g_queue_delete_link (&room->held, l);
      held_free (h);
      return msg;
    }
  }
  return NULL;
}

GPtrArray *
gc_chat_room_list_held (GcChatRoom *room)
{
  GPtrArray *out = g_ptr_array_new ();

  for (GList *l = room->held.head; l != NULL; l = l->next)
    g_ptr_array_add (out, ((Held *)l->data)->msg);
  return out;
}

const gchar *
gc_chat_room_get_held_term (GcChatRoom *room, const gchar *id)
{
  for (GList *l = room->held.head; l != NULL; l = l->next)
    if (g_str_equal (((Held *)l->data)->msg->id, id))
      return ((Held *)l->data)->term;
  return NULL;
}
