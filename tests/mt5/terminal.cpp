/*
 * terminal.cpp — a fake MetaTrader 5 terminal and trade server for the EA
 * compiled on the MQL5 shim (mql5.h). It implements the shim's trading,
 * history, account, file and network functions, runs the EA's event handlers
 * (OnInit, OnTimer, OnDeinit) like the terminal does, and keeps the *server's*
 * state (account, symbols, positions, deals, the requests it received) in a
 * JSON state file that survives the EA process: killing this process is a
 * terminal crash, starting it again on the same state file is the terminal
 * restarting with the EA attached.
 *
 * Usage: zx-mt5-terminal --state FILE --common DIR [--allow URL]... [--input Name=value]...
 *                        [--crash POINT:N]
 *   --state   the server's state (created with defaults when missing; the
 *             tests write it first: login, margin mode, symbols, knobs)
 *   --common  the terminal's common data folder (FileOpen with FILE_COMMON)
 *   --allow   a URL prefix of Tools > Options > Expert Advisors > "Allow
 *             WebRequest for listed URL"
 *   --crash   exit(99) at the Nth occurrence of POINT: before_send (in
 *             OrderSend, before the server sees the request), after_send (the
 *             server executed it, the EA never saw the result), after_poll
 *             (WebRequest delivered, the EA never saw the answer),
 *             after_request_answer (the same, for an answer with requests),
 *             before_result_poll (a poll carrying results is about to go)
 * Commands on stdin, one per line, applied between the EA's calls as a trade
 * server applies its events: `quote SYM BID ASK`, `close TICKET VOLUME PRICE
 * REASON` (a close made by the server or by hand: sl, tp, client), `delete
 * TICKET` (a pending order deleted by hand), `set KNOB VALUE` (connected,
 * login, history_lag_ms, result_price_zero, ...), `stop` (OnDeinit and exit 0).
 * Pending orders trigger when a quote reaches their price (buy limit: ask <=
 * price; buy stop: ask >= price; sell limit: bid >= price; sell stop: bid <=
 * price) and expire at ORDER_TIME_EXPIRATION, between the EA's calls. Every command increments "cmd_seq" in the state file.
 * The EA's Print output goes to stderr.
 */
#include "mql5.h"

#include <atomic>
#include <chrono>
#include <curl/curl.h>
#include <deque>
#include <json-c/json.h>
#include <map>
#include <mutex>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

int OnInit();
void OnDeinit(const int reason);
void OnTimer();

int _LastError = 0;

/* ---- the server's state ---- */
struct Sym {
    std::string name;
    double bid = 0, ask = 0, point = 0.00001, tick_size = 0.00001, vol_min = 0.01, vol_max = 100,
           vol_step = 0.01, contract = 100000;
    long digits = 5, stops_level = 0, filling = SYMBOL_FILLING_FOK | SYMBOL_FILLING_IOC,
         exemode = SYMBOL_TRADE_EXECUTION_MARKET, freeze_level = 0,
         expiration_mode = SYMBOL_EXPIRATION_GTC | SYMBOL_EXPIRATION_DAY | SYMBOL_EXPIRATION_SPECIFIED |
                           SYMBOL_EXPIRATION_SPECIFIED_DAY;
};
struct Ord {                    /* a pending order, working or in the history */
    ulong ticket = 0;
    long login = 0, type = 0, magic = 0, time_setup = 0, type_time = 0, expiration = 0, state = ORDER_STATE_PLACED,
         time_done = 0, position_id = 0;
    std::string symbol, comment;
    double volume = 0, price = 0, sl = 0, tp = 0;
};
struct Pos {
    ulong ticket = 0;
    long login = 0, type = 0, magic = 0, time = 0;
    std::string symbol, comment;
    double volume = 0, price_open = 0, sl = 0, tp = 0, swap = 0;
};
struct Deal {
    ulong ticket = 0, order = 0;
    long login = 0, time = 0, type = 0, entry = 0, magic = 0, position_id = 0, reason = 0;
    double volume = 0, price = 0, commission = 0, swap = 0, profit = 0, fee = 0;
    std::string symbol, comment;
    long visible_ms = 0;        /* in the terminal's history from this wall-clock ms */
};

static struct {
    long login = 5551234, margin_mode = ACCOUNT_MARGIN_MODE_RETAIL_HEDGING, connected = 1, trade_allowed = 1;
    double balance = 10000;
    std::string currency = "USD";
    std::map<std::string, Sym> syms;
    std::vector<Pos> pos;
    std::vector<Deal> deals;
    std::vector<Ord> orders, horders;   /* working pending orders; the history's */
    ulong next_ticket = 500001, next_deal = 900001;
    long server_offset_s = 7200;        /* server time = UTC + this */
    double commission_per_lot = 7.0;    /* half on the entry deal, half on the exit */
    double fee_per_deal = 0.0;
    double slippage = 0.00002;          /* price units, against the trader */
    long history_lag_ms = 0, result_price_zero = 0, cmd_seq = 0, webrequests = 0;
    json_object *requests = nullptr;    /* every OrderSend the server saw */
} S;

static std::string g_state, g_common;
static std::vector<std::string> g_allow;
/* Function-local: the EA's globals read inputs during static initialisation. */
static std::map<std::string, std::string> &inputs()
{
    static std::map<std::string, std::string> m;
    return m;
}
static std::string g_crash_point;
static int g_crash_n = 0;
static std::map<std::string, int> g_count;
static std::atomic<bool> g_stop(false);
static std::mutex g_mu;
static std::deque<std::string> g_cmds;

static long now_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch()).count();
}

static void crash_point(const char *point)
{
    if (g_crash_point == point && ++g_count[point] == g_crash_n) {
        fprintf(stderr, "zx-mt5-terminal: crash at %s #%d\n", point, g_crash_n);
        _exit(99);
    }
}

/* ---- state file ---- */
static double jd(json_object *o, const char *k, double def)
{
    json_object *v;
    return json_object_object_get_ex(o, k, &v) ? json_object_get_double(v) : def;
}
static long jl(json_object *o, const char *k, long def)
{
    json_object *v;
    return json_object_object_get_ex(o, k, &v) ? (long)json_object_get_int64(v) : def;
}
static std::string js(json_object *o, const char *k, const char *def)
{
    json_object *v;
    return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : def;
}

