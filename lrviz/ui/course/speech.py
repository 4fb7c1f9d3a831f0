"""Read aloud: a small player that speaks lesson text with the browser's own speech synthesis.

The player is one self-contained HTML document (inline CSS and JS, no network) shown in an
iframe (``st.iframe``). It speaks one line at a time, so it can highlight the line being spoken,
pause, stop and change speed between lines; teacher and student get different voices when the
browser has two, and always a different pitch. Where the browser has no speech
synthesis the player says so plainly.

`player_html` builds the document as a string (tested without a browser); `read_aloud` shows it.
Lesson text is Markdown with LaTeX, so `speakable` first turns it into plain words
("$\\eta\\lambda < 2$" is read "eta lambda less than 2").
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

# --- what each role sounds like ----------------------------------------------------------


@dataclass(frozen=True)
class Voice:
    """How one role is spoken: its pitch, and which of the browser's voices it prefers."""

    label: str
    icon: str
    pitch: float
    rank: int  # index into the browser's English voices (local ones first), modulo their number


ROLE_VOICES: dict[str, Voice] = {
    "teacher": Voice("Teacher", "🧑‍🏫", pitch=0.8, rank=0),
    "student": Voice("Student", "🧑‍🎓", pitch=1.3, rank=1),
    "narrator": Voice("Narrator", "📖", pitch=1.0, rank=0),
}
SPEEDS: tuple[float, ...] = (0.75, 1.0, 1.25, 1.5, 2.0)
IDLE_TEXT = "The sentence being read appears here."
NO_SPEECH_MESSAGE = ("Read aloud is not available: this browser offers no speech synthesis. "
                     "The full text is on the page to read.")


@dataclass(frozen=True)
class SpeechLine:
    """One utterance: who says it and the plain text to speak (and show in the transcript)."""

    role: str
    text: str


# --- Markdown + LaTeX -> words -----------------------------------------------------------

_GREEK = ("alpha beta gamma delta epsilon varepsilon zeta eta theta kappa lambda mu nu xi pi "
          "rho sigma tau phi varphi chi psi omega Delta Gamma Lambda Sigma Theta Phi Omega")
_LATEX_WORDS: dict[str, str] = {
    **{g: g.removeprefix("var").lower() for g in _GREEK.split()},
    "nabla": "the gradient of", "partial": "partial", "cdot": "times", "times": "times",
    "approx": "approximately", "sim": "about", "le": "at most", "leq": "at most",
    "ge": "at least", "geq": "at least", "ll": "much less than", "gg": "much greater than",
    "neq": "not equal to", "ne": "not equal to", "leftarrow": "becomes", "gets": "becomes",
    "to": "to", "rightarrow": "goes to", "infty": "infinity", "sum": "the sum of",
    "prod": "the product of", "in": "in", "pm": "plus or minus", "log": "log", "ln": "log",
    "exp": "exp", "max": "max", "min": "min", "lim": "the limit", "top": "transpose",
    "odot": "times", "propto": "proportional to", "dots": "and so on", "ldots": "and so on",
    "cdots": "and so on",
}
_SYMBOLS = {"<": " less than ", ">": " greater than ", "=": " equals ", "+": " plus ",
            "-": " minus ", "/": " over ", "*": " star ", "|": " ", ",": ", ", "!": " factorial "}
_POWERS = {"2": "squared", "3": "cubed", "-1": "to the minus one", "T": "transpose",
           "\\top": "transpose", "*": "star"}


_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen"]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_DENOMINATORS = {2: ("half", "halves"), 3: ("third", "thirds"), 4: ("quarter", "quarters"),
                 5: ("fifth", "fifths"), 6: ("sixth", "sixths"), 7: ("seventh", "sevenths"),
                 8: ("eighth", "eighths"), 9: ("ninth", "ninths"), 10: ("tenth", "tenths")}
_OPERATOR_WORDS = re.compile(r"\b(plus|minus|times|over|equals)\b")


