/*
 * main — the command line (SPEC section 3). Exit status: 0 clean exit,
 * 1 runtime failure, 2 usage or configuration error.
 */
#include "app.h"
#include "config.h"
#include "log.h"
#include "registry.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: zepix [-c FILE] [--check-config] [--list-plugins] [--version] [--help]\n"
            "  -c, --config FILE   configuration file (default config/zepix.json)\n"
            "  --check-config      validate the configuration and plugins, print what would run\n"
            "  --list-plugins      print each discovered plugin and its state\n"
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

int main(int argc, char **argv)
{
    enum { OPT_CHECK = 256, OPT_LIST, OPT_VERSION, OPT_HELP };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, OPT_CHECK},
        {"list-plugins", no_argument, NULL, OPT_LIST},
        {"version", no_argument, NULL, OPT_VERSION},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    const char *path = "config/zepix.json";
    int check = 0, list = 0, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case OPT_CHECK: check = 1; break;
        case OPT_LIST: list = 1; break;
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
