//+------------------------------------------------------------------+
//| ZepixBridge.mq5 — the MetaTrader 5 side of zepix's mt5 broker.   |
//|                                                                  |
//| MQL5 cannot accept connections, so this Expert Advisor long-polls |
//| zepix: POST <InpUrl> (…/mt5/poll) with the account, quotes, open  |
//| positions, closed deals and the results of the requests it ran;   |
//| the answer carries the requests to run (open, close, modify, and  |
//| pending / cancel for zepix's working orders).                     |
//| Protocol: SPEC section 10 and docs/commands.md of zepix; the      |
//| trader's guide is scripts/mt5/README.md (hedging accounts only).  |
//|                                                                  |
//| Money safety, in short:                                           |
//|  - every request is written to a file in the terminal's common    |
//|    folder BEFORE OrderSend, with its result after; after a restart |
//|    a request that may have run is looked up in the positions and  |
//|    the deal history (comment key + magic + symbol) and never sent |
//|    twice; requests and results carry zepix's database id;         |
//|  - positions are reported only when the terminal is connected and |
//|    logged in to the account zepix expects;                        |
//|  - closing deals are found by DEAL_POSITION_ID (manual closes,    |
//|    SL/TP, stop-out included) with their commission and fees; a    |
//|    deal the history has not shown yet is waited for, never        |
//|    guessed as 0.                                                  |
//| Tested in zepix's `make test` on a C++ shim of the MQL5 API        |
//| (tests/mt5/): compile it in MetaEditor and try it on a demo        |
//| account before going live (README.md, checklist).                 |
//+------------------------------------------------------------------+
#property copyright "zepix"
#property version   "2.00"

input string InpUrl            = "https://zepix.example.com/mt5/poll"; // zepix poll URL (allow it in Tools > Options > Expert Advisors)
input string InpSecret         = "";       // broker.mt5.secret of zepix
input int    InpPollMs         = 200;      // pause between polls when nothing happened
input int    InpTimeoutMs      = 5000;     // WebRequest timeout; above broker.mt5.poll_hold_ms
input int    InpMaxBackoffMs   = 10000;    // longest pause between polls while zepix cannot be reached
input string InpSymbols        = "EURUSD"; // zepix symbols to quote, comma-separated (plus every open position's)
input string InpSymbolSuffix   = "";       // broker suffix, e.g. ".m": added to orders, removed in reports
input string InpSymbolMap      = "";       // exceptions, zepix=terminal, comma-separated: "XAUUSD=GOLD,US30=DJ30.cash"
input int    InpSlippagePoints = 20;       // the most a market order may slip, in points
input int    InpRestartGraceS  = 10;       // after a start, wait this long (connected) before looking up interrupted requests
input int    InpHistoryWaitS   = 30;       // wait this long for a deal to reach the history before reporting without it
input string InpStateFile      = "";       // file in the common folder; "" = zepix_bridge_<login>.txt

#define ST_SENT  1    // OrderSend may have run: resolve from the terminal after a restart
#define ST_WAIT  2    // sent; its deal has not reached the history yet
#define ST_READY 3    // result to deliver
#define ST_DONE  4    // result delivered

struct ZxEntry
  {
   long   id;          // zepix's request_id (of database g_db)
   int    state;
   string op;
   string symbol;      // the terminal's symbol
   long   magic;
   ulong  ticket;      // the position (open: once known)
   ulong  deal;        // the deal of our OrderSend, 0 = unknown
   double vol_before;  // close: the position's volume before it
   double price;       // the trade server's answer (used if the deal never shows)
   double volume;
   long   sent;        // server time of the OrderSend
   long   wait_from;   // local time the wait for the deal began
   string key;         // the comment key: position and deal comments
   string result;      // JSON, states READY and DONE
  };

struct ZxDeal
  {
   ulong  deal;
   long   position;
   long   time;
   long   reason;
   double price;
   double volume;
   double money;
  };

string   g_db = "";               // zepix's database id; requests are namespaced by it
long     g_login = 0;             // the account zepix expects (0 = not told yet)
long     g_magic_base = 0;        // zepix's magics: [base, base + span)
long     g_magic_span = 0;
datetime g_history_from = 0;      // closing deals are scanned from here (persisted)
ZxEntry  g_rq[];
ulong    g_ours[];                // positions opened by zepix (persisted)
ulong    g_seen[];                // closing deals queued already (persisted)
string   g_pending_closed[];      // closed deals not yet delivered
ulong    g_pending_closed_deal[];
ulong    g_lag_ticket[];          // positions whose volume the history does not explain yet
long     g_lag_since[];
string   g_last_ticket[];         // the last report of each position (a vanished one is held)
string   g_last_json[];
string   g_file = "";
bool     g_loaded = false;
long     g_started = 0;           // local time the terminal was first seen connected
int      g_backoff = 0;
bool     g_dirty = false;             // the state file is behind

//--- small helpers -------------------------------------------------
string Num(double v) { return DoubleToString(v, 8); }

// JSON string content: quotes, backslashes and every control character escaped.
string Esc(string s)
  {
   string out = "";
   int n = StringLen(s);
   for(int i = 0; i < n; i++)
     {
      ushort c = StringGetCharacter(s, i);
      if(c == '"')
         out += "\\\"";
      else if(c == '\\')
         out += "\\\\";
      else if(c < 0x20 || c == 0x7f)
         out += StringFormat("\\u%04x", (int)c);
      else
         out += ShortToString(c);
     }
   return out;
  }

// The terminal's symbol for a zepix symbol: InpSymbolMap, else + InpSymbolSuffix.
string ToTerminal(string sym)
  {
   string pairs[];
   int n = StringSplit(InpSymbolMap, ',', pairs);
   for(int i = 0; i < n; i++)
     {
      int eq = StringFind(pairs[i], "=");
      if(eq <= 0)
         continue;
      string a = StringSubstr(pairs[i], 0, eq), b = StringSubstr(pairs[i], eq + 1);
      StringTrimLeft(a);
      StringTrimRight(a);
      StringTrimLeft(b);
      StringTrimRight(b);
      if(a == sym)
         return b;
     }
   return sym + InpSymbolSuffix;
  }

string ToZepix(string sym)
  {
   string pairs[];
   int n = StringSplit(InpSymbolMap, ',', pairs);
   for(int i = 0; i < n; i++)
     {
      int eq = StringFind(pairs[i], "=");
      if(eq <= 0)
         continue;
      string a = StringSubstr(pairs[i], 0, eq), b = StringSubstr(pairs[i], eq + 1);
      StringTrimLeft(a);
      StringTrimRight(a);
      StringTrimLeft(b);
      StringTrimRight(b);
      if(b == sym)
         return a;
     }
   int k = StringLen(InpSymbolSuffix);
   if(k > 0 && StringLen(sym) > k && StringSubstr(sym, StringLen(sym) - k) == InpSymbolSuffix)
      return StringSubstr(sym, 0, StringLen(sym) - k);
   return sym;
  }

bool IsOurMagic(long magic) { return g_magic_span > 0 && magic >= g_magic_base && magic < g_magic_base + g_magic_span; }

bool InList(ulong &arr[], ulong v)
  {
   for(int i = ArraySize(arr) - 1; i >= 0; i--)
      if(arr[i] == v)
         return true;
   return false;
  }

void AddTo(ulong &arr[], ulong v, int cap)
  {
   if(v == 0 || InList(arr, v))
      return;
   int n = ArraySize(arr);
   ArrayResize(arr, n + 1);
   arr[n] = v;
   if(n + 1 > cap)
      ArrayRemove(arr, 0, n + 1 - cap);
  }

void PushString(string &arr[], string v)
  {
   int n = ArraySize(arr);
   ArrayResize(arr, n + 1);
   arr[n] = v;
  }

// Times go to zepix in UTC seconds; deal times are the trade server's.
long ToUtc(datetime server_time) { return (long)server_time - (long)(TimeTradeServer() - TimeGMT()); }

