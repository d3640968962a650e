/* command.c — the slash-command table and its parser.
 * Each row names a command, the action it becomes and the shape of its arguments; the parser is generic. */

#include "command.h"

#include <string.h>

#include "chat-error.h"
#include "identity.h"
#include "settings.h"

typedef enum {
  ARGS_USER,          /* <user> */
  ARGS_USER_REASON,   /* <user> [reason...] */
  ARGS_USER_DURATION, /* <user> [duration] [reason...] */
  ARGS_OPT_USER,      /* [user] */
  ARGS_ID,            /* <id> */
  ARGS_ID_REASON,     /* <id> [reason...] */
  ARGS_TERM,          /* <term...> */
  ARGS_SETTING,       /* setting value: on|off, number, ... */
} ArgShape;

typedef struct {
  const gchar *name;
  GcChatActionType type;
  ArgShape args;
  const gchar *setting; /* ARGS_SETTING: field name in settings.c */
  const gchar *bare;    /* ARGS_SETTING: value when no argument given */
  gboolean flag;        /* ban: by address; block: hold */
  const gchar *usage;
} Command;

static const Command commands[] = {
    {"ban", GC_CHAT_ACTION_BAN, ARGS_USER_REASON, NULL, NULL, FALSE,
     "/ban <user> [reason]"},
    {"ipban", GC_CHAT_ACTION_BAN, ARGS_USER_REASON, NULL, NULL, TRUE,
     "/ipban <user> [reason]"},
    {"unban", GC_CHAT_ACTION_UNBAN, ARGS_USER, NULL, NULL, FALSE,
     "/unban <user>"},
    {"timeout", GC_CHAT_ACTION_TIMEOUT, ARGS_USER_DURATION, NULL, NULL, FALSE,
     "/timeout <user> [seconds|10m|2h|1d] [reason]"},
    {"untimeout", GC_CHAT_ACTION_UNTIMEOUT, ARGS_USER, NULL, NULL, FALSE,
     "/untimeout <user>"},
    {"slow", GC_CHAT_ACTION_SETTINGS, ARGS_SETTING, "slow", "30", FALSE,
     "/slow <seconds>|off"},
    {"slowoff", GC_CHAT_ACTION_SETTINGS, ARGS_SETTING, "slow", "off", FALSE,
     "/slowoff"},
    {"subonly", GC_CHAT_ACTION_SETTINGS, ARGS_SETTING, "subonly", "on", FALSE,
     "/subonly [on|off]"},
    {"emoteonly", GC_CHAT_ACTION_SETTINGS, ARGS_SETTING, "emoteonly", "on",
     FALSE, "/emoteonly [on|off]"},
    {"uniquechat", GC_CHAT_ACTION_SETTINGS, ARGS_SETTING, "uniquechat", "on",
     FALSE, "/uniquechat [on|off]"},
    {"followers", GC_CHAT_ACTION_SETTINGS, ARGS_SETTING, "followers", "0",
     FALSE, "/followers <minutes>|off"},
    {"accountage", GC_CHAT_ACTION_SETTINGS, ARGS_SETTING, "accountage", NULL,
     FALSE, "/accountage <minutes>|off"},
    {"delay", GC_CHAT_ACTION_SETTINGS, ARGS_SETTING, "delay", NULL, FALSE,
     "/delay 0|2|4|6"},
    {"review", GC_CHAT_ACTION_SETTINGS, ARGS_SETTING, "review", "on", FALSE,
     "/review [on|off]"},
    {"clear", GC_CHAT_ACTION_CLEAR, ARGS_OPT_USER, NULL, NULL, FALSE,
     "/clear [user]"},
    {"delete", GC_CHAT_ACTION_DELETE, ARGS_ID, NULL, NULL, FALSE,
     "/delete <message id>"},
    {"mod", GC_CHAT_ACTION_MOD, ARGS_USER, NULL, NULL, FALSE, "/mod <user>"},
    {"unmod", GC_CHAT_ACTION_UNMOD, ARGS_USER, NULL, NULL, FALSE,
     "/unmod <user>"},
    {"vip", GC_CHAT_ACTION_VIP, ARGS_USER, NULL, NULL, FALSE, "/vip <user>"},
    {"unvip", GC_CHAT_ACTION_UNVIP, ARGS_USER, NULL, NULL, FALSE,
     "/unvip <user>"},
    {"block", GC_CHAT_ACTION_BLOCK, ARGS_TERM, NULL, NULL, FALSE,
     "/block <term>"},
    {"hold", GC_CHAT_ACTION_BLOCK, ARGS_TERM, NULL, NULL, TRUE, "/hold <term>"},
    {"unblock", GC_CHAT_ACTION_UNBLOCK, ARGS_TERM, NULL, NULL, FALSE,
     "/unblock <term>"},
    {"approve", GC_CHAT_ACTION_APPROVE, ARGS_ID, NULL, NULL, FALSE,
     "/approve <message id>"},
    {"reject", GC_CHAT_ACTION_REJECT, ARGS_ID_REASON, NULL, NULL, FALSE,
     "/reject <message id> [reason]"},
};

