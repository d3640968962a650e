/* fuzz-chat-protocol.c — libFuzzer target for the chat request parser, the node-to-node message reader
 * (history items, tips from other nodes), slash commands, normaliser, blocked terms and posting rules.
 * Input: a request, also read as a message object; its first line is also used as a term list and as chat
 * text. */

#include <json-glib/json-glib.h>
#include <string.h>

#include "command.h"
#include "normalize.h"
#include "protocol.h"
#include "room.h"
#include "terms.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
check_round_trip (const GcChatAction *action)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GString) again = g_string_new (NULL);
  g_autoptr (GcChatAction) back = NULL;

  /* What we write between nodes must read back to the same action. */
  gc_chat_protocol_write_action (out, action);
  back = gc_chat_protocol_parse_request (out->str, out->len, NULL);
  g_assert (back != NULL);
  g_assert (back->type == action->type);
  gc_chat_protocol_write_action (again, back);
  g_assert (g_str_equal (out->str, again->str));
}

/* A message object as Redis's history or another node hands it over: read
 * it, write it as the history keeps it; reading that back writes the same
 * bytes again. */
static void
check_message (const guint8 *data, size_t size)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GcChatMessage) msg = NULL;
  g_autoptr (GcChatMessage) back = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GString) again = g_string_new (NULL);
  g_autoptr (JsonParser) reparser = json_parser_new ();
  JsonNode *root;

  if (!json_parser_load_from_data (parser, (const gchar *)data, (gssize)size,
                                   NULL))
    return;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return;
  msg = gc_chat_protocol_parse_message (json_node_get_object (root), "fuzz",
                                        NULL);
  if (msg == NULL)
    return;
  g_assert (msg->kind != GC_CHAT_MESSAGE_TIP ||
            (msg->amount > 0 && msg->currency != NULL));
  gc_chat_protocol_write_message (
      out, msg, GC_CHAT_WRITE_INTERNAL | GC_CHAT_WRITE_NO_TYPE);
  g_assert (
      json_parser_load_from_data (reparser, out->str, (gssize)out->len, NULL));
  back = gc_chat_protocol_parse_message (
      json_node_get_object (json_parser_get_root (reparser)), "fuzz", NULL);
  g_assert (back != NULL);
  g_assert (back->kind == msg->kind && back->amount == msg->amount);
  gc_chat_protocol_write_message (
      again, back, GC_CHAT_WRITE_INTERNAL | GC_CHAT_WRITE_NO_TYPE);
  g_assert (g_str_equal (out->str, again->str));
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr (GcChatAction) action = NULL;
  g_autoptr (GcChatAction) cmd = NULL;
  g_autofree gchar *line = NULL;
  const guint8 *nl = memchr (data, '\n', size);

  action = gc_chat_protocol_parse_request ((const gchar *)data, size, NULL);
  if (action != NULL)
    check_round_trip (action);
  check_message (data, size);

  line = g_strndup ((const gchar *)data, nl ? (gsize)(nl - data) : size);
  if (!g_utf8_validate (line, -1, NULL))
    return 0;

  cmd = gc_chat_command_parse (line, NULL);
  if (cmd != NULL)
    check_round_trip (cmd);

  {
    g_autofree gchar *norm = gc_chat_normalize (line, -1);
    g_auto (GStrv) words = g_strsplit (line, ",", 8);
    g_autoptr (GPtrArray) canon = g_ptr_array_new_with_free_func (g_free);
    g_autoptr (GArray) specs =
        g_array_new (FALSE, FALSE, sizeof (GcChatTermSpec));
    g_autoptr (GcChatTerms) terms = NULL;
    g_autoptr (GcChatRoom) room = gc_chat_room_new ("fuzz", NULL);
    g_autoptr (GcChatIdentity) who =
        gc_chat_identity_new ("fuzzer", NULL, 0, 1, 1, "192.0.2.1");
    g_autofree gchar *clean = gc_chat_clean_text (line);
    GcChatCheck check = {0};

    g_assert (norm != NULL);
    for (guint i = 0; words[i] != NULL; i++) {
      gchar *c = gc_chat_term_canonicalize (words[i], NULL);
      GcChatTermSpec spec = {c, i % 2 == 1};

      if (c == NULL)
        continue;
      g_ptr_array_add (canon, c);
      g_array_append_val (specs, spec);
      gc_chat_room_set_term (room, words[i], i % 2 == 1, NULL);
    }
    terms = gc_chat_terms_compile ((GcChatTermSpec *)specs->data, specs->len);
    (void)gc_chat_terms_match (terms, norm, NULL);
    /* Every canonical term matches its own text, unless it has wildcards
     * (a '*' standing for nothing) or is a phrase. */
    for (guint i = 0; i < canon->len; i++) {
      const gchar *t = g_ptr_array_index (canon, i);
      GcChatTermSpec one = {t, FALSE};
      g_autoptr (GcChatTerms) single = NULL;

      if (strchr (t, '*') != NULL)
        continue;
      single = gc_chat_terms_compile (&one, 1);
      g_assert (gc_chat_terms_match (single, t, NULL) == 0);
    }
    (void)gc_chat_room_check_message (room, who, clean, 1000, &check, NULL);
    gc_chat_check_clear (&check);
  }
  return 0;
}
