#!/usr/bin/env python3
"""Summary of an smtp-bench.sh results directory (throughput.jsonl, one JSON
line per run as the kit's bench-run.py writes them): per mode and daemon the
median over the rounds of accepted and end-to-end messages/s, CPU ms per
message and peak PSS / RSS-sum, then the ratios ours/sendmail and
ours/postfix (taken per round, between runs made back to back, then the
median).  A run that did not finish (no end-to-end time) is shown as n/a."""
import collections, json, statistics, sys

d = sys.argv[1]
rows = [json.loads(l) for l in open(f"{d}/throughput.jsonl") if l.strip()]
try:
    cond = open(f"{d}/conditions.txt").read().strip()
except OSError:
    cond = ""
g = collections.OrderedDict()
for r in rows:
    g.setdefault((r["mode"], r["name"]), []).append(r)
NAMES = {"swift": "ours", "sendmail": "sendmail 8.17", "postfix": "postfix 3.7"}
FIELDS = [("accept_rate", "accepted msg/s", "{:.0f}"), ("e2e_rate", "end-to-end msg/s", "{:.0f}"),
          ("cpu_ms_per_msg", "CPU ms/msg", "{:.2f}"), ("peak_pss_mb", "peak PSS MB", "{:.1f}"),
          ("peak_rss_sum_mb", "peak RSS-sum MB", "{:.1f}")]


def med(v):
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None


def fmt(x, f):
    return "n/a" if x is None else f.format(x)


r0 = rows[0]
print(f"## SMTP daemon benchmark (N={r0['count']}, sessions={r0['sessions']}, size={r0['size']}, "
      f"one message per connection), median of the rounds\n")
if cond:
    print("\n".join("    " + l for l in cond.splitlines()) + "\n")
print("| mode | daemon | runs | " + " | ".join(h for _, h, _ in FIELDS) + " |")
print("|---|---|---:|" + "---:|" * len(FIELDS))
for (mode, name), v in g.items():
    done = sum(1 for x in v if x.get("e2e_rate"))
    cells = [fmt(med([x.get(k) for x in v]), f) for k, _, f in FIELDS]
    print(f"| {mode} | {NAMES.get(name, name)} | {done}/{len(v)} | " + " | ".join(cells) + " |")

print("\n## Ratios ours/peer (per round, median; > 1 is better for msg/s, < 1 is better for CPU and memory)\n")
print("| mode | vs | accepted msg/s | end-to-end msg/s | CPU ms/msg | peak PSS | peak RSS-sum |")
print("|---|---|---:|---:|---:|---:|---:|")
for (mode, name), v in g.items():
    if name != "swift":
        continue
    for peer in ("sendmail", "postfix"):
        base = g.get((mode, peer))
        if not base:
            continue
        cells = []
        for k in ("accept_rate", "e2e_rate", "cpu_ms_per_msg", "peak_pss_mb", "peak_rss_sum_mb"):
            rat = [a[k] / b[k] for a, b in zip(v, base) if a.get(k) and b.get(k)]
            cells.append(fmt(med(rat), "{:.2f}"))
        print(f"| {mode} | {NAMES[peer]} | " + " | ".join(cells) + " |")
