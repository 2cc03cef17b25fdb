/* fuzz_response: libFuzzer target for the response path, the IMAP client
 * (imapc on libetpan, through our transport and its framing caps) fed the
 * input as everything a server sends on one connection.
 *
 * Per input, a thread accepts one connection on a loopback listener
 * (127.0.0.1, port chosen by the kernel, opened once), writes the input,
 * half-closes (so a client waiting for more reads end-of-stream at once, not
 * after its timeout) and reads what the client sends until it closes. The
 * main thread plays one host1 session in plaintext: imapc_open (greeting,
 * CAPABILITY, LOGIN, CAPABILITY, NAMESPACE), imapc_list (LIST, LSUB), EXAMINE
 * of the first selectable folder (or INBOX), imapc_fetch_meta for the
 * announced EXISTS and one body FETCH (imapc_fetch_bodies_send and _recv)
 * for at most 8 UIDs, then imapc_close (LOGOUT). libetpan tags commands 1, 2, 3...; the seeds in
 * corpus/response answer each with its tag. Flag rules and
 * --idatefromheader are on, so the metadata goes through flagrule and
 * hdrdate too.
 *
 * Build with -DFUZZ_RESPONSE_TRACE to copy the client's commands to stderr
 * (for writing seeds). */
#define _GNU_SOURCE /* RTLD_NEXT */
#include "imapc.h"
#include "rx.h"

#include <libetpan/libetpan.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef FUZZ_RESPONSE_TRACE
#include <stdio.h>
#endif

#define MAX_BODIES 8
/* The server side never waits longer than this for the client (a guard:
 * the client's own timeout is 1 s per read, and it closes when done). */
#define SERVER_WAIT_MS 10000

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* Leaks inside Debian's libetpan 1.9.4. Each entry names the function that
 * allocates the leaked object, never a caller, so a leak of ours (a fetch
 * list, namespace data, a body) still shows.
 * - "BODY[HEADER.x": mailimap_section_parse returns without freeing the
 *   section-spec when "]" is missing (fixed upstream: ddf1d98, "Fix section
 *   parse cleanup leak").
 * - A NAMESPACE answered without NAMESPACE data, or with NO/BAD:
 *   mailimap_namespace returns without freeing the parsed response (still
 *   so upstream). imapc never holds a struct mailimap_response itself. */
const char *__lsan_default_suppressions(void)
{
    return "leak:^mailimap_section_spec_new$\n"
           "leak:^mailimap_response_new$\n";
}

static int listen_fd = -1;
static int listen_port;
static struct rx_rule *rule;

struct server {
    const uint8_t *data;
    size_t size;
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        listen(listen_fd, 16) < 0 || getsockname(listen_fd, (struct sockaddr *)&a, &len) < 0)
        abort();
    listen_port = ntohs(a.sin_port);
    struct status st;
    if (rx_compile("s/\\\\Flagged/\\\\Flagged \\$Important/i", &rule, &st) < 0)
        abort();
    return 0;
}

static int wait_for(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events, .revents = 0};
    return poll(&p, 1, SERVER_WAIT_MS) > 0;
}

static void *serve(void *arg)
{
    const struct server *sv = arg;
    if (!wait_for(listen_fd, POLLIN))
        return NULL;
    int fd = accept(listen_fd, NULL, NULL);
    if (fd < 0)
        return NULL;
    size_t off = 0;
    while (off < sv->size && wait_for(fd, POLLOUT)) {
        ssize_t put = send(fd, sv->data + off, sv->size - off, MSG_NOSIGNAL);
        if (put <= 0)
            break; /* the client gave up and closed */
        off += (size_t)put;
    }
    shutdown(fd, SHUT_WR);
    char buf[4096];
    while (wait_for(fd, POLLIN)) {
        ssize_t got = read(fd, buf, sizeof buf);
        if (got <= 0)
            break;
#ifdef FUZZ_RESPONSE_TRACE
        fwrite(buf, 1, (size_t)got, stderr);
#endif
    }
    close(fd);
    return NULL;
}

static void session(void)
{
    struct imapc_conf conf = {
        .label = "host1",
        .host = "127.0.0.1",
        .port = listen_port,
        .user = "u",
        .password = "p",
        .authmech = "LOGIN",
        .tls = CONN_TLS_NONE,
        .timeout = 1.0,
        .err_connect = STATUS_CONNECT_HOST1,
        .err_auth = STATUS_AUTH_HOST1,
    };
    struct status st;
    struct imapc *c = NULL;
    if (imapc_open(&conf, &c, &st) < 0)
        return;
    const struct rx_rule *const rules[] = {rule};
    imapc_set_flag_rules(c, rules, 1);
    imapc_set_date_from_header(c, 1);
    struct folder *f = NULL;
    size_t nf = 0;
    if (imapc_list(c, &f, &nf, &st) == 0) {
        const char *name = "INBOX";
        for (size_t i = 0; i < nf; i++)
            if (!f[i].noselect) {
                name = f[i].name;
                break;
            }
        struct imapc_box box;
        struct msg_meta *m = NULL;
        size_t nm = 0;
        if (imapc_select(c, name, 1, &box, &st) == 0 &&
            imapc_fetch_meta(c, box.exists, &m, &nm, &st) == 0 && nm > 0) {
            uint32_t uids[MAX_BODIES];
            struct imapc_body bodies[MAX_BODIES];
            size_t nb = nm < MAX_BODIES ? nm : MAX_BODIES;
            for (size_t i = 0; i < nb; i++)
                uids[i] = m[i].uid;
            struct imapc_ticket t;
            memset(bodies, 0, sizeof bodies);
            if (imapc_fetch_bodies_send(c, uids, nb, &t, &st) == 0)
                imapc_fetch_bodies_recv(c, &t, uids, nb, bodies, NULL, 0, NULL, &st);
            for (size_t i = 0; i < nb; i++)
                imapc_body_free(bodies[i].data);
        }
        imapc_meta_free(m, nm);
        imapc_folders_free(f, nf);
    }
    imapc_set_flag_rules(c, NULL, 0);
    imapc_close(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (listen_fd < 0)
        LLVMFuzzerInitialize(NULL, NULL);
    struct server sv = {data, size};
    pthread_t th;
    if (pthread_create(&th, NULL, serve, &sv) != 0)
        abort();
    session();
    pthread_join(th, NULL);
    return 0;
}
