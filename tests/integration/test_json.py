#!/usr/bin/env python3
"""Integration tests of --json FILE, the machine-readable report of a run:
its schema (every member and its type), figures equal to the statistics
block printed on stdout and to the servers' real state read back by the
oracle (messages per folder, folder names on both sides), the report of a
failed login, of a signal and of a run refused at the start, the refusal
of a symbolic link or FIFO as FILE, and never a password in it.
Usage: test_json.py --bin path/to/imapferry
"""
import datetime
import json
import os
import re
import signal
import stat as st_
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import corpus  # noqa: E402
import imaputil  # noqa: E402
import itest  # noqa: E402
from itest import check, ferry_args, identical, run_ferry, snap, stat, test  # noqa: E402

USER = "user1"
SEED, COUNT = 23, 60
BAD_PASSWORD = "Not-The-Pa55word-0f-user1"

INT, NUM, STR, BOOL, NULL = "int", "num", "str", "bool", "null"

# The schema of version 1, as imapferry(1) JSON REPORT documents it.
SIDE = {"host": STR, "port": INT, "user": (STR, NULL)}
DIFF = {"messages": INT, "bytes": INT}
STATISTICS = {
    "transfer_time": NUM, "folders_synced": INT, "folders_wanted": INT,
    "messages_transferred": INT, "messages_would_transfer": INT, "messages_skipped": INT,
    "messages_duplicate_host1": INT, "messages_duplicate_host2": INT,
    "messages_void_host1": INT, "messages_void_host2": INT,
    "messages_host1_not_host2": INT, "messages_host2_not_host1": INT,
    "messages_deleted_host1": INT, "messages_deleted_host2": INT,
    "bytes_transferred": INT, "bytes_skipped": INT, "message_rate": NUM,
    "bandwidth_kib_per_second": NUM, "reconnections_host1": INT, "reconnections_host2": INT,
    "memory_end_bytes": INT, "cpu_time": NUM, "cpu_percent": NUM,
    "biggest_message_bytes": INT, "memory_biggest_ratio": (NUM, NULL),
    "host1_messages": INT, "host1_bytes": INT, "host2_messages_start": INT,
    "host2_bytes_start": INT, "host2_messages_end": INT, "host2_bytes_end": INT,
    "start_difference": (DIFF, NULL), "final_difference": (DIFF, NULL),
    "errors": INT, "peak_memory_bytes": INT, "folders_unchanged": INT,
}
FOLDER = {"host1": STR, "host1_wire": STR, "host2": STR, "host2_wire": STR, "copied": INT,
          "already_there": INT, "bytes": INT, "flag_updates": INT, "errors": INT,
          "unchanged": BOOL}
ERROR = {"class": STR, "code": INT, "message": STR}
SCHEMA = {
    "version": INT, "imapferry": STR, "started": STR, "ended": STR, "duration": NUM,
    "dry_run": BOOL, "host1": SIDE, "host2": SIDE, "statistics": STATISTICS,
    "verdict": {"complete": BOOL, "looks_good": (BOOL, NULL), "strict": (BOOL, NULL)},
    "folders": [FOLDER], "errors": [ERROR], "errors_not_listed": INT,
    "exit": {"code": INT, "class": STR, "meaning": STR, "signal": (INT, NULL)},
}


def conforms(v, t, where):
    """Raises unless v has type t; objects must have exactly t's members."""
    if isinstance(t, tuple):
        errs = []
        for alt in t:
            try:
                return conforms(v, alt, where)
            except AssertionError as e:
                errs.append(str(e))
        raise AssertionError("; ".join(errs))
    if isinstance(t, dict):
        check(isinstance(v, dict), "%s: want an object, got %r" % (where, v))
        check(list(v) == list(t), "%s: members %s, want %s" % (where, list(v), list(t)))
        for k, sub in t.items():
            conforms(v[k], sub, "%s.%s" % (where, k))
    elif isinstance(t, list):
        check(isinstance(v, list), "%s: want an array, got %r" % (where, v))
        for i, item in enumerate(v):
            conforms(item, t[0], "%s[%d]" % (where, i))
    elif t == INT:
        check(isinstance(v, int) and not isinstance(v, bool), "%s: want an integer, got %r"
              % (where, v))
    elif t == NUM:
        check(isinstance(v, (int, float)) and not isinstance(v, bool),
              "%s: want a number, got %r" % (where, v))
    elif t == STR:
        check(isinstance(v, str), "%s: want a string, got %r" % (where, v))
    elif t == BOOL:
        check(isinstance(v, bool), "%s: want a boolean, got %r" % (where, v))
    elif t == NULL:
        check(v is None, "%s: want null, got %r" % (where, v))