//--- a minimal reader for zepix's flat answer -------------------------
// Values are numbers or strings without escapes (zepix writes them so).
string JsonGet(const string obj, const string key)
  {
   string pat = "\"" + key + "\":";
   int p = StringFind(obj, pat);
   if(p < 0)
      return "";
   p += StringLen(pat);
   if(StringGetCharacter(obj, p) == '"')
     {
      int e = StringFind(obj, "\"", p + 1);
      return e < 0 ? "" : StringSubstr(obj, p + 1, e - p - 1);
     }
   int e = p;
   while(e < StringLen(obj))
     {
      ushort c = StringGetCharacter(obj, e);
      if(c == ',' || c == '}' || c == ']')
         break;
      e++;
     }
   return StringSubstr(obj, p, e - p);
  }

//--- the state file (common folder: outlives the EA and the terminal) --
int FindEntry(long id)
  {
   for(int i = ArraySize(g_rq) - 1; i >= 0; i--)
      if(g_rq[i].id == id)
         return i;
   return -1;
  }

string ListJoin(ulong &arr[])
  {
   string out = "";
   for(int i = 0; i < ArraySize(arr); i++)
      out += (i ? "," : "") + IntegerToString((long)arr[i]);
   return out;
  }

void ListSplit(string s, ulong &arr[])
  {
   string parts[];
   int n = StringSplit(s, ',', parts);
   ArrayResize(arr, 0);
   for(int i = 0; i < n; i++)
      if(parts[i] != "")
         AddTo(arr, (ulong)StringToInteger(parts[i]), 100000);
  }

// Structs with strings are moved one by one (ArrayRemove is for simple types).
void RemoveEntry(int k)
  {
   int n = ArraySize(g_rq);
   for(int i = k; i + 1 < n; i++)
      g_rq[i] = g_rq[i + 1];
   ArrayResize(g_rq, n - 1);
  }

// Written to a new file then moved over the old: a crash leaves one or the other.
bool SaveState()
  {
   // Delivered results are kept a while: a resend of their request is recognised.
   int done = 0;
   for(int i = 0; i < ArraySize(g_rq); i++)
      if(g_rq[i].state == ST_DONE)
         done++;
   while(done > 500)
     {
      for(int i = 0; i < ArraySize(g_rq); i++)
         if(g_rq[i].state == ST_DONE)
           {
            RemoveEntry(i);
            break;
           }
      done--;
     }
   string tmp = g_file + ".tmp";
   int h = FileOpen(tmp, FILE_WRITE | FILE_TXT | FILE_ANSI | FILE_COMMON);
   if(h == INVALID_HANDLE)
     {
      PrintFormat("zepix: cannot write %s (error %d): requests are not run", tmp, GetLastError());
      return false;
     }
   FileWriteString(h, "zepix-bridge\t2\r\n");
   FileWriteString(h, "db\t" + g_db + "\r\n");
   FileWriteString(h, StringFormat("login\t%I64d\r\n", g_login));
   FileWriteString(h, StringFormat("magic\t%I64d\t%I64d\r\n", g_magic_base, g_magic_span));
   FileWriteString(h, StringFormat("from\t%I64d\r\n", (long)g_history_from));
   FileWriteString(h, "ours\t" + ListJoin(g_ours) + "\r\n");
   FileWriteString(h, "seen\t" + ListJoin(g_seen) + "\r\n");
   for(int i = 0; i < ArraySize(g_rq); i++)
      FileWriteString(h, StringFormat("rq\t%I64d\t%d\t%s\t%s\t%I64d\t%I64u\t%I64u\t%s\t%s\t%s\t%I64d\t%s\t%s\r\n",
                                      g_rq[i].id, g_rq[i].state, g_rq[i].op, g_rq[i].symbol, g_rq[i].magic,
                                      g_rq[i].ticket, g_rq[i].deal, Num(g_rq[i].vol_before), Num(g_rq[i].price),
                                      Num(g_rq[i].volume), g_rq[i].sent, g_rq[i].key,
                                      g_rq[i].result == "" ? "-" : g_rq[i].result));
   FileClose(h);
   if(!FileMove(tmp, FILE_COMMON, g_file, FILE_COMMON | FILE_REWRITE))
     {
      PrintFormat("zepix: cannot replace %s (error %d): requests are not run", g_file, GetLastError());
      return false;
     }
   g_dirty = false;
   return true;
  }

bool LoadState()
  {
   if(!FileIsExist(g_file, FILE_COMMON))
      return true;
   int h = FileOpen(g_file, FILE_READ | FILE_TXT | FILE_ANSI | FILE_COMMON);
   if(h == INVALID_HANDLE)
     {
      PrintFormat("zepix: cannot read %s (error %d)", g_file, GetLastError());
      return false;
     }
   while(!FileIsEnding(h))
     {
      string line = FileReadString(h);
      string f[];
      int n = StringSplit(line, '\t', f);
      if(n < 2)
         continue;
      if(f[0] == "db")
         g_db = f[1];
      else if(f[0] == "login")
         g_login = StringToInteger(f[1]);
      else if(f[0] == "magic" && n >= 3)
        {
         g_magic_base = StringToInteger(f[1]);
         g_magic_span = StringToInteger(f[2]);
        }
      else if(f[0] == "from")
         g_history_from = (datetime)StringToInteger(f[1]);
      else if(f[0] == "ours")
         ListSplit(f[1], g_ours);
      else if(f[0] == "seen")
         ListSplit(f[1], g_seen);
      else if(f[0] == "rq" && n >= 14)
        {
         int k = ArraySize(g_rq);
         ArrayResize(g_rq, k + 1);
         g_rq[k].id = StringToInteger(f[1]);
         g_rq[k].state = (int)StringToInteger(f[2]);
         g_rq[k].op = f[3];
         g_rq[k].symbol = f[4];
         g_rq[k].magic = StringToInteger(f[5]);
         g_rq[k].ticket = (ulong)StringToInteger(f[6]);
         g_rq[k].deal = (ulong)StringToInteger(f[7]);
         g_rq[k].vol_before = StringToDouble(f[8]);
         g_rq[k].price = StringToDouble(f[9]);
         g_rq[k].volume = StringToDouble(f[10]);
         g_rq[k].sent = StringToInteger(f[11]);
         g_rq[k].wait_from = 0;
         g_rq[k].key = f[12];
         g_rq[k].result = f[13] == "-" ? "" : f[13];
        }
     }
   FileClose(h);
   return true;
  }

//--- symbols: volume and price rules of the symbol ---------------------
// Volume down to SYMBOL_VOLUME_STEP; "" or the reason it cannot be traded.
string NormVolume(string sym, double want, double &vol)
  {
   double step = SymbolInfoDouble(sym, SYMBOL_VOLUME_STEP), vmin = SymbolInfoDouble(sym, SYMBOL_VOLUME_MIN),
          vmax = SymbolInfoDouble(sym, SYMBOL_VOLUME_MAX);
   if(step <= 0)
      step = 0.01;
   vol = MathFloor(want / step + 1e-7) * step;
   vol = NormalizeDouble(vol, 8);
   if(vol < vmin - 1e-9)
      return StringFormat("volume %s is below the symbol's minimum %s (step %s)", DoubleToString(want, 2),
                          DoubleToString(vmin, 2), DoubleToString(step, 2));
   if(vmax > 0 && vol > vmax + 1e-9)
      return StringFormat("volume %s is above the symbol's maximum %s", DoubleToString(want, 2), DoubleToString(vmax, 2));
   return "";
  }

// A price on the symbol's tick grid, rounded to its digits.
double NormPrice(string sym, double p)
  {
   if(p <= 0)
      return 0;
   double tick = SymbolInfoDouble(sym, SYMBOL_TRADE_TICK_SIZE);
   int digits = (int)SymbolInfoInteger(sym, SYMBOL_DIGITS);
   if(tick > 0)
      p = MathRound(p / tick) * tick;
   return NormalizeDouble(p, digits);
  }

