/*
 * mql5.h — a C++ shim of the MQL5 API, enough to compile and run
 * scripts/mt5/ZepixBridge.mq5 (after tests/mt5/mq5pp.py) on Linux against the
 * fake terminal (tests/mt5/terminal.cpp), which implements the trading,
 * history, account, file and network functions declared here.
 *
 * Modelled on the MQL5 reference (https://www.mql5.com/en/docs); the page of
 * each group is cited where it is declared. What the shim does NOT model:
 * strings are bytes, not UTF-16 (the EA only handles ASCII keys and copies
 * the rest through), and there is one chart, one symbol set, one account.
 *
 * Types: MQL5's long/ulong are 64 bits (LP64 long here); datetime is seconds
 * since 1970 (https://www.mql5.com/en/docs/basis/types/integer/datetime).
 */
#ifndef ZX_MQL5_H
#define ZX_MQL5_H

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

typedef unsigned char uchar;
typedef unsigned short ushort;
typedef unsigned int uint;
typedef unsigned long ulong;
typedef long datetime;
typedef uint color;

/* ---- string (https://www.mql5.com/en/docs/basis/types/stringconst) ---- */
class string {
public:
    std::string s;
    string() {}
    string(const char *c) : s(c ? c : "") {}
    string(const std::string &x) : s(x) {}
    string &operator+=(const string &o) { s += o.s; return *this; }
    string &operator+=(const char *o) { s += o; return *this; }
    const char *c() const { return s.c_str(); }
};
inline string operator+(const string &a, const string &b) { return string(a.s + b.s); }
inline string operator+(const char *a, const string &b) { return string(std::string(a) + b.s); }
inline string operator+(const string &a, const char *b) { return string(a.s + b); }
inline bool operator==(const string &a, const string &b) { return a.s == b.s; }
inline bool operator==(const string &a, const char *b) { return a.s == b; }
inline bool operator!=(const string &a, const string &b) { return a.s != b.s; }
inline bool operator!=(const string &a, const char *b) { return a.s != b; }
inline bool operator<(const string &a, const string &b) { return a.s < b.s; }

/* ---- dynamic arrays (https://www.mql5.com/en/docs/array) ---- */
template <class T> class MqlArray {
public:
    std::vector<T> v;
    T &operator[](long i) { return v.at((size_t)i); }
    const T &operator[](long i) const { return v.at((size_t)i); }
};
#define WHOLE_ARRAY (-1)
template <class T> int ArraySize(const MqlArray<T> &a) { return (int)a.v.size(); }
template <class T> int ArrayResize(MqlArray<T> &a, int n, int reserve = 0)
{
    (void)reserve;
    if (n < 0)
        return -1;
    a.v.resize((size_t)n);
    return n;
}
/* ArrayRemove(array, start, count): count WHOLE_ARRAY = to the end. */
template <class T> bool ArrayRemove(MqlArray<T> &a, uint start, uint count = WHOLE_ARRAY)
{
    if (start > a.v.size())
        return false;
    size_t end = count == (uint)WHOLE_ARRAY || start + count > a.v.size() ? a.v.size() : start + count;
    a.v.erase(a.v.begin() + start, a.v.begin() + (long)end);
    return true;
}
template <class T> void ArrayFree(MqlArray<T> &a) { a.v.clear(); }
template <class T> void ZeroMemory(T &x) { x = T(); }

