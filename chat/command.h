/* command.h — slash commands typed in chat ("/ban bob spam", "/slow 30") parsed into GcChatAction.
 * The same structs as the JSON API, so both paths share authorisation, effects and audit. */

#pragma once

#include <glib.h>

#include "action.h"

G_BEGIN_DECLS

/* Whether @text is a command: starts with '/' but not "//" (which sends a
 * literal message starting with '/'). */
gboolean gc_chat_command_is_command (const gchar *text);

/* Parses a command line. Fails with GC_CHAT_ERROR_UNKNOWN_COMMAND for an
 * unknown name and GC_CHAT_ERROR_BAD_REQUEST for bad arguments; the message
 * says the expected usage.
 * Returns: (transfer full) (nullable): the action. */
GcChatAction *gc_chat_command_parse (const gchar *text, GError **error);

/* Parses "90", "90s", "10m", "2h", "14d" into seconds; FALSE on anything
 * else or on overflow. */
gboolean gc_chat_parse_duration (const gchar *text, gint64 *seconds);

G_END_DECLS