def number_words(text: str) -> str:
    """A whole number below 100 in words ("2" -> "two", "-3" -> "minus three"); else unchanged.

    Larger numbers and decimals stay as digits, which speech engines read well.
    """
    m = re.fullmatch(r"\s*([-+−]?)(\d+)\s*", text)
    if m is None or int(m.group(2)) >= 100 or len(m.group(2)) > 2:
        return text.strip()
    n = int(m.group(2))
    word = _ONES[n] if n < 20 else _TENS[n // 10] + ("" if n % 10 == 0 else f"-{_ONES[n % 10]}")
    return ("minus " if m.group(1) in ("-", "−") else "") + word


def power_of_ten(exponent: str) -> str:
    """10^exponent in words: "-3" -> "ten to the minus three", "6" -> "ten to the six"."""
    return f"ten to the {number_words(exponent)}"


def scientific_words(mantissa: str, exponent: str) -> str:
    """``1e-3`` -> "ten to the minus three"; ``3.2e-6`` -> "3.2 times ten to the minus six"."""
    power = power_of_ten(exponent.replace("+", ""))
    return power if float(mantissa) == 1 else f"{number_words(mantissa)} times {power}"


def fraction_words(num: str, den: str) -> str:
    """Read num/den (both already words or digits) so the grouping is unambiguous.

    Small whole-number fractions are read as fractions ("1/2" -> "one half", "3/4" -> "three
    quarters"); a whole-number part is read as a word ("2/λ" -> "two over lambda"); a part that
    is itself a sum or product is announced as "the quantity" ("2/(a+b)" -> "two over the
    quantity a plus b").
    """
    num, den = num.strip(), den.strip()
    if re.fullmatch(r"\d{1,2}", num) and re.fullmatch(r"\d{1,2}", den):
        n, d = int(num), int(den)
        if d in _DENOMINATORS and 0 < n < d:
            return f"{number_words(num)} {_DENOMINATORS[d][0 if n == 1 else 1]}"
    parts = []
    for part in (num, den):
        spoken = number_words(part)
        parts.append(f"the quantity {spoken}" if _OPERATOR_WORDS.search(spoken) else spoken)
    return f"{parts[0]} over {parts[1]}"


_SCIENTIFIC = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)[eE]([-+−]?\d+)(?!\w|\.\d)")


def _scientific(text: str) -> str:
    return _SCIENTIFIC.sub(lambda m: scientific_words(m.group(1), m.group(2).replace("−", "-")),
                           text)


# A LaTeX operand of an inline "/": a (group), a {group}, a command with an optional
# subscript, a number, or one letter with an optional subscript.
_TEX_OPERAND = (r"(?:\([^()]*\)|\{[^{}]*\}|\\[A-Za-z]+(?:_(?:\{[^{}]*\}|\\?\w+))?|\d+(?:\.\d+)?"
                r"|[A-Za-z](?:_(?:\{[^{}]*\}|\\?\w+))?)")
_TEX_SLASH = re.compile(rf"({_TEX_OPERAND})\s*/\s*({_TEX_OPERAND})")


def _unwrap(operand: str) -> str:
    return operand[1:-1] if operand[:1] in "({" and operand[-1:] in ")}" else operand


def _braced(text: str, start: int) -> tuple[str, int]:
    """The content of the {...} group starting at ``start`` (or one character) and its end."""
    if start >= len(text):
        return "", start
    while start < len(text) - 1 and text[start] == " ":
        start += 1
    if text[start] != "{":
        if text[start] == "\\":
            m = re.match(r"\\[A-Za-z]+", text[start:])
            if m:
                return m.group(0), start + m.end()
        return text[start], start + 1
    depth = 0
    for k in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[k], 0)
        if depth == 0:
            return text[start + 1:k], k + 1
    return text[start + 1:], len(text)


