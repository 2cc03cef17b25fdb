/* conn: how a connection to one server is secured, shared by the settings
 * (config) and the IMAP client (imapc) so neither includes the other. */
#ifndef IMAPFERRY_CONN_H
#define IMAPFERRY_CONN_H

enum conn_tls {
    CONN_TLS_AUTO,     /* no option: STARTTLS; refused if the server lacks it */
    CONN_TLS_NONE,     /* --notlsN: plaintext, never STARTTLS */
    CONN_TLS_STARTTLS, /* --tlsN: STARTTLS required */
    CONN_TLS_IMPLICIT, /* --sslN: TLS from the first byte */
};

#endif