/* ---- string functions (https://www.mql5.com/en/docs/strings) ---- */
inline int StringLen(const string &s) { return (int)s.s.size(); }
inline int StringFind(const string &s, const string &what, int start = 0)
{
    if (start < 0 || (size_t)start > s.s.size())
        return -1;
    size_t p = s.s.find(what.s, (size_t)start);
    return p == std::string::npos ? -1 : (int)p;
}
/* length -1 = to the end */
inline string StringSubstr(const string &s, int start, int length = -1)
{
    if (start < 0 || (size_t)start >= s.s.size())
        return string("");
    return string(s.s.substr((size_t)start, length < 0 ? std::string::npos : (size_t)length));
}
inline ushort StringGetCharacter(const string &s, int pos)
{
    return pos >= 0 && (size_t)pos < s.s.size() ? (ushort)(uchar)s.s[(size_t)pos] : 0;
}
inline string ShortToString(ushort c) { return string(std::string(1, (char)c)); }
/* Returns the number of replacements. */
inline int StringReplace(string &s, const string &find, const string &repl)
{
    if (find.s.empty())
        return -1;
    int n = 0;
    size_t p = 0;
    while ((p = s.s.find(find.s, p)) != std::string::npos) {
        s.s.replace(p, find.s.size(), repl.s);
        p += repl.s.size();
        n++;
    }
    return n;
}
inline int StringTrimLeft(string &s)
{
    size_t i = 0;
    while (i < s.s.size() && (s.s[i] == ' ' || s.s[i] == '\t' || s.s[i] == '\r' || s.s[i] == '\n'))
        i++;
    s.s.erase(0, i);
    return (int)i;
}
inline int StringTrimRight(string &s)
{
    size_t n = s.s.size(), i = n;
    while (i > 0 && (s.s[i - 1] == ' ' || s.s[i - 1] == '\t' || s.s[i - 1] == '\r' || s.s[i - 1] == '\n'))
        i--;
    s.s.erase(i);
    return (int)(n - i);
}
inline bool StringToUpper(string &s)
{
    for (auto &ch : s.s)
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
    return true;
}
inline int StringSplit(const string &s, ushort sep, MqlArray<string> &out)
{
    out.v.clear();
    if (s.s.empty())
        return 0;
    size_t p = 0, q;
    while ((q = s.s.find((char)sep, p)) != std::string::npos) {
        out.v.push_back(string(s.s.substr(p, q - p)));
        p = q + 1;
    }
    out.v.push_back(string(s.s.substr(p)));
    return (int)out.v.size();
}
inline long StringToInteger(const string &s) { return strtol(s.c(), NULL, 10); }
inline double StringToDouble(const string &s) { return strtod(s.c(), NULL); }
inline string IntegerToString(long v, int len = 0, ushort fill = ' ')
{
    (void)len, (void)fill;
    return string(std::to_string(v));
}
inline string DoubleToString(double v, int digits = 8)
{
    char b[64];
    snprintf(b, sizeof b, "%.*f", digits, v);
    return string(b);
}
#define CP_ACP 0
#define CP_UTF8 65001
/* Copies the string and its terminating 0 (count WHOLE_ARRAY); returns the
 * number of elements copied (https://www.mql5.com/en/docs/convert/stringtochararray). */
inline int StringToCharArray(const string &s, MqlArray<char> &a, int start = 0, int count = -1, uint cp = CP_ACP)
{
    (void)cp;
    size_t n = count < 0 ? s.s.size() + 1 : (size_t)count;
    if (n > s.s.size() + 1)
        n = s.s.size() + 1;
    a.v.resize((size_t)start + n);
    memcpy(a.v.data() + start, s.s.c_str(), n);
    return (int)n;
}
inline string CharArrayToString(const MqlArray<char> &a, int start = 0, int count = -1, uint cp = CP_ACP)
{
    (void)cp;
    if (start < 0 || (size_t)start >= a.v.size())
        return string("");
    size_t n = count < 0 ? a.v.size() - (size_t)start : (size_t)count;
    std::string r(a.v.data() + start, n);
    size_t z = r.find('\0');
    if (z != std::string::npos)
        r.erase(z);
    return string(r);
}

/* StringFormat/PrintFormat: printf formats plus MQL5's %I64d/%I64u
 * (https://www.mql5.com/en/docs/common/printformat); a string argument is passed as
 * its text. */
std::string mql_fmt_translate(const std::string &f);
inline const char *mql_arg(const string &s) { return s.c(); }
template <class T> T mql_arg(T v) { return v; }
template <class... A> string StringFormat(const string &fmt, A... a)
{
    std::string f = mql_fmt_translate(fmt.s);
    int n = snprintf(NULL, 0, f.c_str(), mql_arg(a)...);
    std::string out((size_t)(n > 0 ? n : 0), '\0');
    snprintf(&out[0], out.size() + 1, f.c_str(), mql_arg(a)...);
    return string(out);
}
void mql_print(const std::string &line);
template <class... A> void PrintFormat(const string &fmt, A... a) { mql_print(StringFormat(fmt, a...).s); }
inline void mql_cat(std::string &) {}
inline void mql_piece(std::string &o, const string &s) { o += s.s; }
inline void mql_piece(std::string &o, const char *s) { o += s; }
inline void mql_piece(std::string &o, double d) { o += DoubleToString(d, 8).s; }
inline void mql_piece(std::string &o, long v) { o += std::to_string(v); }
inline void mql_piece(std::string &o, ulong v) { o += std::to_string(v); }
inline void mql_piece(std::string &o, int v) { o += std::to_string(v); }
inline void mql_piece(std::string &o, uint v) { o += std::to_string(v); }
inline void mql_piece(std::string &o, bool v) { o += v ? "true" : "false"; }
template <class T, class... A> void mql_cat(std::string &o, T v, A... a) { mql_piece(o, v); mql_cat(o, a...); }
template <class... A> void Print(A... a) { std::string o; mql_cat(o, a...); mql_print(o); }
void Comment(const string &s);