def latex_words(tex: str) -> str:
    """Read a LaTeX formula as words: ``\\frac{2}{\\lambda}`` -> "two over lambda"."""
    tex = _TEX_SLASH.sub(lambda m: f"\\frac{{{_unwrap(m.group(1))}}}{{{_unwrap(m.group(2))}}}",
                         tex)
    out: list[str] = []
    i = 0
    while i < len(tex):
        ch = tex[i]
        if ch == "\\":
            m = re.match(r"\\([A-Za-z]+|.)", tex[i:], flags=re.S)
            if m is None:  # a lone backslash at the very end
                break
            name = m.group(1)
            i += m.end()
            if name in ("frac", "dfrac", "tfrac"):
                num, i = _braced(tex, i)
                den, i = _braced(tex, i)
                out.append(f" {fraction_words(latex_words(num), latex_words(den))} ")
            elif name == "sqrt":
                arg, i = _braced(tex, i)
                out.append(f" the square root of {latex_words(arg)} ")
            elif name in ("hat", "bar", "tilde", "vec"):
                arg, i = _braced(tex, i)
                out.append(f" {latex_words(arg)} {name} ")
            elif name in ("text", "mathrm", "mathbf", "mathit", "operatorname", "mathcal",
                          "boldsymbol"):
                arg, i = _braced(tex, i)
                out.append(f" {latex_words(arg)} " if name != "text" else f" {arg} ")
            elif name in _LATEX_WORDS:
                out.append(f" {_LATEX_WORDS[name]} ")
            elif name in ("left", "right", "big", "Big", "quad", "qquad", ",", ";", "!", " "):
                out.append(" ")
            elif name == "|":
                out.append(" norm ")
            else:
                out.append(f" {name} ")
        elif ch in "^_":
            arg, i = _braced(tex, i + 1)
            base_ten = bool(out) and out[-1].strip() == "10"
            if ch == "^" and base_ten and re.fullmatch(r"\s*-?\d+\s*", arg):
                out[-1] = f" {power_of_ten(arg)} "
            elif ch == "^":
                out.append(f" {_POWERS.get(arg.strip()) or 'to the power ' + latex_words(arg)} ")
            else:
                out.append(f" {latex_words(arg)} ")
        elif ch.isdigit():  # a whole number is one token (so 10^{-3} can be read as a power)
            number = re.match(r"\d+(\.\d+)?", tex[i:]).group(0)
            out.append(number)
            i += len(number)
        elif ch in "{}()[]":
            out.append(" ")
            i += 1
        elif ch in _SYMBOLS:
            out.append(_SYMBOLS[ch])
            i += 1
        else:
            out.append(ch)
            i += 1
    return re.sub(r"\s+", " ", "".join(out)).strip()


_UNICODE_GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon",
                  "η": "eta", "θ": "theta", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu",
                  "ξ": "xi", "π": "pi", "ρ": "rho", "σ": "sigma", "τ": "tau", "φ": "phi",
                  "ω": "omega", "Δ": "Delta", "Σ": "Sigma", "Λ": "Lambda"}
_UNICODE_SYMBOLS = {"×": "times", "·": "times", "≈": "approximately", "≤": "at most",
                    "≥": "at least", "≠": "not equal to", "±": "plus or minus", "∞": "infinity",
                    "∇": "the gradient of", "→": "to", "²": "squared", "³": "cubed",
                    "−": "minus"}
_GREEK_NAMES = "|".join(sorted(set(_UNICODE_GREEK.values()) | set(_LATEX_WORDS) & set(
    _GREEK.split()), key=len, reverse=True))
# An operand of a plain-text "/": a number, a (group), a Greek name or one letter, either with
# an optional subscript ("lambda_max"), or a square root.
_PLAIN_OPERAND = (rf"(?:\d+(?:\.\d+)?|\([^()]*\)|√\w+|(?:{_GREEK_NAMES}|[A-Za-z])(?![A-Za-z])"
                  r"(?:_\w+)?)")
_PLAIN_SLASH = re.compile(rf"(?<![\w/])({_PLAIN_OPERAND})/({_PLAIN_OPERAND})(?![\w/])")


def _plain_operand(text: str) -> str:
    text = text[1:-1] if text.startswith("(") and text.endswith(")") else text
    return _plain_words(text)