// SL/TP of a buy (or sell) position at least SYMBOL_TRADE_STOPS_LEVEL points
// from the price it closes at; "" or the reason.
string CheckStops(string sym, bool buy, double sl, double tp)
  {
   MqlTick t;
   if(!SymbolInfoTick(sym, t))
      return "no quote for " + sym;
   double point = SymbolInfoDouble(sym, SYMBOL_POINT), lvl = (double)SymbolInfoInteger(sym, SYMBOL_TRADE_STOPS_LEVEL) * point;
   double close = buy ? t.bid : t.ask;
   int digits = (int)SymbolInfoInteger(sym, SYMBOL_DIGITS);
   if(sl > 0 && (buy ? sl > close - lvl : sl < close + lvl))
      return StringFormat("sl %s is closer than the symbol's stops level (%I64d points) to the price %s or on its wrong side",
                          DoubleToString(sl, digits), SymbolInfoInteger(sym, SYMBOL_TRADE_STOPS_LEVEL),
                          DoubleToString(close, digits));
   if(tp > 0 && (buy ? tp < close + lvl : tp > close - lvl))
      return StringFormat("tp %s is closer than the symbol's stops level (%I64d points) to the price %s or on its wrong side",
                          DoubleToString(tp, digits), SymbolInfoInteger(sym, SYMBOL_TRADE_STOPS_LEVEL),
                          DoubleToString(close, digits));
   return "";
  }

// FOK or IOC when SYMBOL_FILLING_MODE allows it, else RETURN (the mode of
// market and exchange execution that needs no flag).
ENUM_ORDER_TYPE_FILLING Filling(string sym)
  {
   long mask = SymbolInfoInteger(sym, SYMBOL_FILLING_MODE);
   if((mask & SYMBOL_FILLING_FOK) != 0)
      return ORDER_FILLING_FOK;
   if((mask & SYMBOL_FILLING_IOC) != 0)
      return ORDER_FILLING_IOC;
   return ORDER_FILLING_RETURN;
  }

bool RetcodeOk(uint rc) { return rc == TRADE_RETCODE_DONE || rc == TRADE_RETCODE_DONE_PARTIAL || rc == TRADE_RETCODE_PLACED; }

//--- results ------------------------------------------------------------
string Fail(long id, ulong ticket, string error)
  {
   return StringFormat("{\"db\":\"%s\",\"request_id\":%I64d,\"ok\":false,\"ticket\":%I64u,\"price\":0,\"volume\":0,\"error\":\"%s\"}",
                       Esc(g_db), id, ticket, Esc(error));
  }

// profit is left out when has_profit is false (unknown is not 0); deal 0 = none.
string Ok(long id, ulong ticket, double price, double volume, bool has_profit, double profit, ulong deal)
  {
   string s = StringFormat("{\"db\":\"%s\",\"request_id\":%I64d,\"ok\":true,\"ticket\":%I64u,\"price\":%s,\"volume\":%s",
                           Esc(g_db), id, ticket, Num(price), Num(volume));
   if(has_profit)
      s += ",\"profit\":" + Num(profit);
   if(deal != 0)
      s += StringFormat(",\"deal\":%I64u", deal);
   return s + ",\"error\":\"\"}";
  }

void SetResult(int i, string res)
  {
   g_dirty = true;
   g_rq[i].state = ST_READY;
   g_rq[i].result = res;
  }

// Commission and fees of a position's entry deals, the share of `volume` lots.
// Changes the history selection.
double EntryCosts(long position, double volume)
  {
   if(!HistorySelectByPosition(position))
      return 0;
   double costs = 0, vin = 0;
   for(int i = 0; i < HistoryDealsTotal(); i++)
     {
      ulong d = HistoryDealGetTicket(i);
      if(HistoryDealGetInteger(d, DEAL_ENTRY) != DEAL_ENTRY_IN)
         continue;
      costs += HistoryDealGetDouble(d, DEAL_COMMISSION) + HistoryDealGetDouble(d, DEAL_FEE);
      vin += HistoryDealGetDouble(d, DEAL_VOLUME);
     }
   return vin > 0 ? costs * MathMin(volume, vin) / vin : 0;
  }

// Money of a closing deal already read: profit, swap, commission, fee of
// the deal, plus its share of the entry's commission and fee.
double DealMoney(ulong deal, long position, double volume)
  {
   double m = HistoryDealGetDouble(deal, DEAL_PROFIT) + HistoryDealGetDouble(deal, DEAL_SWAP) +
              HistoryDealGetDouble(deal, DEAL_COMMISSION) + HistoryDealGetDouble(deal, DEAL_FEE);
   return m + EntryCosts(position, volume);
  }

// A close whose deal is in the history: its result. false when not yet.
bool CloseResultFromDeal(int i, ulong deal)
  {
   if(deal == 0 || !HistoryDealSelect(deal))
      return false;
   long pos = HistoryDealGetInteger(deal, DEAL_POSITION_ID);
   double price = HistoryDealGetDouble(deal, DEAL_PRICE), vol = HistoryDealGetDouble(deal, DEAL_VOLUME);
   double money = DealMoney(deal, pos, vol);
   AddTo(g_seen, deal, 5000);
   SetResult(i, Ok(g_rq[i].id, g_rq[i].ticket, price, vol, true, money, deal));
   return true;
  }

// An open whose deal or position is visible: its result. false when not yet.
bool OpenResultFromTerminal(int i)
  {
   if(g_rq[i].deal != 0 && HistoryDealSelect(g_rq[i].deal))
     {
      ulong pos = (ulong)HistoryDealGetInteger(g_rq[i].deal, DEAL_POSITION_ID);
      AddTo(g_ours, pos, 100000);
      g_rq[i].ticket = pos;
      SetResult(i, Ok(g_rq[i].id, pos, HistoryDealGetDouble(g_rq[i].deal, DEAL_PRICE),
                      HistoryDealGetDouble(g_rq[i].deal, DEAL_VOLUME), false, 0, 0));
      return true;
     }
   if(g_rq[i].ticket != 0 && PositionSelectByTicket(g_rq[i].ticket))
     {
      AddTo(g_ours, g_rq[i].ticket, 100000);
      SetResult(i, Ok(g_rq[i].id, g_rq[i].ticket, PositionGetDouble(POSITION_PRICE_OPEN),
                      PositionGetDouble(POSITION_VOLUME), false, 0, 0));
      return true;
     }
   return false;
  }

// Requests sent whose deal was not in the history yet: finish them when it is,
// or after InpHistoryWaitS with what the trade server answered (no profit).
void FinishWaiting()
  {
   for(int i = 0; i < ArraySize(g_rq); i++)
     {
      if(g_rq[i].state != ST_WAIT)
         continue;
      if(g_rq[i].wait_from == 0)
         g_rq[i].wait_from = (long)TimeLocal();
      bool late = (long)TimeLocal() - g_rq[i].wait_from >= InpHistoryWaitS;
      if(g_rq[i].op == "open")
        {
         if(!OpenResultFromTerminal(i) && late)
            SetResult(i, Ok(g_rq[i].id, g_rq[i].ticket, g_rq[i].price, g_rq[i].volume, false, 0, 0));
        }
      else if(!CloseResultFromDeal(i, g_rq[i].deal) && late)
         SetResult(i, Ok(g_rq[i].id, g_rq[i].ticket, g_rq[i].price, g_rq[i].volume, false, 0, g_rq[i].deal));
     }
  }

//--- running one request --------------------------------------------
// Marks the entry SENT and saves it: after this, a restart looks the request
// up in the terminal instead of sending it again.
bool MarkSent(int i)
  {
   g_rq[i].state = ST_SENT;
   g_rq[i].sent = (long)TimeCurrent();
   return SaveState();
  }

string TradeError(MqlTradeResult &r)
  {
   return StringFormat("%u %s", r.retcode, r.comment);
  }