static void load_state()
{
    json_object *o = json_object_from_file(g_state.c_str());
    if (!o) {
        Sym e;
        e.name = "EURUSD";
        e.bid = 1.1, e.ask = 1.1001;
        S.syms[e.name] = e;
        S.requests = json_object_new_array();
        return;
    }
    S.login = jl(o, "login", S.login);
    S.margin_mode = jl(o, "margin_mode", S.margin_mode);
    S.connected = jl(o, "connected", 1);
    S.trade_allowed = jl(o, "trade_allowed", 1);
    S.balance = jd(o, "balance", S.balance);
    S.currency = js(o, "currency", "USD");
    S.next_ticket = (ulong)jl(o, "next_ticket", (long)S.next_ticket);
    S.next_deal = (ulong)jl(o, "next_deal", (long)S.next_deal);
    S.server_offset_s = jl(o, "server_offset_s", S.server_offset_s);
    S.commission_per_lot = jd(o, "commission_per_lot", S.commission_per_lot);
    S.fee_per_deal = jd(o, "fee_per_deal", S.fee_per_deal);
    S.slippage = jd(o, "slippage", S.slippage);
    S.history_lag_ms = jl(o, "history_lag_ms", 0);
    S.result_price_zero = jl(o, "result_price_zero", 0);
    S.cmd_seq = jl(o, "cmd_seq", 0);
    S.webrequests = jl(o, "webrequests", 0);
    json_object *a;
    if (json_object_object_get_ex(o, "symbols", &a))
        for (size_t i = 0; i < json_object_array_length(a); i++) {
            json_object *x = json_object_array_get_idx(a, i);
            Sym y;
            y.name = js(x, "name", "");
            y.bid = jd(x, "bid", 0), y.ask = jd(x, "ask", 0), y.point = jd(x, "point", y.point);
            y.tick_size = jd(x, "tick_size", y.point), y.vol_min = jd(x, "vol_min", y.vol_min);
            y.vol_max = jd(x, "vol_max", y.vol_max), y.vol_step = jd(x, "vol_step", y.vol_step);
            y.contract = jd(x, "contract", y.contract), y.digits = jl(x, "digits", y.digits);
            y.stops_level = jl(x, "stops_level", 0), y.filling = jl(x, "filling", y.filling);
            y.exemode = jl(x, "exemode", y.exemode);
            y.freeze_level = jl(x, "freeze_level", 0), y.expiration_mode = jl(x, "expiration_mode", y.expiration_mode);
            S.syms[y.name] = y;
        }
    if (json_object_object_get_ex(o, "positions", &a))
        for (size_t i = 0; i < json_object_array_length(a); i++) {
            json_object *x = json_object_array_get_idx(a, i);
            Pos p;
            p.ticket = (ulong)jl(x, "ticket", 0), p.login = jl(x, "login", S.login), p.type = jl(x, "type", 0);
            p.magic = jl(x, "magic", 0), p.time = jl(x, "time", 0), p.symbol = js(x, "symbol", "");
            p.comment = js(x, "comment", ""), p.volume = jd(x, "volume", 0), p.price_open = jd(x, "price_open", 0);
            p.sl = jd(x, "sl", 0), p.tp = jd(x, "tp", 0), p.swap = jd(x, "swap", 0);
            S.pos.push_back(p);
        }
    if (json_object_object_get_ex(o, "deals", &a))
        for (size_t i = 0; i < json_object_array_length(a); i++) {
            json_object *x = json_object_array_get_idx(a, i);
            Deal d;
            d.ticket = (ulong)jl(x, "ticket", 0), d.order = (ulong)jl(x, "order", 0), d.login = jl(x, "login", S.login);
            d.time = jl(x, "time", 0), d.type = jl(x, "type", 0), d.entry = jl(x, "entry", 0);
            d.magic = jl(x, "magic", 0), d.position_id = jl(x, "position_id", 0), d.reason = jl(x, "reason", 0);
            d.volume = jd(x, "volume", 0), d.price = jd(x, "price", 0), d.commission = jd(x, "commission", 0);
            d.swap = jd(x, "swap", 0), d.profit = jd(x, "profit", 0), d.fee = jd(x, "fee", 0);
            d.symbol = js(x, "symbol", ""), d.comment = js(x, "comment", ""), d.visible_ms = jl(x, "visible_ms", 0);
            S.deals.push_back(d);
        }
    for (int h = 0; h < 2; h++)
        if (json_object_object_get_ex(o, h ? "history_orders" : "orders", &a))
            for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *x = json_object_array_get_idx(a, i);
                Ord d;
                d.ticket = (ulong)jl(x, "ticket", 0), d.login = jl(x, "login", S.login), d.type = jl(x, "type", 0);
                d.magic = jl(x, "magic", 0), d.time_setup = jl(x, "time_setup", 0), d.type_time = jl(x, "type_time", 0);
                d.expiration = jl(x, "expiration", 0), d.state = jl(x, "state", ORDER_STATE_PLACED);
                d.time_done = jl(x, "time_done", 0), d.position_id = jl(x, "position_id", 0);
                d.symbol = js(x, "symbol", ""), d.comment = js(x, "comment", ""), d.volume = jd(x, "volume", 0);
                d.price = jd(x, "price", 0), d.sl = jd(x, "sl", 0), d.tp = jd(x, "tp", 0);
                (h ? S.horders : S.orders).push_back(d);
            }
    if (json_object_object_get_ex(o, "requests", &a))
        S.requests = json_object_get(a);
    else
        S.requests = json_object_new_array();
    json_object_put(o);
}