def _plain_words(text: str) -> str:
    """Unicode math in prose read out: "2/λ_max ≈ 0.2" -> "two over lambda max approximately 0.2".
    """
    for char, name in _UNICODE_GREEK.items():
        text = text.replace(char, f" {name} ")
    text = re.sub(rf"\b({_GREEK_NAMES})\s*_\{{?(\w+)\}}?", r"\1 \2", text)  # lambda_max
    text = re.sub(rf"\b({_GREEK_NAMES})\s+(?=/)", r"\1", text)
    text = re.sub(r"(?<=\S/)\s+", "", text)  # "2/ lambda " (a replaced letter) is "2/lambda"
    text = re.sub(r"\s+/\s+", " over ", text)  # a spaced slash divides: "max_lr / 25"
    text = _PLAIN_SLASH.sub(lambda m: fraction_words(_plain_operand(m.group(1)),
                                                     _plain_operand(m.group(2))), text)
    text = re.sub(r"√\(([^()]*)\)|√(\w+)", lambda m: f" the square root of "
                  f"{m.group(1) or m.group(2)} ", text)
    for char, word in _UNICODE_SYMBOLS.items():
        text = text.replace(char, f" {word} ")
    text = re.sub(r"\^\(([^()]*)\)|\^(\w+)", lambda m: f" to the power "
                  f"{m.group(1) or m.group(2)} ", text)
    text = re.sub(r"(?<=[\w)])\s*\+\s*(?=[\w(])", " plus ", text)
    text = re.sub(r"(?<!\S)-(?=\d)", "minus ", text)  # a negative number, not a hyphen
    text = re.sub(r"(?<!\S)~(?=\d)", "about ", text)
    text = re.sub(r"(?<=\s)=(?=\s)", "equals", text)
    text = re.sub(r"(?<=\s)<(?=\s)", "less than", text)
    text = re.sub(r"(?<=\s)>(?=\s)", "greater than", text)
    text = re.sub(r"\s+([,.;:!?)\]])", r"\1", re.sub(r"\s+", " ", text))
    return re.sub(r"([(\[])\s+", r"\1", text).strip()


def speakable(markdown: str) -> str:
    """Plain words for speech: math read out, Markdown markup and link targets dropped.

    Symbols a speech engine would skip or misread are said in words: × "times", ≈
    "approximately", λ_max "lambda max", 1e-3 "ten to the minus three", 2/λ "two over
    lambda", 1/2 "one half".
    """
    text = re.sub(r"\$\$(.+?)\$\$", lambda m: f" {latex_words(m.group(1))}. ",
                  _scientific(markdown), flags=re.S)
    text = re.sub(r"(?<!\\)\$(.+?)(?<!\\)\$", lambda m: latex_words(m.group(1)), text)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links and images: keep the words
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = re.sub(r"(\*\*|__|\*|~~)(?=\S)(.+?)(?<=\S)\1", r"\2", text)
    text = re.sub(r"(?<![A-Za-z0-9])_(?=\S)(.+?)(?<=\S)_(?![A-Za-z0-9])", r"\1", text)
    text = re.sub(r"^\s{0,3}(#{1,6}\s+|>\s?|[-*+]\s+|\d+\.\s+)", "", text, flags=re.M)
    return _plain_words(text.replace("\\$", "$"))


def sentences(text: str) -> list[str]:
    """Split plain text into sentences (short utterances keep speech engines from stalling)."""
    parts = re.split(r"(?<=[.!?…])\s+(?=[\"'(“‘]?[A-Z0-9])", text.strip())
    return [p.strip() for p in parts if p.strip()]


def dialogue_lines(scenes: Iterable) -> list[SpeechLine]:
    """Every turn of a lesson dialogue (schema `Scene`s), in order."""
    return [SpeechLine(turn.speaker, speakable(turn.text))
            for scene in scenes for turn in scene.turns]


def narration_lines(markdown: str) -> list[SpeechLine]:
    """A narrated text (an audiobook chapter) as one line per sentence, paragraph by paragraph."""
    lines: list[SpeechLine] = []
    for paragraph in re.split(r"\n\s*\n", markdown):
        lines += [SpeechLine("narrator", s) for s in sentences(speakable(paragraph))]
    return lines


# --- the player document -------------------------------------------------------------------

_CSS = """
:root { color-scheme: light; }
body { margin: 0; font: 18px/1.45 system-ui, sans-serif; color: #111; background: #fff; }
.bar { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: .25rem 0; }
button, select { font: inherit; padding: .3rem .8rem; border: 2px solid #333; border-radius: 6px;
  background: #f4f4f4; color: #111; cursor: pointer; }
button:disabled { opacity: .45; cursor: default; }
button:focus-visible, select:focus-visible { outline: 3px solid #0072B2; outline-offset: 2px; }
.status { margin: .2rem 0 .4rem; font-size: 16px; color: #333; min-height: 1.4em; }
.status.warn { color: #8a2b00; font-weight: 600; }
ol.transcript { list-style: none; margin: 0; padding: .25rem; overflow-y: auto;
  border: 1px solid #bbb; border-radius: 6px; }
ol.transcript li { margin: .35rem 0; padding: .35rem .6rem; border-radius: 8px; cursor: pointer;
  max-width: 85%; }
li.teacher { border: 2px solid #0072B2; background: #eef6fb; }
li.student { border: 2px dashed #8a5a00; background: #fdf5e6; margin-left: 15% !important; }
ol.transcript li.narrator { border: 1px solid #999; max-width: 100%; }
li .who { font-weight: 700; margin-right: .4rem; }
li.speaking { outline: 4px solid #111; background: #fff3a0; }
li:focus-visible { outline: 3px dashed #0072B2; }
li.speaking::before { content: "▶ "; font-weight: 700; }
"""

