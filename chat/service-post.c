/* service-post.c — what happens to a client request: posting (rules, hold, delay, fan-out, archive) and
 * moderation (authorisation, state, visible effects, Redis, audit). The same path for WebSocket and JSON API. */

#include "service-private.h"

#include "chat-error.h"
#include "protocol.h"

static void
note_refused (GcChatService *service)
{
  service->messages_refused++;
}

void
gc_chat_service_handle_text (GcChatService *service, ConnInfo *info,
                             const gchar *text, gsize len)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GcChatAction) action = NULL;
  ServiceRoom *sr = info->room;

  action = gc_chat_protocol_parse_request (text, len, &error);
  if (action == NULL) {
    gc_chat_service_send_error (service, info->id, error, NULL, 0);
    return;
  }
  switch (action->type) {
    case GC_CHAT_ACTION_JOIN:
      if (sr->loaded) {
        gc_chat_service_send_welcome (sr, info, action);
      } else {
        /* The room's state is on its way from Redis; answering now would
         * show an empty history and wrong settings. */
        PendingJoin *pj = g_new0 (PendingJoin, 1);

        pj->conn = info->id;
        pj->action = g_steal_pointer (&action);
        g_ptr_array_add (sr->waiting_joins, pj);
      }
      return;
    case GC_CHAT_ACTION_SEND:
      if (!gc_chat_service_post (sr, info->identity, action, info->id, &error))
        return; /* the error frame is already sent, with retry_after */
      return;
    default:
      if (!gc_chat_service_moderate (sr, info->identity, action, info->id,
                                     &error))
        gc_chat_service_send_error (service, info->id, error, action->nonce, 0);
      return;
  }
}

static gchar *
next_message_id (GcChatService *service)
{
  return g_strdup_printf ("%s-%" G_GINT64_MODIFIER "x", service->node_id,
                          ++service->next_message);
}

static void
audit (ServiceRoom *sr, const gchar *actor, const GcChatAction *action,
       const gchar *target, gint64 now_ms)
{
  GcChatService *service = sr->service;
  g_autoptr (GString) detail = g_string_new (NULL);
  GcChatAuditRecord record = {0};

  gc_chat_protocol_write_action (detail, action);
  record.room = gc_chat_room_get_name (sr->room);
  record.actor = actor;
  record.action = gc_chat_action_type_to_string (action->type);
  record.target = target;
  record.reason = action->reason;
  record.detail = detail->str;
  record.ts_ms = now_ms;
  if (service->archive != NULL)
    gc_chat_archive_add_audit (service->archive, &record);
  if (service->audit_func != NULL)
    service->audit_func (&record, service->audit_data);
}

static gboolean on_delay_due (gpointer user_data);

static void
arm_delay_timer (ServiceRoom *sr)
{
  GcChatService *service = sr->service;
  GcChatMessage *first = g_queue_peek_head (&sr->delayed);
  GSource *src;
  gint64 wait;

  if (sr->delay_source != 0) {
    g_source_destroy (
        g_main_context_find_source_by_id (service->context, sr->delay_source));
    sr->delay_source = 0;
  }
  if (first == NULL)
    return;
  wait = MAX (first->release_ms - gc_chat_service_now_ms (), 0);
  src = g_timeout_source_new ((guint)wait);
  g_source_set_callback (src, on_delay_due, sr, NULL);
  sr->delay_source = g_source_attach (src, service->context);
  g_source_unref (src);
}

static void
broadcast_message (ServiceRoom *sr, GcChatMessage *msg)
{
  g_autoptr (GString) json = g_string_new (NULL);

  gc_chat_protocol_write_message (json, msg, GC_CHAT_WRITE_NONE);
  gc_chat_service_broadcast_json (sr->service, gc_chat_room_get_name (sr->room),
                                  json);
}

static gboolean
on_delay_due (gpointer user_data)
{
  ServiceRoom *sr = user_data;
  gint64 now = gc_chat_service_now_ms ();
  GcChatMessage *msg;

  sr->delay_source = 0;
  while ((msg = g_queue_peek_head (&sr->delayed)) != NULL &&
         msg->release_ms <= now) {
    g_queue_pop_head (&sr->delayed);
    broadcast_message (sr, msg);
    gc_chat_message_unref (msg);
  }
  arm_delay_timer (sr);
  return G_SOURCE_REMOVE;
}

