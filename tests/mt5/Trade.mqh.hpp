/*
 * Trade.mqh.hpp — a minimal model of the MQL5 standard library's CTrade
 * (https://www.mql5.com/en/docs/standardlibrary/tradeclasses/ctrade), enough
 * to run the EA of before issue #15 (which used <Trade\Trade.mqh>) on the shim
 * and see its defects. The current EA uses OrderSend directly; mq5pp.py maps
 * `#include <Trade\Trade.mqh>` here only when run with --allow-stdlib.
 *
 * Modelled behaviour that matters for the old EA's defects:
 * SetTypeFillingBySymbol picks FOK, else IOC, and otherwise leaves the filling
 * as it was (FOK): a return-only symbol gets 10030. A fresh CTrade has magic
 * 0. The Result* getters return the last OrderSend's MqlTradeResult.
 */
#ifndef ZX_TRADE_MQH_HPP
#define ZX_TRADE_MQH_HPP
#include "mql5.h"

class CTrade {
    ulong m_magic = 0, m_dev = 10;
    ENUM_ORDER_TYPE_FILLING m_fill = ORDER_FILLING_FOK;
    MqlTradeResult m_res;

    bool deal(const string &sym, ENUM_ORDER_TYPE type, double vol, double sl, double tp, const string &comment,
              ulong position)
    {
        MqlTradeRequest rq;
        ZeroMemory(rq);
        ZeroMemory(m_res);
        MqlTick t;
        SymbolInfoTick(sym, t);
        rq.action = TRADE_ACTION_DEAL;
        rq.symbol = sym;
        rq.volume = vol;
        rq.type = type;
        rq.price = type == ORDER_TYPE_BUY ? t.ask : t.bid;
        rq.sl = sl;
        rq.tp = tp;
        rq.deviation = m_dev;
        rq.magic = m_magic;
        rq.comment = comment;
        rq.type_filling = m_fill;
        rq.position = position;
        return OrderSend(rq, m_res);
    }

public:
    void SetExpertMagicNumber(ulong magic) { m_magic = magic; }
    void SetDeviationInPoints(ulong d) { m_dev = d; }
    bool SetTypeFillingBySymbol(const string &sym)
    {
        long mask = SymbolInfoInteger(sym, SYMBOL_FILLING_MODE);
        if (mask & SYMBOL_FILLING_FOK) {
            m_fill = ORDER_FILLING_FOK;
            return true;
        }
        if (mask & SYMBOL_FILLING_IOC) {
            m_fill = ORDER_FILLING_IOC;
            return true;
        }
        return false;
    }
    bool Buy(double vol, const string &sym, double price, double sl, double tp, const string &comment)
    {
        (void)price;
        return deal(sym, ORDER_TYPE_BUY, vol, sl, tp, comment, 0);
    }
    bool Sell(double vol, const string &sym, double price, double sl, double tp, const string &comment)
    {
        (void)price;
        return deal(sym, ORDER_TYPE_SELL, vol, sl, tp, comment, 0);
    }
    bool PositionClosePartial(ulong ticket, double vol)
    {
        if (!PositionSelectByTicket(ticket))
            return false;
        bool buy = PositionGetInteger(POSITION_TYPE) == POSITION_TYPE_BUY;
        return deal(PositionGetString(POSITION_SYMBOL), buy ? ORDER_TYPE_SELL : ORDER_TYPE_BUY, vol, 0, 0, "", ticket);
    }
    bool PositionClose(ulong ticket)
    {
        if (!PositionSelectByTicket(ticket))
            return false;
        return PositionClosePartial(ticket, PositionGetDouble(POSITION_VOLUME));
    }
    bool PositionModify(ulong ticket, double sl, double tp)
    {
        if (!PositionSelectByTicket(ticket))
            return false;
        MqlTradeRequest rq;
        ZeroMemory(rq);
        ZeroMemory(m_res);
        rq.action = TRADE_ACTION_SLTP;
        rq.position = ticket;
        rq.symbol = PositionGetString(POSITION_SYMBOL);
        rq.sl = sl;
        rq.tp = tp;
        rq.magic = m_magic;
        return OrderSend(rq, m_res);
    }
    uint ResultRetcode() const { return m_res.retcode; }
    string ResultRetcodeDescription() const { return m_res.comment; }
    ulong ResultDeal() const { return m_res.deal; }
    ulong ResultOrder() const { return m_res.order; }
    double ResultPrice() const { return m_res.price; }
    double ResultVolume() const { return m_res.volume; }
};
#endif
