/* main: parse, validate, run, report, exit. No sync logic lives here. */
#include "config.h"
#include "engine.h"
#include "options.h"
#include "report.h"
#include "status.h"
#include "version.h"

#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

static void print_help(void)
{
    printf("imapferry %s: copy every folder and message of an IMAP account to another server.\n\n"
           "usage: imapferry --host1 H1 --user1 U1 --password1 P1 \\\n"
           "                 --host2 H2 --user2 U2 --password2 P2 [options]\n\n"
           "Options keep imapsync's names and meanings. See imapferry(1).\n\n",
           IMAPFERRY_VERSION);
    options_print_help(stdout);
}

static int run(const struct options *opts)
{
    struct config cfg;
    struct status st;
    status_clear(&st);
    if (config_build(opts, &cfg, &st) < 0) {
        fprintf(stderr, "imapferry: %s\n", st.msg);
        return st.code;
    }
    struct report rep;
    report_init(&rep, cfg.dry);
    if (engine_run(&cfg, &rep, &st) < 0)
        report_error(&rep, &st);
    if (!cfg.justlogin)
        report_print(&rep, stdout);
    config_free(&cfg);
    return report_exit_code(&rep);
}

int main(int argc, char **argv)
{
    /* A closed socket must give an error, not kill the process mid-sync. */
    signal(SIGPIPE, SIG_IGN);
    umask(077);
    struct options opts;
    struct status st;
    status_clear(&st);
    if (options_parse(argc, argv, &opts, &st) < 0) {
        fprintf(stderr, "imapferry: %s (see imapferry --help)\n", st.msg);
        options_free(&opts);
        return st.code;
    }
    int rc = STATUS_OK;
    if (opts.v[OPT_VERSION].given)
        printf("%s\n", IMAPFERRY_VERSION);
    else if (opts.v[OPT_HELP].given || argc == 1)
        print_help();
    else
        rc = run(&opts);
    options_free(&opts);
    return rc;
}
