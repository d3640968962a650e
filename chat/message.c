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
