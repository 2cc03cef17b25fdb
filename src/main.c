/* main: parse, validate, run, report, exit. No sync logic lives here. */
#include "batch.h"
#include "config.h"
#include "engine.h"
#include "ledger.h"
#include "lock.h"
#include "log.h"
#include "net.h"
#include "stop.h"
#include "options.h"
#include "preset.h"
#include "progress.h"
#include "report.h"
#include "report_json.h"
#include "statedir.h"
#include "status.h"
#include "version.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

static void print_help(void)
{
    printf("imapferry %s: copy every folder and message of an IMAP account to another server.\n\n"
           "usage: imapferry --host1 H1 --user1 U1 --password1 P1 \\\n"
           "                 --host2 H2 --user2 U2 --password2 P2 [options]\n\n"
           "Options keep imapsync's names and meanings. The ones imapferry acts on:\n\n",
           IMAPFERRY_VERSION);
    options_print_help(stdout);
    printf("\nEvery imapsync option is known: imapferry --list-options shows what imapferry\n"
           "does with each (honoured, accepted, or refused with a reason). See imapferry(1).\n");
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
    stop_requested = 1;
}

/* No SA_RESTART: a blocked poll() must return so the run can stop cleanly. */
static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    /* A closed socket must give an error, not kill the process mid-sync. */
    sigaction(SIGPIPE, &sa, NULL);
}

/* The command line for the log; password values were wiped by options. */
static void log_header(int argc, char **argv)
{
    log_out("imapferry %s, pid %ld\n", IMAPFERRY_VERSION, (long)getpid());
    log_out("command line:");
    for (int i = 0; i < argc; i++)
        log_out(" %s", argv[i]);
    log_out("\n");
}

/* --json: the report of the run, however it ended. One that cannot be
 * written turns a success into exit 1: the caller counted on it. */
static int write_json(const struct config *cfg, struct report *rep, int rc)
{
    if (cfg->json == NULL)
        return rc;
    struct report_json_run jr = {
        .host = {cfg->side[0].host, cfg->side[1].host},
        .port = {cfg->side[0].port, cfg->side[1].port},
        .user = {cfg->side[0].user, cfg->side[1].user},
        .exit_code = rc,
        .signal = (int)got_signal,
    };
    struct status st;
    if (report_json_write(cfg->json, rep, &jr, &st) < 0) {
        log_err("imapferry: ERROR: %s\n", st.msg);
        return rc == STATUS_OK ? STATUS_OTHER : rc;
    }
    return rc;
}

/* A run refused before it began: the error, already shown, goes into the
 * JSON report too. */
static int end_early(struct config *cfg, struct report *rep, const struct status *st, int rc)
{
    report_fatal(rep, st);
    rc = write_json(cfg, rep, rc);
    report_free(rep);
    config_free(cfg);
    return rc;
}

/* --abort: stop the run that holds the pid file, then end with 0 whatever
 * happened (imapsync: this run has nothing else to do). */
static int run_abort(const struct options *opts)
{
    char buf[4096];
    const char *path =
        opts->v[OPT_PIDFILE].given ? opts->v[OPT_PIDFILE].str : lock_default_path(buf, sizeof buf);
    long pid = 0;
    struct status st;
    status_clear(&st);
    if (lock_abort(path, 3000, &pid, &st) < 0)
        fprintf(stderr, "imapferry: --abort: %s\n", st.msg);
    else if (pid == 0)
        printf("imapferry: --abort: no run holds the pid file %s\n", path ? path : "");
    else
        printf("imapferry: --abort: sent SIGTERM to the run with pid %ld (pid file %s)\n", pid,
               path);
    return STATUS_OK;
}

