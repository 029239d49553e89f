//+------------------------------------------------------------------+
//| ZepixBridge.mq5 — the MetaTrader 5 side of zepix's mt5 broker.   |
//|                                                                  |
//| MQL5 cannot accept connections, so this Expert Advisor long-polls |
//| zepix: POST <InpUrl> (…/mt5/poll) with the account, quotes, open  |
//| positions, closed deals and the results of the requests it ran;   |
//| the answer carries the requests to run (open, close, modify).     |
//| Protocol: SPEC section 10 and docs/commands.md of zepix.          |
//|                                                                  |
//| Written against the MQL5 reference (WebRequest, CTrade,           |
//| PositionSelectByTicket, HistoryDealSelect) but NOT compiled here: |
//| compile it in MetaEditor and try it on a demo account first.      |
//+------------------------------------------------------------------+
#property copyright "zepix"
#property version   "1.00"
#property strict

#include <Trade\Trade.mqh>

input string InpUrl          = "https://zepix.example.com/mt5/poll"; // zepix poll URL (allow it in Tools > Options > Expert Advisors)
input string InpSecret       = "";          // broker.mt5.secret of zepix
input long   InpMagicBase    = 7700000;     // zepix's magics are InpMagicBase .. InpMagicBase+99999
input int    InpPollMs       = 200;         // pause between polls when nothing happened
input int    InpTimeoutMs    = 5000;        // WebRequest timeout; above broker.mt5.poll_hold_ms
input string InpSymbols      = "EURUSD";    // quotes to report, comma-separated (plus every open position's)
input string InpSymbolSuffix = "";          // broker suffix, e.g. ".m": added to orders, removed in reports

CTrade   g_trade;
long     g_done_ids[];          // requests already executed (dedupe by request_id)
string   g_pending_results[];   // results not yet delivered by a successful poll
string   g_pending_closed[];    // closed deals not yet delivered
ulong    g_seen_deals[];        // closing deals already queued for reporting
datetime g_history_from;

//--- small helpers -------------------------------------------------
string Num(double v) { return DoubleToString(v, 8); }

string Esc(string s)
  {
   StringReplace(s, "\\", "\\\\");
   StringReplace(s, "\"", "\\\"");
   return s;
  }

string Plain(string sym)            // the symbol as zepix names it
  {
   int n = StringLen(InpSymbolSuffix);
   if(n > 0 && StringLen(sym) > n && StringSubstr(sym, StringLen(sym) - n) == InpSymbolSuffix)
      return StringSubstr(sym, 0, StringLen(sym) - n);
   return sym;
  }

bool IsOurs(long magic) { return magic >= InpMagicBase && magic < InpMagicBase + 100000; }

void PushString(string &arr[], string v)
  {
   int n = ArraySize(arr);
   ArrayResize(arr, n + 1);
   arr[n] = v;
  }

bool Done(long id)
  {
   for(int i = ArraySize(g_done_ids) - 1; i >= 0; i--)
      if(g_done_ids[i] == id)
         return true;
   return false;
  }

bool SeenDeal(ulong deal)
  {
   for(int i = ArraySize(g_seen_deals) - 1; i >= 0; i--)
      if(g_seen_deals[i] == deal)
         return true;
   return false;
  }

//--- a minimal reader for zepix's flat request objects --------------
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
      if(c == ',' || c == '}')
         break;
      e++;
     }
   return StringSubstr(obj, p, e - p);
  }

//--- what a poll reports --------------------------------------------
string AccountJson()
  {
   return StringFormat("{\"login\":%I64d,\"balance\":%s,\"equity\":%s,\"currency\":\"%s\"}",
                       AccountInfoInteger(ACCOUNT_LOGIN), Num(AccountInfoDouble(ACCOUNT_BALANCE)),
                       Num(AccountInfoDouble(ACCOUNT_EQUITY)), Esc(AccountInfoString(ACCOUNT_CURRENCY)));
  }

string QuoteJson(string sym)
  {
   MqlTick t;
   if(!SymbolInfoTick(sym, t) || t.bid <= 0)
      return "";
   return StringFormat("{\"symbol\":\"%s\",\"bid\":%s,\"ask\":%s}", Esc(Plain(sym)), Num(t.bid), Num(t.ask));
  }