/* ---- math (https://www.mql5.com/en/docs/math) ---- */
template <class A, class B> auto MathMax(A a, B b) -> decltype(a + b) { return a > b ? a : b; }
template <class A, class B> auto MathMin(A a, B b) -> decltype(a + b) { return a < b ? a : b; }
inline double MathAbs(double v) { return fabs(v); }
inline double MathFloor(double v) { return floor(v); }
inline double MathCeil(double v) { return ceil(v); }
inline double MathRound(double v) { return round(v); }
inline double MathPow(double a, double b) { return pow(a, b); }
/* NormalizeDouble: rounded to digits decimal places
 * (https://www.mql5.com/en/docs/convert/normalizedouble). */
inline double NormalizeDouble(double v, int digits)
{
    double k = pow(10.0, digits);
    return round(v * k) / k;
}

/* ---- errors (https://www.mql5.com/en/docs/constants/errorswarnings/errorcodes) ---- */
extern int _LastError;
inline int GetLastError() { return _LastError; }
inline void ResetLastError() { _LastError = 0; }
#define ERR_FUNCTION_NOT_ALLOWED 4014
#define ERR_WEBREQUEST_INVALID_ADDRESS 5200
#define ERR_WEBREQUEST_CONNECT_FAILED 5201
#define ERR_WEBREQUEST_TIMEOUT 5202
#define ERR_WEBREQUEST_REQUEST_FAILED 5203
#define ERR_CANNOT_OPEN_FILE 5004
#define ERR_TRADE_POSITION_NOT_FOUND 4753
#define ERR_TRADE_DEAL_NOT_FOUND 4755

/* ---- program (https://www.mql5.com/en/docs/basis/function/events) ---- */
#define INIT_SUCCEEDED 0
#define INIT_FAILED 1
#define INIT_PARAMETERS_INCORRECT 2
#define REASON_PROGRAM 0
#define REASON_REMOVE 1
#define REASON_RECOMPILE 2
#define REASON_CLOSE 9
#define INVALID_HANDLE (-1)
bool IsStopped();
void Sleep(int ms);
uint GetTickCount();
bool EventSetMillisecondTimer(int ms);
void EventKillTimer();
/* An input's value: the terminal's --input Name=value, else its default. */
const char *mql_input_raw(const char *name);
template <class T> T mql_input(const char *name, T def)
{
    const char *v = mql_input_raw(name);
    return v ? (T)strtod(v, NULL) : def;
}
template <> inline string mql_input<string>(const char *name, string def)
{
    const char *v = mql_input_raw(name);
    return v ? string(v) : def;
}
template <> inline long mql_input<long>(const char *name, long def)
{
    const char *v = mql_input_raw(name);
    return v ? strtol(v, NULL, 10) : def;
}
template <> inline bool mql_input<bool>(const char *name, bool def)
{
    const char *v = mql_input_raw(name);
    return v ? (strcmp(v, "true") == 0 || strcmp(v, "1") == 0) : def;
}

/* ---- time (https://www.mql5.com/en/docs/dateandtime) ---- */
datetime TimeCurrent();         /* last known server time */
datetime TimeTradeServer();     /* estimated current server time */
datetime TimeGMT();
datetime TimeLocal();

/* ---- environment (https://www.mql5.com/en/docs/constants/environment_state) ---- */
enum ENUM_TERMINAL_INFO_INTEGER { TERMINAL_CONNECTED = 6, TERMINAL_TRADE_ALLOWED = 8 };
enum ENUM_MQL_INFO_INTEGER { MQL_TRADE_ALLOWED = 14 };
long TerminalInfoInteger(ENUM_TERMINAL_INFO_INTEGER p);
long MQLInfoInteger(ENUM_MQL_INFO_INTEGER p);