def iso(s):
    check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", s), "not ISO 8601 UTC: %r" % s)
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")


def scratch(name):
    return os.path.join(itest.WORK, name)


def load(path, r):
    check(os.path.isfile(path), "no JSON report at %s" % path, r)
    with open(path, "rb") as f:
        raw = f.read()
    return raw, json.loads(raw.decode("utf-8"))


def no_secret(raw, s, r):
    for secret in (s.host1.password(USER), s.host2.password(USER), BAD_PASSWORD):
        check(secret.encode() not in raw, "the report holds a password", r)


def common_checks(doc, s, r):
    conforms(doc, SCHEMA, "report")
    check(doc["version"] == 1, "version %r" % doc["version"])
    out = subprocess.run([itest.BIN, "--version"], capture_output=True, text=True)
    check(doc["imapferry"] == out.stdout.strip(), "imapferry version %r" % doc["imapferry"])
    t0, t1 = iso(doc["started"]), iso(doc["ended"])
    check(t0 <= t1 and (t1 - t0).total_seconds() <= doc["duration"] + 1.5,
          "started %s, ended %s, duration %s" % (t0, t1, doc["duration"]))
    for i, h in ((0, s.host1), (1, s.host2)):
        side = doc["host%d" % (i + 1)]
        check(side == {"host": h.host, "port": h.port, "user": USER},
              "host%d: %r" % (i + 1, side))
    check(doc["exit"]["code"] == r.returncode,
          "exit code %r, the process exited %d" % (doc["exit"]["code"], r.returncode), r)


def block_line(out, label):
    m = re.search(r"^%s\s*: (.*)$" % re.escape(label), out, re.M)
    check(m, "no '%s' line in the output:\n%s" % (label, out))
    return m.group(1)


def figures_match_block(doc, out, r):
    """Every figure of the statistics block printed on stdout."""
    st = doc["statistics"]
    ints = {
        "Messages transferred": "messages_transferred",
        "Messages skipped": "messages_skipped",
        "Messages found duplicate on host1": "messages_duplicate_host1",
        "Messages found duplicate on host2": "messages_duplicate_host2",
        "Messages void (noheader) on host1": "messages_void_host1",
        "Messages void (noheader) on host2": "messages_void_host2",
        "Messages found in host1 not in host2": "messages_host1_not_host2",
        "Messages found in host2 not in host1": "messages_host2_not_host1",
        "Messages deleted on host1": "messages_deleted_host1",
        "Messages deleted on host2": "messages_deleted_host2",
        "Total bytes transferred": "bytes_transferred",
        "Total bytes skipped": "bytes_skipped",
        "Reconnections to host1": "reconnections_host1",
        "Reconnections to host2": "reconnections_host2",
        "Biggest message transferred": "biggest_message_bytes",
    }
    for label, key in ints.items():
        check(stat(out, label) == st[key], "%s: block %d, JSON %r"
              % (label, stat(out, label), st[key]), r)
    synced, wanted = map(int, re.match(r"(\d+)/(\d+) synced",
                                       block_line(out, "Folders synced")).groups())
    check((synced, wanted) == (st["folders_synced"], st["folders_wanted"]),
          "Folders synced %d/%d, JSON %r" % (synced, wanted, st), r)
    m = re.search(r"^Detected (\d+) errors$", out, re.M)
    check(m and int(m.group(1)) == st["errors"], "errors: JSON %r" % st["errors"], r)
    floats = {
        "Transfer time": ("transfer_time", 1),
        "Message rate": ("message_rate", 1),
        "Average bandwidth rate": ("bandwidth_kib_per_second", 1),
        "Memory consumption at the end": ("memory_end_bytes", 1 / (1024 * 1024)),
        "Peak memory": ("peak_memory_bytes", 1 / (1024 * 1024)),
        "CPU time and %cpu": ("cpu_time", 1),
    }
    for label, (key, scale) in floats.items():
        printed = float(block_line(out, label).split()[0])
        check(abs(printed - st[key] * scale) <= 0.051, "%s: block %s, JSON %r"
              % (label, printed, st[key]), r)
    check(abs(doc["duration"] - st["transfer_time"]) < 1e-9, "duration != transfer_time")
    for label, key in (("Start difference host2 - host1", "start_difference"),
                       ("Final difference host2 - host1", "final_difference")):
        m = re.search(r"^%s\s*: (-?\d+) messages, (-?\d+) bytes" % re.escape(label), out, re.M)
        check(m, "no '%s' line" % label, r)
        d = st[key]
        check(d == {"messages": int(m.group(1)), "bytes": int(m.group(2))},
              "%s: block %s, JSON %r" % (label, m.groups(), d), r)


