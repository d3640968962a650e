/* billing.h — the public API of libgcbilling: money and currencies, the ledger, Stripe webhook signatures.
 * See billing/README.md for a map of the files, the ledger's accounts and the journal each flow writes. */

#pragma once

#include "billing-error.h"
#include "ledger.h"
#include "money.h"
#include "webhook-signature.h"
