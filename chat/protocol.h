/* protocol.h — the chat WebSocket protocol of PROTOCOL.md: requests parsed (table-driven) into GcChatAction,
 * server frames written as compact JSON. Pure functions, no I/O: unit-tested and fuzzed on their own. */

#pragma once

#include <json-glib/json-glib.h>

#include "action.h"
#include "identity.h"
#include "message.h"
#include "settings.h"

G_BEGIN_DECLS

/* Requests larger than this are refused before parsing. */
#define GC_CHAT_PROTOCOL_MAX_REQUEST 16384
/* Hard cap on "text" in bytes; the configurable limit in characters is
 * enforced by the room's rules. */
#define GC_CHAT_PROTOCOL_MAX_TEXT 4096

/* Parses one client request (a JSON object with "type"). A "send" whose text
 * is a slash command comes back as the command's action (the nonce kept).
 * Returns: (transfer full) (nullable): the action. */
GcChatAction *gc_chat_protocol_parse_request (const gchar *data, gsize len,
                                              GError **error);

/* The same, from an already parsed object (Redis events embed actions). */
GcChatAction *gc_chat_protocol_parse_request_object (JsonObject *object,
                                                     GError **error);

/* Writes @action as a request object that parse_request reads back. */
void gc_chat_protocol_write_action (GString *out, const GcChatAction *action);

typedef enum {
  GC_CHAT_WRITE_NONE = 0,
  GC_CHAT_WRITE_NONCE = 1 << 0,    /* include the sender's nonce */
  GC_CHAT_WRITE_PENDING = 1 << 1,  /* "pending": delayed, not yet public */
  GC_CHAT_WRITE_INTERNAL = 1 << 2, /* node-to-node: also "release" */
  GC_CHAT_WRITE_NO_TYPE = 1 << 3,  /* inside history: no "type" member */
} GcChatWriteFlags;

void gc_chat_protocol_write_message (GString *out, const GcChatMessage *msg,
                                     GcChatWriteFlags flags);

/* Reads a message object written with GC_CHAT_WRITE_INTERNAL (a tip in
 * the history among them), or a tip frame as gc_chat_protocol_write_tip
 * writes it.
 * Returns: (transfer full) (nullable) */
GcChatMessage *gc_chat_protocol_parse_message (JsonObject *object,
                                               const gchar *room,
                                               GError **error);

void gc_chat_protocol_write_delete (GString *out, const gchar *id);
/* @user: (nullable): NULL clears the whole room. */
void gc_chat_protocol_write_clear (GString *out, const gchar *user);
void gc_chat_protocol_write_notice (GString *out, const gchar *code,
                                    const gchar *message);
/* @nonce: (nullable); @retry_after_ms: <= 0 to leave out. */
void gc_chat_protocol_write_error (GString *out, const GError *error,
                                   const gchar *nonce, gint64 retry_after_ms);
void gc_chat_protocol_write_settings (GString *out,
                                      const GcChatSettings *settings);
void gc_chat_protocol_write_tip (GString *out, const GcChatTip *tip);
void gc_chat_protocol_write_presence (GString *out, guint64 viewers);
/* To moderators: a message held for review, and the term that held it. */
void gc_chat_protocol_write_held (GString *out, const GcChatMessage *msg,
                                  const gchar *term);
/* @you: (nullable): NULL for anonymous viewers. @history: GcChatMessage,
 * oldest first. */
void gc_chat_protocol_write_welcome (GString *out, const gchar *room,
                                     const GcChatIdentity *you,
                                     GcChatRoles roles,
                                     const GcChatSettings *settings,
                                     GPtrArray *history, guint64 viewers);

/* Appends @s as a JSON string literal (quotes included). */
void gc_chat_json_append_string (GString *out, const gchar *s);

/* Appends ["broadcaster","moderator",...] for the role bits in @roles. */
void gc_chat_json_append_roles (GString *out, GcChatRoles roles);

/* Members of objects read from clients, Redis and other nodes, by type:
 * @def (NULL) when the member is absent or of another type, never a
 * GLib critical (json-glib's own getters warn on a type mismatch). */
const gchar *gc_chat_json_string (JsonObject *object, const gchar *name,
                                  const gchar *def);
gint64 gc_chat_json_int (JsonObject *object, const gchar *name, gint64 def);
JsonObject *gc_chat_json_object (JsonObject *object, const gchar *name);

G_END_DECLS
