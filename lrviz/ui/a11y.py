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
* a display formula wider than its column gets ``tabindex=0`` so it can be scrolled.
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

  function apply() {
    doc.querySelectorAll(".js-plotly-plot").forEach(gd => {
      if (!gd._fullLayout) return;
      try { labelChart(gd); keyboard(gd); } catch (err) { /* a chart mid-render: next pass */ }
    });
    scrollableFormulas();
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


def install() -> None:
    """Add the accessibility bridge to the current page (call once per script run)."""
    st.iframe(f"<!doctype html><html><body><script>{_BRIDGE_JS}</script></body></html>",
              height=1, tab_index=-1, alt=A11Y_ALT)
