/* message.c — refcounting of GcChatMessage and freeing of GcChatTip.
 * Atomic counts: the archive writer thread holds messages too. */

#include "message.h"

static void
message_clear (gpointer data)
{
  GcChatMessage *msg = data;

  g_free (msg->id);
  g_free (msg->room);
  g_free (msg->user);
  g_free (msg->display_name);
  g_free (msg->text);
  g_free (msg->reply_to);
  g_free (msg->nonce);
  g_free (msg->currency);
}

GcChatMessage *
gc_chat_message_new (void)
{
  return g_atomic_rc_box_new0 (GcChatMessage);
}

GcChatMessage *
gc_chat_message_ref (GcChatMessage *msg)
{
  g_return_val_if_fail (msg != NULL, NULL);
  return g_atomic_rc_box_acquire (msg);
}

void
gc_chat_message_unref (GcChatMessage *msg)
{
  if (msg != NULL)
    g_atomic_rc_box_release_full (msg, message_clear);
}

GcChatMessage *
gc_chat_message_new_tip (const GcChatTip *tip)
{
  GcChatMessage *msg;

  g_return_val_if_fail (tip != NULL, NULL);

  msg = gc_chat_message_new ();
  msg->kind = GC_CHAT_MESSAGE_TIP;
  msg->id = g_strdup (tip->id);
  msg->room = g_strdup (tip->room);
  msg->user = g_strdup (tip->user);
  msg->display_name =
      g_strdup (tip->display_name ? tip->display_name : tip->user);
  msg->text = g_strdup (tip->text ? tip->text : "");
  msg->ts_ms = tip->ts_ms;
  msg->release_ms = tip->ts_ms;
  msg->amount = tip->amount;
  msg->currency = g_strdup (tip->currency);
  return msg;
}

void
gc_chat_tip_free (GcChatTip *tip)
{
  if (tip == NULL)
    return;
  g_free (tip->id);
  g_free (tip->room);
  g_free (tip->user);
  g_free (tip->display_name);
  g_free (tip->currency);
  g_free (tip->text);
  g_free (tip);
}