_JS = r"""
(function () {
  const data = JSON.parse(document.getElementById("speech-data").textContent);
  const IDLE_TEXT = data.idle;
  const root = document.getElementById("player");
  const status = root.querySelector(".status");
  const items = Array.from(root.querySelectorAll("li[data-index]"));
  const current = root.querySelector(".current");
  const btn = (name) => root.querySelector("button[data-action='" + name + "']");
  const speed = root.querySelector("select");
  const synth = window.speechSynthesis;
  const Utterance = window.SpeechSynthesisUtterance;
  let index = -1, paused = false, token = 0, voices = [];

  function say(text, warn) { status.textContent = text; status.classList.toggle("warn", !!warn); }
  function enable(playing) {
    btn("play").disabled = playing && !paused;
    btn("pause").disabled = !playing;
    btn("pause").textContent = paused ? "Resume" : "Pause";
    btn("stop").disabled = !playing;
  }
  if (!synth || typeof Utterance !== "function") {
    root.querySelectorAll("button, select").forEach((el) => { el.disabled = true; });
    say(data.noSpeech, true);
    return;
  }
  function loadVoices() {
    const all = synth.getVoices() || [];
    const english = all.filter((v) => (v.lang || "").toLowerCase().startsWith("en"));
    voices = (english.length ? english : all).slice()
      .sort((a, b) => Number(b.localService) - Number(a.localService));
    describeVoices();
  }
  function describeVoices() {
    if (index >= 0) { return; }
    const named = (r) => (voiceFor(r) ? " (" + voiceFor(r).name + ")" : "");
    say(data.lines.some((l) => l.role === "student")
      ? "Press Play. Teacher: lower voice" + named("teacher") + "; student: higher voice"
        + named("student") + "."
      : "Press Play to listen.");
  }
  function voiceFor(role) {
    return voices.length ? voices[data.roles[role].rank % voices.length] : null;
  }
  loadVoices();
  if (typeof synth.addEventListener === "function") {
    synth.addEventListener("voiceschanged", loadVoices);
  }
  function highlight(i) {
    items.forEach((li, k) => {
      li.classList.toggle("speaking", k === i);
      if (k === i) { li.setAttribute("aria-current", "true"); }
      else { li.removeAttribute("aria-current"); }
    });
    if (items[i] && items[i].scrollIntoView) { items[i].scrollIntoView({block: "nearest"}); }
    if (current) {
      current.textContent = i >= 0 ? data.lines[i].text : IDLE_TEXT;
      current.classList.toggle("speaking", i >= 0);
    }
  }
  function speak(i) {
    const mine = ++token;
    if (i >= data.lines.length) { finish("Finished."); return; }
    index = i;
    paused = false;
    const line = data.lines[i];
    const role = data.roles[line.role];
    const u = new Utterance(line.text);
    u.pitch = role.pitch;
    u.rate = Number(speed.value);
    u.lang = "en-US";
    const voice = voiceFor(line.role);
    if (voice) { u.voice = voice; u.lang = voice.lang; }
    u.onend = () => { if (mine === token) { speak(i + 1); } };
    u.onerror = (e) => {
      if (mine !== token || e.error === "interrupted" || e.error === "canceled") { return; }
      const why = e.error || "unknown error";
      finish(voices.length ? "The browser could not speak this line (" + why + ")."
        : "Read aloud is not available: this browser has no voices installed (" + why
          + "). The full text is on the page to read.", true);
    };
    highlight(i);
    enable(true);
    say("Speaking " + (i + 1) + " of " + data.lines.length + ": " + role.label);
    synth.speak(u);
  }
  function finish(message, warn) {
    token++;
    index = -1;
    paused = false;
    highlight(-1);
    enable(false);
    say(message, warn);
  }
  btn("play").addEventListener("click", () => {
    if (paused) { paused = false; synth.resume(); enable(true); say("Resumed."); return; }
    synth.cancel();
    speak(index >= 0 ? index : 0);
  });
  btn("pause").addEventListener("click", () => {
    if (index < 0) { return; }
    if (paused) { paused = false; synth.resume(); say("Resumed."); }
    else {
      paused = true;
      synth.pause();
      say("Paused at " + (index + 1) + " of " + data.lines.length + ".");
    }
    enable(true);
  });
  btn("stop").addEventListener("click", () => { synth.cancel(); finish("Stopped."); });
  speed.addEventListener("change", () => {
    // A new rate applies from the next utterance: restart the current line at the new speed.
    if (index >= 0 && !paused) { token++; synth.cancel(); speak(index); }
  });
  items.forEach((li) => {
    const playFromHere = () => { token++; synth.cancel(); speak(Number(li.dataset.index)); };
    li.addEventListener("click", playFromHere);
    li.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); playFromHere(); }
    });
  });
  window.addEventListener("pagehide", () => synth.cancel());
  enable(false);
  describeVoices();
})();
"""


