/* folder_plan: pure mapping of host1's folder list onto host2, with
 * imapsync's selection, naming and ordering rules.
 *
 * Names are raw wire names (modified UTF-7) throughout, as in imapsync: every
 * option value is compared with, and every rule applied to, the raw form.
 * So `--folder inbox` is not host1's "INBOX": like imapsync, it is reported
 * missing (or, with --nocheckfoldersexist, selected as given).
 *
 * Selection (imapsync's l.2105-2233), over host1's LIST without \Noselect:
 *   1. if any of --folder, --folderrec, --subscribed (or --subfolder1) is
 *      given, the union of the --folder names, the subscribed names and
 *      each --folderrec F with its subfolders (F itself when listed, and the
 *      names starting with F<sep1>, or with F when F ends with sep1; the
 *      prefix is compared byte for byte; a flat host1 has no subfolders);
 *      otherwise, unless an --include is given, every folder;
 *   2. each --include adds the host1 folders it matches;
 *   3. each --exclude removes the names it matches, --folder ones included;
 *   4. with --checkfoldersexist (default) a requested name host1 does not
 *      list is dropped and reported in `missing`, in plan order; a listed
 *      \Noselect one is dropped quietly (imapsync's checkselectable).
 *      Without it, unlisted names stay in the plan.
 * Order: the requested --folderfirst names in the order given, the rest in
 * byte order (INBOX included, not first), then the requested --folderlast
 * names; a name in both lists goes first.
 *
 * --subfolder1 and --subfolder2 values are sanitised as imapsync does (edge
 * spaces trimmed, then bytes outside [-_a-zA-Z0-9./ ] deleted; nothing left
 * means the option is not given), and either turns --automap off.
 * --subfolder1 S acts as --folderrec S, or as --folderrec prefix1+S when only
 * that is listed (\Noselect included).
 *
 * Naming of one host1 name (imapsync's imap2_folder_name, l.10683-10717):
 *   1. an exact --f1f2 A=B match gives B as is (a later A=B for the same A
 *      wins; an empty B maps nothing, as in imapsync);
 *   2. the --automap role match gives host2's existing folder as is. Roles
 *      come from the LIST attributes (several on one folder: the lowest bit
 *      counts, standing in for imapsync's "first listed"; per side the first
 *      folder in LIST order holds a role, later ones have none) or, for a
 *      folder without one, from imapsync's table of usual names, on the name
 *      or the name less the first occurrence of the prefix (host2: the
 *      smallest such name in byte order holds the role). The first case
 *      that applies: both special, host1 special and host2 guessed, host1
 *      guessed and host2 special, both guessed;
 *   3. --subfolder1 S: the first occurrence of S (less a trailing sep1) and
 *      the sep1 after it are removed (S taken literally, where imapsync
 *      reads its '.' as a regex wildcard); an empty result (or prefix1
 *      alone) becomes INBOX;
 *   4. translation (folder_plan_translate): INBOX (any case) stays INBOX,
 *      spelt "INBOX"; prefix1 is removed; separators are swapped (each sep1
 *      becomes sep2, each sep2 becomes sep1); if sep1 is '/' and sep2 is
 *      not, a '/' left becomes '_'; prefix2 is added unless the name is
 *      INBOX. As in imapsync, host1 "INBOX/Sub" becomes "INBOX.INBOX.Sub"
 *      under prefix2 "INBOX.": an account synced by imapsync before gets no
 *      parallel tree;
 *   5. --subfolder2 S (its three rules, with prefix2 quoted: a '.' in it is
 *      literal) and then every --regextrans2 rule, in command-line order,
 *      on the result. A rule that fails or leaves an empty name stops the
 *      build (STATUS_USAGE).
 *
 * Several host1 folders mapped to one host2 name (INBOX in any case being
 * one name) are merged into it: every pair is kept, the first in plan order
 * is the leader that creates and subscribes, the others point at it. A host2
 * folder is created when host2 lacks it (or lists it only as \Noselect);
 * CREATE makes the hierarchy above a name (RFC 3501 6.3.3). It is subscribed
 * when --subscribeall, or when --subscribe (default) and host1 has it (any
 * folder of a merged group) subscribed, unless host2 already has. No I/O. */
#ifndef IMAPFERRY_FOLDER_PLAN_H
#define IMAPFERRY_FOLDER_PLAN_H

#include "folder.h"
#include "rx.h"
#include "status.h"

#include <stddef.h>

/* The rules of one run; all borrowed, all optional (zeroed = imapsync's
 * defaults except the two ints marked below). */
struct folder_plan_rules {
    const char *const *folder; /* --folder, repeatable */
    size_t nfolder;
    const char *const *folderrec; /* --folderrec */
    size_t nfolderrec;
    int subscribed; /* --subscribed: add host1's subscribed folders */
    const struct rx_rule *const *include;
    size_t ninclude;
    const struct rx_rule *const *exclude;
    size_t nexclude;
    const char *const *folderfirst;
    size_t nfolderfirst;
    const char *const *folderlast;
    size_t nfolderlast;
    int checkfoldersexist;   /* set to 1 for imapsync's default */
    const char *subfolder1;  /* NULL = none */
    const char *const *f1f2; /* "A=B" values, split on the first '=' */
    size_t nf1f2;
    int automap;
    const char *subfolder2; /* NULL = none */
    const struct rx_rule *const *regextrans2;
    size_t nregextrans2;
    int subscribe; /* set to 1 for imapsync's default --subscribe */
    int subscribeall;
};

struct folder_plan_pair {
    char *name1;    /* host1 wire name */
    char *name2;    /* host2 wire name */
    int create;     /* 1: host2 lacks it, CREATE before use (the engine sets 2 once done) */
    int subscribe;  /* SUBSCRIBE on host2 */
    size_t leader;  /* index of the first pair with this name2 (its own index when first);
                       only the leader creates and subscribes */
    int automapped; /* name2 came from --automap (or --f1f2: 2) */
};

/* Owns every string it holds; release with folder_plan_free. */
struct folder_plan {
    struct folder_plan_pair *pairs;
    size_t npairs;
    char **missing; /* requested names host1 does not list (checkfoldersexist) */
    size_t nmissing;
};

/* Translates one name (step 4 above); *out is malloc'd. */
int folder_plan_translate(const char *name1, const struct folder_ns *ns1,
                          const struct folder_ns *ns2, char **out, struct status *st);

/* Builds the plan. Fails with STATUS_USAGE when a rule cannot be applied
 * (imapsync exits 64 then) or a rule yields an empty name, and with exit 21
 * (STATUS_SUBFOLDER) when --subfolder1 names a folder host1 lacks. */
int folder_plan_build(const struct folder *f1, size_t n1, const struct folder *f2, size_t n2,
                      const struct folder_ns *ns1, const struct folder_ns *ns2,
                      const struct folder_plan_rules *rules, struct folder_plan *out,
                      struct status *st);
void folder_plan_free(struct folder_plan *p);

#endif