static void save_state()
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "login", json_object_new_int64(S.login));
    json_object_object_add(o, "margin_mode", json_object_new_int64(S.margin_mode));
    json_object_object_add(o, "connected", json_object_new_int64(S.connected));
    json_object_object_add(o, "trade_allowed", json_object_new_int64(S.trade_allowed));
    json_object_object_add(o, "balance", json_object_new_double(S.balance));
    json_object_object_add(o, "currency", json_object_new_string(S.currency.c_str()));
    json_object_object_add(o, "next_ticket", json_object_new_int64((long)S.next_ticket));
    json_object_object_add(o, "next_deal", json_object_new_int64((long)S.next_deal));
    json_object_object_add(o, "server_offset_s", json_object_new_int64(S.server_offset_s));
    json_object_object_add(o, "commission_per_lot", json_object_new_double(S.commission_per_lot));
    json_object_object_add(o, "fee_per_deal", json_object_new_double(S.fee_per_deal));
    json_object_object_add(o, "slippage", json_object_new_double(S.slippage));
    json_object_object_add(o, "history_lag_ms", json_object_new_int64(S.history_lag_ms));
    json_object_object_add(o, "result_price_zero", json_object_new_int64(S.result_price_zero));
    json_object_object_add(o, "cmd_seq", json_object_new_int64(S.cmd_seq));
    json_object_object_add(o, "webrequests", json_object_new_int64(S.webrequests));
    json_object *a = json_object_new_array();
    for (auto &kv : S.syms) {
        const Sym &y = kv.second;
        json_object *x = json_object_new_object();
        json_object_object_add(x, "name", json_object_new_string(y.name.c_str()));
        json_object_object_add(x, "bid", json_object_new_double(y.bid));
        json_object_object_add(x, "ask", json_object_new_double(y.ask));
        json_object_object_add(x, "point", json_object_new_double(y.point));
        json_object_object_add(x, "tick_size", json_object_new_double(y.tick_size));
        json_object_object_add(x, "vol_min", json_object_new_double(y.vol_min));
        json_object_object_add(x, "vol_max", json_object_new_double(y.vol_max));
        json_object_object_add(x, "vol_step", json_object_new_double(y.vol_step));
        json_object_object_add(x, "contract", json_object_new_double(y.contract));
        json_object_object_add(x, "digits", json_object_new_int64(y.digits));
        json_object_object_add(x, "stops_level", json_object_new_int64(y.stops_level));
        json_object_object_add(x, "filling", json_object_new_int64(y.filling));
        json_object_object_add(x, "exemode", json_object_new_int64(y.exemode));
        json_object_object_add(x, "freeze_level", json_object_new_int64(y.freeze_level));
        json_object_object_add(x, "expiration_mode", json_object_new_int64(y.expiration_mode));
        json_object_array_add(a, x);
    }
    json_object_object_add(o, "symbols", a);
    a = json_object_new_array();
    for (const Pos &p : S.pos) {
        json_object *x = json_object_new_object();
        json_object_object_add(x, "ticket", json_object_new_int64((long)p.ticket));
        json_object_object_add(x, "login", json_object_new_int64(p.login));
        json_object_object_add(x, "type", json_object_new_int64(p.type));
        json_object_object_add(x, "magic", json_object_new_int64(p.magic));
        json_object_object_add(x, "time", json_object_new_int64(p.time));
        json_object_object_add(x, "symbol", json_object_new_string(p.symbol.c_str()));
        json_object_object_add(x, "comment", json_object_new_string(p.comment.c_str()));
        json_object_object_add(x, "volume", json_object_new_double(p.volume));
        json_object_object_add(x, "price_open", json_object_new_double(p.price_open));
        json_object_object_add(x, "sl", json_object_new_double(p.sl));
        json_object_object_add(x, "tp", json_object_new_double(p.tp));
        json_object_object_add(x, "swap", json_object_new_double(p.swap));
        json_object_array_add(a, x);
    }
    json_object_object_add(o, "positions", a);
    a = json_object_new_array();
    for (const Deal &d : S.deals) {
        json_object *x = json_object_new_object();
        json_object_object_add(x, "ticket", json_object_new_int64((long)d.ticket));
        json_object_object_add(x, "order", json_object_new_int64((long)d.order));
        json_object_object_add(x, "login", json_object_new_int64(d.login));
        json_object_object_add(x, "time", json_object_new_int64(d.time));
        json_object_object_add(x, "type", json_object_new_int64(d.type));
        json_object_object_add(x, "entry", json_object_new_int64(d.entry));
        json_object_object_add(x, "magic", json_object_new_int64(d.magic));
        json_object_object_add(x, "position_id", json_object_new_int64(d.position_id));
        json_object_object_add(x, "reason", json_object_new_int64(d.reason));
        json_object_object_add(x, "volume", json_object_new_double(d.volume));
        json_object_object_add(x, "price", json_object_new_double(d.price));
        json_object_object_add(x, "commission", json_object_new_double(d.commission));
        json_object_object_add(x, "swap", json_object_new_double(d.swap));
        json_object_object_add(x, "profit", json_object_new_double(d.profit));
        json_object_object_add(x, "fee", json_object_new_double(d.fee));
        json_object_object_add(x, "symbol", json_object_new_string(d.symbol.c_str()));
        json_object_object_add(x, "comment", json_object_new_string(d.comment.c_str()));
        json_object_object_add(x, "visible_ms", json_object_new_int64(d.visible_ms));
        json_object_array_add(a, x);
    }
    json_object_object_add(o, "deals", a);
    for (int h = 0; h < 2; h++) {
        a = json_object_new_array();
        for (const Ord &d : h ? S.horders : S.orders) {
            json_object *x = json_object_new_object();
            json_object_object_add(x, "ticket", json_object_new_int64((long)d.ticket));
            json_object_object_add(x, "login", json_object_new_int64(d.login));
            json_object_object_add(x, "type", json_object_new_int64(d.type));
            json_object_object_add(x, "magic", json_object_new_int64(d.magic));
            json_object_object_add(x, "time_setup", json_object_new_int64(d.time_setup));
            json_object_object_add(x, "type_time", json_object_new_int64(d.type_time));
            json_object_object_add(x, "expiration", json_object_new_int64(d.expiration));
            json_object_object_add(x, "state", json_object_new_int64(d.state));
            json_object_object_add(x, "time_done", json_object_new_int64(d.time_done));
            json_object_object_add(x, "position_id", json_object_new_int64(d.position_id));
            json_object_object_add(x, "symbol", json_object_new_string(d.symbol.c_str()));
            json_object_object_add(x, "comment", json_object_new_string(d.comment.c_str()));
            json_object_object_add(x, "volume", json_object_new_double(d.volume));
            json_object_object_add(x, "price", json_object_new_double(d.price));
            json_object_object_add(x, "sl", json_object_new_double(d.sl));
            json_object_object_add(x, "tp", json_object_new_double(d.tp));
            json_object_array_add(a, x);
        }
        json_object_object_add(o, h ? "history_orders" : "orders", a);
    }
    json_object_object_add(o, "requests", json_object_get(S.requests));
    std::string tmp = g_state + ".tmp";
    if (json_object_to_file_ext(tmp.c_str(), o, JSON_C_TO_STRING_PRETTY) == 0)
        rename(tmp.c_str(), g_state.c_str());
    json_object_put(o);
}

/* ---- commands: the server's own events ---- */
static Sym *sym(const std::string &name)
{
    auto it = S.syms.find(name);
    return it == S.syms.end() ? nullptr : &it->second;
}

static double profit_of(const Pos &p, double price, double volume)
{
    Sym *y = sym(p.symbol);
    double sign = p.type == POSITION_TYPE_BUY ? 1 : -1;
    return round(sign * (price - p.price_open) * volume * (y ? y->contract : 100000) * 100) / 100;
}

static Deal &add_deal(ulong order, long type, long entry, long magic, long pos_id, long reason, double volume,
                      double price, const std::string &symbol, const std::string &comment)
{
    Deal d;
    d.ticket = S.next_deal++;
    d.order = order, d.login = S.login, d.time = time(NULL) + S.server_offset_s, d.type = type;
    d.entry = entry, d.magic = magic, d.position_id = pos_id, d.reason = reason, d.volume = volume;
    d.price = price, d.symbol = symbol, d.comment = comment;
    d.commission = -round(S.commission_per_lot / 2 * volume * 100) / 100;
    d.fee = -S.fee_per_deal;
    d.visible_ms = now_ms() + S.history_lag_ms;
    S.deals.push_back(d);
    return S.deals.back();
}

/* Close volume lots of position i at price; returns the deal. */
static Deal &close_position(size_t i, double volume, double price, long magic, long reason, ulong order,
                            const std::string &comment)
{
    Pos &p = S.pos[i];
    double pr = profit_of(p, price, volume);
    Deal &d = add_deal(order, p.type == POSITION_TYPE_BUY ? DEAL_TYPE_SELL : DEAL_TYPE_BUY, DEAL_ENTRY_OUT, magic,
                       (long)p.ticket, reason, volume, price, p.symbol, comment);
    d.profit = pr;
    S.balance += pr + d.commission + d.fee;
    p.volume = round((p.volume - volume) * 1e8) / 1e8;
    if (p.volume <= 1e-9)
        S.pos.erase(S.pos.begin() + (long)i);
    return d;
}

/* Working order i leaves for the history as state (CANCELED, EXPIRED, FILLED). */
static void end_order(size_t i, long state)
{
    Ord d = S.orders[i];
    d.state = state, d.time_done = time(NULL) + S.server_offset_s;
    S.orders.erase(S.orders.begin() + (long)i);
    S.horders.push_back(d);
}

static bool is_buy_order(long type) { return type == ORDER_TYPE_BUY_LIMIT || type == ORDER_TYPE_BUY_STOP; }

/* Has the quote reached the order's price (the trigger of its type)? */
static bool reached(const Ord &d, const Sym &y)
{
    switch (d.type) {
    case ORDER_TYPE_BUY_LIMIT: return y.ask <= d.price + 1e-12;
    case ORDER_TYPE_BUY_STOP: return y.ask >= d.price - 1e-12;
    case ORDER_TYPE_SELL_LIMIT: return y.bid >= d.price - 1e-12;
    case ORDER_TYPE_SELL_STOP: return y.bid <= d.price + 1e-12;
    }
    return false;
}

/* The server's own work on pending orders: expiry, then triggers (a triggered
 * order opens a position of its ticket at the quote, hedging). True when
 * something changed. */
