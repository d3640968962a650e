/* room-rules.c — the posting rules and the authorisation of moderation actions.
 * Every rule is O(message length) or O(1): one normalisation, one pass of the term automaton, hash lookups. */

#include "room-private.h"

#include <string.h>

#include "chat-error.h"
#include "normalize.h"

/* ":name:" tokens separated by white space, nothing else. */
static gboolean
is_emote_only (const gchar *text)
{
  const gchar *p = text;
  gboolean any = FALSE;

  while (*p != '\0') {
    const gchar *name;

    while (g_ascii_isspace (*p))
      p++;
    if (*p == '\0')
      break;
    if (*p != ':')
      return FALSE;
    name = ++p;
    while (g_ascii_isalnum (*p) || *p == '_')
      p++;
    if (*p != ':' || p == name || p - name > 32)
      return FALSE;
    p++;
    if (*p != '\0' && !g_ascii_isspace (*p))
      return FALSE;
    any = TRUE;
  }
  return any;
}

static GcChatVerdict refuse (GError **error, GcChatErrorCode code,
                             const gchar *format, ...) G_GNUC_PRINTF (3, 4);

static GcChatVerdict
refuse (GError **error, GcChatErrorCode code, const gchar *format, ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error,
                     g_error_new_valist (GC_CHAT_ERROR, code, format, args));
  va_end (args);
  return GC_CHAT_VERDICT_REFUSE;
}

GcChatVerdict
gc_chat_room_check_message (GcChatRoom *room, const GcChatIdentity *identity,
                            const gchar *text, gint64 now_ms,
                            GcChatCheck *check, GError **error)
{
  const gchar *login = gc_chat_identity_get_login (identity);
  const GcChatSettings *s = &room->settings;
  GcChatRoles roles;
  gboolean privileged, vip;
  glong n_chars;
  gint64 until;
  UserClock *clock;
  g_autofree gchar *norm = NULL;

  g_return_val_if_fail (check != NULL, GC_CHAT_VERDICT_REFUSE);
  check->retry_after_ms = 0;
  check->term = NULL;

  if (login == NULL)
    return refuse (error, GC_CHAT_ERROR_LOGIN_REQUIRED, "sign in to chat");
  if (g_hash_table_contains (room->bans, login) ||
      gc_chat_room_is_address_banned (room,
                                      gc_chat_identity_get_address (identity)))
    return refuse (error, GC_CHAT_ERROR_BANNED,
                   "you are banned from this chat");
  until = gc_chat_room_get_timeout (room, login, now_ms);
  if (until > 0) {
    check->retry_after_ms = until - now_ms;
    return refuse (error, GC_CHAT_ERROR_TIMED_OUT,
                   "you are timed out for %" G_GINT64_FORMAT " more seconds",
                   (check->retry_after_ms + 999) / 1000);
  }

  n_chars = g_utf8_strlen (text, -1);
  if (n_chars == 0)
    return refuse (error, GC_CHAT_ERROR_EMPTY, "message is empty");
  if ((gulong)n_chars > room->limits.max_message_chars)
    return refuse (error, GC_CHAT_ERROR_TOO_LONG,
                   "messages are limited to %u characters",
                   room->limits.max_message_chars);

  roles = gc_chat_room_get_roles (room, identity, now_ms);
  privileged = (roles & GC_CHAT_ROLES_PRIVILEGED) != 0;
  vip = (roles & GC_CHAT_ROLE_VIP) != 0;

  /* The rate limit protects everyone, so even moderators have one, only
   * five times larger. Counted on accepted messages (note_message). */
  clock = gc_chat_room_clock (room, login, FALSE);
  if (clock != NULL && !(roles & GC_CHAT_ROLE_BROADCASTER)) {
    gdouble capacity = room->limits.rate_messages * (privileged ? 5.0 : 1.0);
    UserClock probe = *clock;

    gc_chat_room_refill (room, &probe, capacity, now_ms);
    if (probe.tokens < 1.0) {
      gdouble per_ms =
          capacity / (MAX (room->limits.rate_window_seconds, 1) * 1000.0);

      check->retry_after_ms = (gint64)((1.0 - probe.tokens) / per_ms) + 1;
      return refuse (error, GC_CHAT_ERROR_RATE_LIMITED,
                     "too many messages: at most %u per %u seconds",
                     room->limits.rate_messages,
                     room->limits.rate_window_seconds);
    }
  }

  if (privileged)
    return GC_CHAT_VERDICT_ACCEPT;

  if (!vip) {
    if (s->subscribers_only && !(roles & GC_CHAT_ROLE_SUBSCRIBER))
      return refuse (error, GC_CHAT_ERROR_SUBSCRIBERS_ONLY,
                     "this chat is in subscribers-only mode");
    if (s->followers_minutes >= 0) {
      gint64 followed = gc_chat_identity_get_followed (identity);

      if (followed < 0)
        return refuse (error, GC_CHAT_ERROR_FOLLOWERS_ONLY,
                       "this chat is in followers-only mode");
      if (now_ms - followed < (gint64)s->followers_minutes * 60000) {
        check->retry_after_ms =
            followed + (gint64)s->followers_minutes * 60000 - now_ms;
        return refuse (error, GC_CHAT_ERROR_FOLLOWERS_ONLY,
                       "followers may chat after following for %d minutes",
                       s->followers_minutes);
      }
    }
    if (s->account_age_minutes > 0) {
      gint64 created = gc_chat_identity_get_account_created (identity);

      /* An unknown creation time fails closed: the gate exists to stop
       * fresh throw-away accounts. */
      if (created <= 0 ||
          now_ms - created < (gint64)s->account_age_minutes * 60000)
        return refuse (error, GC_CHAT_ERROR_ACCOUNT_TOO_NEW,
                       "accounts must be %u minutes old to chat here",
                       s->account_age_minutes);
    }
    if (s->slow_seconds > 0 && clock != NULL && clock->last_ms > 0) {
      gint64 wait = clock->last_ms + (gint64)s->slow_seconds * 1000 - now_ms;

      if (wait > 0) {
        check->retry_after_ms = wait;
        return refuse (error, GC_CHAT_ERROR_SLOW_MODE,
                       "slow mode: wait %" G_GINT64_FORMAT " more seconds",
                       (wait + 999) / 1000);
      }
    }
  }

  if (s->emote_only && !is_emote_only (text))
    return refuse (error, GC_CHAT_ERROR_EMOTE_ONLY,
                   "this chat is in emote-only mode");

  norm = gc_chat_normalize (text, -1);
  if (norm == NULL)
    return refuse (error, GC_CHAT_ERROR_BAD_REQUEST, "text is not UTF-8");

  if (s->unique_chat) {
    UniqueEntry *e = g_hash_table_lookup (room->unique_seen, norm);

    if (e != NULL &&
        now_ms - e->ts_ms < (gint64)room->limits.unique_window_seconds * 1000)
      return refuse (error, GC_CHAT_ERROR_DUPLICATE,
                     "unique chat: this message was sent recently");
  }

  if (room->terms != NULL) {
    gboolean hold = FALSE;
    gint hit = gc_chat_terms_match (room->terms, norm, &hold);

    if (hit >= 0) {
      check->term = g_strdup (gc_chat_terms_get (room->terms, (guint)hit));
      if (hold || s->review)
        return GC_CHAT_VERDICT_HOLD;
      return refuse (error, GC_CHAT_ERROR_BLOCKED_TERM,
                     "your message contains a blocked term");
    }
  }
  return GC_CHAT_VERDICT_ACCEPT;
}