/* Account properties (https://www.mql5.com/en/docs/constants/environment_state/accountinformation):
 * ACCOUNT_MARGIN_MODE is ENUM_ACCOUNT_MARGIN_MODE; only RETAIL_HEDGING keeps
 * one position per order. */
enum ENUM_ACCOUNT_INFO_INTEGER { ACCOUNT_LOGIN = 0, ACCOUNT_TRADE_ALLOWED = 3, ACCOUNT_MARGIN_MODE = 32 };
enum ENUM_ACCOUNT_INFO_DOUBLE { ACCOUNT_BALANCE = 37, ACCOUNT_EQUITY = 40 };
enum ENUM_ACCOUNT_INFO_STRING { ACCOUNT_CURRENCY = 36, ACCOUNT_SERVER = 3 };
enum ENUM_ACCOUNT_MARGIN_MODE {
    ACCOUNT_MARGIN_MODE_RETAIL_NETTING = 0,
    ACCOUNT_MARGIN_MODE_EXCHANGE = 1,
    ACCOUNT_MARGIN_MODE_RETAIL_HEDGING = 2,
};
long AccountInfoInteger(ENUM_ACCOUNT_INFO_INTEGER p);
double AccountInfoDouble(ENUM_ACCOUNT_INFO_DOUBLE p);
string AccountInfoString(ENUM_ACCOUNT_INFO_STRING p);

/* Symbols (https://www.mql5.com/en/docs/constants/environment_state/marketinfoconstants):
 * SYMBOL_VOLUME_MIN/MAX/STEP bound an order's volume (else 10014),
 * SYMBOL_TRADE_STOPS_LEVEL is the minimal SL/TP distance in points from the
 * close price (else 10016), SYMBOL_FILLING_MODE is a mask of
 * SYMBOL_FILLING_FOK (1) and SYMBOL_FILLING_IOC (2); ORDER_FILLING_RETURN is
 * allowed in the Market and Exchange execution modes whatever the mask. */
enum ENUM_SYMBOL_INFO_INTEGER {
    SYMBOL_DIGITS = 17, SYMBOL_TRADE_STOPS_LEVEL = 31, SYMBOL_TRADE_FREEZE_LEVEL = 32, SYMBOL_TRADE_EXEMODE = 33,
    SYMBOL_FILLING_MODE = 35, SYMBOL_EXPIRATION_MODE = 49, SYMBOL_EXIST = 77,
};
/* SYMBOL_EXPIRATION_MODE is a mask of the expiry modes a pending order may
 * have on the symbol (https://www.mql5.com/en/docs/constants/environment_state/marketinfoconstants#symbol_expiration_mode):
 * an ORDER_TIME_SPECIFIED order needs SYMBOL_EXPIRATION_SPECIFIED, else the
 * server answers 10022. SYMBOL_TRADE_FREEZE_LEVEL: an order that close to
 * its trigger price may not be modified or deleted (10029). */
#define SYMBOL_EXPIRATION_GTC 1
#define SYMBOL_EXPIRATION_DAY 2
#define SYMBOL_EXPIRATION_SPECIFIED 4
#define SYMBOL_EXPIRATION_SPECIFIED_DAY 8
enum ENUM_SYMBOL_INFO_DOUBLE {
    SYMBOL_BID = 1, SYMBOL_ASK = 4, SYMBOL_POINT = 16, SYMBOL_TRADE_TICK_SIZE = 20,
    SYMBOL_VOLUME_MIN = 34, SYMBOL_VOLUME_MAX = 35, SYMBOL_VOLUME_STEP = 36,
};
#define SYMBOL_FILLING_FOK 1
#define SYMBOL_FILLING_IOC 2
enum ENUM_SYMBOL_TRADE_EXECUTION {
    SYMBOL_TRADE_EXECUTION_REQUEST = 0, SYMBOL_TRADE_EXECUTION_INSTANT = 1,
    SYMBOL_TRADE_EXECUTION_MARKET = 2, SYMBOL_TRADE_EXECUTION_EXCHANGE = 3,
};
struct MqlTick {
    datetime time;
    double bid, ask, last;
    ulong volume;
    long time_msc;
    uint flags;
    double volume_real;
};
bool SymbolSelect(const string &name, bool select);
bool SymbolInfoTick(const string &name, MqlTick &tick);
long SymbolInfoInteger(const string &name, ENUM_SYMBOL_INFO_INTEGER p);
double SymbolInfoDouble(const string &name, ENUM_SYMBOL_INFO_DOUBLE p);