static gint
by_release (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const GcChatMessage *ma = a, *mb = b;

  return (ma->release_ms > mb->release_ms) - (ma->release_ms < mb->release_ms);
}

void
gc_chat_service_deliver (ServiceRoom *sr, GcChatMessage *msg,
                         guint64 sender_conn)
{
  GcChatService *service = sr->service;
  g_autoptr (GString) json = g_string_new (NULL);

  if (msg->release_ms <= gc_chat_service_now_ms ()) {
    broadcast_message (sr, msg);
  } else {
    /* Delay mode: moderators see it now (and can delete it), viewers when
     * it is released, unless it was deleted meanwhile. */
    g_queue_insert_sorted (&sr->delayed, gc_chat_message_ref (msg), by_release,
                           NULL);
    arm_delay_timer (sr);
    gc_chat_protocol_write_message (json, msg, GC_CHAT_WRITE_PENDING);
    gc_chat_service_send_privileged (sr, json);
    g_string_truncate (json, 0);
    if (sender_conn != 0 &&
        !g_hash_table_contains (sr->privileged, &sender_conn)) {
      /* The sender sees their own message at once. */
      gc_chat_protocol_write_message (
          json, msg, GC_CHAT_WRITE_PENDING | GC_CHAT_WRITE_NONCE);
      gc_chat_service_send_json (service, sender_conn, json);
    }
  }
}

/* A message leaves this node: state, history, Redis, archive, viewers. */
static void
accept_message (ServiceRoom *sr, GcChatMessage *msg, guint64 sender_conn)
{
  GcChatService *service = sr->service;
  const GcChatSettings *settings = gc_chat_room_get_settings (sr->room);
  g_autoptr (GString) body = g_string_new (",\"message\":");
  gint64 offset = -1;

  if (settings->delay_seconds > 0 && !(msg->badges & GC_CHAT_ROLES_PRIVILEGED))
    msg->release_ms = msg->ts_ms + (gint64)settings->delay_seconds * 1000;
  else
    msg->release_ms = msg->ts_ms;

  service->messages_accepted++;
  gc_chat_room_note_message (sr->room, msg);
  gc_chat_store_write_message (service->store, msg);
  gc_chat_protocol_write_message (
      body, msg, GC_CHAT_WRITE_INTERNAL | GC_CHAT_WRITE_NO_TYPE);
  gc_chat_service_publish (sr, "message", body);
  if (service->archive != NULL) {
    if (service->offset_func != NULL)
      offset =
          service->offset_func (msg->room, msg->ts_ms, service->offset_data);
    gc_chat_archive_add_message (service->archive, msg, offset);
  }
  gc_chat_service_deliver (sr, msg, sender_conn);
  if (sender_conn != 0 && msg->nonce != NULL) {
    g_autoptr (GString) ack = g_string_new (NULL);

    /* The broadcast frame is shared and carries no nonce: the sender gets
     * a small acknowledgement tying its nonce to the id. */
    g_string_append (ack, "{\"type\":\"sent\",\"nonce\":");
    gc_chat_json_append_string (ack, msg->nonce);
    g_string_append (ack, ",\"id\":");
    gc_chat_json_append_string (ack, msg->id);
    g_string_append_printf (ack, ",\"ts\":%" G_GINT64_FORMAT "}", msg->ts_ms);
    gc_chat_service_send_json (service, sender_conn, ack);
  }
}