static gboolean
forbid (GError **error, const gchar *message)
{
  g_set_error_literal (error, GC_CHAT_ERROR, GC_CHAT_ERROR_FORBIDDEN, message);
  return FALSE;
}

gboolean
gc_chat_room_authorize (GcChatRoom *room, const GcChatIdentity *actor,
                        const GcChatAction *action, gint64 now_ms,
                        GError **error)
{
  const gchar *login = gc_chat_identity_get_login (actor);
  GcChatRoles roles;
  GcChatRoles target = 0;

  if (!gc_chat_action_is_moderation (action->type))
    return TRUE;
  if (login == NULL) {
    g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_LOGIN_REQUIRED,
                 "sign in to moderate");
    return FALSE;
  }
  roles = gc_chat_room_get_roles (room, actor, now_ms);
  if (roles & (GC_CHAT_ROLE_BANNED | GC_CHAT_ROLE_TIMED_OUT) &&
      !(roles & GC_CHAT_ROLE_BROADCASTER))
    return forbid (error, "banned or timed-out users cannot moderate");
  if (!(roles & GC_CHAT_ROLES_PRIVILEGED))
    return forbid (error, "only moderators can do that");

  switch (action->type) {
    case GC_CHAT_ACTION_MOD:
    case GC_CHAT_ACTION_UNMOD:
      if (!(roles & GC_CHAT_ROLE_BROADCASTER))
        return forbid (error, "only the broadcaster can add or remove "
                              "moderators");
      break;
    case GC_CHAT_ACTION_BAN:
    case GC_CHAT_ACTION_TIMEOUT:
    case GC_CHAT_ACTION_CLEAR:
    case GC_CHAT_ACTION_VIP:
    case GC_CHAT_ACTION_UNVIP:
      if (action->user == NULL)
        break;
      if (g_str_equal (action->user, login) &&
          action->type != GC_CHAT_ACTION_CLEAR)
        return forbid (error, "you cannot do that to yourself");
      target = gc_chat_room_get_login_roles (room, action->user, now_ms);
      if (target & GC_CHAT_ROLE_BROADCASTER &&
          action->type != GC_CHAT_ACTION_VIP &&
          action->type != GC_CHAT_ACTION_UNVIP)
        return forbid (error, "the broadcaster cannot be moderated");
      if (target & GC_CHAT_ROLE_MODERATOR &&
          !(roles & GC_CHAT_ROLE_BROADCASTER))
        return forbid (error, "only the broadcaster can act on a moderator");
      break;
    default:
      break;
  }
  return TRUE;
}