void RunOpen(int i, string rq)
  {
   long id = g_rq[i].id;
   string sym = g_rq[i].symbol;
   if(!SymbolSelect(sym, true))
     {
      SetResult(i, Fail(id, 0, "unknown symbol " + sym + " (InpSymbolSuffix / InpSymbolMap)"));
      return;
     }
   bool buy = JsonGet(rq, "side") != "sell";
   double vol;
   string why = NormVolume(sym, StringToDouble(JsonGet(rq, "volume")), vol);
   double sl = NormPrice(sym, StringToDouble(JsonGet(rq, "sl"))), tp = NormPrice(sym, StringToDouble(JsonGet(rq, "tp")));
   if(why == "")
      why = CheckStops(sym, buy, sl, tp);
   if(why != "")
     {
      SetResult(i, Fail(id, 0, why));
      return;
     }
   MqlTick t;
   SymbolInfoTick(sym, t);
   MqlTradeRequest req;
   MqlTradeResult res;
   ZeroMemory(req);
   ZeroMemory(res);
   req.action = TRADE_ACTION_DEAL;
   req.symbol = sym;
   req.volume = vol;
   req.type = buy ? ORDER_TYPE_BUY : ORDER_TYPE_SELL;
   req.price = buy ? t.ask : t.bid;
   req.sl = sl;
   req.tp = tp;
   req.deviation = (ulong)InpSlippagePoints;
   req.magic = (ulong)g_rq[i].magic;
   req.comment = g_rq[i].key;
   req.type_filling = Filling(sym);
   if(!MarkSent(i))
      return;
   if(!OrderSend(req, res) || !RetcodeOk(res.retcode))
     {
      SetResult(i, Fail(id, 0, TradeError(res)));
      return;
     }
   // Hedging: the position's ticket is the order's.
   g_rq[i].ticket = res.order;
   g_rq[i].deal = res.deal;
   g_rq[i].price = res.price;
   g_rq[i].volume = res.volume;
   AddTo(g_ours, res.order, 100000);
   if(!OpenResultFromTerminal(i))
      g_rq[i].state = ST_WAIT;
  }

void RunClose(int i, string rq)
  {
   long id = g_rq[i].id;
   ulong ticket = g_rq[i].ticket;
   if(!PositionSelectByTicket(ticket))
     {
      SetResult(i, Fail(id, ticket, "position not found"));
      return;
     }
   string sym = PositionGetString(POSITION_SYMBOL);
   double have = PositionGetDouble(POSITION_VOLUME), want = StringToDouble(JsonGet(rq, "volume")), vol = have;
   bool buy = PositionGetInteger(POSITION_TYPE) == POSITION_TYPE_BUY;
   if(want > 0 && want < have - 1e-8)
     {
      string why = NormVolume(sym, want, vol);
      if(why != "")
        {
         SetResult(i, Fail(id, ticket, why));
         return;
        }
     }
   MqlTick t;
   SymbolInfoTick(sym, t);
   MqlTradeRequest req;
   MqlTradeResult res;
   ZeroMemory(req);
   ZeroMemory(res);
   req.action = TRADE_ACTION_DEAL;
   req.position = ticket;
   req.symbol = sym;
   req.volume = vol;
   req.type = buy ? ORDER_TYPE_SELL : ORDER_TYPE_BUY;
   req.price = buy ? t.bid : t.ask;
   req.deviation = (ulong)InpSlippagePoints;
   req.magic = (ulong)g_rq[i].magic;
   req.comment = g_rq[i].key;
   req.type_filling = Filling(sym);
   g_rq[i].vol_before = have;
   if(!MarkSent(i))
      return;
   if(!OrderSend(req, res) || !RetcodeOk(res.retcode))
     {
      SetResult(i, Fail(id, ticket, TradeError(res)));
      return;
     }
   g_rq[i].deal = res.deal;
   g_rq[i].price = res.price;
   g_rq[i].volume = res.volume;
   AddTo(g_seen, res.deal, 5000);     // reported with this result, not in closed[]
   if(!CloseResultFromDeal(i, res.deal))
      g_rq[i].state = ST_WAIT;
  }

void RunModify(int i, string rq)
  {
   long id = g_rq[i].id;
   ulong ticket = g_rq[i].ticket;
   if(!PositionSelectByTicket(ticket))
     {
      SetResult(i, Fail(id, ticket, "position not found"));
      return;
     }
   string sym = PositionGetString(POSITION_SYMBOL);
   bool buy = PositionGetInteger(POSITION_TYPE) == POSITION_TYPE_BUY;
   double sl = NormPrice(sym, StringToDouble(JsonGet(rq, "sl"))), tp = NormPrice(sym, StringToDouble(JsonGet(rq, "tp")));
   if(MathAbs(sl - PositionGetDouble(POSITION_SL)) < 1e-10 && MathAbs(tp - PositionGetDouble(POSITION_TP)) < 1e-10)
     {
      SetResult(i, Ok(id, ticket, 0, 0, false, 0, 0));      // nothing to change
      return;
     }
   string why = CheckStops(sym, buy, sl, tp);
   if(why != "")
     {
      SetResult(i, Fail(id, ticket, why));
      return;
     }
   MqlTradeRequest req;
   MqlTradeResult res;
   ZeroMemory(req);
   ZeroMemory(res);
   req.action = TRADE_ACTION_SLTP;
   req.position = ticket;
   req.symbol = sym;
   req.sl = sl;
   req.tp = tp;
   req.magic = (ulong)g_rq[i].magic;
   OrderSend(req, res);
   // 10025: the levels are already these (a modify sent again after a restart).
   if(res.retcode == TRADE_RETCODE_DONE || res.retcode == TRADE_RETCODE_NO_CHANGES)
      SetResult(i, Ok(id, ticket, 0, 0, false, 0, 0));
   else
      SetResult(i, Fail(id, ticket, TradeError(res)));
  }

//--- pending orders (zepix's buy_limit, buy_stop, sell_limit, sell_stop) -----
bool PendingType(string name, ENUM_ORDER_TYPE &t)
  {
   if(name == "buy_limit")
      t = ORDER_TYPE_BUY_LIMIT;
   else if(name == "buy_stop")
      t = ORDER_TYPE_BUY_STOP;
   else if(name == "sell_limit")
      t = ORDER_TYPE_SELL_LIMIT;
   else if(name == "sell_stop")
      t = ORDER_TYPE_SELL_STOP;
   else
      return false;
   return true;
  }

string PendingName(long t)
  {
   if(t == ORDER_TYPE_BUY_LIMIT)
      return "buy_limit";
   if(t == ORDER_TYPE_BUY_STOP)
      return "buy_stop";
   if(t == ORDER_TYPE_SELL_LIMIT)
      return "sell_limit";
   if(t == ORDER_TYPE_SELL_STOP)
      return "sell_stop";
   return "";
  }

// A pending order's price at least SYMBOL_TRADE_STOPS_LEVEL points on its side
// of the market (a limit buys below the ask, sells above the bid; a stop the
// reverse), its SL/TP that far from its price; "" or the reason.
string CheckPending(string sym, ENUM_ORDER_TYPE t, double price, double sl, double tp)
  {
   MqlTick k;
   if(!SymbolInfoTick(sym, k))
      return "no quote for " + sym;
   double point = SymbolInfoDouble(sym, SYMBOL_POINT), lvl = (double)SymbolInfoInteger(sym, SYMBOL_TRADE_STOPS_LEVEL) * point;
   int digits = (int)SymbolInfoInteger(sym, SYMBOL_DIGITS);
   bool buy = t == ORDER_TYPE_BUY_LIMIT || t == ORDER_TYPE_BUY_STOP;
   double ref = buy ? k.ask : k.bid;
   bool ok = t == ORDER_TYPE_BUY_LIMIT ? price <= ref - lvl : t == ORDER_TYPE_BUY_STOP ? price >= ref + lvl :
             t == ORDER_TYPE_SELL_LIMIT ? price >= ref + lvl : price <= ref - lvl;
   if(price <= 0 || !ok)
      return StringFormat("price %s of a %s is on the wrong side of the %s %s or closer than the stops level (%I64d points)",
                          DoubleToString(price, digits), PendingName(t), buy ? "ask" : "bid", DoubleToString(ref, digits),
                          SymbolInfoInteger(sym, SYMBOL_TRADE_STOPS_LEVEL));
   if((sl > 0 && (buy ? sl > price - lvl : sl < price + lvl)) || (tp > 0 && (buy ? tp < price + lvl : tp > price - lvl)))
      return StringFormat("sl/tp of the %s at %s are on the wrong side of it or closer than the stops level (%I64d points)",
                          PendingName(t), DoubleToString(price, digits), SymbolInfoInteger(sym, SYMBOL_TRADE_STOPS_LEVEL));
   return "";
  }