/* ---- trading (https://www.mql5.com/en/docs/trading/ordersend,
 * https://www.mql5.com/en/docs/constants/structures/mqltraderequest,
 * https://www.mql5.com/en/docs/constants/structures/mqltraderesult,
 * https://www.mql5.com/en/docs/constants/errorswarnings/enum_trade_return_codes) ---- */
enum ENUM_TRADE_REQUEST_ACTIONS {
    TRADE_ACTION_DEAL = 1, TRADE_ACTION_PENDING = 5, TRADE_ACTION_SLTP = 6, TRADE_ACTION_MODIFY = 7,
    TRADE_ACTION_REMOVE = 8, TRADE_ACTION_CLOSE_BY = 10,
};
enum ENUM_ORDER_TYPE {
    ORDER_TYPE_BUY = 0, ORDER_TYPE_SELL = 1, ORDER_TYPE_BUY_LIMIT = 2, ORDER_TYPE_SELL_LIMIT = 3,
    ORDER_TYPE_BUY_STOP = 4, ORDER_TYPE_SELL_STOP = 5,
};
enum ENUM_ORDER_TYPE_FILLING { ORDER_FILLING_FOK = 0, ORDER_FILLING_IOC = 1, ORDER_FILLING_RETURN = 2 };
enum ENUM_ORDER_TYPE_TIME { ORDER_TIME_GTC = 0, ORDER_TIME_DAY = 1, ORDER_TIME_SPECIFIED = 2 };
#define TRADE_RETCODE_REQUOTE 10004
#define TRADE_RETCODE_REJECT 10006
#define TRADE_RETCODE_PLACED 10008
#define TRADE_RETCODE_DONE 10009
#define TRADE_RETCODE_DONE_PARTIAL 10010
#define TRADE_RETCODE_ERROR 10011
#define TRADE_RETCODE_TIMEOUT 10012
#define TRADE_RETCODE_INVALID 10013
#define TRADE_RETCODE_INVALID_VOLUME 10014
#define TRADE_RETCODE_INVALID_PRICE 10015
#define TRADE_RETCODE_INVALID_STOPS 10016
#define TRADE_RETCODE_TRADE_DISABLED 10017
#define TRADE_RETCODE_MARKET_CLOSED 10018
#define TRADE_RETCODE_NO_MONEY 10019
#define TRADE_RETCODE_INVALID_EXPIRATION 10022
#define TRADE_RETCODE_NO_CHANGES 10025
#define TRADE_RETCODE_FROZEN 10029
#define TRADE_RETCODE_INVALID_FILL 10030
#define TRADE_RETCODE_CONNECTION 10031
#define TRADE_RETCODE_POSITION_CLOSED 10036
struct MqlTradeRequest {
    ENUM_TRADE_REQUEST_ACTIONS action;
    ulong magic;
    ulong order;
    string symbol;
    double volume;
    double price;
    double stoplimit;
    double sl;
    double tp;
    ulong deviation;
    ENUM_ORDER_TYPE type;
    ENUM_ORDER_TYPE_FILLING type_filling;
    ENUM_ORDER_TYPE_TIME type_time;
    datetime expiration;
    string comment;
    ulong position;
    ulong position_by;
};
struct MqlTradeResult {
    uint retcode;
    ulong deal;
    ulong order;
    double volume;
    double price;
    double bid;
    double ask;
    string comment;
    uint request_id;
    int retcode_external;
};
/* true when the request passed the terminal's checks and the server answered;
 * the outcome is result.retcode. */
bool OrderSend(const MqlTradeRequest &request, MqlTradeResult &result);

/* Positions (https://www.mql5.com/en/docs/trading/positiongetticket,
 * https://www.mql5.com/en/docs/constants/tradingconstants/positionproperties):
 * on a hedging account POSITION_IDENTIFIER == POSITION_TICKET == the opening
 * order's ticket. */
