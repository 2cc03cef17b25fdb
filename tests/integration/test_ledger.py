#!/usr/bin/env python3
"""Integration tests of --ledger: one JSON line per message considered,
checked against its schema, the statistics block and the servers' real
UIDs (every host1 message once, every host2 UID real).
Usage: test_ledger.py --bin path/to/imapferry
"""
import collections
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import corpus  # noqa: E402
import itest  # noqa: E402
from itest import check, identical, run_ferry, stat, test  # noqa: E402

USER = "user3"
MAXSIZE = 20000
KEYS = {"v": int, "folder1": str, "folder2": str, "uid1": (int, type(None)),
        "uid2": (int, type(None)),
        "identity": str, "size": int, "outcome": str, "reason": (str, type(None))}
OUTCOMES = {"copied", "already there", "filtered", "too big", "failed", "would be copied"}


def read(path):
    with open(path, encoding="utf-8") as f:
        lines = [json.loads(line) for line in f]
    for e in lines:
        check(set(e) == set(KEYS), "ledger keys %r" % sorted(e))
        for k, t in KEYS.items():
            check(isinstance(e[k], t), "ledger %s: %r" % (k, e[k]))
        check(e["v"] == 1 and e["outcome"] in OUTCOMES, "ledger line %r" % e)
        check(e["uid1"] is not None, "a sync line without host1 UID: %r" % e)
        check(len(e["identity"]) == 32 and int(e["identity"], 16) >= 0, "identity %r" % e)
    return lines


def uids(host, folder_wire):
    conn = host.imap(USER)
    typ, _ = conn.select('"%s"' % folder_wire, readonly=True)
    check(typ == "OK", "cannot select %s" % folder_wire)
    typ, data = conn.uid("SEARCH", None, "ALL")
    conn.logout()
    return sorted(int(u) for u in data[0].split())


@test
def ledger_accounts_for_every_message(s):
    corpus.load(s.host1.imap(USER), seed=31, count=60)
    path = os.path.join(itest.WORK, "dry.jsonl")
    r = run_ferry(s, USER, "--dry", "--ledger", path, "--maxsize", str(MAXSIZE))
    check(r.returncode == 0, "dry run failed", r)
    got = collections.Counter(e["outcome"] for e in read(path))
    check(set(got) <= {"would be copied", "filtered"} and got["would be copied"] > 0,
          "dry ledger outcomes %r" % got, r)

    path = os.path.join(itest.WORK, "first.jsonl")
    r = run_ferry(s, USER, "--ledger", path, "--maxsize", str(MAXSIZE), "--nostate")
    check(r.returncode == 0, "first run failed", r)
    lines = read(path)
    got = collections.Counter(e["outcome"] for e in lines)
    check(got["copied"] == stat(r.stdout, "Messages transferred"),
          "copied lines %r vs the statistics" % got, r)
    check(got["filtered"] > 0 and all(e["reason"] == "--maxsize" and e["size"] > MAXSIZE
                                      for e in lines if e["outcome"] == "filtered"),
          "want the big messages filtered by --maxsize", r)
    # Every host1 message of every folder exactly once.
    by_folder = collections.defaultdict(list)
    for e in lines:
        by_folder[(e["folder1"], e["folder2"])].append(e["uid1"])
    for (f1, f2), u in by_folder.items():
        check(sorted(u) == uids(s.host1, f1), "folder %s: ledger UIDs differ from host1" % f1)

    path = os.path.join(itest.WORK, "rerun.jsonl")
    r = run_ferry(s, USER, "--ledger", path, "--maxsize", str(MAXSIZE), "--nostate")
    check(r.returncode == 0, "rerun failed", r)
    lines = read(path)
    there = [e for e in lines if e["outcome"] == "already there"]
    check(len(there) == stat(r.stdout, "Messages skipped") - got["filtered"] and there,
          "already-there lines vs the statistics", r)
    for (f1, f2) in {(e["folder1"], e["folder2"]) for e in there}:
        real = set(uids(s.host2, f2))
        check(all(e["uid2"] in real for e in there if e["folder2"] == f2),
              "a uid2 in %s that host2 does not have" % f2)
    # Copy the rest for the oracle.
    r = run_ferry(s, USER, "--nostate")
    identical(s, USER)


if __name__ == "__main__":
    sys.exit(itest.main([ledger_accounts_for_every_message]))