// The working order of entry i: by its ticket, else by comment key, magic and
// symbol (after a restart the ticket may be unknown). Selects it; 0 = none.
ulong FindOrder(int i)
  {
   if(g_rq[i].ticket != 0 && OrderSelect(g_rq[i].ticket))
      return g_rq[i].ticket;
   for(int k = OrdersTotal() - 1; k >= 0; k--)
     {
      ulong t = OrderGetTicket(k);
      if(t != 0 && OrderGetString(ORDER_COMMENT) == g_rq[i].key && OrderGetInteger(ORDER_MAGIC) == g_rq[i].magic &&
         OrderGetString(ORDER_SYMBOL) == g_rq[i].symbol)
         return t;
     }
   return 0;
  }

// The order of entry i in the history (filled, expired or deleted since it was
// placed): comment key, magic, symbol, placed after it was sent. 0 = none.
ulong FindHistoryOrder(int i)
  {
   if(!HistorySelect((datetime)(g_rq[i].sent - 60), TimeCurrent() + 60))
      return 0;
   for(int k = HistoryOrdersTotal() - 1; k >= 0; k--)
     {
      ulong t = HistoryOrderGetTicket(k);
      if(t != 0 && HistoryOrderGetString(t, ORDER_COMMENT) == g_rq[i].key &&
         HistoryOrderGetInteger(t, ORDER_MAGIC) == g_rq[i].magic && HistoryOrderGetString(t, ORDER_SYMBOL) == g_rq[i].symbol &&
         PendingName(HistoryOrderGetInteger(t, ORDER_TYPE)) != "")
         return t;
     }
   return 0;
  }

// TRADE_ACTION_PENDING. The expiry is the terminal's (ORDER_TIME_SPECIFIED)
// when SYMBOL_EXPIRATION_MODE allows it; else the order is good till
// cancelled and zepix deletes it at its expiry.
void RunPending(int i, string rq)
  {
   long id = g_rq[i].id;
   string sym = g_rq[i].symbol;
   ENUM_ORDER_TYPE t;
   if(!SymbolSelect(sym, true))
     {
      SetResult(i, Fail(id, 0, "unknown symbol " + sym + " (InpSymbolSuffix / InpSymbolMap)"));
      return;
     }
   if(!PendingType(JsonGet(rq, "type"), t))
     {
      SetResult(i, Fail(id, 0, "unknown pending order type " + JsonGet(rq, "type")));
      return;
     }
   double vol;
   string why = NormVolume(sym, StringToDouble(JsonGet(rq, "volume")), vol);
   double price = NormPrice(sym, StringToDouble(JsonGet(rq, "price")));
   double sl = NormPrice(sym, StringToDouble(JsonGet(rq, "sl"))), tp = NormPrice(sym, StringToDouble(JsonGet(rq, "tp")));
   if(why == "")
      why = CheckPending(sym, t, price, sl, tp);
   long expiry = StringToInteger(JsonGet(rq, "expiry"));        // UTC seconds, 0 = none
   long modes = SymbolInfoInteger(sym, SYMBOL_EXPIRATION_MODE);
   ENUM_ORDER_TYPE_TIME tt = ORDER_TIME_GTC;
   datetime exp = 0;
   if(expiry > 0 && (modes & SYMBOL_EXPIRATION_SPECIFIED) != 0)
     {
      tt = ORDER_TIME_SPECIFIED;
      exp = (datetime)(expiry + ((long)TimeTradeServer() - (long)TimeGMT()));
     }
   else if((modes & SYMBOL_EXPIRATION_GTC) == 0 && why == "")
      why = "the symbol allows neither good-till-cancelled nor specified-time orders (SYMBOL_EXPIRATION_MODE)";
   if(why != "")
     {
      SetResult(i, Fail(id, 0, why));
      return;
     }
   MqlTradeRequest req;
   MqlTradeResult res;
   ZeroMemory(req);
   ZeroMemory(res);
   req.action = TRADE_ACTION_PENDING;
   req.symbol = sym;
   req.volume = vol;
   req.type = t;
   req.price = price;
   req.sl = sl;
   req.tp = tp;
   req.magic = (ulong)g_rq[i].magic;
   req.comment = g_rq[i].key;
   req.type_time = tt;
   req.expiration = exp;
   req.type_filling = ORDER_FILLING_RETURN;
   if(!MarkSent(i))
      return;
   if(!OrderSend(req, res) || !RetcodeOk(res.retcode))
     {
      SetResult(i, Fail(id, 0, TradeError(res)));
      return;
     }
   g_rq[i].ticket = res.order;
   g_rq[i].price = price;
   g_rq[i].volume = vol;
   SetResult(i, Ok(id, res.order, price, vol, false, 0, 0));
  }

ulong FindPosition(int i);          // below, with the look-ups after a restart

// TRADE_ACTION_REMOVE of a working order. Gone already (deleted, expired):
// a success. Filled: a failure, and its position is reported as usual.
void RunCancel(int i, string rq)
  {
   long id = g_rq[i].id;
   ulong t = FindOrder(i);
   if(t == 0)
     {
      ulong pos = g_rq[i].ticket != 0 && PositionSelectByTicket(g_rq[i].ticket) ? g_rq[i].ticket : FindPosition(i);
      if(pos != 0)
         SetResult(i, Fail(id, pos, StringFormat("the order was filled: position %I64u", pos)));
      else
         SetResult(i, Ok(id, g_rq[i].ticket, 0, 0, false, 0, 0));
      return;
     }
   string sym = OrderGetString(ORDER_SYMBOL);
   double price = OrderGetDouble(ORDER_PRICE_OPEN);
   bool buy = OrderGetInteger(ORDER_TYPE) == ORDER_TYPE_BUY_LIMIT || OrderGetInteger(ORDER_TYPE) == ORDER_TYPE_BUY_STOP;
   MqlTick k;
   double freeze = (double)SymbolInfoInteger(sym, SYMBOL_TRADE_FREEZE_LEVEL) * SymbolInfoDouble(sym, SYMBOL_POINT);
   if(freeze > 0 && SymbolInfoTick(sym, k) && MathAbs((buy ? k.ask : k.bid) - price) < freeze)
     {
      SetResult(i, Fail(id, t, StringFormat("order %I64u is within the symbol's freeze level of the price: it cannot be deleted now",
                                            t)));
      return;
     }
   MqlTradeRequest req;
   MqlTradeResult res;
   ZeroMemory(req);
   ZeroMemory(res);
   req.action = TRADE_ACTION_REMOVE;
   req.order = t;
   req.symbol = sym;
   req.magic = (ulong)g_rq[i].magic;
   if(!OrderSend(req, res) || !RetcodeOk(res.retcode))
     {
      // Gone meanwhile (expired, deleted): what was asked is done; filled: the next poll shows its position.
      if(!OrderSelect(t) && !PositionSelectByTicket(t))
         SetResult(i, Ok(id, t, 0, 0, false, 0, 0));
      else
         SetResult(i, Fail(id, t, TradeError(res)));
      return;
     }
   g_rq[i].ticket = t;
   SetResult(i, Ok(id, t, 0, 0, false, 0, 0));
  }

void Run(int i, string rq)
  {
   string op = g_rq[i].op;
   if(op == "open")
      RunOpen(i, rq);
   else if(op == "close")
      RunClose(i, rq);
   else if(op == "modify")
      RunModify(i, rq);
   else if(op == "pending")
      RunPending(i, rq);
   else if(op == "cancel")
      RunCancel(i, rq);
   else
      SetResult(i, Fail(g_rq[i].id, 0, "unknown op " + op));
  }

//--- after a restart: a request that may have run ------------------------
// Its deal: comment key, magic, symbol, position, after the time it was sent.
ulong FindDeal(int i, long entry)
  {
   if(!HistorySelect((datetime)(g_rq[i].sent - 60), TimeCurrent() + 60))
      return 0;
   for(int k = HistoryDealsTotal() - 1; k >= 0; k--)
     {
      ulong d = HistoryDealGetTicket(k);
      if(HistoryDealGetInteger(d, DEAL_ENTRY) != entry || HistoryDealGetString(d, DEAL_COMMENT) != g_rq[i].key ||
         HistoryDealGetInteger(d, DEAL_MAGIC) != g_rq[i].magic || HistoryDealGetString(d, DEAL_SYMBOL) != g_rq[i].symbol)
         continue;
      if(g_rq[i].op == "close" && (ulong)HistoryDealGetInteger(d, DEAL_POSITION_ID) != g_rq[i].ticket)
         continue;
      return d;
     }
   return 0;
  }