def folders_match_servers(doc, s, r, first_run):
    """One entry per folder, names and counts as the servers hold them."""
    s1, s2 = snap(s.host1, USER), snap(s.host2, USER)
    check(len(doc["folders"]) == len(s1), "%d folder entries, host1 has %d folders"
          % (len(doc["folders"]), len(s1)), r)
    wire1 = {name: logical for logical, name in s1.names.items()}
    seen = set()
    for f in doc["folders"]:
        check(f["host1_wire"] in wire1, "no host1 folder %r" % f["host1_wire"], r)
        logical = wire1[f["host1_wire"]]
        seen.add(logical)
        check(f["host1"] == imaputil.mutf7_decode(f["host1_wire"]),
              "host1 %r is not %r decoded" % (f["host1"], f["host1_wire"]))
        check(f["host2_wire"] == s2.names[logical],
              "host2 name %r, the server has %r" % (f["host2_wire"], s2.names[logical]))
        check(f["host2"] == imaputil.mutf7_decode(f["host2_wire"]),
              "host2 %r is not %r decoded" % (f["host2"], f["host2_wire"]))
        n1 = sum(s1[logical].values())
        n2 = sum(s2[logical].values())
        check(f["copied"] + f["already_there"] == n1 == n2,
              "%s: copied %d + already there %d, host1 %d, host2 %d"
              % (f["host1"], f["copied"], f["already_there"], n1, n2), r)
        if first_run:
            check(f["copied"] == n1 and not f["unchanged"], "%s: first run %r" % (logical, f))
        check(f["errors"] == 0, "%s: errors" % (logical,))
    check(seen == set(s1), "folders without an entry: %s" % (set(s1) - seen))
    st = doc["statistics"]
    check(sum(f["copied"] for f in doc["folders"]) == st["messages_transferred"],
          "folder copies do not add up to messages_transferred")
    check(sum(f["bytes"] for f in doc["folders"]) == st["bytes_transferred"],
          "folder bytes do not add up to bytes_transferred")
    check(st["host1_messages"] == s1.total() == s2.total() == st["host2_messages_end"],
          "host1_messages %d, host2_messages_end %d; servers: %d, %d"
          % (st["host1_messages"], st["host2_messages_end"], s1.total(), s2.total()))
    return s1


@test
def full_sync_report(s):
    corpus.load(s.host1.imap(USER), seed=SEED, count=COUNT)
    path = scratch("reports/new/run1.json")  # folders above are made
    r = run_ferry(s, USER, "--json", path)
    check(r.returncode == 0, "sync failed", r)
    raw, doc = load(path, r)
    check(st_.S_IMODE(os.stat(path).st_mode) == 0o600, "report not mode 0600")
    check(os.listdir(os.path.dirname(path)) == ["run1.json"], "temporary file left behind")
    no_secret(raw, s, r)
    common_checks(doc, s, r)
    figures_match_block(doc, r.stdout, r)
    s1 = folders_match_servers(doc, s, r, first_run=True)
    st = doc["statistics"]
    check(st["messages_transferred"] == COUNT == s1.total(), "transferred %d, want %d"
          % (st["messages_transferred"], COUNT))
    check(doc["verdict"] == {"complete": True, "looks_good": True, "strict": True},
          "verdict %r" % doc["verdict"], r)
    check(doc["errors"] == [] and doc["errors_not_listed"] == 0, "errors %r" % doc["errors"])
    check(doc["exit"] == {"code": 0, "class": "ok", "meaning": "success", "signal": None},
          "exit %r" % doc["exit"])
    names = {f["host1"]: f for f in doc["folders"]}
    check("Entwürfe" in names and names["Entwürfe"]["host1_wire"] == "Entw&APw-rfe"
          and names["Entwürfe"]["host2"] == "INBOX.Entwürfe"
          and names["Entwürfe"]["host2_wire"] == "INBOX.Entw&APw-rfe",
          "Entwürfe: %r" % names.get("Entwürfe"))
    identical(s, USER)