enum ENUM_POSITION_PROPERTY_INTEGER {
    POSITION_TICKET = 0, POSITION_TIME = 1, POSITION_TYPE = 2, POSITION_MAGIC = 3,
    POSITION_IDENTIFIER = 4, POSITION_REASON = 5,
};
enum ENUM_POSITION_PROPERTY_DOUBLE {
    POSITION_VOLUME = 10, POSITION_PRICE_OPEN = 11, POSITION_SL = 12, POSITION_TP = 13,
    POSITION_PRICE_CURRENT = 14, POSITION_SWAP = 15, POSITION_PROFIT = 16,
};
enum ENUM_POSITION_PROPERTY_STRING { POSITION_SYMBOL = 20, POSITION_COMMENT = 21 };
enum ENUM_POSITION_TYPE { POSITION_TYPE_BUY = 0, POSITION_TYPE_SELL = 1 };
int PositionsTotal();
ulong PositionGetTicket(int index);
bool PositionSelectByTicket(ulong ticket);
long PositionGetInteger(ENUM_POSITION_PROPERTY_INTEGER p);
double PositionGetDouble(ENUM_POSITION_PROPERTY_DOUBLE p);
string PositionGetString(ENUM_POSITION_PROPERTY_STRING p);

/* Working orders (https://www.mql5.com/en/docs/trading/ordergetticket,
 * https://www.mql5.com/en/docs/trading/orderselect,
 * https://www.mql5.com/en/docs/constants/tradingconstants/orderproperties):
 * OrderGetTicket(i) and OrderSelect(ticket) select an order for the
 * OrderGet* functions. A pending order (TRADE_ACTION_PENDING, retcode 10008
 * PLACED) stays here until it triggers (then it is FILLED in the history and
 * on a hedging account the position it opened has its ticket), expires
 * (ORDER_TIME_SPECIFIED at ORDER_TIME_EXPIRATION, server time) or is deleted
 * (TRADE_ACTION_REMOVE with request.order, or by hand: CANCELED). */
enum ENUM_ORDER_PROPERTY_INTEGER {
    ORDER_TICKET = 0, ORDER_TIME_SETUP = 1, ORDER_TYPE = 2, ORDER_STATE = 3, ORDER_TIME_EXPIRATION = 4,
    ORDER_TIME_DONE = 5, ORDER_TYPE_TIME = 6, ORDER_MAGIC = 7, ORDER_POSITION_ID = 8,
};
enum ENUM_ORDER_PROPERTY_DOUBLE {
    ORDER_VOLUME_INITIAL = 10, ORDER_VOLUME_CURRENT = 11, ORDER_PRICE_OPEN = 12, ORDER_SL = 13, ORDER_TP = 14,
};
enum ENUM_ORDER_PROPERTY_STRING { ORDER_SYMBOL = 20, ORDER_COMMENT = 21 };
enum ENUM_ORDER_STATE {
    ORDER_STATE_STARTED = 0, ORDER_STATE_PLACED = 1, ORDER_STATE_CANCELED = 2, ORDER_STATE_PARTIAL = 3,
    ORDER_STATE_FILLED = 4, ORDER_STATE_REJECTED = 5, ORDER_STATE_EXPIRED = 6,
};
int OrdersTotal();
ulong OrderGetTicket(int index);
bool OrderSelect(ulong ticket);
long OrderGetInteger(ENUM_ORDER_PROPERTY_INTEGER p);
double OrderGetDouble(ENUM_ORDER_PROPERTY_DOUBLE p);
string OrderGetString(ENUM_ORDER_PROPERTY_STRING p);

/* History orders (https://www.mql5.com/en/docs/trading/historyorderselect,
 * https://www.mql5.com/en/docs/trading/historyordergetticket): HistorySelect
 * selects the orders of the period as well as its deals; HistoryOrderSelect
 * replaces the order selection with one order. */
int HistoryOrdersTotal();
ulong HistoryOrderGetTicket(int index);
bool HistoryOrderSelect(ulong ticket);
long HistoryOrderGetInteger(ulong ticket, ENUM_ORDER_PROPERTY_INTEGER p);
double HistoryOrderGetDouble(ulong ticket, ENUM_ORDER_PROPERTY_DOUBLE p);
string HistoryOrderGetString(ulong ticket, ENUM_ORDER_PROPERTY_STRING p);