string QuotesJson()
  {
   string out = "", parts[], done = ",";
   int n = StringSplit(InpSymbols, ',', parts);
   for(int i = 0; i < n; i++)
     {
      string sym = parts[i];
      StringTrimLeft(sym);
      StringTrimRight(sym);
      if(sym == "")
         continue;
      sym += InpSymbolSuffix;
      string q = QuoteJson(sym);
      if(q != "" && StringFind(done, "," + sym + ",") < 0)
        {
         out += (out == "" ? "" : ",") + q;
         done += sym + ",";
        }
     }
   for(int i = PositionsTotal() - 1; i >= 0; i--)
     {
      if(PositionGetTicket(i) == 0 || !IsOurs(PositionGetInteger(POSITION_MAGIC)))
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

string PositionsJson()
  {
   string out = "";
   for(int i = PositionsTotal() - 1; i >= 0; i--)
     {
      ulong ticket = PositionGetTicket(i);          // selects the position
      if(ticket == 0 || !IsOurs(PositionGetInteger(POSITION_MAGIC)))
         continue;
      bool buy = PositionGetInteger(POSITION_TYPE) == POSITION_TYPE_BUY;
      out += (out == "" ? "" : ",") +
             StringFormat("{\"ticket\":%I64u,\"symbol\":\"%s\",\"type\":\"%s\",\"volume\":%s,\"price_open\":%s,"
                          "\"sl\":%s,\"tp\":%s,\"profit\":%s,\"magic\":%I64d,\"comment\":\"%s\"}",
                          ticket, Esc(Plain(PositionGetString(POSITION_SYMBOL))), buy ? "buy" : "sell",
                          Num(PositionGetDouble(POSITION_VOLUME)), Num(PositionGetDouble(POSITION_PRICE_OPEN)),
                          Num(PositionGetDouble(POSITION_SL)), Num(PositionGetDouble(POSITION_TP)),
                          Num(PositionGetDouble(POSITION_PROFIT) + PositionGetDouble(POSITION_SWAP)),
                          PositionGetInteger(POSITION_MAGIC), Esc(PositionGetString(POSITION_COMMENT)));
     }
   return "[" + out + "]";
  }

// Times go to zepix in UTC seconds; deal times are the trade server's.
long ToUtc(datetime server_time) { return (long)server_time - (long)(TimeTradeServer() - TimeGMT()); }

string DealJson(ulong deal)          // a closing deal, already selected by HistoryDealSelect
  {
   long reason = HistoryDealGetInteger(deal, DEAL_REASON);
   string why = reason == DEAL_REASON_SL ? "sl" : reason == DEAL_REASON_TP ? "tp" :
                reason == DEAL_REASON_SO ? "stop_out" : reason == DEAL_REASON_EXPERT ? "expert" : "terminal";
   double money = HistoryDealGetDouble(deal, DEAL_PROFIT) + HistoryDealGetDouble(deal, DEAL_COMMISSION) +
                  HistoryDealGetDouble(deal, DEAL_SWAP);
   return StringFormat("{\"ticket\":%I64d,\"deal\":%I64u,\"price_close\":%s,\"profit\":%s,\"volume\":%s,"
                       "\"time\":%I64d,\"reason\":\"%s\"}",
                       HistoryDealGetInteger(deal, DEAL_POSITION_ID), deal, Num(HistoryDealGetDouble(deal, DEAL_PRICE)),
                       Num(money), Num(HistoryDealGetDouble(deal, DEAL_VOLUME)),
                       ToUtc((datetime)HistoryDealGetInteger(deal, DEAL_TIME)), why);
  }

// Queue every closing deal of ours since the last scan (each once).
void ScanClosedDeals()
  {
   datetime now = TimeCurrent();
   if(!HistorySelect(g_history_from - 60, now + 60))
      return;
   for(int i = 0; i < HistoryDealsTotal(); i++)
     {
      ulong deal = HistoryDealGetTicket(i);
      if(deal == 0 || SeenDeal(deal))
         continue;
      long entry = HistoryDealGetInteger(deal, DEAL_ENTRY);
      if((entry != DEAL_ENTRY_OUT && entry != DEAL_ENTRY_OUT_BY) || !IsOurs(HistoryDealGetInteger(deal, DEAL_MAGIC)))
         continue;
      int n = ArraySize(g_seen_deals);
      ArrayResize(g_seen_deals, n + 1);
      g_seen_deals[n] = deal;
      PushString(g_pending_closed, DealJson(deal));
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

//--- running one request --------------------------------------------
string ResultJson(long id, bool ok, ulong ticket, double price, double volume, string error,
                  double profit = 0, ulong deal = 0)
  {
   return StringFormat("{\"request_id\":%I64d,\"ok\":%s,\"ticket\":%I64u,\"price\":%s,\"volume\":%s,"
                       "\"profit\":%s,\"deal\":%I64u,\"error\":\"%s\"}",
                       id, ok ? "true" : "false", ticket, Num(price), Num(volume), Num(profit), deal, Esc(error));
  }

string TradeError()
  {
   return StringFormat("%u %s", g_trade.ResultRetcode(), g_trade.ResultRetcodeDescription());
  }

bool TradeOk()
  {
   uint rc = g_trade.ResultRetcode();
   return rc == TRADE_RETCODE_DONE || rc == TRADE_RETCODE_DONE_PARTIAL || rc == TRADE_RETCODE_PLACED;
  }

// An open whose position already exists (the EA restarted after running it).
ulong FindByComment(string comment)
  {
   for(int i = PositionsTotal() - 1; i >= 0; i--)
     {
      ulong t = PositionGetTicket(i);
      if(t != 0 && PositionGetString(POSITION_COMMENT) == comment)
         return t;
     }
   return 0;
  }

string RunOpen(long id, string rq)
  {
   string sym = JsonGet(rq, "symbol") + InpSymbolSuffix, comment = JsonGet(rq, "comment");
   double vol = StringToDouble(JsonGet(rq, "volume")), sl = StringToDouble(JsonGet(rq, "sl")),
          tp = StringToDouble(JsonGet(rq, "tp"));
   ulong have = FindByComment(comment);
   if(have != 0 && PositionSelectByTicket(have))
      return ResultJson(id, true, have, PositionGetDouble(POSITION_PRICE_OPEN), PositionGetDouble(POSITION_VOLUME), "");
   if(!SymbolSelect(sym, true))
      return ResultJson(id, false, 0, 0, 0, "unknown symbol " + sym);
   g_trade.SetExpertMagicNumber((ulong)StringToInteger(JsonGet(rq, "magic")));
   g_trade.SetTypeFillingBySymbol(sym);
   bool sent = JsonGet(rq, "side") == "sell" ? g_trade.Sell(vol, sym, 0, sl, tp, comment)
                                              : g_trade.Buy(vol, sym, 0, sl, tp, comment);
   if(!sent || !TradeOk())
      return ResultJson(id, false, 0, 0, 0, TradeError());
   ulong deal = g_trade.ResultDeal();
   if(deal != 0 && HistoryDealSelect(deal))
      return ResultJson(id, true, (ulong)HistoryDealGetInteger(deal, DEAL_POSITION_ID),
                        HistoryDealGetDouble(deal, DEAL_PRICE), HistoryDealGetDouble(deal, DEAL_VOLUME), "");
   // No deal yet (rare): the order ticket is the position ticket on MT5.
   return ResultJson(id, true, g_trade.ResultOrder(), g_trade.ResultPrice(), g_trade.ResultVolume(), "");
  }

string RunClose(long id, string rq)
  {
   ulong ticket = (ulong)StringToInteger(JsonGet(rq, "ticket"));
   double vol = StringToDouble(JsonGet(rq, "volume"));
   if(!PositionSelectByTicket(ticket))
      return ResultJson(id, false, ticket, 0, 0, "position not found");
   bool all = vol <= 0 || vol >= PositionGetDouble(POSITION_VOLUME) - 1e-8;
   bool sent = all ? g_trade.PositionClose(ticket) : g_trade.PositionClosePartial(ticket, vol);
   if(!sent || !TradeOk())
      return ResultJson(id, false, ticket, 0, 0, TradeError());
   ulong deal = g_trade.ResultDeal();
   if(deal != 0 && HistoryDealSelect(deal))
     {
      if(!SeenDeal(deal))            // reported here; do not queue it again as closed
        {
         int n = ArraySize(g_seen_deals);
         ArrayResize(g_seen_deals, n + 1);
         g_seen_deals[n] = deal;
        }
      double money = HistoryDealGetDouble(deal, DEAL_PROFIT) + HistoryDealGetDouble(deal, DEAL_COMMISSION) +
                     HistoryDealGetDouble(deal, DEAL_SWAP);
      return ResultJson(id, true, ticket, HistoryDealGetDouble(deal, DEAL_PRICE),
                        HistoryDealGetDouble(deal, DEAL_VOLUME), "", money, deal);
     }
   return ResultJson(id, true, ticket, g_trade.ResultPrice(), g_trade.ResultVolume(), "");
  }

string RunModify(long id, string rq)
  {
   ulong ticket = (ulong)StringToInteger(JsonGet(rq, "ticket"));
   if(!PositionSelectByTicket(ticket))
      return ResultJson(id, false, ticket, 0, 0, "position not found");
   if(!g_trade.PositionModify(ticket, StringToDouble(JsonGet(rq, "sl")), StringToDouble(JsonGet(rq, "tp"))) ||
      !TradeOk())
      return ResultJson(id, false, ticket, 0, 0, TradeError());
   return ResultJson(id, true, ticket, 0, 0, "");
  }

// Run the requests of an answer; each request_id once. Returns how many ran.
int RunRequests(string answer)
  {
   int ran = 0, p = StringFind(answer, "[");
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
      if(id <= 0 || Done(id))
         continue;                   // resent until our result arrives: already run
      string op = JsonGet(rq, "op"), res;
      if(op == "open")
         res = RunOpen(id, rq);
      else if(op == "close")
         res = RunClose(id, rq);
      else if(op == "modify")
         res = RunModify(id, rq);
      else
         res = ResultJson(id, false, 0, 0, 0, "unknown op " + op);
      int n = ArraySize(g_done_ids);
      ArrayResize(g_done_ids, n + 1);
      g_done_ids[n] = id;
      PushString(g_pending_results, res);
      ran++;
     }
   return ran;
  }

//--- one poll ---------------------------------------------------------
// Returns the number of requests run, or -1 when the poll failed.
int Poll()
  {
   ScanClosedDeals();
   int nres = ArraySize(g_pending_results), nclosed = ArraySize(g_pending_closed);
   string body = "{\"secret\":\"" + Esc(InpSecret) + "\",\"account\":" + AccountJson() +
                 ",\"quotes\":" + QuotesJson() + ",\"positions\":" + PositionsJson() +
                 ",\"closed\":" + JoinArray(g_pending_closed) + ",\"results\":" + JoinArray(g_pending_results) + "}";
   char data[], result[];
   string headers;
   int len = StringToCharArray(body, data, 0, WHOLE_ARRAY, CP_UTF8);
   ArrayResize(data, len > 0 ? len - 1 : 0);       // without the terminating NUL
   ResetLastError();
   int status = WebRequest("POST", InpUrl, "Content-Type: application/json\r\n", InpTimeoutMs, data, result, headers);
   if(status == -1)
     {
      PrintFormat("zepix: WebRequest failed, error %d (is %s in the allowed URLs?)", GetLastError(), InpUrl);
      return -1;
     }
   if(status != 200)
     {
      PrintFormat("zepix: poll answered %d: %s", status, CharArrayToString(result, 0, WHOLE_ARRAY, CP_UTF8));
      return -1;
     }
   // Delivered: drop what this poll carried (newer entries stay).
   ArrayRemove(g_pending_results, 0, nres);
   ArrayRemove(g_pending_closed, 0, nclosed);
   if(ArraySize(g_done_ids) > 5000)
      ArrayRemove(g_done_ids, 0, 1000);
   if(ArraySize(g_seen_deals) > 5000)
      ArrayRemove(g_seen_deals, 0, 1000);
   return RunRequests(CharArrayToString(result, 0, WHOLE_ARRAY, CP_UTF8));
  }

//--- the EA's events --------------------------------------------------
int OnInit()
  {
   if(InpSecret == "")
     {
      Print("zepix: set InpSecret (broker.mt5.secret)");
      return INIT_PARAMETERS_INCORRECT;
     }
   g_trade.SetDeviationInPoints(20);
   g_history_from = TimeCurrent() - 86400;
   EventSetMillisecondTimer(MathMax(InpPollMs, 50));
   return INIT_SUCCEEDED;
  }

void OnDeinit(const int reason) { EventKillTimer(); }

void OnTimer()
  {
   if(!TerminalInfoInteger(TERMINAL_TRADE_ALLOWED) || !MQLInfoInteger(MQL_TRADE_ALLOWED))
     {
      Comment("zepix: AutoTrading is off");
      return;
     }
   Comment("");
   // Poll again at once while requests run: their results go in the next poll.
   // The held poll (broker.mt5.poll_hold_ms) keeps this loop from spinning.
   EventKillTimer();
   for(int i = 0; i < 50 && !IsStopped(); i++)
      if(Poll() <= 0)
         break;
   EventSetMillisecondTimer(MathMax(InpPollMs, 50));
  }
