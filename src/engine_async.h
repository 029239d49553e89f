/*
 * engine_async — what an asynchronous broker (the MT5 bridge) reports later,
 * applied to the engine's position book: the result of each request, and the
 * broker's open positions and closed deals of each report. The owner (app.c)
 * points the broker's struct broker_sink at these.
 *
 * eng_broker_result: the result of one request, applied once by the broker.
 *   open ok: the pending trade gets the ticket, fill price and lots, then the
 *   order-placed event; open failed: the trade is CLOSED "rejected: <error>",
 *   profit 0. close: recorded with the broker's price and profit. modify: the
 *   SL/TP requested become the trade's.
 * eng_broker_sync: the broker's closed positions (closed with its price and
 *   profit; volume < lot is a partial close) and its open positions (npos < 0:
 *   no list was reported; a filled trade missing from the list is closed with
 *   the last quote and the broker's last profit; SL/TP and volume follow the
 *   broker's; a pending trade whose position is there is filled from it).
 * Loop thread only; never blocks.
 */
#ifndef ZEPIX_ENGINE_ASYNC_H
#define ZEPIX_ENGINE_ASYNC_H

#include <stdint.h>
#include "broker.h"
#include "engine.h"

void eng_broker_result(struct engine *e, const struct broker_result *r);
/* 1 when ticket is the broker's ticket of a trade the engine watches (filled,
 * or pending with that ticket known), else 0. */
int eng_knows_ticket(struct engine *e, int64_t ticket);
void eng_broker_sync(struct engine *e, const struct broker_position *pos, int npos,
                     const struct broker_closed *closed, int nclosed);

#endif
