/* chat-error.h — the error domain of the chat library (GC_CHAT_ERROR).
 * Every refusal a client can meet is one of these codes; each has a stable wire name for `error` frames. */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define GC_CHAT_ERROR (gc_chat_error_quark ())
GQuark gc_chat_error_quark (void);

typedef enum {
  GC_CHAT_ERROR_BAD_REQUEST,      /* malformed JSON, missing or bad field */
  GC_CHAT_ERROR_UNKNOWN_TYPE,     /* "type" names no request */
  GC_CHAT_ERROR_UNKNOWN_COMMAND,  /* "/frobnicate" */
  GC_CHAT_ERROR_LOGIN_REQUIRED,   /* anonymous viewers read, never post */
  GC_CHAT_ERROR_FORBIDDEN,        /* role too low for the action */
  GC_CHAT_ERROR_BANNED,           /* account or address banned in the room */
  GC_CHAT_ERROR_TIMED_OUT,        /* timed out; retry_after says how long */
  GC_CHAT_ERROR_EMPTY,            /* nothing left after trimming */
  GC_CHAT_ERROR_TOO_LONG,         /* over the message length limit */
  GC_CHAT_ERROR_RATE_LIMITED,     /* per-user rate limit */
  GC_CHAT_ERROR_SLOW_MODE,        /* slow mode interval not over */
  GC_CHAT_ERROR_SUBSCRIBERS_ONLY, /* subscriber-only room */
  GC_CHAT_ERROR_FOLLOWERS_ONLY,   /* not following (long enough) */
  GC_CHAT_ERROR_ACCOUNT_TOO_NEW,  /* account-age gate */
  GC_CHAT_ERROR_EMOTE_ONLY,       /* emote-only room, text not all emotes */
  GC_CHAT_ERROR_DUPLICATE,        /* unique-chat: same text seen recently */
  GC_CHAT_ERROR_BLOCKED_TERM,     /* contains a blocked term */
  GC_CHAT_ERROR_NOT_FOUND,        /* no such message, user or term */
  GC_CHAT_ERROR_STORAGE,          /* archive (SQLite) failure */
  GC_CHAT_ERROR_INTERNAL,
} GcChatErrorCode;

/* The stable wire name of @code ("bad_request", "slow_mode", ...). */
const gchar *gc_chat_error_code_to_string (GcChatErrorCode code);

/* The wire name of @error: its code's name when it is a GC_CHAT_ERROR,
 * "internal" otherwise. */
const gchar *gc_chat_error_name (const GError *error);

G_END_DECLS
