/* room.h — one chat room's moderation state and rules: settings, bans, timeouts, role grants, blocked terms,
 * slow-mode clocks, unique-chat window, rate limits, recent history and the review queue.
 * A node's local cache of what Redis holds; owned by the main context, no locks. */

#pragma once

#include <glib.h>

#include "action.h"
#include "identity.h"
#include "message.h"
#include "settings.h"
#include "terms.h"

G_BEGIN_DECLS

typedef struct {
  guint max_message_chars;     /* after trimming; default 500 */
  guint rate_messages;         /* per user per window; default 20 */
  guint rate_window_seconds;   /* default 30 */
  guint unique_window_seconds; /* unique-chat memory; default 30 */
  guint history_length;        /* recent messages kept; default 100 */
  guint max_blocked_terms;     /* per room; default 1000 */
} GcChatLimits;

void gc_chat_limits_init (GcChatLimits *limits);

typedef struct _GcChatRoom GcChatRoom;

typedef enum {
  GC_CHAT_VERDICT_ACCEPT,
  GC_CHAT_VERDICT_HOLD,   /* matched a hold term: to the review queue */
  GC_CHAT_VERDICT_REFUSE, /* error set */
} GcChatVerdict;

/* What a check found out beyond the verdict. */
typedef struct {
  gint64 retry_after_ms; /* slow mode, timeout, rate limit: when to retry */
  gchar *term;           /* (nullable) the blocked term that matched */
} GcChatCheck;

void gc_chat_check_clear (GcChatCheck *check);

GcChatRoom *gc_chat_room_new (const gchar *name, const GcChatLimits *limits);
void gc_chat_room_free (GcChatRoom *room);

const gchar *gc_chat_room_get_name (const GcChatRoom *room);
const GcChatSettings *gc_chat_room_get_settings (const GcChatRoom *room);
const GcChatLimits *gc_chat_room_get_limits (const GcChatRoom *room);

/* Trims @text and turns control characters into spaces.
 * Returns: (transfer full): the text as it will be shown. */
gchar *gc_chat_clean_text (const gchar *text);

/* Remembers the roles and address of a user seen on a connection, so that
 * authorisation knows a target's roles and "ban by address" knows where the
 * user connects from. */
void gc_chat_room_note_identity (GcChatRoom *room,
                                 const GcChatIdentity *identity);

/* The effective roles of @identity now: its own, plus grants and minus
 * revocations made in the room (/mod, /unvip ...), plus BANNED/TIMED_OUT. */
GcChatRoles gc_chat_room_get_roles (GcChatRoom *room,
                                    const GcChatIdentity *identity,
                                    gint64 now_ms);

/* The same for a login that may not be connected here. */
GcChatRoles gc_chat_room_get_login_roles (GcChatRoom *room, const gchar *login,
                                          gint64 now_ms);

/* ---- rules (room-rules.c) --------------------------------------------- */

/* Runs every posting rule for @text (already cleaned) from @identity, in
 * O(length of @text). Does not record anything: call note_message once the
 * message is accepted. */
GcChatVerdict gc_chat_room_check_message (GcChatRoom *room,
                                          const GcChatIdentity *identity,
                                          const gchar *text, gint64 now_ms,
                                          GcChatCheck *check, GError **error);

/* Records an accepted message (local or from another node) in the slow-mode
 * clock, rate limit, unique-chat window and history. */
void gc_chat_room_note_message (GcChatRoom *room, GcChatMessage *msg);

/* Appends @msg to the history only (a tip: no clocks, no unique-chat
 * window); a message already there by id is not added twice. */
void gc_chat_room_add_history (GcChatRoom *room, GcChatMessage *msg);

/* May @actor take @action here? Role checks and target protection
 * (nobody acts on the broadcaster; moderators not on moderators). */
gboolean gc_chat_room_authorize (GcChatRoom *room, const GcChatIdentity *actor,
                                 const GcChatAction *action, gint64 now_ms,
                                 GError **error);