@test
def rerun_to_stdout(s):
    """--json -: after the statistics block; every folder left alone."""
    r = run_ferry(s, USER, "--json", "-")
    check(r.returncode == 0, "rerun failed", r)
    at = r.stdout.find("\n{\n")
    check(at > r.stdout.find("Detected 0 errors") > 0, "JSON not after the statistics", r)
    doc = json.loads(r.stdout[at + 1:])
    common_checks(doc, s, r)
    figures_match_block(doc, r.stdout[:at], r)
    folders_match_servers(doc, s, r, first_run=False)
    st = doc["statistics"]
    check(st["messages_transferred"] == 0 and st["messages_skipped"] == COUNT,
          "rerun: %r" % st, r)
    check(all(f["unchanged"] and f["copied"] == 0 for f in doc["folders"]),
          "every folder should be left alone", r)
    check(st["folders_unchanged"] == len(doc["folders"]), "folders_unchanged %r" % st, r)
    no_secret(r.stdout.encode(), s, r)


@test
def dry_run_with_new_mail(s):
    conn = s.host1.imap(USER)
    for i in range(3):
        corpus.append_one(conn, ("Sent",), corpus.make_message(corpus.random.Random(900 + i)),
                          (r"\Seen",), '"04-Apr-2023 05:06:07 +0100"')
    conn.logout()
    path = scratch("dry.json")
    r = run_ferry(s, USER, "--json", path, "--dry")
    check(r.returncode == 0, "dry run failed", r)
    _, doc = load(path, r)
    common_checks(doc, s, r)
    figures_match_block(doc, r.stdout, r)
    st = doc["statistics"]
    check(doc["dry_run"] is True and st["messages_transferred"] == 0
          and st["messages_would_transfer"] == 3, "dry run: %r" % st, r)
    sent = [f for f in doc["folders"] if f["host1"] == "Sent"]
    check(len(sent) == 1 and sent[0]["copied"] == 3, "Sent: %r" % sent, r)
    r = run_ferry(s, USER)  # back to a mirror
    check(r.returncode == 0 and stat(r.stdout, "Messages transferred") == 3, "sync", r)
    identical(s, USER)


@test
def wrong_password_on_host2(s):
    path = scratch("failed.json")
    r = run_ferry(s, USER, "--json", path, pw2=BAD_PASSWORD)
    check(r.returncode == 162, "want exit 162 for a refused login on host2", r)
    raw, doc = load(path, r)
    no_secret(raw, s, r)
    common_checks(doc, s, r)
    check(doc["exit"] == {"code": 162, "class": "auth", "meaning": "login refused by host2",
                          "signal": None}, "exit %r" % doc["exit"], r)
    errs = doc["errors"]
    check(len(errs) == 1 and errs[0]["class"] == "fatal" and errs[0]["code"] == 162,
          "errors %r" % errs, r)
    check(errs[0]["message"] in r.stderr, "the error line is not the one printed", r)
    check(doc["statistics"]["errors"] == 1 and doc["folders"] == []
          and doc["statistics"]["messages_transferred"] == 0, "figures %r" % doc, r)
    check(doc["verdict"]["complete"] is False, "a failed login is no complete run", r)
    figures_match_block(doc, r.stdout, r)