static bool process_orders()
{
    bool changed = false;
    long now = time(NULL) + S.server_offset_s;
    for (size_t i = 0; i < S.orders.size();) {
        Ord &d = S.orders[i];
        Sym *y = sym(d.symbol);
        if (d.type_time == ORDER_TIME_SPECIFIED && d.expiration > 0 && now >= d.expiration) {
            end_order(i, ORDER_STATE_EXPIRED);
            changed = true;
            continue;
        }
        if (!y || !S.connected || !reached(d, *y)) {
            i++;
            continue;
        }
        bool buy = is_buy_order(d.type);
        Pos p;
        p.ticket = d.ticket, p.login = d.login, p.type = buy ? POSITION_TYPE_BUY : POSITION_TYPE_SELL;
        p.magic = d.magic, p.time = now, p.symbol = d.symbol, p.comment = d.comment;
        p.volume = d.volume, p.price_open = buy ? y->ask : y->bid, p.sl = d.sl, p.tp = d.tp;
        S.pos.push_back(p);
        Deal &dl = add_deal(d.ticket, buy ? DEAL_TYPE_BUY : DEAL_TYPE_SELL, DEAL_ENTRY_IN, d.magic, (long)d.ticket,
                            DEAL_REASON_EXPERT, d.volume, p.price_open, d.symbol, d.comment);
        S.balance += dl.commission + dl.fee;
        d.position_id = (long)d.ticket;
        end_order(i, ORDER_STATE_FILLED);
        changed = true;
    }
    return changed;
}

static void apply(const std::string &line)
{
    char a[64] = "", b[64] = "";
    double x = 0, y = 0;
    unsigned long t = 0;
    if (sscanf(line.c_str(), "quote %63s %lf %lf", a, &x, &y) == 3) {
        Sym *s = sym(a);
        if (s)
            s->bid = x, s->ask = y;
    } else if (sscanf(line.c_str(), "close %lu %lf %lf %63s", &t, &x, &y, a) == 4) {
        for (size_t i = 0; i < S.pos.size(); i++)
            if (S.pos[i].ticket == t) {
                long reason = strcmp(a, "sl") == 0 ? DEAL_REASON_SL : strcmp(a, "tp") == 0 ? DEAL_REASON_TP : DEAL_REASON_CLIENT;
                close_position(i, x > 0 ? x : S.pos[i].volume, y, 0, reason, S.next_ticket++, "");
                break;
            }
    } else if (sscanf(line.c_str(), "delete %lu", &t) == 1) {
        for (size_t i = 0; i < S.orders.size(); i++)
            if (S.orders[i].ticket == t) {
                end_order(i, ORDER_STATE_CANCELED);
                break;
            }
    } else if (sscanf(line.c_str(), "set %63s %63s", a, b) == 2) {
        std::string k = a;
        if (k == "connected") S.connected = atol(b);
        else if (k == "login") S.login = atol(b);
        else if (k == "history_lag_ms") S.history_lag_ms = atol(b);
        else if (k == "result_price_zero") S.result_price_zero = atol(b);
        else if (k == "trade_allowed") S.trade_allowed = atol(b);
        else if (k == "slippage") S.slippage = atof(b);
        else fprintf(stderr, "zx-mt5-terminal: unknown knob %s\n", a);
    } else if (line == "stop") {
        g_stop = true;
    } else if (!line.empty()) {
        fprintf(stderr, "zx-mt5-terminal: unknown command: %s\n", line.c_str());
    }
    S.cmd_seq++;
}

static void apply_commands()
{
    std::deque<std::string> todo;
    {
        std::lock_guard<std::mutex> l(g_mu);
        todo.swap(g_cmds);
    }
    for (auto &c : todo)
        apply(c);
    if (process_orders() || !todo.empty())
        save_state();
}

/* ---- the shim's runtime ---- */
std::string mql_fmt_translate(const std::string &f)
{
    std::string o = f;
    size_t p;
    while ((p = o.find("I64")) != std::string::npos)
        o.replace(p, 3, "l");
    return o;
}
void mql_print(const std::string &line) { fprintf(stderr, "EA: %s\n", line.c_str()); }
static std::string g_comment;
void Comment(const string &s)
{
    if (s.s != g_comment && !s.s.empty())
        fprintf(stderr, "EA comment: %s\n", s.c());
    g_comment = s.s;
}
/* Inputs are the EA's globals, initialised before main() runs: read them
 * from the command line itself (/proc/self/cmdline), once. */
static void load_inputs()
{
    static bool done = false;
    if (done)
        return;
    done = true;
    FILE *f = fopen("/proc/self/cmdline", "r");
    if (!f)
        return;
    std::vector<std::string> args;
    std::string cur;
    int c;
    while ((c = fgetc(f)) != EOF) {
        if (c == 0) {
            args.push_back(cur);
            cur.clear();
        } else {
            cur += (char)c;
        }
    }
    fclose(f);
    for (size_t i = 1; i + 1 < args.size(); i++)
        if (args[i] == "--input") {
            size_t e = args[i + 1].find('=');
            if (e != std::string::npos)
                inputs()[args[i + 1].substr(0, e)] = args[i + 1].substr(e + 1);
        }
}

const char *mql_input_raw(const char *name)
{
    load_inputs();
    auto it = inputs().find(name);
    return it == inputs().end() ? nullptr : it->second.c_str();
}
bool IsStopped() { return g_stop; }
void Sleep(int ms) { usleep((useconds_t)ms * 1000); }
uint GetTickCount() { return (uint)now_ms(); }
static int g_timer_ms = 0;
static long g_next_timer = 0;
bool EventSetMillisecondTimer(int ms)
{
    g_timer_ms = ms;
    g_next_timer = now_ms() + ms;
    return true;
}
void EventKillTimer() { g_timer_ms = 0; }

datetime TimeGMT() { return time(NULL); }
datetime TimeLocal() { return time(NULL); }
datetime TimeTradeServer() { return time(NULL) + S.server_offset_s; }
datetime TimeCurrent() { return time(NULL) + S.server_offset_s; }

long TerminalInfoInteger(ENUM_TERMINAL_INFO_INTEGER p)
{
    return p == TERMINAL_CONNECTED ? S.connected : p == TERMINAL_TRADE_ALLOWED ? S.trade_allowed : 0;
}
long MQLInfoInteger(ENUM_MQL_INFO_INTEGER p) { return p == MQL_TRADE_ALLOWED ? 1 : 0; }

long AccountInfoInteger(ENUM_ACCOUNT_INFO_INTEGER p)
{
    switch (p) {
    case ACCOUNT_LOGIN: return S.login;
    case ACCOUNT_MARGIN_MODE: return S.margin_mode;
    case ACCOUNT_TRADE_ALLOWED: return 1;
    }
    return 0;
}
static double floating()
{
    double f = 0;
    for (const Pos &p : S.pos) {
        Sym *y = sym(p.symbol);
        if (y && p.login == S.login)
            f += profit_of(p, p.type == POSITION_TYPE_BUY ? y->bid : y->ask, p.volume) + p.swap;
    }
    return f;
}
double AccountInfoDouble(ENUM_ACCOUNT_INFO_DOUBLE p)
{
    return p == ACCOUNT_BALANCE ? S.balance : p == ACCOUNT_EQUITY ? S.balance + floating() : 0;
}
string AccountInfoString(ENUM_ACCOUNT_INFO_STRING p) { return p == ACCOUNT_CURRENCY ? string(S.currency) : string(""); }

