#!/bin/sh
# Entrypoint of one pod of the imapferry Indexed Job (imapferry-job.yaml):
# picks account line N = $JOB_COMPLETION_INDEX (counted from 0; comments and
# blank lines do not count) of the CSV mounted from the Secret and runs
# `imapferry --csv` on that line alone, with the container's arguments.
# The line goes in on standard input (a here-document), never on a command
# line: its passwords stay out of argv and `ps`.
set -eu
csv=${IMAPFERRY_CSV:-/etc/imapferry/users.csv}
ferry=${IMAPFERRY_BIN:-imapferry}
idx=${JOB_COMPLETION_INDEX:-}
case $idx in
'' | *[!0-9]*)
    echo "imapferry-job: JOB_COMPLETION_INDEX is '$idx', not a number: run this in an Indexed Job" >&2
    exit 64
    ;;
esac
if [ ! -r "$csv" ]; then
    echo "imapferry-job: cannot read the CSV $csv (is the Secret mounted?)" >&2
    exit 66
fi
# The same lines imapferry --csv skips: a byte order mark before line 1,
# then blank lines and lines whose first non-blank character is #.
# Prints "=LINE" for the line picked, else "#COUNT" of the account lines.
out=$(LC_ALL=C awk -v n="$idx" -v bom="$(printf '\357\273\277')" '
    NR == 1 && substr($0, 1, 3) == bom { $0 = substr($0, 4) }
    { t = $0; sub(/\r+$/, "", t); sub(/^[ \t]+/, "", t) }
    t == "" || substr(t, 1, 1) == "#" { next }
    k++ == n { print "=" $0; found = 1; exit }
    END { if (!found) print "#" k + 0 }' "$csv")
case $out in
=*) line=${out#=} ;;
*)
    total=${out#\#}
    echo "imapferry-job: index $idx, but $csv has only $total account lines:" \
        "set the Job's completions to $total" >&2
    exit 64
    ;;
esac
# exec: the pod's SIGTERM reaches imapferry, which stops cleanly.
exec "$ferry" --csv /dev/stdin "$@" <<EOF
$line
EOF