gboolean
gc_chat_service_post (ServiceRoom *sr, GcChatIdentity *identity,
                      const GcChatAction *action, guint64 conn, GError **error)
{
  GcChatService *service = sr->service;
  g_autofree gchar *text = gc_chat_clean_text (action->text);
  gint64 now = gc_chat_service_now_ms ();
  GcChatCheck check = {0};
  GError *local = NULL;
  GcChatVerdict verdict;
  g_autoptr (GcChatMessage) msg = NULL;

  verdict = gc_chat_room_check_message (sr->room, identity, text, now, &check,
                                        &local);
  if (verdict == GC_CHAT_VERDICT_REFUSE) {
    note_refused (service);
    gc_chat_service_send_error (service, conn, local, action->nonce,
                                check.retry_after_ms);
    g_propagate_error (error, local);
    gc_chat_check_clear (&check);
    return FALSE;
  }

  msg = gc_chat_message_new ();
  msg->id = next_message_id (service);
  msg->room = g_strdup (gc_chat_room_get_name (sr->room));
  msg->user = g_strdup (gc_chat_identity_get_login (identity));
  msg->display_name = g_strdup (gc_chat_identity_get_display_name (identity));
  msg->badges =
      gc_chat_room_get_roles (sr->room, identity, now) &
      (GC_CHAT_ROLES_PRIVILEGED | GC_CHAT_ROLE_VIP | GC_CHAT_ROLE_SUBSCRIBER);
  msg->text = g_steal_pointer (&text);
  msg->reply_to = g_strdup (action->reply_to);
  msg->nonce = g_strdup (action->nonce);
  msg->ts_ms = now;
  msg->release_ms = now;

  if (verdict == GC_CHAT_VERDICT_HOLD) {
    g_autoptr (GString) json = g_string_new (NULL);
    g_autoptr (GString) body = g_string_new (",\"term\":");
    g_autoptr (GcChatAction) hold = gc_chat_action_new (GC_CHAT_ACTION_BLOCK);

    service->messages_held++;
    gc_chat_room_hold (sr->room, msg, check.term);
    gc_chat_store_write_held (service->store, msg, check.term);
    gc_chat_protocol_write_held (json, msg, check.term);
    gc_chat_service_send_privileged (sr, json);
    gc_chat_json_append_string (body, check.term);
    g_string_append (body, ",\"message\":");
    gc_chat_protocol_write_message (
        body, msg, GC_CHAT_WRITE_INTERNAL | GC_CHAT_WRITE_NO_TYPE);
    gc_chat_service_publish (sr, "held", body);
    g_string_truncate (json, 0);
    gc_chat_protocol_write_notice (json, "held_for_review",
                                   "your message is held for review by the "
                                   "moderators");
    gc_chat_service_send_json (service, conn, json);
    hold->term = g_strdup (check.term);
    hold->reason = g_strdup ("held for review");
    audit (sr, "system", hold, msg->id, now);
    gc_chat_check_clear (&check);
    return TRUE;
  }
  gc_chat_check_clear (&check);
  accept_message (sr, msg, conn);
  return TRUE;
}

static void
clear_delayed (ServiceRoom *sr, const gchar *user, const gchar *id)
{
  for (GList *l = sr->delayed.head; l != NULL;) {
    GList *next = l->next;
    GcChatMessage *m = l->data;

    if ((id != NULL && g_str_equal (m->id, id)) ||
        (id == NULL && (user == NULL || g_str_equal (m->user, user)))) {
      g_queue_delete_link (&sr->delayed, l);
      gc_chat_message_unref (m);
    }
    l = next;
  }
  arm_delay_timer (sr);
}

void
gc_chat_service_apply_effects (ServiceRoom *sr, const GcChatAction *action,
                               const gchar *actor, gint64 now_ms,
                               GPtrArray **added_addresses)
{
  GcChatService *service = sr->service;
  const gchar *room = gc_chat_room_get_name (sr->room);
  g_autoptr (GString) json = g_string_new (NULL);
  g_autoptr (GError) error = NULL;

  if (!gc_chat_room_apply (sr->room, action, now_ms, added_addresses, &error))
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "GC_ROOM", room,
                      "MESSAGE", "action not applied: %s", error->message);

  switch (action->type) {
    case GC_CHAT_ACTION_BAN:
    case GC_CHAT_ACTION_TIMEOUT:
    case GC_CHAT_ACTION_CLEAR:
      if (action->user == NULL && action->type != GC_CHAT_ACTION_CLEAR)
        break; /* a ban by address alone removes no messages */
      gc_chat_room_remove_messages_by (sr->room, action->user);
      clear_delayed (sr, action->user, NULL);
      gc_chat_protocol_write_clear (json, action->user);
      gc_chat_service_broadcast_json (service, room, json);
      if (service->archive != NULL && action->user != NULL)
        gc_chat_archive_mark_user_deleted (service->archive, room, action->user,
                                           actor, now_ms);
      break;
    case GC_CHAT_ACTION_DELETE:
      gc_chat_room_remove_message (sr->room, action->id);
      clear_delayed (sr, NULL, action->id);
      gc_chat_protocol_write_delete (json, action->id);
      gc_chat_service_broadcast_json (service, room, json);
      if (service->archive != NULL)
        gc_chat_archive_mark_deleted (service->archive, room, action->id, actor,
                                      now_ms);
      break;
    case GC_CHAT_ACTION_SETTINGS:
      gc_chat_protocol_write_settings (json,
                                       gc_chat_room_get_settings (sr->room));
      gc_chat_service_broadcast_json (service, room, json);
      break;
    case GC_CHAT_ACTION_MOD:
    case GC_CHAT_ACTION_UNMOD:
      gc_chat_service_recompute_privileged (sr);
      break;
    case GC_CHAT_ACTION_APPROVE:
    case GC_CHAT_ACTION_REJECT:
      /* Already taken when approved here; this drops it on other nodes. */
      gc_chat_message_unref (gc_chat_room_take_held (sr->room, action->id));
      break;
    default:
      break;
  }
}

