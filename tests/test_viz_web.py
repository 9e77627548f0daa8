"""The Mesa view in a real browser: `python -m viz.web` served, loaded in a headless Chromium
(Debian's chromium and chromium-driver, installed by .ci/install_browser.sh), the model
stepped from the page's Step button, and the scene image and the plots checked as drawn.

Needs the optional extra `web` (solara, mesa's visualization, selenium) and the browser.
Without them the test is skipped with the reason, except in CI (CI=true), where it fails:
there the project's own scripts install both, so a missing piece is a broken install.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _missing() -> list[str]:
    out = [f"the python package {m} (pip install -e '.[web]')" for m in ("solara", "selenium", "networkx")
           if importlib.util.find_spec(m) is None]
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        out.append("chromium (bash .ci/install_browser.sh)")
    if not shutil.which("chromedriver"):
        out.append("chromedriver (bash .ci/install_browser.sh)")
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    missing = _missing()
    if missing:
        reason = "the browser view's test needs " + ", ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (in CI: make installs the web extra, .ci/install_browser.sh the browser)")
        pytest.skip(reason)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "viz.web", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    try:
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read() if proc.poll() is not None else ""
                pytest.fail(f"python -m viz.web did not serve {url}: {out[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1100"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    try:
        yield driver
    finally:
        driver.quit()


# the colours in an <img> as the browser decoded it (a canvas copy), so "drawn" means pixels
DISTINCT_COLOURS = """
const img = arguments[0];
if (!img.complete || img.naturalWidth === 0) return [0, 0, 0];
const c = document.createElement('canvas');
c.width = img.naturalWidth; c.height = img.naturalHeight;
const g = c.getContext('2d'); g.drawImage(img, 0, 0);
const d = g.getImageData(0, 0, c.width, c.height).data;
const seen = new Set();
for (let i = 0; i < d.length; i += 4 * 7) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
return [img.naturalWidth, img.naturalHeight, seen.size];
"""


@pytest.mark.slow  # the server takes 10-40 s to start
def test_the_page_steps_the_model_and_draws_the_scene_and_plots(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    from viz.web import SCENE_CELL, SCENE_CLASS

    wait = WebDriverWait(browser, 120)
    browser.get(server)
    scene = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f"img.{SCENE_CLASS}")))
    wait.until(EC.presence_of_element_located((By.XPATH, "//*[contains(text(), 'tick 0 ')]")))
    before = scene.get_attribute("src")
    step = wait.until(EC.element_to_be_clickable((By.XPATH, "//button[normalize-space(.)='Step']")))
    for _ in range(3):
        step.click()
        time.sleep(0.3)
    wait.until(EC.presence_of_element_located((By.XPATH, "//*[contains(text(), 'tick 3 ')]")))
    scene = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f"img.{SCENE_CLASS}")))
    wait.until(lambda d: scene.get_attribute("src") != before)
    width, height, colours = browser.execute_script(DISTINCT_COLOURS, scene)
    assert (width, height) == (22 * SCENE_CELL, 16 * SCENE_CELL)  # the lake, 16x22 cells
    assert colours > 30  # tiles, fishers, ripples: a picture, not a blank
    # the DataCollector plots (mean hunger, meals): matplotlib figures as images, drawn
    plots = [img for img in browser.find_elements(By.TAG_NAME, "img")
             if SCENE_CLASS not in (img.get_attribute("class") or "")]
    drawn = [browser.execute_script(DISTINCT_COLOURS, img) for img in plots]
    assert sum(1 for w, h, n in drawn if w > 100 and h > 100 and n > 3) >= 2, drawn


def test_the_web_model_draws_what_playback_draws(tmp_path):
    """Without a browser: the page's model is FisherModel plus a recording, and its scene image is
    the picture playback draws of the same recorded frame (marks included)."""
    pytest.importorskip("solara", reason="the optional extra web (pip install -e '.[web]')")
    import imageio.v3 as iio
    import numpy as np

    from sim.render import draw_scene
    from sim.scene import scene_of_episode
    from viz.web import SCENE_CELL, WebFisherModel, make_page

    model = WebFisherModel(world="lake", n_fishers=3, seed=4)
    for _ in range(40):
        model.step()
    assert model.tick == 40 and model.track.n_frames == 41
    assert len(model.datacollector.get_model_vars_dataframe()) == 41  # the plots' series
    ep_path = model.recorder.save(tmp_path / "web.npz")
    from sim.record import load_episode

    picture = iio.imread(model.scene_png())
    assert np.array_equal(picture, draw_scene(scene_of_episode(load_episode(ep_path), 40), SCENE_CELL))
    make_page(model)  # the page builds around it
    other = WebFisherModel(world="pond", n_fishers=2, policy="scripted:random", policy_file="  ", seed=4)
    assert other.policy_spec == "scripted:random" and other.sim.n_fishers == 2
