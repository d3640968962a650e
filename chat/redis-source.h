/* redis-source.h — a GSource that drives one hiredis async context on a GLib main context.
 * hiredis ships adapters for libevent, libuv and others but not GLib; this is ours. */

#pragma once

#include <glib.h>
#include <hiredis/async.h>

G_BEGIN_DECLS

/* Hooks @ac into @context: hiredis' addRead/addWrite/... toggle the poll
 * events, the dispatch calls redisAsyncHandleRead/Write. The source is
 * destroyed by hiredis' cleanup hook when @ac is freed (by redisAsyncFree or
 * after a disconnect), so callers never destroy it themselves.
 * Returns: FALSE if @ac already has an event library attached. */
gboolean gc_chat_redis_source_attach (redisAsyncContext *ac,
                                      GMainContext *context);

G_END_DECLS