gboolean
gc_chat_command_is_command (const gchar *text)
{
  return text != NULL && text[0] == '/' && text[1] != '/';
}

gboolean
gc_chat_parse_duration (const gchar *text, gint64 *seconds)
{
  guint64 v;
  gchar *end = NULL;
  gint64 unit = 1;

  if (text == NULL || !g_ascii_isdigit (*text))
    return FALSE;
  v = g_ascii_strtoull (text, &end, 10);
  if (end == text || v > G_MAXINT32)
    return FALSE;
  if (*end != '\0') {
    switch (g_ascii_tolower (*end)) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      case 'w':
        unit = 7 * 86400;
        break;
      default:
        return FALSE;
    }
    if (end[1] != '\0')
      return FALSE;
  }
  *seconds = (gint64)v * unit;
  return TRUE;
}

/* Pops the next space-separated word off *rest; NULL when none left. */
static gchar *
next_word (const gchar **rest)
{
  const gchar *p = *rest;
  const gchar *start;

  while (g_ascii_isspace (*p))
    p++;
  if (*p == '\0') {
    *rest = p;
    return NULL;
  }
  start = p;
  while (*p != '\0' && !g_ascii_isspace (*p))
    p++;
  *rest = p;
  return g_strndup (start, p - start);
}

/* The same limits as the JSON API (protocol.c), so that a command and its
 * JSON form are interchangeable, also between nodes. */
#define MAX_REASON 500
#define MAX_TERM 200

static gchar *
rest_of_line (const gchar *rest)
{
  g_autofree gchar *r = g_strstrip (g_strdup (rest));

  return *r ? g_steal_pointer (&r) : NULL;
}

static gboolean
fits (const gchar *s, gsize max)
{
  return s == NULL || strlen (s) <= max;
}

static gboolean
has_more (const gchar *rest)
{
  for (; *rest != '\0'; rest++)
    if (!g_ascii_isspace (*rest))
      return TRUE;
  return FALSE;
}

static gboolean
take_user (const gchar *word, gchar **out)
{
  const gchar *login = word;

  if (login != NULL && *login == '@')
    login++;
  if (!gc_chat_login_is_valid (login))
    return FALSE;
  *out = g_ascii_strdown (login, -1);
  return TRUE;
}

static gboolean
parse_setting (const Command *cmd, const gchar *arg, GcChatAction *action,
               GError **error)
{
  const GcChatSettingField *field = gc_chat_setting_field_lookup (cmd->setting);
  const gchar *value = arg ? arg : cmd->bare;
  gint64 v;

  g_assert (field != NULL);
  if (value == NULL)
    return FALSE;
  if (g_ascii_strcasecmp (value, "off") == 0) {
    /* "off" is the table minimum: 0, or -1 for followers. */
    v = field->min;
  } else if (g_ascii_strcasecmp (value, "on") == 0) {
    if (field->kind != GC_CHAT_SETTING_KIND_BOOL)
      return FALSE;
    v = 1;
  } else if (field->kind == GC_CHAT_SETTING_KIND_INT) {
    if (!gc_chat_parse_duration (value, &v))
      return FALSE;
    /* Durations typed with a unit are seconds; followers/accountage count
     * minutes, so "10m" there means 10, not 600. */
    if ((field->bit == GC_CHAT_SETTING_FOLLOWERS ||
         field->bit == GC_CHAT_SETTING_ACCOUNT_AGE) &&
        !g_ascii_isdigit (value[strlen (value) - 1]))
      v /= 60;
  } else {
    return FALSE;
  }
  action->settings.mask = field->bit;
  gc_chat_settings_set (&action->settings.values, field, v);
  return gc_chat_settings_patch_validate (&action->settings, error);
}

