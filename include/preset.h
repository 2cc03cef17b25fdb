/* preset: imapsync's shortcut options, rewritten into the options they
 * stand for before config_build sees them.
 *
 * - Provider presets (imapsync's easyany, applied right after parsing):
 *   --gmail1, --gmail2 (both together: imapsync's gmail12), --office1,
 *   --office2, --exchange2, with imapsync 2.290's values. What the user
 *   gives wins: a string, flag or number already given is left alone (a
 *   number given as 0 too, where imapsync's ||= would replace it), and
 *   --noexclude, --noregexmess, --noregexflag, --nof1f2 keep the preset's
 *   list entries out. A TLS choice (--[no]sslN, --[no]tlsN) keeps the
 *   preset's --sslN out. Parts that need options imapferry refuses
 *   (--useheader, --addheader, --skipcrossduplicates) are left out and
 *   named, and so is gmail2's --expunge1:
 *   nothing is deleted unless asked for by name.
 * - --sslargsN KEY=VALUE, IO::Socket::SSL's arguments: SSL_verify_mode=0 is
 *   --insecureN, 1 the default, SSL_ca_file=F is --cafileN F; any other key
 *   is refused by name.
 * - --authmd5, --authmd51, --authmd52: --authmechN CRAM-MD5 unless an
 *   --authmechN is given. */
#ifndef IMAPFERRY_PRESET_H
#define IMAPFERRY_PRESET_H

#include "options.h"
#include "sbuf.h"
#include "status.h"

/* Rewrites *o in place (its new strings belong to o, released by
 * options_free). Appends to said one line per preset used, "imapferry:
 * --gmail2 is like: --host2 imap.gmail.com ...\n", naming only what it set,
 * and what it left out. Fails with STATUS_USAGE and one line naming the
 * --sslargsN key or value it cannot honour. Call once. */
int preset_apply(struct options *o, struct sbuf *said, struct status *st);

#endif
