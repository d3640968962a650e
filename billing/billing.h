/* billing.h — the public API of libgcbilling: money and currencies, the ledger, Stripe webhook signatures.
 * See billing/README.md for a map of the files, the ledger's accounts and the journal each flow writes. */

#pragma once

#include "billing-error.h"
#include "events.h"
#include "ledger.h"
#include "money.h"
#include "playback-token.h"
#include "state.h"
#include "stripe-client.h"
#include "stripe-objects.h"
#include "webhook-signature.h"