/* History (https://www.mql5.com/en/docs/trading/historyselect,
 * https://www.mql5.com/en/docs/trading/historydealselect,
 * https://www.mql5.com/en/docs/trading/historyselectbyposition,
 * https://www.mql5.com/en/docs/constants/tradingconstants/dealproperties):
 * the HistoryDealGet* functions read only deals of the current selection;
 * HistoryDealSelect replaces the selection with one deal. DEAL_POSITION_ID
 * is the position a deal opened, changed or closed; DEAL_MAGIC is the magic of
 * the order that made the deal (0 for a manual close). */
enum ENUM_DEAL_PROPERTY_INTEGER {
    DEAL_TICKET = 0, DEAL_ORDER = 1, DEAL_TIME = 2, DEAL_TYPE = 3, DEAL_ENTRY = 4, DEAL_MAGIC = 5,
    DEAL_POSITION_ID = 6, DEAL_REASON = 7, DEAL_TIME_MSC = 8,
};
enum ENUM_DEAL_PROPERTY_DOUBLE {
    DEAL_VOLUME = 10, DEAL_PRICE = 11, DEAL_COMMISSION = 12, DEAL_SWAP = 13, DEAL_PROFIT = 14,
    DEAL_FEE = 15, DEAL_SL = 16, DEAL_TP = 17,
};
enum ENUM_DEAL_PROPERTY_STRING { DEAL_SYMBOL = 20, DEAL_COMMENT = 21 };
enum ENUM_DEAL_TYPE { DEAL_TYPE_BUY = 0, DEAL_TYPE_SELL = 1, DEAL_TYPE_BALANCE = 2 };
enum ENUM_DEAL_ENTRY { DEAL_ENTRY_IN = 0, DEAL_ENTRY_OUT = 1, DEAL_ENTRY_INOUT = 2, DEAL_ENTRY_OUT_BY = 3 };
enum ENUM_DEAL_REASON {
    DEAL_REASON_CLIENT = 0, DEAL_REASON_MOBILE = 1, DEAL_REASON_WEB = 2, DEAL_REASON_EXPERT = 3,
    DEAL_REASON_SL = 4, DEAL_REASON_TP = 5, DEAL_REASON_SO = 6,
};
bool HistorySelect(datetime from, datetime to);
bool HistorySelectByPosition(long position_id);
bool HistoryDealSelect(ulong ticket);
int HistoryDealsTotal();
ulong HistoryDealGetTicket(int index);
long HistoryDealGetInteger(ulong ticket, ENUM_DEAL_PROPERTY_INTEGER p);
double HistoryDealGetDouble(ulong ticket, ENUM_DEAL_PROPERTY_DOUBLE p);
string HistoryDealGetString(ulong ticket, ENUM_DEAL_PROPERTY_STRING p);

/* ---- files (https://www.mql5.com/en/docs/files/fileopen): FILE_COMMON puts the
 * file in the common folder of all terminals (Terminal\Common\Files), which
 * outlives a re-install of the EA or of the terminal's data folder. ---- */
#define FILE_READ 1
#define FILE_WRITE 2
#define FILE_BIN 4
#define FILE_CSV 8
#define FILE_TXT 16
#define FILE_ANSI 32
#define FILE_UNICODE 64
#define FILE_SHARE_READ 128
#define FILE_SHARE_WRITE 256
#define FILE_REWRITE 512
#define FILE_COMMON 4096
int FileOpen(const string &name, int flags, short delimiter = '\t', uint codepage = CP_ACP);
void FileClose(int h);
void FileFlush(int h);
uint FileWriteString(int h, const string &text, int length = -1);
string FileReadString(int h, int length = -1);
bool FileIsEnding(int h);
bool FileIsExist(const string &name, int common_flag = 0);
bool FileDelete(const string &name, int common_flag = 0);
bool FileMove(const string &src, int common_flag, const string &dst, int mode_flags);

/* ---- network (https://www.mql5.com/en/docs/network/webrequest): the URL must be
 * in Tools > Options > Expert Advisors > "Allow WebRequest for listed URL",
 * else -1 and error 4014; -1 also when the request fails; else the HTTP status.
 * The call blocks up to timeout ms. ---- */
int WebRequest(const string &method, const string &url, const string &headers, int timeout,
               const MqlArray<char> &data, MqlArray<char> &result, string &result_headers);

#endif
