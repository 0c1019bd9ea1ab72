"""Finding a service over N synthetic services (500 by default): the time to build the search
index once (jieba and pypinyin over every name, keyword, life event, department and summary),
then the latency of searches typed on the portal (Chinese words, a sentence, pinyin initials,
English, a 10,000-character paste), each run against the built index.

    PYTHONPATH=platform .venv/bin/python bench/find.py [N]
"""

from __future__ import annotations

import random
import statistics
import sys
import time

from tongban.search.index import IndexCache, ServiceIndex
from tongban.search.life_events import LIFE_EVENTS
from tongban.search.text import words
from tongban.services import PublishedService

SUBJECTS = ["户口", "居住证", "社保卡", "营业执照", "出生医学证明", "公积金", "驾驶证", "护照",
            "残疾人证", "养老金", "失业登记", "人才引进", "食品经营许可", "建设工程规划许可",
            "不动产登记", "婚姻登记", "新生儿医保", "义务教育入学", "企业注销", "税务登记"]
ACTIONS = ["申请", "变更", "补领", "注销", "迁入", "核发", "延续", "查询", "登记", "备案"]
DEPARTMENTS = [("sh-gaj", "上海市公安局"), ("sh-rsj", "上海市人力资源和社会保障局"),
               ("sh-scjgj", "上海市市场监督管理局"), ("sh-mzj", "上海市民政局"),
               ("sh-zjw", "上海市住房和城乡建设管理委员会"), ("sh-jyj", "上海市教育委员会")]
QUERIES = ["落户", "户口迁入", "我想办理居住证", "hkqr", "jzz", "business licence", "社保",
           "营业执照变更", "出生", "落" * 10_000]


def synthetic(n: int, seed: int = 500) -> list[PublishedService]:
    rng = random.Random(seed)
    services = []
    for i in range(n):
        subject, action = rng.choice(SUBJECTS), rng.choice(ACTIONS)
        code, name = rng.choice(DEPARTMENTS)
        events = rng.sample([e.id for e in LIFE_EVENTS], 2)
        services.append(PublishedService(f"svc-{i:04d}", 1, {
            "name": {"zh": f"{subject}{action}（{i}）", "en": f"Service {i}: {subject} {action}"},
            "department": {"code": code, "name": {"zh": name, "en": code}},
            "summary": {"zh": f"符合条件的人员可以办理{subject}{action}，材料齐全的当场受理。",
                        "en": f"People who qualify can apply for {subject} {action}."},
            "life_events": events,
            "keywords": {"zh": [f"{subject}{a}" for a in rng.sample(ACTIONS, 2)],
                         "en": ["hukou", "permit"][: i % 3]},
        }))
    return services


def main(n: int) -> None:
    words("预热")  # the jieba dictionary loads once per process, on the first search
    services = synthetic(n)
    start = time.perf_counter()
    index = ServiceIndex(services)
    build = time.perf_counter() - start
    print(f"{n} services: index built in {build * 1000:.0f} ms (once per published set)")
    cache = IndexCache()
    by_id = dict(enumerate(services))
    cache.get(tuple(by_id), lambda ids: {i: by_id[i] for i in ids})
    by_id[n] = services[0]  # one service published again: a new version row
    start = time.perf_counter()
    cache.get(tuple(i for i in by_id if i != 0), lambda ids: {i: by_id[i] for i in ids})
    print(f"  one service republished: index rebuilt in {(time.perf_counter() - start) * 1000:.1f} ms")
    for query in QUERIES:
        times = []
        for _ in range(20):
            start = time.perf_counter()
            hits = index.search(query)
            times.append(time.perf_counter() - start)
        shown = query if len(query) < 20 else f"{query[:3]}… ({len(query)} chars)"
        print(f"  {shown:22} {len(hits):4} hits  median {statistics.median(times) * 1000:6.2f} ms"
              f"  max {max(times) * 1000:6.2f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
