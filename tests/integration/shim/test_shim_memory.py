"""The shim's memory per idle container (the budget is 2 MB per container; one shared process)."""
import asyncio
import gc

import pytest

from shimtest_support import run

pytestmark = pytest.mark.root

N = 50


def test_rss_per_idle_container(shim):
    s = shim
    bundle = s.bundle(["sleep", "600"])
    ids = [s.cid("mem") for _ in range(N)]

    async def up(cid):
        await s.client.create(cid, bundle=bundle, runtime=s.runtime, runtime_root=s.runtime_root,
                              log_path=s.log_path(cid))
        await s.client.start(cid)

    async def body():
        await up(ids[0])
        await asyncio.sleep(0.2)
        one = s.rss_kb()
        for cid in ids[1:]:
            await up(cid)
        await asyncio.sleep(0.2)
        many = s.rss_kb()
        per = (many - one) / (N - 1)
        print(f"\nshim RSS: {one} KiB with 1 container, {many} KiB with {N}: {per:.1f} KiB per container")
        assert per < 512, f"{per:.0f} KiB per idle container"
        for cid in ids:
            await s.client.delete(cid, force=True)
    gc.collect()
    run(body(), timeout=120)
