"""Python side of `npm run bench:producer`: publishes plans at a fixed rate with
the intentgate_producer package and waits for each one's own result.

Reads one JSON object on stdin: {"url", "prefix", "key_id", "secret", "source",
"rate", "count", "warmup", "workers", "package_dir", "plan_prefix"}. Plans are due on a fixed
schedule (plan i at t0 + i / rate); a pool of worker threads, each with its
own Producer (its own connection), calls ``submit`` (publish, then wait for
the own result). Latency = result returned - due time, so a late start counts.
Prints one JSON line: {"latencies_ms": [...], "decisions": {...}}.
"""
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

cfg = json.load(sys.stdin)
sys.path.insert(0, cfg["package_dir"])
import intentgate_producer as ig  # noqa: E402

key = ig.HmacKey(cfg["key_id"], cfg["secret"])
local = threading.local()
producers = []
lock = threading.Lock()


def producer():
    p = getattr(local, "p", None)
    if p is None:
        p = ig.Producer(cfg["url"], key=key, prefix=cfg["prefix"])
        local.p = p
        with lock:
            producers.append(p)
    return p


def one(i, due):
    plan = ig.build_plan(
        plan_id=f"{cfg['plan_prefix']}-{i}",
        source=cfg["source"],
        symbol="BTCUSDT",
        side="BUY" if i % 2 else "SELL",
        qty="0.001",
    )
    result = producer().submit(plan, timeout=30.0)
    return i, (time.perf_counter() - due) * 1000.0, result.decision


rate, count = cfg["rate"], cfg["count"]
out = []
with ThreadPoolExecutor(max_workers=cfg["workers"]) as pool:
    futures = []
    t0 = time.perf_counter() + 0.2
    for i in range(count):
        due = t0 + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        futures.append(pool.submit(one, i, due))
    for f in futures:
        out.append(f.result())
for p in producers:
    p.close()
decisions = {}
for _, _, d in out:
    decisions[d] = decisions.get(d, 0) + 1
lat = [ms for i, ms, _ in sorted(out) if i >= cfg["warmup"]]
print(json.dumps({"latencies_ms": lat, "decisions": decisions}))