bool SymbolSelect(const string &name, bool select)
{
    (void)select;
    return sym(name.s) != nullptr;
}
bool SymbolInfoTick(const string &name, MqlTick &tick)
{
    Sym *y = sym(name.s);
    if (!y)
        return false;
    tick = MqlTick();
    tick.bid = y->bid, tick.ask = y->ask, tick.time = TimeCurrent();
    return true;
}
long SymbolInfoInteger(const string &name, ENUM_SYMBOL_INFO_INTEGER p)
{
    Sym *y = sym(name.s);
    if (!y)
        return 0;
    switch (p) {
    case SYMBOL_DIGITS: return y->digits;
    case SYMBOL_TRADE_STOPS_LEVEL: return y->stops_level;
    case SYMBOL_TRADE_EXEMODE: return y->exemode;
    case SYMBOL_FILLING_MODE: return y->filling;
    case SYMBOL_TRADE_FREEZE_LEVEL: return y->freeze_level;
    case SYMBOL_EXPIRATION_MODE: return y->expiration_mode;
    case SYMBOL_EXIST: return 1;
    }
    return 0;
}
double SymbolInfoDouble(const string &name, ENUM_SYMBOL_INFO_DOUBLE p)
{
    Sym *y = sym(name.s);
    if (!y)
        return 0;
    switch (p) {
    case SYMBOL_BID: return y->bid;
    case SYMBOL_ASK: return y->ask;
    case SYMBOL_POINT: return y->point;
    case SYMBOL_TRADE_TICK_SIZE: return y->tick_size;
    case SYMBOL_VOLUME_MIN: return y->vol_min;
    case SYMBOL_VOLUME_MAX: return y->vol_max;
    case SYMBOL_VOLUME_STEP: return y->vol_step;
    }
    return 0;
}

/* ---- positions ---- */
static std::vector<size_t> visible_positions()
{
    std::vector<size_t> v;
    for (size_t i = 0; i < S.pos.size(); i++)
        if (S.pos[i].login == S.login && S.connected)
            v.push_back(i);
    return v;
}
static long g_sel_pos = -1;     /* ticket of the selected position */
static Pos *selected_pos()
{
    for (Pos &p : S.pos)
        if ((long)p.ticket == g_sel_pos)
            return &p;
    return nullptr;
}
int PositionsTotal() { return (int)visible_positions().size(); }
ulong PositionGetTicket(int index)
{
    auto v = visible_positions();
    if (index < 0 || (size_t)index >= v.size())
        return 0;
    g_sel_pos = (long)S.pos[v[(size_t)index]].ticket;
    return S.pos[v[(size_t)index]].ticket;
}
bool PositionSelectByTicket(ulong ticket)
{
    for (size_t i : visible_positions())
        if (S.pos[i].ticket == ticket) {
            g_sel_pos = (long)ticket;
            return true;
        }
    _LastError = ERR_TRADE_POSITION_NOT_FOUND;
    return false;
}
long PositionGetInteger(ENUM_POSITION_PROPERTY_INTEGER p)
{
    Pos *x = selected_pos();
    if (!x)
        return 0;
    switch (p) {
    case POSITION_TICKET: case POSITION_IDENTIFIER: return (long)x->ticket;
    case POSITION_TIME: return x->time;
    case POSITION_TYPE: return x->type;
    case POSITION_MAGIC: return x->magic;
    case POSITION_REASON: return 3;
    }
    return 0;
}
double PositionGetDouble(ENUM_POSITION_PROPERTY_DOUBLE p)
{
    Pos *x = selected_pos();
    if (!x)
        return 0;
    Sym *y = sym(x->symbol);
    double cur = y ? (x->type == POSITION_TYPE_BUY ? y->bid : y->ask) : x->price_open;
    switch (p) {
    case POSITION_VOLUME: return x->volume;
    case POSITION_PRICE_OPEN: return x->price_open;
    case POSITION_SL: return x->sl;
    case POSITION_TP: return x->tp;
    case POSITION_PRICE_CURRENT: return cur;
    case POSITION_SWAP: return x->swap;
    case POSITION_PROFIT: return profit_of(*x, cur, x->volume);
    }
    return 0;
}
string PositionGetString(ENUM_POSITION_PROPERTY_STRING p)
{
    Pos *x = selected_pos();
    if (!x)
        return string("");
    return p == POSITION_SYMBOL ? string(x->symbol) : string(x->comment);
}

/* ---- OrderSend: the trade server's checks (retcodes of
 * https://www.mql5.com/en/docs/constants/errorswarnings/enum_trade_return_codes) ---- */
static bool on_grid(double v, double step) { return fabs(v / step - round(v / step)) < 1e-6; }

static uint check_filling(const Sym &y, ENUM_ORDER_TYPE_FILLING f)
{
    /* FOK/IOC need their SYMBOL_FILLING_MODE flag; RETURN is the mode of
     * Market and Exchange execution, always allowed there, never in Request
     * or Instant execution (https://www.mql5.com/en/docs/constants/tradingconstants/orderproperties
     * ENUM_ORDER_TYPE_FILLING). */
    if (f == ORDER_FILLING_FOK)
        return (y.filling & SYMBOL_FILLING_FOK) ? 0 : TRADE_RETCODE_INVALID_FILL;
    if (f == ORDER_FILLING_IOC)
        return (y.filling & SYMBOL_FILLING_IOC) ? 0 : TRADE_RETCODE_INVALID_FILL;
    return y.exemode == SYMBOL_TRADE_EXECUTION_MARKET || y.exemode == SYMBOL_TRADE_EXECUTION_EXCHANGE
               ? 0 : TRADE_RETCODE_INVALID_FILL;
}

/* SL/TP of a position of type t: on the tick grid and at least the stops
 * level away from the price it would close at. */
static uint check_stops(const Sym &y, long t, double sl, double tp)
{
    double close = t == POSITION_TYPE_BUY ? y.bid : y.ask, lvl = (double)y.stops_level * y.point;
    for (double v : {sl, tp})
        if (v != 0 && !on_grid(v, y.tick_size))
            return TRADE_RETCODE_INVALID_STOPS;
    if (t == POSITION_TYPE_BUY) {
        if ((sl != 0 && sl > close - lvl + 1e-12) || (tp != 0 && tp < close + lvl - 1e-12))
            return TRADE_RETCODE_INVALID_STOPS;
    } else {
        if ((sl != 0 && sl < close + lvl - 1e-12) || (tp != 0 && tp > close - lvl + 1e-12))
            return TRADE_RETCODE_INVALID_STOPS;
    }
    return 0;
}

/* TRADE_ACTION_PENDING: the checks of
 * https://www.mql5.com/en/docs/constants/structures/mqltraderequest (pending
 * orders) and of the stops level
 * (https://book.mql4.com/appendix/limits, the same rules in MT5): the price on
 * the tick grid and at least SYMBOL_TRADE_STOPS_LEVEL points on its side of
 * the market (else 10015), SL/TP that far from the order's price (10016), an
 * expiry mode the symbol allows and an expiry in the future (10022). */
