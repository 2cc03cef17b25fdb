/* main: parse, validate, run, report, exit. No sync logic lives here. */
#include "options.h"
#include "status.h"
#include "version.h"

#include <stdio.h>

static void print_help(void)
{
    printf("imapferry %s: copy every folder and message of an IMAP account to another server.\n\n"
           "usage: imapferry --host1 H1 --user1 U1 --password1 P1 \\\n"
           "                 --host2 H2 --user2 U2 --password2 P2 [options]\n\n"
           "Options keep imapsync's names and meanings. See imapferry(1).\n\n",
           IMAPFERRY_VERSION);
    options_print_help(stdout);
}

int main(int argc, char **argv)
{
    struct options opts;
    struct status st;
    status_clear(&st);
    if (options_parse(argc, argv, &opts, &st) < 0) {
        fprintf(stderr, "imapferry: %s (see imapferry --help)\n", st.msg);
        options_free(&opts);
        return st.code;
    }
    int rc = STATUS_OK;
    if (opts.v[OPT_VERSION].given) {
        printf("%s\n", IMAPFERRY_VERSION);
    } else if (opts.v[OPT_HELP].given || argc == 1) {
        print_help();
    } else {
        fprintf(stderr, "imapferry: syncing is not implemented yet\n");
        rc = STATUS_OTHER;
    }
    options_free(&opts);
    return rc;
}