ulong FindPosition(int i)
  {
   for(int k = PositionsTotal() - 1; k >= 0; k--)
     {
      ulong t = PositionGetTicket(k);
      if(t != 0 && PositionGetString(POSITION_COMMENT) == g_rq[i].key && PositionGetInteger(POSITION_MAGIC) == g_rq[i].magic &&
         PositionGetString(POSITION_SYMBOL) == g_rq[i].symbol && PositionGetInteger(POSITION_TIME) >= g_rq[i].sent - 60)
         return t;
     }
   return 0;
  }

// true when settled (a result, or the request is to run again).
bool Resolve(int i, string rq)
  {
   long id = g_rq[i].id;
   if(g_rq[i].op == "open")
     {
      ulong pos = FindPosition(i);
      if(pos != 0)
        {
         g_rq[i].ticket = pos;
         OpenResultFromTerminal(i);
         PrintFormat("zepix: request %I64d was run before the restart: position %I64u", id, pos);
         return true;
        }
      ulong d = FindDeal(i, DEAL_ENTRY_IN);
      if(d != 0)        // opened, and closed again meanwhile (SL, TP, by hand)
        {
         g_rq[i].deal = d;
         OpenResultFromTerminal(i);
         PrintFormat("zepix: request %I64d was run before the restart: deal %I64u (position closed since)", id, d);
         return true;
        }
      PrintFormat("zepix: request %I64d did not reach the trade server before the restart: running it", id);
      Run(i, rq);
      return true;
     }
   if(g_rq[i].op == "close")
     {
      ulong d = FindDeal(i, DEAL_ENTRY_OUT);
      if(d != 0)
        {
         g_rq[i].deal = d;
         AddTo(g_seen, d, 5000);
         CloseResultFromDeal(i, d);
         PrintFormat("zepix: request %I64d was run before the restart: deal %I64u", id, d);
         return true;
        }
      if(PositionSelectByTicket(g_rq[i].ticket) && MathAbs(PositionGetDouble(POSITION_VOLUME) - g_rq[i].vol_before) < 1e-8)
        {
         PrintFormat("zepix: request %I64d did not reach the trade server before the restart: running it", id);
         Run(i, rq);
         return true;
        }
      if(g_rq[i].wait_from == 0)
         g_rq[i].wait_from = (long)TimeLocal();
      if((long)TimeLocal() - g_rq[i].wait_from < InpHistoryWaitS)
         return false;      // the position changed: its deal is on its way to the history
      SetResult(i, Fail(id, g_rq[i].ticket, "interrupted by a restart of the EA; its deal is not in the terminal's history"));
      return true;
     }
   if(g_rq[i].op == "pending")
     {
      // Placed before the restart: still working, or in the history since.
      ulong t = FindOrder(i);
      if(t == 0)
         t = FindHistoryOrder(i);
      if(t == 0)
        {
         ulong d = FindDeal(i, DEAL_ENTRY_IN);   // filled, and its order's record not found
         if(d != 0)
            t = (ulong)HistoryDealGetInteger(d, DEAL_POSITION_ID);
        }
      if(t != 0)
        {
         g_rq[i].ticket = t;
         SetResult(i, Ok(id, t, g_rq[i].price, g_rq[i].volume, false, 0, 0));
         PrintFormat("zepix: request %I64d was run before the restart: order %I64u", id, t);
         return true;
        }
      PrintFormat("zepix: request %I64d did not reach the trade server before the restart: running it", id);
      Run(i, rq);
      return true;
     }
   Run(i, rq);              // modify, cancel: running it again is harmless (10025; an order gone is a success)
   return true;
  }

//--- what a poll reports --------------------------------------------
bool Connected() { return TerminalInfoInteger(TERMINAL_CONNECTED) != 0 && AccountInfoInteger(ACCOUNT_LOGIN) != 0; }

// Reports may be trusted: connected, the account zepix expects, its magics known.
bool Trusted() { return Connected() && g_magic_span > 0 && (g_login == 0 || g_login == AccountInfoInteger(ACCOUNT_LOGIN)); }

string AccountJson()
  {
   return StringFormat("{\"login\":%I64d,\"balance\":%s,\"equity\":%s,\"currency\":\"%s\",\"connected\":%s,\"margin_mode\":\"%s\"}",
                       AccountInfoInteger(ACCOUNT_LOGIN), Num(AccountInfoDouble(ACCOUNT_BALANCE)),
                       Num(AccountInfoDouble(ACCOUNT_EQUITY)), Esc(AccountInfoString(ACCOUNT_CURRENCY)),
                       Connected() ? "true" : "false",
                       AccountInfoInteger(ACCOUNT_MARGIN_MODE) == ACCOUNT_MARGIN_MODE_RETAIL_HEDGING ? "hedging" : "netting");
  }

// zepix's working orders (its magics): the daemon sees them placed, filled
// (a position of the same ticket), expired or deleted (gone).
string OrdersJson()
  {
   string out = "";
   for(int i = OrdersTotal() - 1; i >= 0; i--)
     {
      ulong t = OrderGetTicket(i);            // selects the order
      if(t == 0 || !IsOurMagic(OrderGetInteger(ORDER_MAGIC)))
         continue;
      string type = PendingName(OrderGetInteger(ORDER_TYPE));
      if(type == "")
         continue;
      long exp = OrderGetInteger(ORDER_TIME_EXPIRATION);
      out += (out == "" ? "" : ",") +
             StringFormat("{\"ticket\":%I64u,\"symbol\":\"%s\",\"type\":\"%s\",\"volume\":%s,\"price\":%s,\"sl\":%s,"
                          "\"tp\":%s,\"expiration\":%I64d,\"magic\":%I64d,\"comment\":\"%s\"}",
                          t, Esc(ToZepix(OrderGetString(ORDER_SYMBOL))), type, Num(OrderGetDouble(ORDER_VOLUME_CURRENT)),
                          Num(OrderGetDouble(ORDER_PRICE_OPEN)), Num(OrderGetDouble(ORDER_SL)), Num(OrderGetDouble(ORDER_TP)),
                          exp > 0 ? ToUtc((datetime)exp) : 0, OrderGetInteger(ORDER_MAGIC), Esc(OrderGetString(ORDER_COMMENT)));
     }
   return "[" + out + "]";
  }

string QuoteJson(string sym)
  {
   MqlTick t;
   if(!SymbolInfoTick(sym, t) || t.bid <= 0)
      return "";
   return StringFormat("{\"symbol\":\"%s\",\"bid\":%s,\"ask\":%s}", Esc(ToZepix(sym)), Num(t.bid), Num(t.ask));
  }

string QuotesJson()
  {
   string out = "", done = ",";
   string parts[];
   int n = StringSplit(InpSymbols, ',', parts);
   for(int i = 0; i < n; i++)
     {
      string sym = parts[i];
      StringTrimLeft(sym);
      StringTrimRight(sym);
      if(sym == "")
         continue;
      sym = ToTerminal(sym);
      string q = QuoteJson(sym);
      if(q != "" && StringFind(done, "," + sym + ",") < 0)
        {
         out += (out == "" ? "" : ",") + q;
         done += sym + ",";
        }
     }
   for(int i = PositionsTotal() - 1; i >= 0; i--)
     {
      if(PositionGetTicket(i) == 0 || !IsOurMagic(PositionGetInteger(POSITION_MAGIC)))
         continue;
      string sym = PositionGetString(POSITION_SYMBOL);
      string q = QuoteJson(sym);
      if(q != "" && StringFind(done, "," + sym + ",") < 0)
        {
         out += (out == "" ? "" : ",") + q;
         done += sym + ",";
        }
     }
   return "[" + out + "]";
  }

// Lots of a position the history explains (entries - visible exits); -1 when
// its entry is not in the history yet. Changes the history selection.
double ExplainedVolume(ulong ticket)
  {
   if(!HistorySelectByPosition((long)ticket))
      return -1;
   double vin = 0, vout = 0;
   for(int i = 0; i < HistoryDealsTotal(); i++)
     {
      ulong d = HistoryDealGetTicket(i);
      long e = HistoryDealGetInteger(d, DEAL_ENTRY);
      if(e == DEAL_ENTRY_IN)
         vin += HistoryDealGetDouble(d, DEAL_VOLUME);
      else if(e == DEAL_ENTRY_OUT || e == DEAL_ENTRY_OUT_BY)
         vout += HistoryDealGetDouble(d, DEAL_VOLUME);
     }
   return vin > 0 ? vin - vout : -1;
  }