static uint place_pending(const MqlTradeRequest &rq, MqlTradeResult &res, Sym *y)
{
    if (!y)
        return TRADE_RETCODE_INVALID;
    long t = rq.type;
    if (t != ORDER_TYPE_BUY_LIMIT && t != ORDER_TYPE_BUY_STOP && t != ORDER_TYPE_SELL_LIMIT && t != ORDER_TYPE_SELL_STOP)
        return TRADE_RETCODE_INVALID;
    if (rq.volume < y->vol_min - 1e-12 || rq.volume > y->vol_max + 1e-12 || !on_grid(rq.volume, y->vol_step))
        return TRADE_RETCODE_INVALID_VOLUME;
    double lvl = (double)y->stops_level * y->point, p = rq.price;
    if (!(p > 0) || !on_grid(p, y->tick_size))
        return TRADE_RETCODE_INVALID_PRICE;
    bool ok = t == ORDER_TYPE_BUY_LIMIT ? p <= y->ask - lvl + 1e-12 : t == ORDER_TYPE_BUY_STOP ? p >= y->ask + lvl - 1e-12
            : t == ORDER_TYPE_SELL_LIMIT ? p >= y->bid + lvl - 1e-12 : p <= y->bid - lvl + 1e-12;
    if (!ok)
        return TRADE_RETCODE_INVALID_PRICE;
    bool buy = is_buy_order(t);
    for (double v : {rq.sl, rq.tp})
        if (v != 0 && !on_grid(v, y->tick_size))
            return TRADE_RETCODE_INVALID_STOPS;
    if (buy ? ((rq.sl != 0 && rq.sl > p - lvl + 1e-12) || (rq.tp != 0 && rq.tp < p + lvl - 1e-12))
            : ((rq.sl != 0 && rq.sl < p + lvl - 1e-12) || (rq.tp != 0 && rq.tp > p - lvl + 1e-12)))
        return TRADE_RETCODE_INVALID_STOPS;
    long now = time(NULL) + S.server_offset_s;
    if (rq.type_time == ORDER_TIME_SPECIFIED &&
        (!(y->expiration_mode & SYMBOL_EXPIRATION_SPECIFIED) || (long)rq.expiration <= now))
        return TRADE_RETCODE_INVALID_EXPIRATION;
    if (rq.type_time == ORDER_TIME_GTC && !(y->expiration_mode & SYMBOL_EXPIRATION_GTC))
        return TRADE_RETCODE_INVALID_EXPIRATION;
    Ord d;
    d.ticket = S.next_ticket++, d.login = S.login, d.type = t, d.magic = (long)rq.magic, d.time_setup = now;
    d.type_time = rq.type_time, d.expiration = rq.type_time == ORDER_TIME_SPECIFIED ? (long)rq.expiration : 0;
    d.symbol = y->name, d.comment = rq.comment.s.substr(0, 31), d.volume = rq.volume, d.price = p;
    d.sl = rq.sl, d.tp = rq.tp;
    S.orders.push_back(d);
    res.order = d.ticket, res.volume = rq.volume, res.price = p;
    return TRADE_RETCODE_PLACED;
}

static uint execute(const MqlTradeRequest &rq, MqlTradeResult &res)
{
    if (!S.connected)
        return TRADE_RETCODE_CONNECTION;
    Sym *y = sym(rq.symbol.s);
    if (rq.action == TRADE_ACTION_SLTP) {
        for (size_t i : visible_positions()) {
            Pos &p = S.pos[i];
            if (p.ticket != rq.position)
                continue;
            y = sym(p.symbol);
            if (fabs(p.sl - rq.sl) < 1e-12 && fabs(p.tp - rq.tp) < 1e-12)
                return TRADE_RETCODE_NO_CHANGES;
            uint rc = check_stops(*y, p.type, rq.sl, rq.tp);
            if (rc)
                return rc;
            p.sl = rq.sl, p.tp = rq.tp;
            return TRADE_RETCODE_DONE;
        }
        return TRADE_RETCODE_POSITION_CLOSED;
    }
    if (rq.action == TRADE_ACTION_REMOVE) {
        for (size_t i = 0; i < S.orders.size(); i++) {
            Ord &d = S.orders[i];
            if (d.ticket != rq.order || d.login != S.login)
                continue;
            Sym *z = sym(d.symbol);
            double cur = z ? (is_buy_order(d.type) ? z->ask : z->bid) : 0;
            if (z && fabs(cur - d.price) < (double)z->freeze_level * z->point - 1e-12)
                return TRADE_RETCODE_FROZEN;
            end_order(i, ORDER_STATE_CANCELED);
            res.order = rq.order;
            return TRADE_RETCODE_DONE;
        }
        return TRADE_RETCODE_INVALID;
    }
    if (rq.action == TRADE_ACTION_PENDING)
        return place_pending(rq, res, y);
    if (rq.action != TRADE_ACTION_DEAL || !y)
        return TRADE_RETCODE_INVALID;
    if (rq.volume < y->vol_min - 1e-12 || rq.volume > y->vol_max + 1e-12 || !on_grid(rq.volume, y->vol_step))
        return TRADE_RETCODE_INVALID_VOLUME;
    uint rc = check_filling(*y, rq.type_filling);
    if (rc)
        return rc;
    bool buy = rq.type == ORDER_TYPE_BUY;
    double price = buy ? y->ask + S.slippage : y->bid - S.slippage;
    price = round(price / y->tick_size) * y->tick_size;
    ulong order = S.next_ticket++;
    if (rq.position != 0) {                     /* closing (part of) a position */
        for (size_t i : visible_positions()) {
            Pos &p = S.pos[i];
            if (p.ticket != rq.position)
                continue;
            if ((p.type == POSITION_TYPE_BUY) == buy || rq.volume > p.volume + 1e-9)
                return TRADE_RETCODE_INVALID;
            Deal &d = close_position(i, rq.volume, price, (long)rq.magic, DEAL_REASON_EXPERT, order, rq.comment.s);
            res.deal = d.ticket, res.order = order, res.volume = d.volume, res.price = price;
            return TRADE_RETCODE_DONE;
        }
        return TRADE_RETCODE_POSITION_CLOSED;
    }
    rc = check_stops(*y, buy ? POSITION_TYPE_BUY : POSITION_TYPE_SELL, rq.sl, rq.tp);
    if (rc)
        return rc;
    if (S.margin_mode != ACCOUNT_MARGIN_MODE_RETAIL_HEDGING) {
        /* Netting: one position per symbol; a same-side deal adds to it. */
        for (size_t i : visible_positions()) {
            Pos &p = S.pos[i];
            if (p.symbol != rq.symbol.s)
                continue;
            Deal &d = add_deal(order, buy ? DEAL_TYPE_BUY : DEAL_TYPE_SELL, DEAL_ENTRY_IN, (long)rq.magic,
                               (long)p.ticket, DEAL_REASON_EXPERT, rq.volume, price, p.symbol, rq.comment.s);
            p.price_open = (p.price_open * p.volume + price * rq.volume) / (p.volume + rq.volume);
            p.volume += rq.volume;
            res.deal = d.ticket, res.order = order, res.volume = rq.volume, res.price = price;
            return TRADE_RETCODE_DONE;
        }
    }
    Pos p;
    p.ticket = order, p.login = S.login, p.type = buy ? POSITION_TYPE_BUY : POSITION_TYPE_SELL;
    p.magic = (long)rq.magic, p.time = TimeCurrent(), p.symbol = y->name, p.comment = rq.comment.s.substr(0, 31);
    p.volume = rq.volume, p.price_open = price, p.sl = rq.sl, p.tp = rq.tp;
    S.pos.push_back(p);
    Deal &d = add_deal(order, buy ? DEAL_TYPE_BUY : DEAL_TYPE_SELL, DEAL_ENTRY_IN, (long)rq.magic, (long)order,
                       DEAL_REASON_EXPERT, rq.volume, price, y->name, p.comment);
    S.balance += d.commission + d.fee;
    res.deal = d.ticket, res.order = order, res.volume = rq.volume;
    res.price = S.result_price_zero ? 0 : price;
    return TRADE_RETCODE_DONE;
}

bool OrderSend(const MqlTradeRequest &rq, MqlTradeResult &res)
{
    apply_commands();
    crash_point("before_send");
    res = MqlTradeResult();
    uint rc = execute(rq, res);
    res.retcode = rc;
    res.comment = rc == TRADE_RETCODE_DONE ? "Request executed" : rc == TRADE_RETCODE_PLACED ? "Order placed"
                : "Request rejected";
    json_object *x = json_object_new_object();
    json_object_object_add(x, "action", json_object_new_int64(rq.action));
    json_object_object_add(x, "symbol", json_object_new_string(rq.symbol.c()));
    json_object_object_add(x, "type", json_object_new_int64(rq.type));
    json_object_object_add(x, "volume", json_object_new_double(rq.volume));
    json_object_object_add(x, "sl", json_object_new_double(rq.sl));
    json_object_object_add(x, "tp", json_object_new_double(rq.tp));
    json_object_object_add(x, "deviation", json_object_new_int64((long)rq.deviation));
    json_object_object_add(x, "type_filling", json_object_new_int64(rq.type_filling));
    json_object_object_add(x, "magic", json_object_new_int64((long)rq.magic));
    json_object_object_add(x, "comment", json_object_new_string(rq.comment.c()));
    json_object_object_add(x, "position", json_object_new_int64((long)rq.position));
    json_object_object_add(x, "price", json_object_new_double(rq.price));
    json_object_object_add(x, "order", json_object_new_int64((long)rq.order));
    json_object_object_add(x, "type_time", json_object_new_int64(rq.type_time));
    json_object_object_add(x, "expiration", json_object_new_int64((long)rq.expiration));
    json_object_object_add(x, "retcode", json_object_new_int64(rc));
    json_object_array_add(S.requests, x);
    save_state();
    crash_point("after_send");
    return rc == TRADE_RETCODE_DONE || rc == TRADE_RETCODE_PLACED || rc == TRADE_RETCODE_NO_CHANGES;
}

