/* chat-error.c — the GC_CHAT_ERROR quark and the wire names of its codes.
 * Wire names are part of PROTOCOL.md: clients switch on them, so they never change. */

#include "chat-error.h"

GQuark
gc_chat_error_quark (void)
{
  return g_quark_from_static_string ("gc-chat-error-quark");
}

/* Indexed by GcChatErrorCode; a static table so a new code without a name
 * fails the build's size check below rather than printing garbage. */
static const gchar *const error_names[] = {
    [GC_CHAT_ERROR_BAD_REQUEST] = "bad_request",
    [GC_CHAT_ERROR_UNKNOWN_TYPE] = "unknown_type",
    [GC_CHAT_ERROR_UNKNOWN_COMMAND] = "unknown_command",
    [GC_CHAT_ERROR_LOGIN_REQUIRED] = "login_required",
    [GC_CHAT_ERROR_FORBIDDEN] = "forbidden",
    [GC_CHAT_ERROR_BANNED] = "banned",
    [GC_CHAT_ERROR_TIMED_OUT] = "timed_out",
    [GC_CHAT_ERROR_EMPTY] = "empty",
    [GC_CHAT_ERROR_TOO_LONG] = "too_long",
    [GC_CHAT_ERROR_RATE_LIMITED] = "rate_limited",
    [GC_CHAT_ERROR_SLOW_MODE] = "slow_mode",
    [GC_CHAT_ERROR_SUBSCRIBERS_ONLY] = "subscribers_only",
    [GC_CHAT_ERROR_FOLLOWERS_ONLY] = "followers_only",
    [GC_CHAT_ERROR_ACCOUNT_TOO_NEW] = "account_too_new",
    [GC_CHAT_ERROR_EMOTE_ONLY] = "emote_only",
    [GC_CHAT_ERROR_DUPLICATE] = "duplicate",
    [GC_CHAT_ERROR_BLOCKED_TERM] = "blocked_term",
    [GC_CHAT_ERROR_NOT_FOUND] = "not_found",
    [GC_CHAT_ERROR_STORAGE] = "storage",
    [GC_CHAT_ERROR_INTERNAL] = "internal",
};

G_STATIC_ASSERT (G_N_ELEMENTS (error_names) == GC_CHAT_ERROR_INTERNAL + 1);

const gchar *
gc_chat_error_code_to_string (GcChatErrorCode code)
{
  if ((guint)code >= G_N_ELEMENTS (error_names))
    return "internal";
  return error_names[code];
}

const gchar *
gc_chat_error_name (const GError *error)
{
  if (error == NULL || error->domain != GC_CHAT_ERROR)
    return "internal";
  return gc_chat_error_code_to_string ((GcChatErrorCode)error->code);
}