static int run(const struct options *opts, int argc, char **argv)
{
    struct config cfg;
    struct status st;
    status_clear(&st);
    if (config_build(opts, &cfg, &st) < 0) {
        fprintf(stderr, "imapferry: %s\n", st.msg);
        return st.code;
    }
    net_use_family(cfg.family);
    /* A --json FILE that cannot be written fails now, not after the sync. */
    if (cfg.json && report_json_prepare(cfg.json, &st) < 0) {
        fprintf(stderr, "imapferry: %s\n", st.msg);
        config_free(&cfg);
        return st.code;
    }
    struct report rep;
    report_init(&rep, cfg.dry, cfg.foldersizes, cfg.foldersizesatend, cfg.justfolders);
    rep.errorsmax = cfg.errorsmax;
    /* The pid file first: a run refused because another one holds it
     * must leave nothing behind, not even a log file. */
    struct lock *lk = NULL;
    char notes[4200];
    if (lock_acquire(cfg.pidfile, cfg.pidfilelocking, cfg.logpath, &lk, notes, sizeof notes, &st) <
        0) {
        fprintf(stderr, "imapferry: %s\n", st.msg);
        return end_early(&cfg, &rep, &st, st.code);
    }
    struct statedir *sd = NULL;
    /* --justconnect logs in nowhere: no account pair, no state. */
    if (!cfg.justconnect &&
        statedir_acquire(cfg.stateroot, cfg.side[0].host, cfg.side[0].port, cfg.side[0].user,
                         cfg.side[1].host, cfg.side[1].port, cfg.side[1].user, &sd, &st) < 0) {
        fprintf(stderr, "imapferry: %s\n", st.msg);
        lock_release(lk);
        return end_early(&cfg, &rep, &st, st.code);
    }
    if (!cfg.nostate && sd)
        cfg.statepath = statedir_path(sd);
    if (cfg.logpath && log_open(cfg.logpath, &st) < 0) {
        fprintf(stderr, "imapferry: %s (use --nolog to run without a log file)\n", st.msg);
        statedir_release(sd);
        lock_release(lk);
        return end_early(&cfg, &rep, &st, STATUS_OTHER);
    }
    log_header(argc, argv);
    if (cfg.logpath)
        log_out("Log file is %s (to change it, use --logfile; --nolog turns logging off)\n",
                cfg.logpath);
    if (notes[0])
        log_out("%s\n", notes);
    if (cfg.ledger && ledger_open(cfg.ledger, &st) < 0) {
        log_err("imapferry: %s\n", st.msg);
        statedir_release(sd);
        lock_release(lk);
        log_close();
        return end_early(&cfg, &rep, &st, st.code);
    }
    if (engine_run(&cfg, &rep, &st) < 0) {
        rep.aborted = 1;
        if (!got_signal)
            report_error(&rep, &st);
    }
    progress_end(); /* the statistics come below the progress line's last state */
    if (got_signal)
        log_err("imapferry: stopped by signal %d; rerun to continue where it stopped\n",
                (int)got_signal);
    if (!cfg.justlogin && !cfg.justconnect)
        report_print(&rep);
    int rc = got_signal ? STATUS_SIGNAL : report_exit_code(&rep);
    rc = write_json(&cfg, &rep, rc);
    report_free(&rep);
    ledger_close();
    statedir_release(sd);
    lock_release(lk);
    log_close();
    config_free(&cfg);
    return rc;
}

int main(int argc, char **argv)
{
    catch_signals();
    umask(077);
    struct options opts;
    struct status st;
    status_clear(&st);
    if (options_parse(argc, argv, &opts, &st) < 0) {
        fprintf(stderr, "imapferry: %s (see imapferry --list-options)\n", st.msg);
        options_free(&opts);
        return st.code;
    }
    /* Before anything else runs, so the user sees what is ignored. */
    for (size_t k = 0; k < opts.nnotices; k++)
        fprintf(stderr, "imapferry: notice: %s\n", opts.notices[k]);
    int rc = STATUS_OK;
    struct sbuf said = SBUF_INIT; /* what the presets set */
    if (opts.v[OPT_LIST_OPTIONS].given)
        options_print_list(stdout);
    else if (opts.v[OPT_VERSION].given)
        printf("%s\n", IMAPFERRY_VERSION);
    else if (opts.v[OPT_HELP].given || argc == 1)
        print_help();
    else if (opts.v[OPT_ABORT].given)
        rc = run_abort(&opts);
    else if (opts.v[OPT_CSV].given || opts.v[OPT_JOBS].given || opts.v[OPT_MAXCONNSPERHOST].given)
        rc = batch_run(&opts, argv[0]);
    else if (preset_apply(&opts, &said, &st) < 0) {
        fprintf(stderr, "imapferry: %s\n", st.msg);
        rc = st.code;
    } else {
        fputs(said.len ? said.data : "", stderr);
        rc = run(&opts, argc, argv);
    }
    sbuf_free(&said);
    options_free(&opts);
    return rc;
}
