/* action.h — GcChatAction: one client request, whether it came as JSON or as a slash command in chat text.
 * Both parsers produce this struct; the room's rules and the Redis event stream consume it. */

#pragma once

#include <glib.h>

#include "settings.h"

G_BEGIN_DECLS

typedef enum {
  GC_CHAT_ACTION_JOIN,
  GC_CHAT_ACTION_SEND,
  GC_CHAT_ACTION_DELETE,    /* one message by id */
  GC_CHAT_ACTION_CLEAR,     /* a user's messages, or the whole room */
  GC_CHAT_ACTION_BAN,       /* by account, optionally also by address */
  GC_CHAT_ACTION_UNBAN,     /* by account or by address */
  GC_CHAT_ACTION_TIMEOUT,   /* 1 s to 14 days */
  GC_CHAT_ACTION_UNTIMEOUT, /* */
  GC_CHAT_ACTION_SETTINGS,  /* a settings patch */
  GC_CHAT_ACTION_MOD,
  GC_CHAT_ACTION_UNMOD,
  GC_CHAT_ACTION_VIP,
  GC_CHAT_ACTION_UNVIP,
  GC_CHAT_ACTION_BLOCK,   /* add a blocked term */
  GC_CHAT_ACTION_UNBLOCK, /* remove a blocked term */
  GC_CHAT_ACTION_APPROVE, /* release a held message */
  GC_CHAT_ACTION_REJECT,  /* drop a held message */
} GcChatActionType;

#define GC_CHAT_TIMEOUT_MAX_SECONDS (14 * 24 * 3600)
#define GC_CHAT_HISTORY_MAX 500

typedef struct {
  GcChatActionType type;
  gchar *nonce;    /* (nullable) client's correlation id, echoed in replies */
  gchar *text;     /* send */
  gchar *reply_to; /* (nullable) send: id of the message answered */
  gchar *id;       /* delete, approve, reject */
  gchar *user;     /* (nullable) target login, lower-cased; clear: NULL =
                      whole room */
  gchar *address;  /* (nullable) ban/unban by address */
  gboolean by_address; /* ban: also ban the addresses the user is seen on */
  gchar *reason;       /* (nullable) ban, timeout, reject */
  gchar *term;         /* block, unblock */
  gboolean hold;       /* block: hold matches for review instead of refusing */
  gint64 seconds;      /* timeout */
  gint64 history;      /* join: how many recent messages (0..500) */
  gint64 since;        /* join: only messages with ts > since (ms); 0: all */
  GcChatSettingsPatch settings; /* settings */
} GcChatAction;

GcChatAction *gc_chat_action_new (GcChatActionType type);
GcChatAction *gc_chat_action_copy (const GcChatAction *action);
void gc_chat_action_free (GcChatAction *action);

/* The wire name ("ban") of @type. */
const gchar *gc_chat_action_type_to_string (GcChatActionType type);
gboolean gc_chat_action_type_from_string (const gchar *name,
                                          GcChatActionType *type);

/* Everything but join and send changes the room for others: it needs a
 * privileged role and leaves an audit record. */
gboolean gc_chat_action_is_moderation (GcChatActionType type);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcChatAction, gc_chat_action_free)

G_END_DECLS