// A position whose volume dropped (or which vanished) before the history
// shows the closing deal is reported as it was, up to InpHistoryWaitS: zepix
// books the close from the deal, not from a guess at the last quote.
bool HeldByLag(ulong ticket)
  {
   int k = -1;
   for(int i = 0; i < ArraySize(g_lag_ticket); i++)
      if(g_lag_ticket[i] == ticket)
         k = i;
   if(k < 0)
     {
      k = ArraySize(g_lag_ticket);
      ArrayResize(g_lag_ticket, k + 1);
      ArrayResize(g_lag_since, k + 1);
      g_lag_ticket[k] = ticket;
      g_lag_since[k] = (long)TimeLocal();
     }
   return (long)TimeLocal() - g_lag_since[k] < InpHistoryWaitS;
  }

void LagClear(ulong ticket)
  {
   for(int i = ArraySize(g_lag_ticket) - 1; i >= 0; i--)
      if(g_lag_ticket[i] == ticket)
        {
         ArrayRemove(g_lag_ticket, i, 1);
         ArrayRemove(g_lag_since, i, 1);
        }
  }

string LastJson(ulong ticket)
  {
   string t = IntegerToString((long)ticket);
   for(int i = 0; i < ArraySize(g_last_ticket); i++)
      if(g_last_ticket[i] == t)
         return g_last_json[i];
   return "";
  }

string PositionsJson()
  {
   string out = "";
   string tickets[];
   string jsons[];
   ulong open[];
   for(int i = PositionsTotal() - 1; i >= 0; i--)
     {
      ulong ticket = PositionGetTicket(i);          // selects the position
      if(ticket == 0 || !IsOurMagic(PositionGetInteger(POSITION_MAGIC)))
         continue;
      AddTo(g_ours, ticket, 100000);
      AddTo(open, ticket, 100000);
      bool buy = PositionGetInteger(POSITION_TYPE) == POSITION_TYPE_BUY;
      string sym = PositionGetString(POSITION_SYMBOL), comment = PositionGetString(POSITION_COMMENT);
      double vol = PositionGetDouble(POSITION_VOLUME), po = PositionGetDouble(POSITION_PRICE_OPEN),
             sl = PositionGetDouble(POSITION_SL), tp = PositionGetDouble(POSITION_TP),
             profit = PositionGetDouble(POSITION_PROFIT) + PositionGetDouble(POSITION_SWAP);
      long magic = PositionGetInteger(POSITION_MAGIC);
      string j = StringFormat("{\"ticket\":%I64u,\"symbol\":\"%s\",\"type\":\"%s\",\"volume\":%s,\"price_open\":%s,"
                              "\"sl\":%s,\"tp\":%s,\"profit\":%s,\"magic\":%I64d,\"comment\":\"%s\"}",
                              ticket, Esc(ToZepix(sym)), buy ? "buy" : "sell", Num(vol), Num(po), Num(sl), Num(tp),
                              Num(profit), magic, Esc(comment));
      double explained = ExplainedVolume(ticket);
      if(explained > vol + 1e-8 && LastJson(ticket) != "" && HeldByLag(ticket))
         j = LastJson(ticket);                       // a close the history has not shown yet
      else
         LagClear(ticket);
      PushString(tickets, IntegerToString((long)ticket));
      PushString(jsons, j);
      out += (out == "" ? "" : ",") + j;
     }
   // Reported last time, gone now, its closing deal not in the history yet.
   for(int i = 0; i < ArraySize(g_last_ticket); i++)
     {
      ulong ticket = (ulong)StringToInteger(g_last_ticket[i]);
      if(InList(open, ticket))
         continue;
      double explained = ExplainedVolume(ticket);      // -1: not even its entry is in the history yet
      if((explained < 0 || explained > 1e-8) && HeldByLag(ticket))
        {
         PushString(tickets, g_last_ticket[i]);
         PushString(jsons, g_last_json[i]);
         out += (out == "" ? "" : ",") + g_last_json[i];
        }
      else
         LagClear(ticket);
     }
   ArrayResize(g_last_ticket, 0);
   ArrayResize(g_last_json, 0);
   for(int i = 0; i < ArraySize(tickets); i++)
     {
      PushString(g_last_ticket, tickets[i]);
      PushString(g_last_json, jsons[i]);
     }
   return "[" + out + "]";
  }

// A closing deal that one of our close requests made: its result reports it.
bool OwnCloseDeal(ulong deal, ulong position, string comment)
  {
   for(int i = 0; i < ArraySize(g_rq); i++)
     {
      if(g_rq[i].op != "close")
         continue;
      if(g_rq[i].deal == deal)
         return true;
      if(g_rq[i].state == ST_SENT && g_rq[i].ticket == position && g_rq[i].key == comment)
         return true;
     }
   return false;
  }

// Queue every closing deal of our positions not reported yet: found by
// DEAL_POSITION_ID, so closes by hand, by SL/TP, by stop-out and by this EA
// after a restart are all seen.
void ScanClosedDeals()
  {
   datetime now = TimeCurrent();
   datetime from = g_history_from > 0 ? g_history_from - 3600 : now - 86400;
   if(!HistorySelect(from, now + 3600))
      return;
   ZxDeal found[];
   for(int i = 0; i < HistoryDealsTotal(); i++)
     {
      ulong deal = HistoryDealGetTicket(i);
      if(deal == 0 || InList(g_seen, deal))
         continue;
      long entry = HistoryDealGetInteger(deal, DEAL_ENTRY);
      if(entry != DEAL_ENTRY_OUT && entry != DEAL_ENTRY_OUT_BY)
         continue;
      ulong pos = (ulong)HistoryDealGetInteger(deal, DEAL_POSITION_ID);
      if(!InList(g_ours, pos) || OwnCloseDeal(deal, pos, HistoryDealGetString(deal, DEAL_COMMENT)))
         continue;
      int n = ArraySize(found);
      ArrayResize(found, n + 1);
      found[n].deal = deal;
      found[n].position = (long)pos;
      found[n].time = HistoryDealGetInteger(deal, DEAL_TIME);
      found[n].reason = HistoryDealGetInteger(deal, DEAL_REASON);
      found[n].price = HistoryDealGetDouble(deal, DEAL_PRICE);
      found[n].volume = HistoryDealGetDouble(deal, DEAL_VOLUME);
      found[n].money = HistoryDealGetDouble(deal, DEAL_PROFIT) + HistoryDealGetDouble(deal, DEAL_SWAP) +
                       HistoryDealGetDouble(deal, DEAL_COMMISSION) + HistoryDealGetDouble(deal, DEAL_FEE);
     }
   for(int i = 0; i < ArraySize(found); i++)          // EntryCosts changes the selection
     {
      double money = found[i].money + EntryCosts(found[i].position, found[i].volume);
      long r = found[i].reason;
      string why = r == DEAL_REASON_SL ? "sl" : r == DEAL_REASON_TP ? "tp" : r == DEAL_REASON_SO ? "stop_out" :
                   r == DEAL_REASON_EXPERT ? "expert" : "terminal";
      PushString(g_pending_closed, StringFormat("{\"ticket\":%I64d,\"deal\":%I64u,\"price_close\":%s,\"profit\":%s,"
                                                "\"volume\":%s,\"time\":%I64d,\"reason\":\"%s\"}",
                                                found[i].position, found[i].deal, Num(found[i].price), Num(money),
                                                Num(found[i].volume), ToUtc((datetime)found[i].time), why));
      int n = ArraySize(g_pending_closed_deal);
      ArrayResize(g_pending_closed_deal, n + 1);
      g_pending_closed_deal[n] = found[i].deal;
     }
   g_history_from = now;
  }

string JoinArray(string &arr[])
  {
   string out = "";
   for(int i = 0; i < ArraySize(arr); i++)
      out += (i ? "," : "") + arr[i];
   return "[" + out + "]";
  }

