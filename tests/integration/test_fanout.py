#!/usr/bin/env python3
"""Integration tests of the recipes that spread a CSV over several machines
(README "Beyond one machine"): scripts/fanout-parallel (GNU parallel, with
two ssh logins played by a fake ssh that runs the command here) and the
Kubernetes Indexed Job of scripts/k8s (its manifest checked, its entrypoint
run here as pod index 1 would run it).

Assertions are on the servers' real state (oracle), the job log, the batch
folders imapferry wrote, exit codes, and on the argv and environment of
every process the recipes start, read from /proc while they run: no
password may appear in any of them.
Usage: test_fanout.py --bin path/to/imapferry
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import corpus  # noqa: E402
import harness  # noqa: E402
import itest  # noqa: E402
from itest import check, identical, test  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FANOUT = os.path.join(ROOT, "scripts", "fanout-parallel")
K8S = os.path.join(ROOT, "scripts", "k8s")
USERS = ("user1", "user2", "user3")
COUNT = 15  # messages per account
WRONG = "Wr0ngPassw0rd-fanout"

# Plays ssh for GNU parallel: drops ssh's options and the host, and runs
# the command with bash -c as sshd would with a login shell.
FAKE_SSH = r"""#!/bin/sh
echo "$*" >> "$0.log"
while [ $# -gt 0 ]; do
    case $1 in -l|-p|-o|-i|-F) shift 2 ;; -*) shift ;; *) break ;; esac