static const gchar *
action_target (const GcChatAction *action)
{
  if (action->user != NULL)
    return action->user;
  if (action->address != NULL)
    return action->address;
  if (action->id != NULL)
    return action->id;
  return action->term;
}

gboolean
gc_chat_service_moderate (ServiceRoom *sr, GcChatIdentity *actor,
                          const GcChatAction *action, guint64 conn,
                          GError **error)
{
  GcChatService *service = sr->service;
  const gchar *login = gc_chat_identity_get_login (actor);
  gint64 now = gc_chat_service_now_ms ();
  g_autoptr (GcChatMessage) approved = NULL;
  g_autoptr (GPtrArray) added = NULL;
  g_autoptr (GString) body = g_string_new (NULL);
  g_autoptr (GString) notice = g_string_new (NULL);
  g_autofree gchar *done = NULL;

  if (!gc_chat_room_authorize (sr->room, actor, action, now, error))
    return FALSE;

  switch (action->type) {
    case GC_CHAT_ACTION_APPROVE:
    case GC_CHAT_ACTION_REJECT:
      if (gc_chat_room_get_held_term (sr->room, action->id) == NULL) {
        g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_NOT_FOUND,
                     "no held message %s", action->id);
        return FALSE;
      }
      if (action->type == GC_CHAT_ACTION_APPROVE)
        approved = gc_chat_room_take_held (sr->room, action->id);
      break;
    case GC_CHAT_ACTION_BLOCK:
    case GC_CHAT_ACTION_UNBLOCK: {
      g_autofree gchar *canonical =
          gc_chat_term_canonicalize (action->term, error);

      if (canonical == NULL)
        return FALSE;
      if (action->type == GC_CHAT_ACTION_UNBLOCK) {
        g_autoptr (GPtrArray) terms = gc_chat_room_list_terms (sr->room);
        gboolean found = FALSE;

        for (guint i = 0; i < terms->len; i++)
          found |= g_str_equal (g_ptr_array_index (terms, i), canonical);
        if (!found) {
          g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_NOT_FOUND,
                       "\"%s\" is not a blocked term", canonical);
          return FALSE;
        }
      }
      break;
    }
    default:
      break;
  }

  gc_chat_service_apply_effects (sr, action, login, now, &added);
  gc_chat_store_write_action (service->store, sr->room, action, login, now,
                              added);
  g_string_append (body, ",\"actor\":");
  gc_chat_json_append_string (body, login);
  g_string_append_printf (body,
                          ",\"ts\":%" G_GINT64_FORMAT ",\"action\":", now);
  gc_chat_protocol_write_action (body, action);
  gc_chat_service_publish (sr, "action", body);
  audit (sr, login, action, action_target (action), now);

  if (approved != NULL) {
    /* Shown from the moment it is approved: that is when the broadcaster
     * can first react to it on video. */
    approved->ts_ms = now;
    g_clear_pointer (&approved->nonce, g_free);
    accept_message (sr, approved, 0);
  }

  done = g_strdup_printf ("%s %s done",
                          gc_chat_action_type_to_string (action->type),
                          action_target (action) ? action_target (action) : "");
  gc_chat_protocol_write_notice (notice, "done", g_strstrip (done));
  gc_chat_service_send_json (service, conn, notice);
  return TRUE;
}