/* ---- history: only deals that reached the terminal (visible_ms) ---- */
static std::vector<ulong> g_sel_deals;
static bool deal_visible(const Deal &d) { return d.login == S.login && S.connected && now_ms() >= d.visible_ms; }
static const Deal *sel_deal(ulong ticket)
{
    for (ulong t : g_sel_deals)
        if (t == ticket)
            for (const Deal &d : S.deals)
                if (d.ticket == ticket)
                    return &d;
    return nullptr;
}
static std::vector<ulong> g_sel_horders_of(datetime from, datetime to);
bool HistorySelect(datetime from, datetime to)
{
    g_sel_deals.clear();
    for (const Deal &d : S.deals)
        if (deal_visible(d) && d.time >= from && d.time <= to)
            g_sel_deals.push_back(d.ticket);
    g_sel_horders_of(from, to);
    return true;
}
bool HistorySelectByPosition(long position_id)
{
    g_sel_deals.clear();
    for (const Deal &d : S.deals)
        if (deal_visible(d) && d.position_id == position_id)
            g_sel_deals.push_back(d.ticket);
    return true;
}
bool HistoryDealSelect(ulong ticket)
{
    for (const Deal &d : S.deals)
        if (d.ticket == ticket && deal_visible(d)) {
            g_sel_deals.assign(1, ticket);
            return true;
        }
    _LastError = ERR_TRADE_DEAL_NOT_FOUND;
    return false;
}
int HistoryDealsTotal() { return (int)g_sel_deals.size(); }
ulong HistoryDealGetTicket(int index)
{
    return index >= 0 && (size_t)index < g_sel_deals.size() ? g_sel_deals[(size_t)index] : 0;
}
long HistoryDealGetInteger(ulong ticket, ENUM_DEAL_PROPERTY_INTEGER p)
{
    const Deal *d = sel_deal(ticket);
    if (!d)
        return 0;
    switch (p) {
    case DEAL_TICKET: return (long)d->ticket;
    case DEAL_ORDER: return (long)d->order;
    case DEAL_TIME: return d->time;
    case DEAL_TIME_MSC: return d->time * 1000;
    case DEAL_TYPE: return d->type;
    case DEAL_ENTRY: return d->entry;
    case DEAL_MAGIC: return d->magic;
    case DEAL_POSITION_ID: return d->position_id;
    case DEAL_REASON: return d->reason;
    }
    return 0;
}
double HistoryDealGetDouble(ulong ticket, ENUM_DEAL_PROPERTY_DOUBLE p)
{
    const Deal *d = sel_deal(ticket);
    if (!d)
        return 0;
    switch (p) {
    case DEAL_VOLUME: return d->volume;
    case DEAL_PRICE: return d->price;
    case DEAL_COMMISSION: return d->commission;
    case DEAL_SWAP: return d->swap;
    case DEAL_PROFIT: return d->profit;
    case DEAL_FEE: return d->fee;
    case DEAL_SL: case DEAL_TP: return 0;
    }
    return 0;
}
string HistoryDealGetString(ulong ticket, ENUM_DEAL_PROPERTY_STRING p)
{
    const Deal *d = sel_deal(ticket);
    if (!d)
        return string("");
    return p == DEAL_SYMBOL ? string(d->symbol) : string(d->comment);
}

/* ---- working orders: those of the logged-in account, while connected ---- */
static std::vector<size_t> visible_orders()
{
    std::vector<size_t> v;
    for (size_t i = 0; i < S.orders.size(); i++)
        if (S.orders[i].login == S.login && S.connected)
            v.push_back(i);
    return v;
}
static long g_sel_order = -1;
static const Ord *selected_order()
{
    for (const Ord &d : S.orders)
        if ((long)d.ticket == g_sel_order)
            return &d;
    return nullptr;
}
int OrdersTotal() { return (int)visible_orders().size(); }
ulong OrderGetTicket(int index)
{
    auto v = visible_orders();
    if (index < 0 || (size_t)index >= v.size())
        return 0;
    g_sel_order = (long)S.orders[v[(size_t)index]].ticket;
    return S.orders[v[(size_t)index]].ticket;
}
bool OrderSelect(ulong ticket)
{
    for (size_t i : visible_orders())
        if (S.orders[i].ticket == ticket) {
            g_sel_order = (long)ticket;
            return true;
        }
    return false;
}
static long order_integer(const Ord *d, ENUM_ORDER_PROPERTY_INTEGER p)
{
    if (!d)
        return 0;
    switch (p) {
    case ORDER_TICKET: return (long)d->ticket;
    case ORDER_TIME_SETUP: return d->time_setup;
    case ORDER_TYPE: return d->type;
    case ORDER_STATE: return d->state;
    case ORDER_TIME_EXPIRATION: return d->expiration;
    case ORDER_TIME_DONE: return d->time_done;
    case ORDER_TYPE_TIME: return d->type_time;
    case ORDER_MAGIC: return d->magic;
    case ORDER_POSITION_ID: return d->position_id;
    }
    return 0;
}
static double order_double(const Ord *d, ENUM_ORDER_PROPERTY_DOUBLE p)
{
    if (!d)
        return 0;
    switch (p) {
    case ORDER_VOLUME_INITIAL: case ORDER_VOLUME_CURRENT: return d->volume;
    case ORDER_PRICE_OPEN: return d->price;
    case ORDER_SL: return d->sl;
    case ORDER_TP: return d->tp;
    }
    return 0;
}
static string order_string(const Ord *d, ENUM_ORDER_PROPERTY_STRING p)
{
    if (!d)
        return string("");
    return p == ORDER_SYMBOL ? string(d->symbol) : string(d->comment);
}
long OrderGetInteger(ENUM_ORDER_PROPERTY_INTEGER p) { return order_integer(selected_order(), p); }
double OrderGetDouble(ENUM_ORDER_PROPERTY_DOUBLE p) { return order_double(selected_order(), p); }
string OrderGetString(ENUM_ORDER_PROPERTY_STRING p) { return order_string(selected_order(), p); }

/* ---- history orders: HistorySelect's period (set there), HistoryOrderSelect ---- */
static std::vector<ulong> g_sel_horders;
static const Ord *sel_horder(ulong ticket)
{
    for (ulong t : g_sel_horders)
        if (t == ticket)
            for (const Ord &d : S.horders)
                if (d.ticket == ticket)
                    return &d;
    return nullptr;
}
int HistoryOrdersTotal() { return (int)g_sel_horders.size(); }
ulong HistoryOrderGetTicket(int index)
{
    return index >= 0 && (size_t)index < g_sel_horders.size() ? g_sel_horders[(size_t)index] : 0;
}
bool HistoryOrderSelect(ulong ticket)
{
    for (const Ord &d : S.horders)
        if (d.ticket == ticket && d.login == S.login && S.connected) {
            g_sel_horders.assign(1, ticket);
            return true;
        }
    return false;
}
long HistoryOrderGetInteger(ulong ticket, ENUM_ORDER_PROPERTY_INTEGER p) { return order_integer(sel_horder(ticket), p); }
double HistoryOrderGetDouble(ulong ticket, ENUM_ORDER_PROPERTY_DOUBLE p) { return order_double(sel_horder(ticket), p); }
string HistoryOrderGetString(ulong ticket, ENUM_ORDER_PROPERTY_STRING p) { return order_string(sel_horder(ticket), p); }
/* The orders HistorySelect selects: those done in the period (setup time for
 * the ones without a done time). */
