/*
 * main — the command line (SPEC section 3). Exit status: 0 clean exit,
 * 1 runtime failure, 2 usage or configuration error.
 */
#include "app.h"
#include "config.h"
#include "export.h"
#include "log.h"
#include "registry.h"
#include "report.h"
#include "sbuf.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: zepix [-c FILE] [--check-config] [--list-plugins] [--version] [--help]\n"
            "       zepix [-c FILE] --export ID [--period today|week|month|all]\n"
            "  -c, --config FILE   configuration file (default config/zepix.json)\n"
            "  --check-config      validate the configuration and plugins, print what would run\n"
            "  --list-plugins      print each discovered plugin and its state\n"
            "  --export ID         write the plugin's trades of the period (default today) as CSV\n"
            "                      to stdout; reads its database only, also while the daemon runs\n"
            "  --version           print the version\n"
            "  --help              this text\n"
            "exit status: 0 ok, 1 runtime failure, 2 usage or configuration error\n");
}

static void print_summary(const struct config *c)
{
    printf("config %s: ok\n", c->path);
    printf("  webhook      http://%s%s (max body %zu bytes, %s)\n", c->webhook.listen, c->webhook.path,
           c->webhook.max_body_bytes, c->webhook.secret[0] ? "secret set" : "NO SECRET, loopback only");
    printf("  telegram     %s, %zu admin chat(s)\n", c->telegram.token[0] ? "on" : "off",
           c->telegram.n_admins);
    printf("  console      %s\n", c->console.enabled ? "on" : "off");
    printf("  broker       %s\n", c->broker.kind);
    printf("  plugins      %s (data in %s)\n", c->plugin_system.plugin_dir, c->plugin_system.data_dir);
    printf("  daily reset  %s %s\n", c->daily_reset.time, c->daily_reset.timezone);
}

/* zepix --export ID --period P: the CSV of /export on stdout. */
static int export_csv(const char *path, const char *id, const char *period)
{
    char err[1024], word[64];
    struct config cfg;
    enum rpt_period per;
    int64_t from, to;
    sqlite3 *db = NULL;
    struct sbuf out;
    int code = 1;
    if (!cfg_valid_plugin_id(id)) {
        fprintf(stderr, "zepix: --export: \"%s\" is not a plugin id ([a-z0-9_], 1..63 characters)\n", id);
        return 2;
    }
    /* The period alone through the /stats parser: a word it takes as an id is no period. */
    if (rpt_parse_args(period, word, sizeof word, &per, err, sizeof err) || word[0] || !period[0]) {
        fprintf(stderr, "zepix: --period: expected today, week, month or all, got \"%s\"\n", period);
        return 2;
    }
    if (cfg_load(path, &cfg, err, sizeof err)) {
        fprintf(stderr, "zepix: %s\n", err);
        return 2;
    }
    sbuf_init(&out);
    if (rpt_period_range(&cfg, per, app_now_ms(), &from, &to, word, sizeof word)) {
        fprintf(stderr, "zepix: --period %s: cannot compute the period\n", period);
        goto done;
    }
    if (exp_open_readonly(cfg.plugin_system.data_dir, id, &db, err, sizeof err) ||
        exp_trades_csv(db, from, to, &out, err, sizeof err) < 0) {
        fprintf(stderr, "zepix: --export %s: %s\n", id, err);
        goto done;
    }
    if (fwrite(sbuf_str(&out), 1, out.len, stdout) != out.len || fflush(stdout)) {
        fprintf(stderr, "zepix: --export: cannot write the CSV: %s\n", strerror(errno));
        goto done;
    }
    code = 0;
done:
    sqlite3_close(db);
    sbuf_free(&out);
    cfg_free(&cfg);
    return code;
}

int main(int argc, char **argv)
{
    enum { OPT_CHECK = 256, OPT_LIST, OPT_VERSION, OPT_HELP, OPT_EXPORT, OPT_PERIOD };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, OPT_CHECK},
        {"list-plugins", no_argument, NULL, OPT_LIST},
        {"version", no_argument, NULL, OPT_VERSION},
        {"help", no_argument, NULL, OPT_HELP},
        {"export", required_argument, NULL, OPT_EXPORT},
        {"period", required_argument, NULL, OPT_PERIOD},
        {NULL, 0, NULL, 0},
    };
    const char *path = "config/zepix.json", *export_id = NULL, *period = NULL;
    int check = 0, list = 0, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case OPT_CHECK: check = 1; break;
        case OPT_LIST: list = 1; break;
        case OPT_EXPORT: export_id = optarg; break;
        case OPT_PERIOD: period = optarg; break;
        case OPT_VERSION: printf("zepix %s (plugin ABI %d)\n", ZEPIX_VERSION, 1); return 0;
        case 'h':
        case OPT_HELP: usage(stdout); return 0;
        default:
            fprintf(stderr, "zepix: unknown or incomplete option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "zepix: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }

    if (period && !export_id) {
        fprintf(stderr, "zepix: --period goes with --export ID\n");
        usage(stderr);
        return 2;
    }
    if (export_id)
        return export_csv(path, export_id, period ? period : "today");

    char err[1024];
    if (check || list) {
        struct config cfg;
        if (cfg_load(path, &cfg, err, sizeof err)) {
            fprintf(stderr, "zepix: %s\n", err);
            return 2;
        }
        if (check)
            print_summary(&cfg);
        int failed = reg_list(cfg.plugin_system.plugin_dir, cfg.plugin_system.data_dir, cfg.plugins, stdout);
        cfg_free(&cfg);
        /* A plugin that cannot load makes the configuration unfit to run as written. */
        return check && failed ? 2 : 0;
    }

    struct app a;
    int code;
    if (app_init(&a, path, &code, err, sizeof err)) {
        LOG_E("main", "%s", err);
        app_free(&a);
        return code;
    }
    code = app_run(&a);
    app_free(&a);
    LOG_I("main", "stopped");
    return code;
}
