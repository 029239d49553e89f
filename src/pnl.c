/*
 * pnl — profit arithmetic (see pnl.h): pips and money of a trade, the value of
 * a pip, and the factor that turns quote-currency money into account money
 * (USD). Pure functions: no state, no I/O, never blocks; the only outside call
 * is the caller's quote lookup.
 *
 * Degenerate input never crashes: a NULL or non-positive pip size gives 0 pips,
 * a side other than ZX_BUY/ZX_SELL gives 0, and a symbol whose quote currency
 * cannot be read (indices such as "US30", "NAS100") converts with factor 1,
 * reported as approximate.
 */
#include "pnl.h"

#include <math.h>
#include <string.h>

static int is_letter(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static char upper(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

/* Copy three letters at p into cur (upper-cased, NUL-terminated); 0, or -1 when
 * one of them is not a letter. */
static int currency_at(const char *p, char cur[4])
{
    for (int i = 0; i < 3; i++) {
        if (!is_letter(p[i]))
            return -1;
        cur[i] = upper(p[i]);
    }
    cur[3] = '\0';
    return 0;
}

/* Ask q for a usable mid (finite, > 0) of pair a+b. */
static int lookup_mid(pnl_quote_fn q, void *ud, const char *a, const char *b, double *mid)
{
    char pair[8];
    memcpy(pair, a, 3);
    memcpy(pair + 3, b, 3);
    pair[6] = '\0';
    double m = 0;
    if (!q || q(ud, pair, &m) != 0 || !isfinite(m) || m <= 0)
        return -1;
    *mid = m;
    return 0;
}

int pnl_conversion(const char *symbol, double price, pnl_quote_fn q, void *ud, double *factor)
{
    double f = 1;
    int rc = 1;
    char quote[4], base[4];
    size_t n = symbol ? strlen(symbol) : 0;
    int have_base = 0;

    /* The quote currency: letters 3..5 of a pair ("EURUSD", "EURUSD.m"), else the
     * last three characters when they are letters, else unknown. */
    if (n >= 6 && currency_at(symbol + 3, quote) == 0)
        have_base = currency_at(symbol, base) == 0;
    else if (n < 3 || currency_at(symbol + n - 3, quote) != 0)
        goto out;
    else
        have_base = n >= 6 && currency_at(symbol, base) == 0;

    double mid;
    if (strcmp(quote, "USD") == 0) {
        f = 1;
        rc = 0;
    } else if (have_base && strcmp(base, "USD") == 0 && isfinite(price) && price > 0) {
        f = 1 / price;          /* USDJPY: JPY money / (JPY per USD) */
        rc = 0;
    } else if (lookup_mid(q, ud, quote, "USD", &mid) == 0) {
        f = mid;                /* GBPUSD: USD per GBP */
        rc = 0;
    } else if (lookup_mid(q, ud, "USD", quote, &mid) == 0) {
        f = 1 / mid;            /* USDCHF: CHF per USD */
        rc = 0;
    }
out:
    if (factor)
        *factor = f;
    return rc;
}

/* +1 for a buy, -1 for a sell, 0 for anything else. */
static double side_sign(zx_action side)
{
    return side == ZX_BUY ? 1 : side == ZX_SELL ? -1 : 0;
}

double pnl_pips(const struct cfg_symbol *s, zx_action side, double entry, double exit)
{
    if (!s || !(s->pip_size > 0))
        return 0;
    return side_sign(side) * (exit - entry) / s->pip_size;
}

double pnl_money(const struct cfg_symbol *s, zx_action side, double entry, double exit, double lot,
                 double factor)
{
    if (!s)
        return 0;
    return side_sign(side) * (exit - entry) * lot * s->contract_size * factor;
}

double pnl_pip_value(const struct cfg_symbol *s, double factor)
{
    if (!s)
        return 0;
    return s->pip_size * s->contract_size * factor;
}
