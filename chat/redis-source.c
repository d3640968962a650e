/* redis-source.c — the hiredis <-> GMainContext adapter: one GSource with one GPollFD per async context.
 * Everything runs on the context's thread, so hiredis is only ever entered from our dispatch or our callers. */

#include "redis-source.h"

typedef struct {
  GSource source;
  redisAsyncContext *ac;
  GPollFD poll;
} RedisSource;

static gboolean
redis_source_prepare (GSource *source, gint *timeout)
{
  *timeout = -1;
  return FALSE;
}

static gboolean
redis_source_check (GSource *source)
{
  RedisSource *rs = (RedisSource *)source;

  return (rs->poll.revents & rs->poll.events) != 0 ||
         (rs->poll.revents & (G_IO_ERR | G_IO_HUP)) != 0;
}

static gboolean
redis_source_dispatch (GSource *source, GSourceFunc callback,
                       gpointer user_data)
{
  RedisSource *rs = (RedisSource *)source;
  gushort revents = rs->poll.revents;
  redisAsyncContext *ac = rs->ac;

  rs->poll.revents = 0;
  /* Either call may free the context (and through cleanup, detach this
   * source); check after each whether we are still attached. */
  g_source_ref (source);
  if (ac != NULL && (revents & (G_IO_IN | G_IO_HUP | G_IO_ERR)))
    redisAsyncHandleRead (ac);
  if (rs->ac != NULL && (revents & G_IO_OUT))
    redisAsyncHandleWrite (rs->ac);
  g_source_unref (source);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs redis_source_funcs = {
    redis_source_prepare,
    redis_source_check,
    redis_source_dispatch,
    NULL,
    NULL,
    NULL,
};

static void
set_events (RedisSource *rs, gushort add, gushort remove)
{
  gushort events = (rs->poll.events | add) & ~remove;

  if (events == rs->poll.events)
    return;
  /* The main loop reads GPollFD.events afresh before every poll, and
   * hiredis only calls us on the context's own thread. */
  rs->poll.events = events;
}

static void
add_read (void *data)
{
  set_events (data, G_IO_IN, 0);
}

static void
del_read (void *data)
{
  set_events (data, 0, G_IO_IN);
}

static void
add_write (void *data)
{
  set_events (data, G_IO_OUT, 0);
}

static void
del_write (void *data)
{
  set_events (data, 0, G_IO_OUT);
}

static void
cleanup (void *data)
{
  RedisSource *rs = data;

  /* hiredis is freeing its context: forget it and leave the loop. */
  rs->ac = NULL;
  g_source_destroy (&rs->source);
  g_source_unref (&rs->source);
}

gboolean
gc_chat_redis_source_attach (redisAsyncContext *ac, GMainContext *context)
{
  RedisSource *rs;

  g_return_val_if_fail (ac != NULL, FALSE);
  if (ac->ev.data != NULL)
    return FALSE;

  rs = (RedisSource *)g_source_new (&redis_source_funcs, sizeof (RedisSource));
  rs->ac = ac;
  rs->poll.fd = ac->c.fd;
  rs->poll.events = 0;
  g_source_set_name (&rs->source, "hiredis");
  g_source_add_poll (&rs->source, &rs->poll);

  ac->ev.addRead = add_read;
  ac->ev.delRead = del_read;
  ac->ev.addWrite = add_write;
  ac->ev.delWrite = del_write;
  ac->ev.cleanup = cleanup;
  ac->ev.data = rs;

  g_source_attach (&rs->source, context);
  /* hiredis finishes a non-blocking connect on the first writable event,
   * and only asks for one when a command is queued: ask now so the connect
   * callback fires even before the first command. */
  if (!(ac->c.flags & REDIS_CONNECTED))
    add_write (rs);
  return TRUE;
}
