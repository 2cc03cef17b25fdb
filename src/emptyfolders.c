/* emptyfolders: --delete1emptyfolders, deleting the selected host1 folders
 * that hold no message and no child (see emptyfolders.h). */
#include "emptyfolders.h"

#include "log.h"
#include "mutf7.h"
#include "sbuf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int emptyfolders_has_child(const struct folder *f, size_t n, const unsigned char *gone, char sep,
                           const char *name)
{
    if (sep == 0)
        return 0;
    size_t len = strlen(name);
    for (size_t i = 0; i < n; i++)
        if (!(gone && gone[i]) && strncmp(f[i].name, name, len) == 0 && f[i].name[len] == sep &&
            f[i].name[len + 1] != '\0')
            return 1;
    return 0;
}

static int listed(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return 1;
    return 0;
}

size_t emptyfolders_drop(struct folder_plan *plan, const char *const *names, size_t n)
{
    size_t np = plan->npairs, out = 0;
    /* new index of each old pair; np = removed */
    size_t *at = sbuf_xcalloc(np + 1, sizeof *at);
    for (size_t i = 0; i < np; i++) {
        struct folder_plan_pair *p = &plan->pairs[i];
        if (!listed(names, n, p->name1)) {
            at[i] = out++;
            continue;
        }
        at[i] = np;
        if (p->leader == i) /* the next of the group leads it now */
            for (size_t j = i + 1; j < np; j++)
                if (plan->pairs[j].leader == i && !listed(names, n, plan->pairs[j].name1)) {
                    plan->pairs[j].create = p->create;
                    plan->pairs[j].subscribe = p->subscribe;
                    for (size_t k = j; k < np; k++)
                        if (plan->pairs[k].leader == i)
                            plan->pairs[k].leader = j;
                    break;
                }
        free(p->name1);
        free(p->name2);
    }
    size_t w = 0;
    for (size_t i = 0; i < np; i++) {
        if (at[i] == np)
            continue;
        struct folder_plan_pair p = plan->pairs[i];
        p.leader = at[p.leader];
        plan->pairs[w++] = p;
    }
    plan->npairs = w;
    free(at);
    return np - w;
}

static int cmp_desc(const void *a, const void *b)
{
    return strcmp(*(char *const *)b, *(char *const *)a);
}

/* f1's index of name, or n1 when host1 did not list it. */
static size_t find(const struct folder *f1, size_t n1, const char *name)
{
    for (size_t i = 0; i < n1; i++)
        if (strcmp(f1[i].name, name) == 0)
            return i;
    return n1;
}

/* Deletes one candidate: 1 deleted (or would be), 0 kept, -1 lost. */
static int one(struct imapc *h1, const struct folder *f1, size_t n1, unsigned char *gone, char sep,
               int dry, const char *name, emptyfolders_error_fn on_error, void *ctx,
               struct status *st)
{
    char show[512];
    mutf7_display(name, show, sizeof show);
    size_t at = find(f1, n1, name);
    if (emptyfolders_has_child(f1, n1, gone, sep, name)) {
        log_out("Host1: folder %s has subfolders\n", show);
        return 0;
    }
    struct folder_status fs;
    if (imapc_status(h1, name, &fs, st) < 0) {
        if (status_lost(st))
            return -1;
        on_error(ctx, st);
        return 0;
    }
    if (fs.messages != 0) {
        log_out("Host1: folder %s has messages: %u\n", show, (unsigned)fs.messages);
        return 0;
    }
    if (strcasecmp(name, "INBOX") == 0) {
        log_out("Host1: Not deleting %s\n", show);
        return 0;
    }
    log_out("Host1: deleting empty folder %s\n", show);
    if (!dry && (((at == n1 || f1[at].subscribed) && imapc_unsubscribe(h1, name, st) < 0) ||
                 imapc_delete(h1, name, st) < 0)) {
        if (status_lost(st))
            return -1;
        log_out("Host1 deleting %s failed\n", show);
        on_error(ctx, st);
        return 0;
    }
    log_out("Host1 deleted %s%s\n", show, dry ? " (not really since --dry mode)" : "");
    if (at < n1)
        gone[at] = 1;
    return 1;
}

int emptyfolders_run(struct imapc *h1, const struct folder *f1, size_t n1, unsigned char *gone,
                     char sep, int dry, struct folder_plan *plan, emptyfolders_error_fn on_error,
                     void *ctx, unsigned *deleted, struct status *st)
{
    log_out("Host1 deleting empty folders\n");
    /* No candidate may be the selected folder: Dovecot drops a session
     * whose selected folder is deleted. INBOX is never a candidate. */
    struct imapc_box box;
    if (imapc_select(h1, "INBOX", 1, &box, st) < 0 && status_lost(st))
        return -1;
    size_t n = 0;
    char **names = sbuf_xcalloc(plan->npairs + 1, sizeof *names);
    for (size_t i = 0; i < plan->npairs; i++)
        if (!listed((const char *const *)names, n, plan->pairs[i].name1))
            names[n++] = plan->pairs[i].name1;
    qsort(names, n, sizeof *names, cmp_desc);
    char **done = sbuf_xcalloc(n + 1, sizeof *done);
    size_t ndone = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        /* control bytes never go into a command (the engine's rule too) */
        int ok = *names[i] != '\0';
        for (const char *p = names[i]; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                ok = 0;
        if (!ok)
            continue;
        int r = one(h1, f1, n1, gone, sep, dry, names[i], on_error, ctx, st);
        if (r < 0)
            rc = -1;
        else if (r > 0)
            done[ndone++] = sbuf_xstrdup(names[i]);
    }
    free(names); /* borrowed from the plan: dropped below */
    *deleted += (unsigned)ndone;
    /* imapsync's dry run drops them too: its delete "succeeds". */
    emptyfolders_drop(plan, (const char *const *)done, ndone);
    for (size_t i = 0; i < ndone; i++)
        free(done[i]);
    free(done);
    if (rc == 0)
        log_out("Host1 ended deleting empty folders\n");
    return rc;
}