/* ---- state (room.c) ---------------------------------------------------- */

/* Applies a moderation action's effect on the state (not join/send, not
 * the history effects of delete/clear: see the history functions).
 * @added_addresses: (out) (optional) (transfer full): addresses newly banned
 * by a ban with by_address.
 * Returns: FALSE with an error when the action is invalid here (unknown
 * term, too many terms); applying an action twice is harmless. */
gboolean gc_chat_room_apply (GcChatRoom *room, const GcChatAction *action,
                             gint64 now_ms, GPtrArray **added_addresses,
                             GError **error);

gboolean gc_chat_room_is_banned (GcChatRoom *room, const gchar *login);
gboolean gc_chat_room_is_address_banned (GcChatRoom *room,
                                         const gchar *address);
/* Returns: the end of @login's timeout (ms), 0 when not timed out. */
gint64 gc_chat_room_get_timeout (GcChatRoom *room, const gchar *login,
                                 gint64 now_ms);
/* Returns: (transfer container): canonical blocked terms. */
GPtrArray *gc_chat_room_list_terms (GcChatRoom *room);

/* Loading from Redis: forget bans, timeouts, grants and terms (not
 * clocks nor history), then set them one by one. */
void gc_chat_room_reset_state (GcChatRoom *room);
void gc_chat_room_set_settings (GcChatRoom *room,
                                const GcChatSettings *settings);
void gc_chat_room_set_ban (GcChatRoom *room, const gchar *login);
void gc_chat_room_set_address_ban (GcChatRoom *room, const gchar *address);
void gc_chat_room_set_timeout (GcChatRoom *room, const gchar *login,
                               gint64 until_ms);
/* @granted/@revoked: MODERATOR and VIP bits. */
void gc_chat_room_set_grant (GcChatRoom *room, const gchar *login,
                             GcChatRoles granted, GcChatRoles revoked);
void gc_chat_room_get_grant (GcChatRoom *room, const gchar *login,
                             GcChatRoles *granted, GcChatRoles *revoked);
gboolean gc_chat_room_set_term (GcChatRoom *room, const gchar *term,
                                gboolean hold, GError **error);
void gc_chat_room_set_slow_clock (GcChatRoom *room, const gchar *login,
                                  gint64 last_ms);

/* Drops per-user clocks, expired timeouts and unique-chat entries that can
 * no longer matter. Called from the service's periodic housekeeping. */
void gc_chat_room_expire (GcChatRoom *room, gint64 now_ms);

/* ---- history and review queue (room.c) -------------------------------- */

/* Returns: (transfer container): up to @max messages with ts > @since_ms,
 * oldest first. */
GPtrArray *gc_chat_room_get_history (GcChatRoom *room, guint max,
                                     gint64 since_ms);
/* Returns: (nullable): the message with @id if still in the history. */
GcChatMessage *gc_chat_room_find_message (GcChatRoom *room, const gchar *id);
gboolean gc_chat_room_remove_message (GcChatRoom *room, const gchar *id);
/* @user: (nullable): NULL removes every message. */
guint gc_chat_room_remove_messages_by (GcChatRoom *room, const gchar *user);
/* Restores history loaded from Redis (newest first, as LRANGE gives it)
 * under the messages already here, without duplicates. */
void gc_chat_room_merge_history (GcChatRoom *room, GPtrArray *newest_first);

void gc_chat_room_hold (GcChatRoom *room, GcChatMessage *msg,
                        const gchar *term);
/* Returns: (transfer full) (nullable): the held message, removed from the
 * queue. */
GcChatMessage *gc_chat_room_take_held (GcChatRoom *room, const gchar *id);
/* Returns: (transfer container): held messages, oldest first. */
GPtrArray *gc_chat_room_list_held (GcChatRoom *room);
/* Returns: (nullable): the term that held message @id. */
const gchar *gc_chat_room_get_held_term (GcChatRoom *room, const gchar *id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcChatRoom, gc_chat_room_free)

G_END_DECLS