done
shift
[ "${1:-}" = "--" ] && shift
exec bash -c "$*"
"""


def passwords(s):
    return [s.host1.password(u) for u in USERS] + [s.host2.password(u) for u in USERS] + [WRONG]


def watch(pid, seen, done):
    """Records argv and environment of pid and its descendants until done."""
    while not done.is_set():
        for p, start in harness._descendants(pid):
            if (p, start) in seen:
                continue
            try:
                with open("/proc/%d/cmdline" % p, "rb") as f:
                    argv = f.read()
                with open("/proc/%d/environ" % p, "rb") as f:
                    env = f.read()
            except OSError:
                continue
            if argv:
                seen[(p, start)] = (argv, env)
        time.sleep(0.002)


def run_watched(args, env=None, timeout=280):
    """Runs args; returns the result and what watch() saw of its processes."""
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env)
    seen, done = {}, threading.Event()
    t = threading.Thread(target=watch, args=(p.pid, seen, done))
    t.start()
    try:
        out, err = p.communicate(timeout=timeout)
    finally:
        done.set()
        t.join()
    return subprocess.CompletedProcess(args, p.returncode, out, err), seen


def no_secret(s, seen, r, want_ferry=True):
    check(seen or not want_ferry, "no process was seen while the recipe ran", r)
    ferries = 0
    for (pid, _), (argv, env) in seen.items():
        words = argv.decode("utf-8", "replace").split("\0")
        ferries += os.path.basename(words[0]) == "imapferry"
        for pw in passwords(s):
            check(pw.encode() not in argv, "a password is in the argv of %d: %r" % (pid, words), r)
            check(pw.encode() not in env, "a password is in the environment of %d (%r)" % (
                pid, words[:3]), r)
    check(ferries or not want_ferry, "no imapferry process was seen", r)
    for pw in passwords(s):
        check(pw not in r.stdout + r.stderr, "a password is in the recipe's output", r)


def load_accounts(s, seed):
    counts = {}
    for n, u in enumerate(USERS):
        s.host1.reset(u)
        s.host2.reset(u)
        summary = corpus.load(s.host1.imap(u), seed=seed + n, count=COUNT)
        counts[u] = sum(summary.values())
    return counts


def account_line(s, user, pw1=None, extra=None):
    line = "127.0.0.1;%s;%s;127.0.0.1;%s;%s" % (user, pw1 or s.host1.password(user), user,
                                                s.host2.password(user))
    return line + (";" + extra if extra else "")


def write_secret(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def ferry_opts(s, name):
    return ["--port1", str(s.host1.port), "--port2", str(s.host2.port), "--notls1", "--notls2",
            "--logdir", os.path.join(itest.WORK, name + "-logs"),
            "--statedir", os.path.join(itest.WORK, name + "-state")]


def batch_dirs(name):
    return set(glob.glob(os.path.join(itest.WORK, name + "-logs", "batch-*")))


def summary_lines(d):
    with open(os.path.join(d, "summary.json")) as f:
        return json.load(f)["lines"]


def read_joblog(path, r):
    with open(path) as f:
        rows = [ln.rstrip("\n").split("\t") for ln in f if ln.strip()]
    check(rows and rows[0][:9] == ["Seq", "Host", "Starttime", "JobRuntime", "Send", "Receive",
                                   "Exitval", "Signal", "Command"], "joblog header %r" % rows[:1], r)
    return [{"seq": int(x[0]), "host": x[1], "exit": int(x[6]), "signal": int(x[7]),
             "command": x[8]} for x in rows[1:]]


# ---- GNU parallel ----

@test
def parallel_fanout_resume_failed(s):
    counts = load_accounts(s, 70)
    csv = os.path.join(itest.WORK, "fanout.csv")
    lines = ["# host1;user1;password1;host2;user2;password2;extra options",
             account_line(s, "user1"),
             "",
             "   # user2 with a wrong host1 password",
             account_line(s, "user2", pw1=WRONG),
             account_line(s, "user3", extra="--timeout 60")]
    write_secret(csv, "\n".join(lines) + "\n")
    ssh = os.path.join(itest.WORK, "fakessh")  # PARALLEL_SSH is split at blanks
    with open(ssh, "w") as f:
        f.write(FAKE_SSH)
    os.chmod(ssh, 0o700)
    joblog = os.path.join(itest.WORK, "fanout.joblog")
    env = dict(os.environ, PARALLEL_SSH=ssh)
    base = [FANOUT, "--jobs", "2", "--joblog", joblog, "--imapferry", itest.BIN]
    opts = ["--"] + ferry_opts(s, "fanout")

    # Two "machines", two accounts at once on each.
    before = batch_dirs("fanout")
    r, seen = run_watched(base + ["-S", "2/ferry-a", "--sshlogin", "2/ferry-b", csv] + opts,
                          env=env)
    r.args_shown = " ".join(r.args)
    check(r.returncode == 1, "want exit 1 (GNU parallel: one job failed)", r)
    jobs = read_joblog(joblog, r)
    check(sorted((j["seq"], j["exit"]) for j in jobs) == [(1, 0), (2, 111), (3, 0)],
          "joblog: want account 2 failed with 111, 1 and 3 done: %r" % jobs, r)
    check({j["host"] for j in jobs} <= {"ferry-a", "ferry-b"}, "jobs ran elsewhere: %r" % jobs, r)
    with open(ssh + ".log") as f:
        check(len(f.read().splitlines()) >= 3, "the jobs did not go through ssh", r)
    check(all("--csv /dev/stdin" in j["command"] for j in jobs), "job command %r" % jobs, r)
    identical(s, "user1")
    identical(s, "user3")
    check(itest.snap(s.host2, "user2").total() == 0, "user2 was synced with a wrong password", r)
    new = batch_dirs("fanout") - before
    check(len(new) == 3, "want 3 batch folders (one per job), got %d" % len(new), r)
    got = sorted((e["user1"], e["class"]) for d in new for e in summary_lines(d))
    check(got == [("user1", "ok"), ("user2", "auth"), ("user3", "ok")], "batches %r" % got, r)
    check(re.search(r"^account 2\t.*user2", r.stdout, re.M),
          "job output is not tagged with its account number", r)
    no_secret(s, seen, r)

    # Fixed in place: --resume-failed reruns account 2 alone, here.
    lines[4] = account_line(s, "user2")
    write_secret(csv, "\n".join(lines) + "\n")
    before = batch_dirs("fanout")
    r, seen = run_watched(base + ["--resume-failed", csv] + opts, env=env)
    check(r.returncode == 0, "want exit 0 after the fix", r)
    jobs2 = read_joblog(joblog, r)
    check(jobs2[:3] == jobs and len(jobs2) == 4, "joblog after the rerun %r" % jobs2, r)
    check((jobs2[3]["seq"], jobs2[3]["exit"], jobs2[3]["host"]) == (2, 0, ":"),
          "rerun: %r" % jobs2[3], r)
    new = batch_dirs("fanout") - before
    check(len(new) == 1, "want one batch rerun, got %d" % len(new), r)
    (e,) = summary_lines(new.pop())
    check((e["user1"], e["class"], e["messages_transferred"]) == ("user2", "ok", counts["user2"]),
          "rerun batch %r" % e, r)
    for u in USERS:
        identical(s, u)
    no_secret(s, seen, r)

    # Nothing failed any more: nothing runs.
    before = batch_dirs("fanout")
    r, _ = run_watched(base + ["--resume-failed", csv] + opts, env=env)
    check(r.returncode == 0 and len(read_joblog(joblog, r)) == 4, "a third run ran jobs", r)
    check(batch_dirs("fanout") == before, "a third run made a batch folder", r)

    # A password among the options for every job would be in ps everywhere.
    r = subprocess.run(base + [csv, "--", "--password1", WRONG], capture_output=True,
                       text=True, timeout=60)
    check(r.returncode == 64 and "--passfile1" in r.stderr and "\n" not in r.stderr.strip(),
          "want a one-line refusal of --password1", r)
    check(len(read_joblog(joblog, r)) == 4, "a refused run ran jobs", r)


# ---- Kubernetes ----

def _strip_comment(s):
    quote = None
    for i, c in enumerate(s):
        if quote:
            quote = None if c == quote else quote
        elif c in "\"'" and (i == 0 or s[i - 1] in " \t[,:"):
            quote = c
        elif c == "#" and (i == 0 or s[i - 1] in " \t"):
            return s[:i].rstrip()
    return s.rstrip()


def _scalar(t):
    t = t.strip()
    if t.startswith('"'):
        return json.loads(t)
    if t.startswith("'"):
        return t[1:-1].replace("''", "'")
    if t.startswith("["):
        return [_scalar(x) for x in re.findall(r'"[^"]*"|\'[^\']*\'|[^,\s][^,]*', t[1:-1])]
    if t == "{}":
        return {}
    if t in ("true", "false"):
        return t == "true"
    if t in ("", "~", "null"):
        return None
    if re.fullmatch(r"0[0-7]+", t):
        return int(t, 8)  # YAML 1.1, as Kubernetes reads it: 0440 is octal
    if re.fullmatch(r"-?[0-9]+", t):
        return int(t)
    return t


def _indent(line):
    return len(line) - len(line.lstrip(" "))


def _next(lines, i):
    while i < len(lines) and not _strip_comment(lines[i]).strip():
        i += 1
    return i


def _block(lines, i, ind):
    """The map or list whose lines start at i with indent ind."""
    i = _next(lines, i)
    text = _strip_comment(lines[i]).strip()
    if text == "-" or text.startswith("- "):
        out = []
        while True:
            i = _next(lines, i)
            if i >= len(lines) or _indent(lines[i]) != ind:
                return out, i
            text = _strip_comment(lines[i]).strip()
            if not (text == "-" or text.startswith("- ")):
                return out, i
            item = text[1:].strip()
            if re.match(r"[\w./-]+:( |$)", item):
                lines[i] = " " * (ind + 2) + lines[i][ind + 2:]
                v, i = _block(lines, i, ind + 2)
            elif item:
                v, i = _scalar(item), i + 1
            else:
                v, i = _block(lines, i + 1, _indent(lines[_next(lines, i + 1)]))
            out.append(v)
    out = {}
    while True:
        i = _next(lines, i)
        if i >= len(lines) or _indent(lines[i]) != ind:
            return out, i
        text = _strip_comment(lines[i]).strip()
        m = re.fullmatch(r"([\w./-]+):(?: (.*))?", text)
        if not m:
            raise ValueError("line %d: cannot read %r" % (i + 1, lines[i]))
        key, rest = m.group(1), (m.group(2) or "").strip()
        i += 1
        if rest == "|":
            body = []
            while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > ind):
                body.append(lines[i])
                i += 1
            while body and not body[-1].strip():
                body.pop()
            cut = min(_indent(b) for b in body if b.strip())
            out[key] = "\n".join(b[cut:] for b in body) + "\n"
        elif rest:
            out[key] = _scalar(rest)
        else:
            j = _next(lines, i)
            nxt = _strip_comment(lines[j]).strip() if j < len(lines) else ""
            if j < len(lines) and (_indent(lines[j]) > ind or
                                   (_indent(lines[j]) == ind and nxt.startswith("- "))):
                out[key], i = _block(lines, j, _indent(lines[j]))
            else:
                out[key] = None


def read_yaml(text):
    """The documents of a manifest, read by a tiny YAML reader that knows
    only what Kubernetes manifests like ours use."""
    docs, cur = [], []
    for line in text.split("\n") + ["---"]:
        if line.rstrip() == "---":
            if _next(cur, 0) < len(cur):
                docs.append(_block(cur, 0, 0)[0])
            cur = []
        else:
            cur.append(line)
    return docs


def kubectl_docs(path):
    """(docs, note): the manifest as kubectl reads it, after a client dry
    run when a cluster answers; (None, why) without kubectl."""
    if shutil.which("kubectl") is None:
        return None, "no kubectl (Debian: kubernetes-client): manifest read by the test only"
    r = subprocess.run(["kubectl", "apply", "--dry-run=client", "--request-timeout=5s",
                        "-f", path], capture_output=True, text=True, timeout=120)
    if r.returncode == 0:
        note = "kubectl apply --dry-run=client: " + " ".join(r.stdout.split())
    elif re.search(r"connection refused|no configuration|dial tcp|Unable to connect|"
                   r"couldn't get current server|failed to download openapi", r.stderr):
        note = ("kubectl reaches no cluster, so no --dry-run=client: manifest parsed by "
                "kubectl --local and checked by the test")
    else:
        check(False, "kubectl apply --dry-run=client refused the manifest", r)
    r = subprocess.run(["kubectl", "label", "--local", "-f", path, "checked=yes", "-o", "json"],
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, "kubectl cannot read the manifest", r)
    docs, pos, dec = [], 0, json.JSONDecoder()
    while r.stdout[pos:].strip():
        pos += len(r.stdout[pos:]) - len(r.stdout[pos:].lstrip())
        doc, pos = dec.raw_decode(r.stdout, pos)
        docs.extend(doc["items"] if doc.get("kind") == "List" else [doc])
    for d in docs:
        d["metadata"]["labels"].pop("checked")
    return docs, note


@test
def k8s_manifest(s):
    path = os.path.join(K8S, "imapferry-job.yaml")
    with open(path) as f:
        docs = read_yaml(f.read())
    kdocs, note = kubectl_docs(path)
    print("     NOTE: %s" % note, flush=True)
    if kdocs is not None:
        check(kdocs == docs, "kubectl reads the manifest differently from the test:\n%s\n%s" % (
            json.dumps(kdocs, sort_keys=True), json.dumps(docs, sort_keys=True)))
    kinds = {d["kind"]: d for d in docs}
    check(sorted(kinds) == ["ConfigMap", "Job", "PersistentVolumeClaim"],
          "want a ConfigMap, a PVC and a Job (no Secret: it holds the CSV): %r" % sorted(kinds))
    cm, pvc, job = kinds["ConfigMap"], kinds["PersistentVolumeClaim"], kinds["Job"]
    with open(os.path.join(K8S, "entrypoint.sh")) as f:
        check(cm["data"]["entrypoint.sh"] == f.read(),
              "the ConfigMap's entrypoint.sh differs from scripts/k8s/entrypoint.sh")
    spec = job["spec"]
    check(job["apiVersion"] == "batch/v1" and spec["completionMode"] == "Indexed" and
          isinstance(spec["completions"], int) and spec["completions"] >= 1 and
          isinstance(spec["parallelism"], int), "not an Indexed Job: %r" % spec)
    pod = spec["template"]["spec"]
    check(pod["restartPolicy"] == "Never", "restartPolicy (backoffLimitPerIndex needs Never)")
    (c,) = pod["containers"]
    vols = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["name"]: m for m in c["volumeMounts"]}
    check(set(vols) == set(mounts), "volumes %r vs mounts %r" % (sorted(vols), sorted(mounts)))
    # The entrypoint comes from the ConfigMap and is what the pod runs.
    (ep,) = [n for n, v in vols.items() if "configMap" in v]
    check(vols[ep]["configMap"]["name"] == cm["metadata"]["name"], "entrypoint volume")
    check(c["command"][-1] == mounts[ep]["mountPath"] + "/entrypoint.sh", "command %r" % c)
    # The CSV is a file from a Secret, read-only, readable by nobody else.
    (sec,) = [n for n, v in vols.items() if "secret" in v]
    env = {e["name"]: e for e in c.get("env", [])}
    check(os.path.dirname(env["IMAPFERRY_CSV"]["value"]) == mounts[sec]["mountPath"] and
          mounts[sec].get("readOnly") is True and vols[sec]["secret"]["defaultMode"] & 0o007 == 0,
          "the CSV is not the Secret's read-only file: %r %r" % (vols[sec], mounts[sec]))
    check("envFrom" not in c and all(set(e) == {"name", "value"} for e in env.values()),
          "an environment variable comes from elsewhere (a Secret?): %r" % env)
    # State and logs on the claim.
    (st,) = [n for n, v in vols.items() if "persistentVolumeClaim" in v]
    check(vols[st]["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"], "claim")
    a = c["args"]
    for opt in ("--statedir", "--logdir"):
        check(opt in a and a[a.index(opt) + 1].startswith(mounts[st]["mountPath"] + "/"),
              "%s is not on the claim: %r" % (opt, a))
    for rule in spec.get("podFailurePolicy", {}).get("rules", []):
        check(rule["onExitCodes"]["containerName"] == c["name"], "podFailurePolicy container")


def entrypoint(s, csv, index, name):
    env = dict(os.environ, JOB_COMPLETION_INDEX=str(index), IMAPFERRY_CSV=csv,
               IMAPFERRY_BIN=itest.BIN)
    # /bin/sh: the pod's shell, dash on Debian.
    return run_watched(["/bin/sh", os.path.join(K8S, "entrypoint.sh")] + ferry_opts(s, name),
                       env=env)


@test
def k8s_entrypoint_picks_its_line(s):
    counts = load_accounts(s, 90)
    csv = os.path.join(itest.WORK, "k8s users.csv")
    write_secret(csv, "\ufeff# index: 0, 1, 2\r\n" + "\n".join([
        account_line(s, "user1"), "", "  \t# a comment between",
        account_line(s, "user2", extra="--timeout 60"), account_line(s, "user3")]) + "\n")
    before = batch_dirs("k8s")
    r, seen = entrypoint(s, csv, 1, "k8s")
    check(r.returncode == 0, "index 1: want exit 0", r)
    identical(s, "user2")
    for u in ("user1", "user3"):
        check(itest.snap(s.host2, u).total() == 0, "index 1 synced %s" % u, r)
    new = batch_dirs("k8s") - before
    check(len(new) == 1, "want one batch folder", r)
    (e,) = summary_lines(new.pop())
    check((e["user1"], e["class"], e["messages_transferred"]) == ("user2", "ok", counts["user2"]),
          "index 1 ran %r" % e, r)
    no_secret(s, seen, r)

    for index, want in ((3, "has only 3 account lines"), ("x", "not a number"), ("", "not a")):
        before = batch_dirs("k8s")
        r, seen = entrypoint(s, csv, index, "k8s")
        check(r.returncode == 64 and want in r.stderr, "index %r: want exit 64" % index, r)
        check(batch_dirs("k8s") == before, "index %r ran a batch" % index, r)
        no_secret(s, seen, r, want_ferry=False)
    for u in ("user1", "user3"):
        check(itest.snap(s.host2, u).total() == 0, "a bad index synced %s" % u)


if __name__ == "__main__":
    tests = [parallel_fanout_resume_failed, k8s_manifest, k8s_entrypoint_picks_its_line]
    if shutil.which("parallel") is None:
        if os.environ.get("CI") == "true":
            print("FAIL: GNU parallel is missing (scripts/deps installs it) and CI=true")
            sys.exit(1)
        print("SKIP: no parallel (GNU parallel; scripts/deps installs it): "
              "parallel_fanout_resume_failed not run", flush=True)
        tests.remove(parallel_fanout_resume_failed)
    sys.exit(itest.main(tests))