@test
def signal_report(s):
    """SIGTERM in the middle: exit 6, the signal, and as much as was copied."""
    s.host2.reset(USER)
    path = scratch("signal.json")
    args = ferry_args(s, USER, "--json", path, "--nostate", "--maxmessagespersecond", "8")
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    # Wait until something is on host2, so the report has figures to give.
    while time.monotonic() < deadline:
        time.sleep(0.5)
        if snap(s.host2, USER).total() >= 5:
            break
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=120)
    r = subprocess.CompletedProcess(args, p.returncode, out, err)
    check(r.returncode == 6, "want exit 6 after SIGTERM", r)
    _, doc = load(path, r)
    common_checks(doc, s, r)
    figures_match_block(doc, out, r)
    check(doc["exit"]["signal"] == signal.SIGTERM and doc["exit"]["class"] == "signal",
          "exit %r" % doc["exit"], r)
    n2 = snap(s.host2, USER).total()
    st = doc["statistics"]
    check(0 < st["messages_transferred"] == n2 < COUNT + 3,
          "transferred %d, host2 holds %d" % (st["messages_transferred"], n2), r)
    check(doc["verdict"]["complete"] is False, "a stopped run is not complete", r)
    r = run_ferry(s, USER)
    check(r.returncode == 0, "rerun after the signal failed", r)
    identical(s, USER)


@test
def refused_log_file_is_reported(s):
    """A run refused before it starts still leaves its report."""
    logs = scratch("logs")
    os.makedirs(logs, exist_ok=True)
    evil = os.path.join(logs, "evil.txt")
    os.symlink(scratch("elsewhere.txt"), evil)
    path = scratch("refused.json")
    r = run_ferry(s, USER, "--json", path, "--logfile", "evil.txt")
    check(r.returncode == 1, "want exit 1 for a symlinked log file", r)
    check(not os.path.exists(scratch("elsewhere.txt")), "wrote through the symlink", r)
    _, doc = load(path, r)
    common_checks(doc, s, r)
    errs = doc["errors"]
    check(len(errs) == 1 and errs[0]["class"] == "fatal" and "symbolic link" in errs[0]["message"],
          "errors %r" % errs, r)


@test
def symlink_or_fifo_refused(s):
    target = scratch("precious.txt")
    with open(target, "w") as f:
        f.write("keep me\n")
    link = scratch("link.json")
    os.symlink(target, link)
    r = run_ferry(s, USER, "--json", link)
    check(r.returncode == 1 and "is a symbolic link" in r.stderr,
          "a symbolic link as --json FILE must be refused", r)
    check("++++ Statistics" not in r.stdout, "the run went on", r)
    with open(target) as f:
        check(f.read() == "keep me\n", "the link's target was changed")
    check(os.path.islink(link), "the link was replaced")
    fifo = scratch("fifo.json")
    os.mkfifo(fifo)
    t0 = time.monotonic()
    r = run_ferry(s, USER, "--json", fifo)
    check(r.returncode == 1 and "is a FIFO" in r.stderr, "a FIFO must be refused", r)
    check(time.monotonic() - t0 < 10, "waited on the FIFO")
    r = run_ferry(s, USER, "--json", "")
    check(r.returncode == 64 and "--json needs a file name" in r.stderr,
          "an empty --json must be a usage error", r)
    # In a batch every line would replace the same file: refused, nothing run.
    csv = scratch("users.csv")
    with open(csv, "w") as f:
        f.write("%s;%s;%s;%s;%s;%s;--port1 %d --port2 %d --notls1 --notls2\n"
                % (s.host1.host, USER, s.host1.password(USER), s.host2.host, USER,
                   s.host2.password(USER), s.host1.port, s.host2.port))
    path = scratch("batch.json")
    r = subprocess.run([itest.BIN, "--csv", csv, "--json", path, "--logdir", scratch("blogs")],
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 64 and "--json cannot be used with --csv" in r.stderr
          and not os.path.exists(path) and not os.path.exists(scratch("blogs")),
          "--json with --csv must be refused before anything runs", r)


if __name__ == "__main__":
    sys.exit(itest.main([full_sync_report, rerun_to_stdout, dry_run_with_new_mail,
                         wrong_password_on_host2, signal_report, refused_log_file_is_reported,
                         symlink_or_fifo_refused]))
