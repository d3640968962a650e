/* chat.h — the public API of libgcchat, Glasscast's chat: include this one header.
 * glasscastd needs service.h (start, adopt upgraded sockets, identities); the rest is there for tests and tools. */

#pragma once

#include "action.h"
#include "archive.h"
#include "audit.h"
#include "chat-error.h"
#include "command.h"
#include "hub.h"
#include "identity.h"
#include "message.h"
#include "normalize.h"
#include "protocol.h"
#include "room.h"
#include "service.h"
#include "settings.h"
#include "terms.h"
#include "wsframe.h"
