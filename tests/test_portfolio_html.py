"""The HTML report in a real browser: headless Chromium loads the file, and we read back the DOM it
built and the pixels it painted. Skips with a reason where Chromium is missing (fails in CI)."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from collections import Counter
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jiraserver import JiraServer, running_server
from portfolio_helpers import (
    ClosedSeed,
    assess_fields,
    env_for,
    expected_bids,
    seed_closed,
    seed_portfolio,
    waived_long_ago,
    win_rate,
)
from realdeps import require_real_or_skip
from support import TODAY, Gonogo

HOSTILE_SUMMARY = '"><img src=x onerror=alert(1)><script>alert(2)</script> {{ 7*7 }} Harbour & Co'
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
VERDICT_COLOURS = {  # the CSS custom properties in portfolio.html.j2
    "no-go": (0xC6, 0x28, 0x28),
    "needs-info": (0x02, 0x77, 0xBD),
    "go-with-conditions": (0xE0, 0x8E, 0x00),
    "go": (0x2E, 0x7D, 0x32),
}


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        require_real_or_skip("Chromium is not installed: apt-get install -y chromium")
    return found


class Element:
    def __init__(self, tag: str, attrs: dict[str, str], parent: Element | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Element] = []
        self.text = ""

    def walk(self) -> Iterator[Element]:
        yield self
        for child in self.children:
            yield from child.walk()

    def find(self, tag: str, **attrs: str) -> list[Element]:
        return [e for e in self.walk() if e.tag == tag and all(e.attrs.get(k) == v for k, v in attrs.items())]

    def all_text(self) -> str:
        return self.text + "".join(child.all_text() for child in self.children)


class DomReader(HTMLParser):
    """The DOM Chromium serialised, as a small tree (void elements closed at once)."""

    VOID = frozenset({"meta", "link", "br", "img", "input", "hr", "rect", "line", "path"})

    def __init__(self) -> None:
        super().__init__()
        self.root = Element("#document", {}, None)
        self._current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, self._current)
        self._current.children.append(element)
        if tag not in self.VOID:
            self._current = element

    def handle_endtag(self, tag: str) -> None:
        node: Element | None = self._current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self._current = node.parent

    def handle_data(self, data: str) -> None:
        self._current.text += data


def png_rows(path: Path) -> list[list[tuple[int, int, int]]]:
    """The RGB pixels of an 8-bit RGB/RGBA, non-interlaced PNG (what Chromium writes), row by row."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat = 8, b""
    width = height = channels = 0
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour_type = struct.unpack(">IIBB", body[:10])
            assert depth == 8
            assert colour_type in (2, 6)
            assert body[12] == 0
            channels = 3 if colour_type == 2 else 4
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    rows = []
    for y in range(height):
        start = y * (stride + 1)
        method, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if method == 1:
            for x in range(channels, stride):
                line[x] = (line[x] + line[x - channels]) & 0xFF
        elif method == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        elif method in (3, 4):
            for x in range(stride):
                left = line[x - channels] if x >= channels else 0
                up = previous[x]
                if method == 3:
                    line[x] = (line[x] + (left + up) // 2) & 0xFF
                    continue
                corner = previous[x - channels] if x >= channels else 0
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[x] = (line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append([(line[x], line[x + 1], line[x + 2]) for x in range(0, stride, channels)])
        previous = line
    return rows


def longest_run(flags: list[bool]) -> int:
    best = current = 0
    for flag in flags:
        current = current + 1 if flag else 0
        best = max(best, current)
    return best


@pytest.fixture
def html_report(gonogo: Gonogo, tmp_path: Path) -> Iterator[tuple[Path, JiraServer]]:
    # The search shows each ticket's newest change only; BID-20's waiver is older, so the report
    # reads that ticket on its own, and that read is refused: one error row.
    with running_server(deployment="Cloud", search_page_cap=25, changelog_cap=1) as server:
        seed_portfolio(server, 60)
        waived_long_ago(server, "BID-20")
        hostile = seed_portfolio(server, 1, first=61)
        (key,) = hostile
        fields = server.issue_fields(key)
        server.add_issue("BID-62", {**fields, "summary": HOSTILE_SUMMARY})
        server.fail_next("GET", r"/issue/BID-20$", 403)  # one error row
        out = tmp_path / "portfolio.html"
        assert write_html(gonogo, server, out, "--project", "BID") == 6
        yield out, server


def write_html(gonogo: Gonogo, server: JiraServer, out: Path, *query: str) -> int:
    """Run the HTML report into `out`; returns the exit code."""
    run = gonogo("report", *query, "--today", TODAY, "--format", "html", "-o", str(out), env=env_for(server))
    assert out.exists(), run.stderr
    return run.exit_code


def run_chromium(binary: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_the_html_report_renders_its_charts_and_a_row_per_ticket_in_chromium(
    html_report: tuple[Path, JiraServer], tmp_path: Path
) -> None:
    binary = chromium()
    page, server = html_report
    dom = DomReader()
    dom.feed(run_chromium(binary, tmp_path, "--dump-dom", page.as_uri()).stdout)
    root = dom.root

    (table,) = root.find("table", id="tickets")
    rows = [tr for tr in table.find("tr") if "data-key" in tr.attrs]
    assert len(rows) == 62
    assert rows[0].attrs["data-verdict"] == "error"
    assert rows[0].attrs["data-key"] == "BID-20"
    assert [r.attrs["data-verdict"] for r in rows[1:]] == sorted(
        (r.attrs["data-verdict"] for r in rows[1:]),
        key=["no-go", "needs-info", "go-with-conditions", "go"].index,
    )
    for tr in rows:
        links = tr.find("a")
        assert [a.attrs["href"] for a in links] == [f"{server.url}/browse/{tr.attrs['data-key']}"]

    (verdicts,) = root.find("svg", id="verdict-chart")
    bars = {g.attrs["data-verdict"]: int(g.attrs["data-count"]) for g in verdicts.find("g")}
    assert set(bars) == {"no-go", "needs-info", "go-with-conditions", "go", "error"}
    assert sum(bars.values()) == 62
    assert bars["error"] == 1
    assert len(verdicts.find("rect")) == 5
    widths = [float(r.attrs["width"]) for r in verdicts.find("rect")]
    assert max(widths) == 300

    (scores,) = root.find("svg", id="score-chart")
    buckets = scores.find("g")
    assert len(buckets) == 10
    # every assessed ticket has a score, except those where no check could run: they say so
    unscored = [tr for tr in rows if "no score (0 of 25 checks ran)" in tr.all_text()]
    assert unscored
    assert all(tr.attrs["data-verdict"] == "needs-info" for tr in unscored)
    assert sum(int(g.attrs["data-count"]) for g in buckets) == 61 - len(unscored)
    assert all(float(r.attrs["height"]) > 0 for r in scores.find("rect"))

    # the hostile summary is text in its cell, and nothing it contains became an element
    (hostile,) = [tr for tr in rows if tr.attrs["data-key"] == "BID-62"]
    assert HOSTILE_SUMMARY in hostile.all_text()
    assert root.find("script") == []
    assert root.find("img") == []
    assert not [e for e in root.walk() if any(name.startswith("on") for name in e.attrs)]


def test_the_html_report_paints_the_charts_in_the_verdict_colours(
    html_report: tuple[Path, JiraServer], tmp_path: Path
) -> None:
    binary = chromium()
    page, _ = html_report
    shot = tmp_path / "portfolio.png"
    run_chromium(binary, tmp_path, "--window-size=1280,900", f"--screenshot={shot}", page.as_uri())
    rows = png_rows(shot)
    assert (len(rows[0]), len(rows)) == (1280, 900)
    painted = {colour for row in rows for colour in row}
    assert set(VERDICT_COLOURS.values()) <= painted  # exact colours: nothing faded or recoloured
    verdict_pixels = [[cell in VERDICT_COLOURS.values() for cell in row] for row in rows]
    # only the score chart's tallest column (170 px, stacked by verdict) has 150+ such pixels on end
    tallest = max(longest_run(list(column)) for column in zip(*verdict_pixels, strict=True))
    assert tallest >= 150
    # only the verdict chart has a bar of 250+ pixels (the biggest verdict's), 15+ rows high
    wide = [
        max(longest_run([cell == colour for cell in row]) for colour in VERDICT_COLOURS.values())
        for row in rows
    ]
    assert longest_run([w >= 250 for w in wide]) >= 15


OUTCOME_COLOURS = {"withdrawn": (0x8C, 0x95, 0x9F), "no-bid": (0xB6, 0xBE, 0xC7)}  # only the outcome chart


@pytest.fixture
def outcomes_page(gonogo: Gonogo, tmp_path: Path) -> Iterator[tuple[Path, dict[str, ClosedSeed]]]:
    with running_server(deployment="Cloud", search_page_cap=50) as server:
        closed = seed_closed(server, 120, first=1)
        out = tmp_path / "outcomes.html"
        assert (
            write_html(gonogo, server, out, "--jql", "project = BID AND statusCategory = Done", "--outcomes")
            == 0
        )
        yield out, closed


def test_the_teaching_sections_render_their_charts_in_chromium(
    outcomes_page: tuple[Path, dict[str, ClosedSeed]], tmp_path: Path
) -> None:
    binary = chromium()
    page, closed = outcomes_page
    dom = DomReader()
    dom.feed(run_chromium(binary, tmp_path, "--dump-dom", page.as_uri()).stdout)
    root = dom.root
    bids = expected_bids(closed)

    # why bids fail here: one bar per rule (the ten biggest), its count and share as the test counts them
    failing: Counter[str] = Counter()
    for key, seed in closed.items():
        assessment = assess_fields(key, seed.fields, seed.names, seed.closed)
        failing.update(
            f"{f.checklist}/{f.rule.id}" for f in assessment.findings if f.outcome.value == "failed"
        )
    (chart,) = root.find("svg", id="failure-chart")
    bars = {g.attrs["data-rule"]: int(g.attrs["data-count"]) for g in chart.find("g")}
    assert len(bars) == min(10, len(failing))
    assert all(bars[rule] == failing[rule] for rule in bars)
    assert sorted(bars.values(), reverse=True) == sorted(failing.values(), reverse=True)[: len(bars)]
    widths = [float(r.attrs["width"]) for r in chart.find("rect")]
    assert max(widths) == 300
    (table,) = root.find("table", id="failing-rules")
    listed = {
        tr.attrs["data-rule"]: int(tr.attrs["data-count"])
        for tr in table.find("tr")
        if "data-rule" in tr.attrs
    }
    assert listed == dict(failing)

    # how verdicts fared: a stacked bar per verdict with the outcome counts of the test's own tally
    (outcome_chart,) = root.find("svg", id="outcome-chart")
    for g in outcome_chart.find("g"):
        mine = [b for b in bids.values() if b.verdict == g.attrs["data-verdict"]]
        counts = Counter(b.outcome for b in mine)
        for kind in ("won", "lost", "withdrawn", "no-bid", "none"):
            assert int(g.attrs[f"data-{kind}"]) == counts[kind]
        rate = win_rate(counts["won"], counts["lost"])
        assert g.attrs["data-win-rate"] == ("" if rate is None else str(rate))
        assert len(g.find("rect")) == sum(1 for n in counts.values() if n)

    # win rate by band: a column only where at least five decided bids stand behind it
    (band_chart,) = root.find("svg", id="band-chart")
    columns = band_chart.find("g")
    assert len(columns) == 5
    shown = 0
    for g in columns:
        low, high = int(g.attrs["data-low"]), int(g.attrs["data-high"])
        inside = [b for b in bids.values() if b.score is not None and low <= b.score <= high]
        won = sum(1 for b in inside if b.outcome == "won")
        lost = sum(1 for b in inside if b.outcome == "lost")
        rate = win_rate(won, lost)
        assert g.attrs["data-win-rate"] == ("" if rate is None else str(rate))
        assert len(g.find("rect")) == (0 if rate is None else 1)
        shown += rate is not None
    assert shown > 0

    (suggestions,) = root.find("div", id="suggestions")
    assert [li.attrs["data-threshold"] for li in suggestions.find("li")][:1] == ["min_win_probability"]
    assert root.find("script") == []

    shot = tmp_path / "outcomes.png"
    run_chromium(binary, tmp_path, "--window-size=1280,1600", f"--screenshot={shot}", page.as_uri())
    painted = {colour for row in png_rows(shot) for colour in row}
    assert set(OUTCOME_COLOURS.values()) <= painted  # the outcome chart was painted, in its colours
    assert VERDICT_COLOURS["no-go"] in painted