def _line_item(k: int, line: SpeechLine) -> str:
    voice = ROLE_VOICES[line.role]
    who = "" if line.role == "narrator" else (
        f'<span class="who">{voice.icon} {html.escape(voice.label)}:</span>')
    return (f'<li class="{line.role}" data-index="{k}" tabindex="0" title="Play from here">'
            f"{who}{html.escape(line.text)}</li>")


def player_html(lines: list[SpeechLine], *, title: str, transcript: bool = True,
                transcript_height: int = 260) -> str:
    """The whole player document. ``transcript=False`` shows only the line being spoken."""
    unknown = {line.role for line in lines} - set(ROLE_VOICES)
    if unknown:
        raise ValueError(f"unknown speaker role(s) {sorted(unknown)}; known: {list(ROLE_VOICES)}")
    data = {
        "lines": [{"role": x.role, "text": x.text} for x in lines],
        "roles": {name: {"label": v.label, "pitch": v.pitch, "rank": v.rank}
                  for name, v in ROLE_VOICES.items()},
        "noSpeech": NO_SPEECH_MESSAGE,
        "idle": IDLE_TEXT,
    }
    # No "<" at all inside the <script> element ("</script>" or "<!--<script" in a lesson would
    # end or derail it); JSON reads the \u003c escape back as "<".
    payload = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
    options = "".join(f'<option value="{s:g}"{" selected" if s == 1.0 else ""}>{s:g}×</option>'
                      for s in SPEEDS)
    if transcript:
        body = (f'<ol class="transcript" style="max-height:{transcript_height}px">'
                + "".join(_line_item(k, x) for k, x in enumerate(lines)) + "</ol>")
    else:
        body = f'<ol class="transcript"><li class="narrator current">{IDLE_TEXT}</li></ol>'
    label = html.escape(title)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><style>{_CSS}</style></head><body>
<section id="player" aria-label="Read aloud: {label}">
<div class="bar" role="group" aria-label="Playback controls for {label}">
<button type="button" data-action="play">▶ Play</button>
<button type="button" data-action="pause">Pause</button>
<button type="button" data-action="stop">■ Stop</button>
<label>Speed <select aria-label="Speaking speed">{options}</select></label>
</div>
<div class="status" role="status" aria-live="polite"></div>
{body}
</section>
<script type="application/json" id="speech-data">{payload}</script>
<script>{_JS}</script>
</body></html>"""


def read_aloud(lines: list[SpeechLine], *, title: str, transcript: bool = True) -> None:
    """Show a read-aloud player for ``lines`` (nothing is shown for an empty list).

    ``st.iframe`` with an HTML string is the successor of ``st.components.v1.html`` (deprecated
    in Streamlit 1.67): the same sandboxed ``srcdoc`` iframe, sized to its content.
    """
    import streamlit as st

    if not lines:
        return
    st.iframe(player_html(lines, title=title, transcript=transcript), height="content")
