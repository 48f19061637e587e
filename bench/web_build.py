#!/usr/bin/env python3
"""The Build page's full load with many components, in Debian's chromium.

    .venv/bin/python bench/web_build.py [--components 500] [--runs 5]

Imports N connections into a temporary POSTROOM_HOME, starts `postroom serve`, logs in with
Playwright and measures, N times over, a full page load of /build until the tree shows the
last component. Baseline, in the same run: the same browser fetching /api/components (the
data alone). Target: the page under 1 s with 500 components.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PASSWORD = "bench-pass-1234"


def postroom(env: dict[str, str], *args: str, input: str | None = None) -> None:
    done = subprocess.run([sys.executable, "-m", "postroom", *args], env=env, input=input, capture_output=True,
                          text=True, timeout=600)
    if done.returncode != 0:
        sys.exit(f"postroom {' '.join(args)} failed ({done.returncode}): {done.stderr}{done.stdout}")


def components(count: int) -> str:
    return "---\n".join(
        f"type: connection\nconnector: mail\nname: Bench Connection {i:04d}\nid: bench-{i:04d}\n"
        f"folder: Folder {i % 20:02d}\nsettings:\n  host: smtp{i}.example.com\n"
        for i in range(count))


def serve(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "postroom", "serve", "--port", "0", "--no-listeners"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        if match := re.search(r"(http://127\.0\.0\.1:\d+)", line):
            return proc, match.group(1)
        if time.monotonic() > deadline:
            break
    proc.kill()
    sys.exit("postroom serve printed no address")


def measure(url: str, count: int, runs: int) -> tuple[list[float], list[float]]:
    from playwright.sync_api import sync_playwright

    last = f"Bench Connection {count - 1:04d}"
    pages: list[float] = []
    data: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(url + "/")
        page.get_by_label("User Name").fill("bench")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log In").click()
        page.get_by_role("button", name="Log Out").wait_for()
        for _ in range(runs):
            started = time.perf_counter()
            page.goto(url + "/build")
            page.get_by_role("link", name=last, exact=True).wait_for()
            pages.append(time.perf_counter() - started)
            data.append(page.evaluate("""async () => { const t = performance.now();
                const r = await fetch('/api/components?body=false'); await r.json();
                return (performance.now() - t) / 1000; }"""))
        browser.close()
    return pages, data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if k not in ("POSTROOM_DATABASE_URL", "POSTROOM_SECRET_KEY")}
        env["POSTROOM_HOME"] = home
        (Path(home) / "bench.yaml").write_text(components(options.components))
        postroom(env, "import", str(Path(home) / "bench.yaml"))
        postroom(env, "users", "add", "bench", "--role", "viewer", "--password-stdin", input=PASSWORD + "\n")
        proc, url = serve(env)
        try:
            pages, data = measure(url, options.components, options.runs)
        finally:
            proc.terminate()
            proc.wait(15)
    page, fetch = statistics.median(pages), statistics.median(data)
    print(f"Build page, {options.components} components: median {page:.3f} s over {options.runs} loads "
          f"(min {min(pages):.3f}, max {max(pages):.3f}); target < 1 s: {'met' if page < 1 else 'MISSED'}")
    print(f"baseline, GET /api/components in the same browser: median {fetch:.3f} s "
          f"(page / data: {page / fetch if fetch else float('inf'):.1f}x)")


if __name__ == "__main__":
    main()