static gboolean
parse_args (const Command *cmd, const gchar *rest, GcChatAction *action,
            GError **error)
{
  g_autofree gchar *first = next_word (&rest);
  g_autofree gchar *second = NULL;

  switch (cmd->args) {
    case ARGS_USER:
      return take_user (first, &action->user) && !has_more (rest);
    case ARGS_USER_REASON:
      action->by_address = cmd->flag;
      if (!take_user (first, &action->user))
        return FALSE;
      action->reason = rest_of_line (rest);
      return TRUE;
    case ARGS_USER_DURATION: {
      const gchar *after_duration = rest;

      if (!take_user (first, &action->user))
        return FALSE;
      /* Twitch's default; typing a bare "/timeout bob" is common. */
      action->seconds = 600;
      second = next_word (&after_duration);
      if (second != NULL && g_ascii_isdigit (*second)) {
        if (!gc_chat_parse_duration (second, &action->seconds))
          return FALSE;
        rest = after_duration;
      }
      if (action->seconds < 1 ||
          action->seconds > GC_CHAT_TIMEOUT_MAX_SECONDS) {
        g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST,
                     "timeouts last 1 second to 14 days");
        return FALSE;
      }
      action->reason = rest_of_line (rest);
      return TRUE;
    }
    case ARGS_OPT_USER:
      if (first == NULL)
        return TRUE;
      return take_user (first, &action->user) && !has_more (rest);
    case ARGS_ID:
    case ARGS_ID_REASON:
      if (first == NULL || strlen (first) > 64)
        return FALSE;
      action->id = g_steal_pointer (&first);
      if (cmd->args == ARGS_ID_REASON) {
        action->reason = rest_of_line (rest);
        return TRUE;
      }
      return !has_more (rest);
    case ARGS_TERM: {
      g_autofree gchar *raw = NULL;

      if (first == NULL)
        return FALSE;
      raw = g_strconcat (first, rest, NULL);
      action->hold = cmd->flag;
      action->term = g_strstrip (g_steal_pointer (&raw));
      return *action->term != '\0';
    }
    case ARGS_SETTING:
      if (has_more (rest))
        return FALSE;
      return parse_setting (cmd, first, action, error);
  }
  return FALSE;
}

GcChatAction *
gc_chat_command_parse (const gchar *text, GError **error)
{
  const gchar *rest;
  g_autofree gchar *name = NULL;
  const Command *cmd = NULL;
  g_autoptr (GcChatAction) action = NULL;
  GError *local = NULL;

  g_return_val_if_fail (text != NULL, NULL);

  if (!gc_chat_command_is_command (text)) {
    g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST,
                 "not a command");
    return NULL;
  }
  rest = text + 1;
  name = next_word (&rest);
  if (name != NULL) {
    for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
      if (g_ascii_strcasecmp (name, commands[i].name) == 0)
        cmd = &commands[i];
  }
  if (cmd == NULL) {
    g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_UNKNOWN_COMMAND,
                 "unknown command /%s", name ? name : "");
    return NULL;
  }

  action = gc_chat_action_new (cmd->type);
  if (!parse_args (cmd, rest, action, &local) ||
      !fits (action->reason, MAX_REASON) || !fits (action->term, MAX_TERM)) {
    if (local != NULL) {
      g_propagate_error (error, local);
    } else {
      g_set_error (error, GC_CHAT_ERROR, GC_CHAT_ERROR_BAD_REQUEST, "usage: %s",
                   cmd->usage);
    }
    return NULL;
  }
  return g_steal_pointer (&action);
}
