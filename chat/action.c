/* action.c — allocation, copying and wire names of GcChatAction.
 * The names are the "type" values of PROTOCOL.md. */

#include "action.h"

static const gchar *const action_names[] = {
    [GC_CHAT_ACTION_JOIN] = "join",
    [GC_CHAT_ACTION_SEND] = "send",
    [GC_CHAT_ACTION_DELETE] = "delete",
    [GC_CHAT_ACTION_CLEAR] = "clear",
    [GC_CHAT_ACTION_BAN] = "ban",
    [GC_CHAT_ACTION_UNBAN] = "unban",
    [GC_CHAT_ACTION_TIMEOUT] = "timeout",
    [GC_CHAT_ACTION_UNTIMEOUT] = "untimeout",
    [GC_CHAT_ACTION_SETTINGS] = "settings",
    [GC_CHAT_ACTION_MOD] = "mod",
    [GC_CHAT_ACTION_UNMOD] = "unmod",
    [GC_CHAT_ACTION_VIP] = "vip",
    [GC_CHAT_ACTION_UNVIP] = "unvip",
    [GC_CHAT_ACTION_BLOCK] = "block",
    [GC_CHAT_ACTION_UNBLOCK] = "unblock",
    [GC_CHAT_ACTION_APPROVE] = "approve",
    [GC_CHAT_ACTION_REJECT] = "reject",
};

G_STATIC_ASSERT (G_N_ELEMENTS (action_names) == GC_CHAT_ACTION_REJECT + 1);

GcChatAction *
gc_chat_action_new (GcChatActionType type)
{
  GcChatAction *action = g_new0 (GcChatAction, 1);

  action->type = type;
  return action;
}

GcChatAction *
gc_chat_action_copy (const GcChatAction *action)
{
  GcChatAction *copy;

  g_return_val_if_fail (action != NULL, NULL);
  copy = g_memdup2 (action, sizeof *action);
  copy->nonce = g_strdup (action->nonce);
  copy->text = g_strdup (action->text);
  copy->reply_to = g_strdup (action->reply_to);
  copy->id = g_strdup (action->id);
  copy->user = g_strdup (action->user);
  copy->address = g_strdup (action->address);
  copy->reason = g_strdup (action->reason);
  copy->term = g_strdup (action->term);
  return copy;
}

void
gc_chat_action_free (GcChatAction *action)
{
  if (action == NULL)
    return;
  g_free (action->nonce);
  g_free (action->text);
  g_free (action->reply_to);
  g_free (action->id);
  g_free (action->user);
  g_free (action->address);
  g_free (action->reason);
  g_free (action->term);
  g_free (action);
}

const gchar *
gc_chat_action_type_to_string (GcChatActionType type)
{
  g_return_val_if_fail ((guint)type < G_N_ELEMENTS (action_names), "?");
  return action_names[type];
}

gboolean
gc_chat_action_type_from_string (const gchar *name, GcChatActionType *type)
{
  for (guint i = 0; i < G_N_ELEMENTS (action_names); i++)
    if (g_strcmp0 (name, action_names[i]) == 0) {
      *type = (GcChatActionType)i;
      return TRUE;
    }
  return FALSE;
}

gboolean
gc_chat_action_is_moderation (GcChatActionType type)
{
  return type != GC_CHAT_ACTION_JOIN && type != GC_CHAT_ACTION_SEND;
}