static std::vector<ulong> g_sel_horders_of(datetime from, datetime to)
{
    g_sel_horders.clear();
    for (const Ord &d : S.horders) {
        long t = d.time_done ? d.time_done : d.time_setup;
        if (d.login == S.login && S.connected && t >= from && t <= to)
            g_sel_horders.push_back(d.ticket);
    }
    return g_sel_horders;
}

/* ---- files ---- */
struct FileH {
    FILE *f = nullptr;
    bool txt = false;
};
static std::vector<FileH> g_files;
static std::string file_path(const string &name, int flags)
{
    (void)flags;    /* one folder: the common one (the EA uses FILE_COMMON only) */
    return g_common + "/" + name.s;
}
int FileOpen(const string &name, int flags, short delimiter, uint codepage)
{
    (void)delimiter, (void)codepage;
    if (!(flags & FILE_COMMON)) {
        fprintf(stderr, "zx-mt5-terminal: FileOpen(%s) without FILE_COMMON: the EA's state would be lost "
                        "with the terminal's data folder\n", name.c());
    }
    const char *mode = (flags & FILE_WRITE) ? ((flags & FILE_READ) ? "r+" : "w") : "r";
    FILE *f = fopen(file_path(name, flags).c_str(), mode);
    if (!f) {
        _LastError = ERR_CANNOT_OPEN_FILE;
        return INVALID_HANDLE;
    }
    FileH h;
    h.f = f, h.txt = (flags & FILE_TXT) != 0;
    g_files.push_back(h);
    return (int)g_files.size() - 1;
}
static FILE *fh(int h) { return h >= 0 && (size_t)h < g_files.size() ? g_files[(size_t)h].f : nullptr; }
void FileClose(int h)
{
    if (fh(h)) {
        fclose(fh(h));
        g_files[(size_t)h].f = nullptr;
    }
}
void FileFlush(int h)
{
    if (fh(h))
        fflush(fh(h));
}
uint FileWriteString(int h, const string &text, int length)
{
    FILE *f = fh(h);
    if (!f)
        return 0;
    size_t n = length < 0 ? text.s.size() : (size_t)length;
    return (uint)fwrite(text.s.data(), 1, n, f);
}
/* A text file: one line, without its \r\n. */
string FileReadString(int h, int length)
{
    (void)length;
    FILE *f = fh(h);
    std::string o;
    int c;
    while (f && (c = fgetc(f)) != EOF && c != '\n')
        if (c != '\r')
            o += (char)c;
    return string(o);
}
bool FileIsEnding(int h)
{
    FILE *f = fh(h);
    if (!f)
        return true;
    int c = fgetc(f);
    if (c == EOF)
        return true;
    ungetc(c, f);
    return false;
}
bool FileIsExist(const string &name, int common_flag)
{
    struct stat st;
    return stat(file_path(name, common_flag).c_str(), &st) == 0;
}
bool FileDelete(const string &name, int common_flag) { return unlink(file_path(name, common_flag).c_str()) == 0; }
bool FileMove(const string &src, int common_flag, const string &dst, int mode_flags)
{
    if (!(mode_flags & FILE_REWRITE) && FileIsExist(dst, mode_flags))
        return false;
    return rename(file_path(src, common_flag).c_str(), file_path(dst, mode_flags).c_str()) == 0;
}

/* ---- WebRequest ---- */
static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    static_cast<std::string *>(ud)->append(p, sz * n);
    return sz * n;
}
int WebRequest(const string &method, const string &url, const string &headers, int timeout,
               const MqlArray<char> &data, MqlArray<char> &result, string &result_headers)
{
    apply_commands();
    S.webrequests++;
    save_state();
    if (FILE *lp = fopen((g_state + ".lastpoll").c_str(), "w")) {     /* the body, for the tests */
        fwrite(data.v.data(), 1, data.v.size(), lp);
        fclose(lp);
    }
    std::string sent(data.v.begin(), data.v.end());
    if (sent.find("\"results\":[{") != std::string::npos)
        crash_point("before_result_poll");
    bool allowed = false;
    for (auto &a : g_allow)
        if (url.s.compare(0, a.size(), a) == 0)
            allowed = true;
    if (!allowed) {
        _LastError = ERR_FUNCTION_NOT_ALLOWED;
        return -1;
    }
    CURL *c = curl_easy_init();
    std::string body, hdr;
    struct curl_slist *h = nullptr;
    size_t p = 0, q;
    while ((q = headers.s.find("\r\n", p)) != std::string::npos) {
        h = curl_slist_append(h, headers.s.substr(p, q - p).c_str());
        p = q + 2;
    }
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url.c());
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, data.v.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)data.v.size());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        _LastError = rc == CURLE_OPERATION_TIMEDOUT ? ERR_WEBREQUEST_TIMEOUT : ERR_WEBREQUEST_REQUEST_FAILED;
        return -1;
    }
    result.v.assign(body.begin(), body.end());
    result_headers = string(hdr);
    crash_point("after_poll");
    if (body.find("\"request_id\"") != std::string::npos)
        crash_point("after_request_answer");
    return (int)status;
}

/* ---- main: the terminal's event loop ---- */
static void reader()
{
    char line[1024];
    while (fgets(line, sizeof line, stdin)) {
        std::string s(line);
        while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
            s.pop_back();
        std::lock_guard<std::mutex> l(g_mu);
        g_cmds.push_back(s);
    }
    std::lock_guard<std::mutex> l(g_mu);
    g_cmds.push_back("stop");           /* stdin closed: the terminal is shut down */
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string k = argv[i], v = argv[i + 1];
        if (k == "--state") g_state = v;
        else if (k == "--common") g_common = v;
        else if (k == "--allow") g_allow.push_back(v);
        else if (k == "--input")
            load_inputs();
        else if (k == "--crash") {
            size_t e = v.find(':');
            g_crash_point = v.substr(0, e);
            g_crash_n = e == std::string::npos ? 1 : atoi(v.c_str() + e + 1);
        } else {
            fprintf(stderr, "zx-mt5-terminal: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (g_state.empty() || g_common.empty()) {
        fprintf(stderr, "usage: zx-mt5-terminal --state FILE --common DIR [--allow URL] [--input K=V] [--crash P:N]\n");
        return 2;
    }
    mkdir(g_common.c_str(), 0755);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    load_state();
    save_state();
    std::thread(reader).detach();
    int rc = OnInit();
    if (rc != INIT_SUCCEEDED) {
        fprintf(stderr, "zx-mt5-terminal: OnInit returned %d: the EA is removed\n", rc);
        save_state();
        return 3;
    }
    fprintf(stderr, "zx-mt5-terminal: EA started\n");
    while (!g_stop) {
        apply_commands();           /* and the pending orders' triggers and expiry */
        if (g_timer_ms > 0 && now_ms() >= g_next_timer) {
            OnTimer();
            g_next_timer = now_ms() + g_timer_ms;
        }
        usleep(2000);
    }
    OnDeinit(REASON_CLOSE);
    save_state();
    return 0;
}
