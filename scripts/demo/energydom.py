"""What the Energy dashboard draws, read from the live page in headless Chromium.

A screenshot proves that a page rendered, not what it shows. This opens the
dashboard logged in (the frontend's own auth callback, as ``hademo.screenshot``
does), then asks the page itself over the DevTools protocol: walking every shadow
root, it reports the "There is no data to show" notices and, for every chart of
every ``hui-energy-*`` card, the ECharts series the card handed to the chart
(type, how many values are non-zero, the names shown with a non-zero value).
Only Debian's chromium and aiohttp are used; the debugging port is Chromium's
own choice on 127.0.0.1 (read from ``DevToolsActivePort``), inside the demo's
loopback-only namespace.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

NO_DATA = "There is no data to show"

# Runs in the page: a JSON summary of the energy cards' charts and the no-data notices.
_PROBE_JS = r"""
(() => {
  const NO_DATA = "__NO_DATA__";
  const out = {noData: [], charts: [], cards: []};
  const value = (d) => {
    if (Array.isArray(d)) return d[d.length - 1];
    if (d && typeof d === "object") {
      const v = d.value;
      return Array.isArray(v) ? v[v.length - 1] : v;
    }
    return d;
  };
  const label = (d) => (d && typeof d === "object" && !Array.isArray(d) ? d.name : null);
  const walk = (root, card) => {
    for (const el of root.querySelectorAll("*")) {
      const tag = el.tagName.toLowerCase();
      let here = card;
      if (tag.startsWith("hui-energy-")) { here = tag; out.cards.push(tag); }
      if (tag === "ha-chart-base") {
        const chart = el.chart || el._chart;
        let opt = null;
        try { opt = chart && chart.getOption ? chart.getOption() : null; } catch (e) { opt = null; }
        const raw = opt ? [].concat(opt.series || []) : [];
        const series = raw.map((s) => {
          const data = s.data || [];
          const values = data.map(value).filter((v) => typeof v === "number");
          return {type: s.type || null, name: s.name || null, points: data.length,
                  nonzero: values.filter((v) => v !== 0).length};
        });
        // Names that carry a non-zero value: series names, data-item names, and the
        // category of every index where some series has a non-zero value.
        const shown = new Set();
        raw.forEach((s, k) => {
          if (series[k].nonzero > 0 && s.name) shown.add(s.name);
          (s.data || []).forEach((d) => {
            const v = value(d);
            if (label(d) && typeof v === "number" && v !== 0) shown.add(label(d));
          });
        });
        const axes = opt ? [].concat(opt.yAxis || [], opt.xAxis || []) : [];
        axes.forEach((a) => {
          ((a && a.data) || []).forEach((x, i) => {
            const name = x && typeof x === "object" ? x.value : x;
            const hit = raw.some((s) => {
              const v = value((s.data || [])[i]);
              return typeof v === "number" && v !== 0;
            });
            if (typeof name === "string" && hit) shown.add(name);
          });
        });
        out.charts.push({card: here, hasChart: !!chart, series, shown: [...shown]});
      }
      if (el.shadowRoot) {
        if ((el.shadowRoot.textContent || "").includes(NO_DATA)) out.noData.push(here || tag);
        walk(el.shadowRoot, here);
      }
    }
  };
  walk(document, null);
  return JSON.stringify(out);
})()
""".replace('"__NO_DATA__"', json.dumps(NO_DATA))


@dataclass(slots=True)
class EnergyPage:
    """What the dashboard showed."""

    cards: list[str] = field(default_factory=list)
    no_data: list[str] = field(default_factory=list)
    charts: list[dict[str, Any]] = field(default_factory=list)

    def bars(self, card: str) -> int:
        """Non-zero bar values in the charts of ``card``."""
        return sum(
            s["nonzero"]
            for c in self.charts
            if c["card"] == card
            for s in c["series"]
            if s["type"] == "bar"
        )

    def complete(self) -> bool:
        """Usage bars drawn, no notice, and the per-device charts show names with values."""
        devices = set().union(*(self.labels(c) for c in set(self.cards) if "devices" in c))
        return self.bars("hui-energy-usage-graph-card") > 0 and not self.no_data and bool(devices)

    def labels(self, card: str) -> set[str]:
        """Names the charts of ``card`` show with a non-zero value (device names, ...)."""
        return {name for c in self.charts if c["card"] == card for name in c["shown"]}


async def read_energy_page(chromium: str, url: str, wait_s: float = 60.0) -> EnergyPage:
    """Open ``url`` (a logged-in auth-callback URL) and read the energy cards' charts.

    Polls the page until it is ``complete()`` or ``wait_s`` passes, so a slow first
    render (the cards load their statistics one by one) is not mistaken for an
    empty dashboard.
    """
    with tempfile.TemporaryDirectory(prefix="acurev-demo-cdp-") as profile:
        proc = await asyncio.create_subprocess_exec(
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "--window-size=1400,1500",
            url,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            return await _probe(Path(profile), wait_s)
        finally:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 10)


async def _probe(profile: Path, wait_s: float) -> EnergyPage:
    port_file = profile / "DevToolsActivePort"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while not port_file.exists():
        if loop.time() > deadline:
            raise TimeoutError("chromium did not open its debugging port")
        await asyncio.sleep(0.2)
    port = int(port_file.read_text().split()[0])
    page = EnergyPage()
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/json/list") as resp:
            targets = await resp.json()
        ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")
        async with session.ws_connect(ws_url, max_msg_size=0) as ws:
            n = 0
            while True:
                n += 1
                await ws.send_json(
                    {
                        "id": n,
                        "method": "Runtime.evaluate",
                        "params": {"expression": _PROBE_JS, "returnByValue": True},
                    }
                )
                while True:
                    msg = await ws.receive_json(timeout=30)
                    if msg.get("id") == n:
                        break
                raw = msg.get("result", {}).get("result", {}).get("value")
                if isinstance(raw, str):
                    data = json.loads(raw)
                    page = EnergyPage(data["cards"], data["noData"], data["charts"])
                    if page.complete():
                        return page
                if loop.time() > deadline:
                    return page
                await asyncio.sleep(1.0)