//--- one poll ---------------------------------------------------------
// Run the requests of an answer; each request_id once. Returns how many ran.
int RunRequests(string answer)
  {
   string db = JsonGet(answer, "db");
   if(db == "")
     {
      Print("zepix: the answer has no database id (db): zepix is too old for this EA");
      return 0;
     }
   if(db != g_db)
     {
      if(g_db != "")
         PrintFormat("zepix: zepix's database changed (%s -> %s): the requests and results of the old one are dropped",
                     g_db, db);
      g_db = db;
      g_dirty = true;
      ArrayResize(g_rq, 0);
      ArrayResize(g_pending_closed, 0);
      ArrayResize(g_pending_closed_deal, 0);
     }
   long login = StringToInteger(JsonGet(answer, "login")), base = StringToInteger(JsonGet(answer, "magic_base")),
        span = StringToInteger(JsonGet(answer, "magic_span"));
   if(login != g_login || base != g_magic_base || span != g_magic_span)
      g_dirty = true;
   g_login = login;
   g_magic_base = base;
   g_magic_span = span;
   if(!Trusted())
     {
      if(g_dirty)
         SaveState();
      return 0;                   // not connected, or another account: nothing runs
     }
   bool restarting = (long)TimeLocal() - g_started < InpRestartGraceS;
   int ran = 0, p = StringFind(answer, "\"requests\":[");
   while(p >= 0)
     {
      int b = StringFind(answer, "{", p);
      if(b < 0)
         break;
      int e = StringFind(answer, "}", b);
      if(e < 0)
         break;
      string rq = StringSubstr(answer, b, e - b + 1);
      p = e + 1;
      long id = StringToInteger(JsonGet(rq, "request_id"));
      if(id <= 0)
         continue;
      int i = FindEntry(id);
      if(i >= 0 && g_rq[i].state != ST_SENT)
         continue;                  // resent until our result arrives: already run
      if(i >= 0)
        {
         if(restarting || !Resolve(i, rq))
            break;                  // later requests wait: they may depend on this one
         ran++;
         continue;
        }
      i = ArraySize(g_rq);
      ArrayResize(g_rq, i + 1);
      g_rq[i].id = id;
      g_rq[i].op = JsonGet(rq, "op");
      g_rq[i].magic = StringToInteger(JsonGet(rq, "magic"));
      g_rq[i].ticket = (ulong)StringToInteger(JsonGet(rq, "ticket"));
      g_rq[i].deal = 0;
      g_rq[i].vol_before = 0;
      g_rq[i].price = 0;
      g_rq[i].volume = 0;
      g_rq[i].sent = 0;
      g_rq[i].wait_from = 0;
      g_rq[i].key = StringSubstr(JsonGet(rq, "comment"), 0, 31);     // MT5 keeps 31 characters
      g_rq[i].symbol = ToTerminal(JsonGet(rq, "symbol"));
      g_rq[i].result = "";
      g_rq[i].state = 0;
      Run(i, rq);
      ran++;
      SaveState();
     }
   if(g_dirty)
      SaveState();
   return ran;
  }

// Returns the number of requests run, or -1 when the poll failed.
int Poll()
  {
   FinishWaiting();
   bool trusted = Trusted();
   if(trusted)
      ScanClosedDeals();
   string results = "";
   long carried[];
   for(int i = 0; i < ArraySize(g_rq); i++)
      if(g_rq[i].state == ST_READY)
        {
         results += (results == "" ? "" : ",") + g_rq[i].result;
         int n = ArraySize(carried);
         ArrayResize(carried, n + 1);
         carried[n] = g_rq[i].id;
        }
   int nclosed = ArraySize(g_pending_closed);
   string body = "{\"secret\":\"" + Esc(InpSecret) + "\",\"db\":\"" + Esc(g_db) + "\",\"account\":" + AccountJson() +
                 ",\"quotes\":" + QuotesJson();
   // No positions when they cannot be trusted: zepix then closes nothing.
   if(trusted)
      body += ",\"positions\":" + PositionsJson() + ",\"orders\":" + OrdersJson();
   body += ",\"closed\":" + JoinArray(g_pending_closed) + ",\"results\":[" + results + "]}";
   char data[];
   char result[];
   string headers;
   int len = StringToCharArray(body, data, 0, WHOLE_ARRAY, CP_UTF8);
   ArrayResize(data, len > 0 ? len - 1 : 0);       // without the terminating NUL
   ResetLastError();
   int status = WebRequest("POST", InpUrl, "Content-Type: application/json\r\n", InpTimeoutMs, data, result, headers);
   if(status == -1)
     {
      int err = GetLastError();
      if(err == 4014)
         PrintFormat("zepix: WebRequest is not allowed for %s: add it in Tools > Options > Expert Advisors", InpUrl);
      else
         PrintFormat("zepix: WebRequest failed, error %d (is zepix running at %s?)", err, InpUrl);
      return -1;
     }
   string answer = CharArrayToString(result, 0, WHOLE_ARRAY, CP_UTF8);
   if(status != 200)
     {
      PrintFormat("zepix: poll answered %d: %s", status, answer);
      Comment("zepix: " + answer);
      return -1;
     }
   Comment("");
   // Delivered: what this poll carried (newer entries stay).
   for(int k = 0; k < ArraySize(carried); k++)
     {
      int i = FindEntry(carried[k]);
      if(i >= 0)
         g_rq[i].state = ST_DONE;
     }
   for(int k = 0; k < nclosed; k++)
      AddTo(g_seen, g_pending_closed_deal[k], 5000);
   if(nclosed > 0 || ArraySize(carried) > 0)
      g_dirty = true;
   ArrayRemove(g_pending_closed, 0, nclosed);
   ArrayRemove(g_pending_closed_deal, 0, nclosed);
   return RunRequests(answer);
  }

//--- the EA's events --------------------------------------------------
int OnInit()
  {
   if(InpSecret == "")
     {
      Print("zepix: set InpSecret (broker.mt5.secret)");
      return INIT_PARAMETERS_INCORRECT;
     }
   // Netting merges every order on a symbol into one position: zepix's trades
   // could not be told apart, and partial closes would close other plugins' lots.
   if(AccountInfoInteger(ACCOUNT_MARGIN_MODE) != ACCOUNT_MARGIN_MODE_RETAIL_HEDGING)
     {
      Print("zepix: this account is not a hedging account (ACCOUNT_MARGIN_MODE): zepix needs one position per order."
            " Open a hedging account with your broker; the EA does not run on netting or exchange accounts.");
      return INIT_FAILED;
     }
   g_backoff = 0;
   EventSetMillisecondTimer(MathMax(InpPollMs, 50));
   return INIT_SUCCEEDED;
  }

void OnDeinit(const int reason)
  {
   EventKillTimer();
   if(g_loaded)
      SaveState();
  }

void OnTimer()
  {
   if(!TerminalInfoInteger(TERMINAL_TRADE_ALLOWED) || !MQLInfoInteger(MQL_TRADE_ALLOWED))
     {
      Comment("zepix: AutoTrading is off");
      return;
     }
   if(!g_loaded)
     {
      long login = AccountInfoInteger(ACCOUNT_LOGIN);
      if(login == 0)
         return;                    // not logged in yet: the state file is per account
      g_file = InpStateFile != "" ? InpStateFile : StringFormat("zepix_bridge_%I64d.txt", login);
      if(!LoadState())
         return;
      g_loaded = true;
      PrintFormat("zepix: state in the common folder, %s (%d request(s) remembered)", g_file, ArraySize(g_rq));
     }
   if(g_started == 0 && Connected())
      g_started = (long)TimeLocal();
   if(!Connected())
      g_started = 0;
   // Poll again at once while requests run: their results go in the next poll.
   // The held poll (broker.mt5.poll_hold_ms) keeps this loop from spinning.
   EventKillTimer();
   int rc = 0;
   for(int i = 0; i < 50 && !IsStopped(); i++)
     {
      rc = Poll();
      if(rc <= 0)
         break;
     }
   // zepix unreachable: back off, doubling up to InpMaxBackoffMs.
   g_backoff = rc < 0 ? (int)MathMin(MathMax(g_backoff * 2, InpPollMs), InpMaxBackoffMs) : 0;
   EventSetMillisecondTimer(MathMax(rc < 0 ? g_backoff : InpPollMs, 50));
  }
