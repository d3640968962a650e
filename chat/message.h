/* message.h — an accepted chat message and a tip, as they travel to viewers, Redis and the archive.
 * Messages are immutable once accepted and refcounted: history, delay queue and archive share one copy. */

#pragma once

#include <glib.h>

#include "identity.h"

G_BEGIN_DECLS

typedef enum {
  GC_CHAT_MESSAGE_TEXT = 0, /* a viewer's chat message */
  GC_CHAT_MESSAGE_TIP,      /* a paid tip as it stays in the history */
} GcChatMessageKind;

typedef struct {
  GcChatMessageKind kind;
  gchar *id; /* unique across nodes: "<node>-<counter>" */
  gchar *room;
  gchar *user; /* login */
  gchar *display_name;
  GcChatRoles badges; /* roles shown beside the name */
  gchar *text;
  gchar *reply_to;   /* (nullable) */
  gchar *nonce;      /* (nullable) only ever sent back to the sender */
  gint64 ts_ms;      /* wall-clock time accepted: a point on the media
                          timeline (the playlists' PROGRAM-DATE-TIME) */
  gint64 release_ms; /* when viewers see it (delay mode); == ts_ms when no
                          delay */
  gint64 amount;     /* GC_CHAT_MESSAGE_TIP: integer minor units */
  gchar *currency;   /* GC_CHAT_MESSAGE_TIP: ISO 4217, upper case */
} GcChatMessage;

/* Returns: (transfer full): an empty message for the caller to fill. */
GcChatMessage *gc_chat_message_new (void);
GcChatMessage *gc_chat_message_ref (GcChatMessage *msg);
void gc_chat_message_unref (GcChatMessage *msg);

/* A tip as chat carries it to every viewer; billing publishes one after a
 * successful payment (gc_chat_service_publish_tip). */
typedef struct {
  gchar *id;
  gchar *room;
  gchar *user;
  gchar *display_name;
  gint64 amount;   /* integer minor units (cents) */
  gchar *currency; /* ISO 4217, upper case */
  gchar *text;     /* (nullable) the tipper's message */
  gint64 ts_ms;
} GcChatTip;

void gc_chat_tip_free (GcChatTip *tip);

/* Returns: (transfer full): @tip as the history keeps it (kind
 * GC_CHAT_MESSAGE_TIP, text "" when the tipper wrote none). */
GcChatMessage *gc_chat_message_new_tip (const GcChatTip *tip);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcChatMessage, gc_chat_message_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcChatTip, gc_chat_tip_free)

G_END_DECLS
