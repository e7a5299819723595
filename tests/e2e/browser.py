"""Debian's Chromium, driven by Playwright (browser downloads are not possible on these machines)."""

import shutil
from pathlib import Path

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


# --- axe-core (npm: package.json at the repository's root; `npm ci` installs it, .ci/run does) -----------

AXE_PATH = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# The rules checked: WCAG 2.0/2.1 A and AA, and axe's best practices for landmarks and headings.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def add_axe(context) -> None:
    """Make axe-core available on every page of a browser context. An init script is not subject to
    the pages' Content-Security-Policy (script-src 'self'), so the pages are checked as served."""
    context.add_init_script(path=str(AXE_PATH))


def axe_violations(page) -> list[dict]:
    """axe's violations of the page as it is now: [{id, impact, help, nodes: [{target, summary}]}]."""
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
            return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.join(" "), summary: n.failureSummary}))}));
        }""",
        AXE_TAGS,
    )


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"  [{violation['impact']}] {violation['id']}: {violation['help']}")
        lines += [
            f"      {node['target']} — {node['summary']}".replace("\n", " ") for node in violation["nodes"]
        ]
    return "\n".join(lines)
