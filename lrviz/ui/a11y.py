"""Accessibility for every page: charts get a text alternative tied to them, the animation's
Play/Pause buttons and step slider work from the keyboard, and wide formulas can be scrolled
with the keyboard.

Plotly draws its animation controls as SVG groups that a keyboard cannot reach, and Streamlit
offers no hook to label a chart, so a small script (app-authored, no user text) runs in a
zero-height iframe and adjusts the page's DOM after each render:

* every chart's container gets ``aria-describedby`` pointing at a visually hidden description:
  the figure's ``layout.meta.description`` when its builder wrote one, else its title and the
  names of its series;
* ``.updatemenu-button`` groups become ``role=button`` with ``tabindex=0`` (Enter/Space press
  them); the step slider becomes ``role=slider`` (arrow keys, Home/End move one frame, with
  ``aria-valuenow``/``aria-valuetext`` kept in step);
* a display formula wider than its column gets ``tabindex=0`` so it can be scrolled;
* in presenter mode (``?present=1``, see `lrviz.ui.presenter`) space plays/pauses the map,
  ←/→ step it and n/p click the previous/next-scenario buttons; the lab's "Play / Pause"
  button (key ``lab_play``) drives the map's animation without a rerun;
* below 900 px the sidebar is collapsed once when the app opens (Streamlit's own automatic
  collapse stops at 768 px); reopening it is then left alone.
"""

from __future__ import annotations

import streamlit as st

