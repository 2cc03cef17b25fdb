/* hdrdate: the moment a message's Date: header names, for --idatefromheader
 * (APPEND with the Date: header as the internal date, as imapsync does).
 *
 * Parses RFC 5322 section 3.3 date-time plus the obsolete forms of section
 * 4.3: optional day-of-week (comma optional), 2-, 3- and 4-digit years (2-digit
 * years 00-49 are 20xx, 50-99 are 19xx; 3-digit years get 1900 added),
 * optional seconds, comments and folding whitespace between any two tokens,
 * month and zone names case-insensitive. Zones: +hhmm / -hhmm; UT GMT EST EDT
 * CST CDT MST MDT PST PDT; military letters (except J) and any other
 * alphabetic zone of 3 to 5 letters count as -0000, i.e. 0 (RFC 5322 4.3).
 *
 * Rejected (-1): no zone, anything but comments after the zone, day not in the
 * month (Feb 30 too), hour > 23, minute > 59, second > 60, zone hours > 23,
 * zone minutes > 59, years before 1900 or after 9999.
 *
 * Pure and thread-safe: no allocation, no locale, no TZ, no timegm. */
#ifndef IMAPFERRY_HDRDATE_H
#define IMAPFERRY_HDRDATE_H

#include <stddef.h>
#include <stdint.h>

/* Finds the first Date: field of the header block hdr[0..len) (CRLF or LF
 * line ends, folded lines, field name case-insensitive, the block ends at
 * len or at the first empty line) and parses its value. Returns 0 and fills
 * *epoch (seconds since 1970-01-01 UTC) and *tz_minutes (minutes east of UTC,
 * as written) on success; -1 when there is no Date field or its value is
 * unparseable or out of range (a later Date field is not tried). Never reads
 * past len; hdr need not be NUL-terminated. Outputs are untouched on -1. */
int hdrdate_from_headers(const char *hdr, size_t len, int64_t *epoch, int *tz_minutes);

/* "Jan".."Dec" for months 0..11 (struct tm's tm_mon): the English
 * abbreviations of RFC 5322 dates and of IMAP's date and date-time. */
const char *hdrdate_month(int mon);

/* The same for one NUL-terminated field value (what follows "Date:"). */
int hdrdate_parse(const char *value, int64_t *epoch, int *tz_minutes);

#endif