# Runs inside the iframe; reaches the app's document (same origin: an srcdoc iframe).
_BRIDGE_JS = r"""
(function () {
  const doc = window.parent.document;
  if (!doc) return;
  const HIDDEN = "position:absolute;width:1px;height:1px;margin:-1px;overflow:hidden;" +
                 "clip:rect(0 0 0 0);white-space:nowrap;border:0;padding:0;";
  const PLUMBING =
    /^(loss readout|click to start here|current step|loss colour scale|start \(|minimum)/;
  let counter = 0;

  function describe(gd) {
    const layout = gd.layout || {};
    if (layout.meta && layout.meta.description) return String(layout.meta.description);
    const text = v => (v && typeof v === "object") ? (v.text || "") : (v || "");
    const title = text(layout.title);
    const axis = (a) => text((layout[a] || {}).title);
    const names = [...new Set((gd.data || []).map(t => t.name)
                     .filter(n => n && !PLUMBING.test(n)))];
    const axes = axis("yaxis") && axis("xaxis") ? axis("yaxis") + " against " + axis("xaxis")
                                                 : "";
    return [title, "Chart" + (axes ? " of " + axes : ""),
            names.length ? "series: " + names.slice(0, 8).join("; ") : ""]
           .filter(Boolean).join(". ") + ".";
  }

  function labelChart(gd) {
    const host = gd.closest('[data-testid="stPlotlyChart"]') || gd.parentElement;
    let node = host.querySelector(".lrviz-chart-description");
    if (!node) {
      node = doc.createElement("div");
      node.className = "lrviz-chart-description";
      node.id = "lrviz-chart-" + (++counter);
      node.setAttribute("style", HIDDEN);
      host.appendChild(node);
    }
    const text = describe(gd);
    if (node.textContent !== text) node.textContent = text;
    host.setAttribute("role", "figure");
    host.setAttribute("aria-describedby", node.id);
  }

  function goToFrame(gd, index) {
    const slider = gd._fullLayout.sliders[0];
    const steps = slider.steps;
    const i = Math.max(0, Math.min(steps.length - 1, index));
    const Plotly = window.parent.Plotly;  // loaded with the first chart, after this script
    Plotly.animate(gd, [steps[i].args[0][0]], {mode: "immediate",
      frame: {duration: 0, redraw: false}, transition: {duration: 0}});
    Plotly.relayout(gd, {"sliders[0].active": i});
  }

  function syncSlider(gd, node) {
    const slider = gd._fullLayout.sliders[0];
    const active = slider.active || 0;
    node.setAttribute("aria-valuemin", "0");
    node.setAttribute("aria-valuemax", String(slider.steps.length - 1));
    node.setAttribute("aria-valuenow", String(active));
    node.setAttribute("aria-valuetext", "step " + slider.steps[active].label);
  }

  function keyboard(gd) {
    gd.querySelectorAll(".updatemenu-button").forEach(button => {
      if (button.getAttribute("tabindex") === "0") return;
      button.setAttribute("tabindex", "0");
      button.setAttribute("role", "button");
      const text = (button.textContent || "").replace(/[^A-Za-z ]/g, "").trim();
      button.setAttribute("aria-label", (text || "animation control") + " the animation");
      button.addEventListener("keydown", ev => {
        if (ev.key !== "Enter" && ev.key !== " ") return;
        ev.preventDefault();
        ev.stopPropagation();
        button.dispatchEvent(new MouseEvent("click", {bubbles: true}));
      });
    });
    const node = gd.querySelector(".slider-container");
    if (!node || !(gd._fullLayout.sliders || []).length) return;
    syncSlider(gd, node);
    if (node.getAttribute("tabindex") === "0") return;
    node.setAttribute("tabindex", "0");
    node.setAttribute("role", "slider");
    node.setAttribute("aria-label", "animation step");
    node.addEventListener("keydown", ev => {
      const slider = gd._fullLayout.sliders[0];
      const now = slider.active || 0;
      const last = slider.steps.length - 1;
      const target = {ArrowRight: now + 1, ArrowUp: now + 1, ArrowLeft: now - 1,
                      ArrowDown: now - 1, Home: 0, End: last, PageUp: now + 10,
                      PageDown: now - 10}[ev.key];
      if (target === undefined) return;
      ev.preventDefault();
      ev.stopPropagation();
      goToFrame(gd, target);
    });
    gd.on("plotly_sliderchange", () => syncSlider(gd, node));
    gd.on("plotly_animatingframe", () => syncSlider(gd, node));
  }

  function scrollableFormulas() {
    doc.querySelectorAll(".katex-display").forEach(node => {
      if (node.scrollWidth > node.clientWidth + 1 && node.getAttribute("tabindex") !== "0") {
        node.setAttribute("tabindex", "0");
        node.setAttribute("role", "region");
        node.setAttribute("aria-label", "formula (scroll sideways to read all of it)");
      }
    });
  }

  // --- presenter keys, the main-area Play button, the sidebar on narrow screens ---------

  function mainChart() {  // the first animated chart: the page's map
    return [...doc.querySelectorAll(".js-plotly-plot")]
      .find(gd => gd._fullLayout && (gd._fullLayout.sliders || []).length);
  }

  function playing(gd) {  // plotly.js keeps a frame request while an animation runs
    const t = gd._transitionData;
    return !!(t && t._animationRaf);
  }

  function pressMenuButton(gd, index) {  // 0: Play, 1: Pause (see trajectory._animation)
    const button = gd.querySelectorAll(".updatemenu-button")[index];
    if (button) button.dispatchEvent(new MouseEvent("click", {bubbles: true}));
  }

  function togglePlay(gd) {
    if (playing(gd)) { pressMenuButton(gd, 1); return; }
    const slider = gd._fullLayout.sliders[0];
    if ((slider.active || 0) >= slider.steps.length - 1) goToFrame(gd, 0);  // replay
    pressMenuButton(gd, 0);
  }

  function step(gd, delta) {
    if (playing(gd)) pressMenuButton(gd, 1);
    goToFrame(gd, (gd._fullLayout.sliders[0].active || 0) + delta);
  }

  function clickKeyed(key) {  // a Streamlit button by its widget key
    const button = doc.querySelector(".st-key-" + key + " button");
    if (button && !button.disabled) button.click();
  }

  function presenting() {
    const value = new URLSearchParams(window.parent.location.search).get("present") || "";
    return ["1", "true"].includes(value.trim().toLowerCase());
  }

  const TYPING = "input, textarea, select, [contenteditable='true'], [role='slider'], " +
                 "[role='combobox'], [role='listbox'], [role='option'], [role='tab']";

  // Presenter mode: space plays/pauses the map, arrows step it, n/p change the scenario.
  function onKey(ev) {
    if (!presenting() || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.target && ev.target.closest && ev.target.closest(TYPING)) return;
    const key = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
    const gd = mainChart();
    let done = true;
    if ((key === " " || key === "Spacebar") && gd) togglePlay(gd);
    else if (key === "ArrowRight" && gd) step(gd, 1);
    else if (key === "ArrowLeft" && gd) step(gd, -1);
    else if (key === "n") clickKeyed("present_next");
    else if (key === "p") clickKeyed("present_prev");
    else done = false;
    if (done) { ev.preventDefault(); ev.stopPropagation(); }
  }

  // The lab's "Play / Pause" button runs the map's animation in the browser (no rerun).
  function onClick(ev) {
    const button = ev.target && ev.target.closest && ev.target.closest(".st-key-lab_play button");
    if (!button) return;
    ev.preventDefault();
    ev.stopPropagation();
    const gd = mainChart();
    if (gd) togglePlay(gd);
  }

  // Below 900 px the sidebar starts collapsed, once per browser tab: after that the
  // learner's own choice stands.
  function collapseNarrowSidebar() {
    if (window.parent.__lrvizSidebarChecked) return;
    const bar = doc.querySelector("[data-testid='stSidebar']");
    if (!bar) return;
    window.parent.__lrvizSidebarChecked = true;
    if (window.parent.innerWidth >= 900 || bar.getAttribute("data-collapsed") === "true") return;
    const button = doc.querySelector("[data-testid='stSidebarCollapseButton'] button");
    if (button) button.click();
  }

  function apply() {
    doc.querySelectorAll(".js-plotly-plot").forEach(gd => {
      if (!gd._fullLayout) return;
      try { labelChart(gd); keyboard(gd); } catch (err) { /* a chart mid-render: next pass */ }
    });
    scrollableFormulas();
    collapseNarrowSidebar();
  }

  // The listeners live in this iframe: the newest one replaces the previous one's.
  for (const [name, type, handler] of [["__lrvizKeys", "keydown", onKey],
                                       ["__lrvizClicks", "click", onClick]]) {
    try {
      if (window.parent[name]) doc.removeEventListener(type, window.parent[name], true);
    } catch (e) {}
    doc.addEventListener(type, handler, true);
    window.parent[name] = handler;
  }

  // One observer per page: a rerun may recreate this iframe, whose old script context
  // (and observer) then dies, so the newest iframe always takes over.
  try { if (window.parent.__lrvizA11y) window.parent.__lrvizA11y.disconnect(); } catch (e) {}
  let pending = null;
  const observer = new MutationObserver(() => {
    if (pending) return;
    pending = setTimeout(() => { pending = null; apply(); }, 150);
  });
  observer.observe(doc.body, {childList: true, subtree: true});
  window.parent.__lrvizA11y = observer;
  apply();
})();
"""


A11Y_ALT = "accessibility helper (no visible content)"  # the iframe's title

# Fixed text (no user input): long page-link labels wrap instead of being cut off with "…"
# on a phone.
_LAYOUT_CSS = """<style>
[data-testid="stPageLink"] p { white-space: normal !important; overflow: visible !important;
  text-overflow: clip !important; }
</style>"""


def install() -> None:
    """Add the accessibility bridge and the layout fixes to the current page (call once per
    script run)."""
    st.html(_LAYOUT_CSS)
    st.iframe(f"<!doctype html><html><body><script>{_BRIDGE_JS}</script></body></html>",
              height=1, tab_index=-1, alt=A11Y_ALT)
