"""The VS Code extension (clients/vscode): type-check, lint, unit tests, packaging, and end-to-end
runs in a real VS Code (code-server 4.99.4 = VS Code 1.99.3, in headless Chromium) against the real
daemon and a scripted model over HTTP.

`clients/vscode/test/install.sh` (run by scripts/test) installs the node packages and the e2e kit.
Without them these tests skip; under CI=true a skip is a failure (tests/conftest.py).
Set CODEGEN_VSCODE_SCREENSHOTS=clients/vscode/images to refresh the README's screenshots.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from codegen_server.model.scripted_server import ScriptStep
from tests.server.test_feedback_review import MARKERS_ANSWER, PY_MARKED, TS_MARKED
from tests.support.answers import CALC_FILES, CALC_PROJECT, CLARIFY_QUESTIONS, NOTHING_TO_CLARIFY, STATS
from tests.support.answers import MEAN_EMPTY_LIST as FEEDBACK_ANSWER
from tests.support.fix_projects import CART, FIX_CART, make_python_project
from tests.support.hostile import hostile_clone

ROOT = Path(__file__).resolve().parents[2]
EXT = ROOT / "clients" / "vscode"
DRIVE = EXT / "test" / "e2e" / "drive.mjs"
KIT = Path(os.environ.get("VSCODE_REAL_HOME", "/tmp/vscode_real_home"))
CODE_SERVER = KIT / "node_modules" / "code-server" / "out" / "node" / "entry.js"
#: The daemon from the venv running these tests (the extension host's PATH does not have it).
SERVER = Path(sys.executable).with_name("codegen-server")
INSTALL_HINT = "run clients/vscode/test/install.sh (scripts/test does)"

#: One worker runs this module: its tests share the package build in clients/vscode.
pytestmark = pytest.mark.xdist_group("vscode")


def npm(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    if not (EXT / "node_modules" / ".bin" / "tsc").exists():
        pytest.skip(f"the extension's node packages are not installed: {INSTALL_HINT}")
    return subprocess.run(["npm", *args], cwd=EXT, capture_output=True, text=True, timeout=timeout)


def check(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, f"{' '.join(done.args)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done.stdout


def test_typecheck_and_lint():
    check(npm("run", "typecheck"))
    check(npm("run", "lint"))


def test_unit_tests_pass():
    out = check(npm("run", "test:unit"))
    passed = int(out.split("# pass ")[1].split()[0])
    assert passed >= 20 and "# fail 0" in out


@pytest.fixture(scope="module")
def vsix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`npm run package` writes exactly one .vsix, holding the bundle and no node_modules.

    pytest builds a module fixture again whenever a worker comes back to this module, so the build
    holds a lock and the tests get their own copy: no build pulls the package from under a run.
    """
    lock_path = Path(tempfile.gettempdir()) / f"codegen-vscode-package-{os.getuid()}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for old in EXT.glob("*.vsix"):
            old.unlink()
        check(npm("run", "package"))
        built = list(EXT.glob("*.vsix"))
        assert len(built) == 1, built
        copy = tmp_path_factory.mktemp("vsix") / built[0].name
        shutil.copy2(built[0], copy)
    return copy


#: Settings only the user's own settings may set (issue 23).
USER_ONLY = ("codegen.server.command", "codegen.model.baseUrl", "codegen.fix.autoAccept", "codegen.fix.allowTestEdits")


def test_package_writes_one_vsix_with_the_bundle(vsix):
    with zipfile.ZipFile(vsix) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read("extension/package.json"))
    assert "extension/dist/extension.js" in names
    assert not [n for n in names if "node_modules" in n or n.startswith("extension/src/")]
    commands = {c["command"] for c in manifest["contributes"]["commands"]}
    assert {"codegen.ui.generate", "codegen.ui.addFeedback", "codegen.ui.applyFeedback", "codegen.ui.applyMarkers",
            "codegen.ui.fix", "codegen.ui.undo", "codegen.ui.restart", "codegen.ui.setApiKey"} <= commands
    # vscode-languageclient registers the daemon's own command ids; ours must never clash with them.
    assert not commands & {"codegen.clarify", "codegen.generateProject", "codegen.applyFeedback", "codegen.fixTests",
                           "codegen.undo", "codegen.collectFeedback", "codegen.memory", "codegen.runs", "codegen.start",
                           "codegen.testModel"}
    # The walkthrough (pick a provider, set the key, test the connection) ships with its pages.
    [walkthrough] = manifest["contributes"]["walkthroughs"]
    pages = [step["media"]["markdown"] for step in walkthrough["steps"]]
    assert len(pages) == 3 and all(f"extension/{page}" in names for page in pages)
    settings = manifest["contributes"]["configuration"]["properties"]
    assert "codegen.model.apiKey" not in settings
    # A cloned repository's .vscode/settings.json must not choose the program that runs, the URL that
    # receives the key, or weaken a fix run's safeguards: VS Code ignores application-scoped settings
    # in workspace and folder settings (and in remote-machine settings), reading the user's only.
    assert {key: settings[key].get("scope") for key in USER_ONLY} == dict.fromkeys(USER_ONLY, "application")
    # The test command may differ per folder; a workspace's is confirmed by the user before it runs.
    assert settings["codegen.fix.testCommand"]["scope"] == "resource"
    # Untrusted workspaces (Restricted Mode) are not supported: the extension stays disabled there.
    assert manifest["capabilities"]["untrustedWorkspaces"] == {"supported": False}
    # The preview opens VS Code's multi-file diff editor (the vscode.changes command, on by default from 1.86).
    oldest = tuple(int(part) for part in manifest["engines"]["vscode"].lstrip("^>=").split(".")[:2])
    assert oldest >= (1, 86), manifest["engines"]


# ------------------------------------------------------------------ end to end in a real VS Code

@pytest.fixture
def e2e(vsix, tmp_path):
    """``e2e(folder, model, *steps)`` runs drive.mjs: installs the vsix, opens ``folder`` in a real
    VS Code whose codegen settings point at this venv's daemon and ``model``, runs the steps."""
    for tool, what in ((CODE_SERVER, "code-server"), (Path(os.environ.get("CHROMIUM", "/usr/bin/chromium")), "chromium")):
        if not tool.exists():
            pytest.skip(f"{what} for the end-to-end runs is not installed: {INSTALL_HINT}")
    assert SERVER.exists(), f"the daemon {SERVER} is not installed in this venv"
    shots = tmp_path / "shots"

    def run(folder: Path, model, *steps: str, work_dir: Path | None = None, server: Path = SERVER) -> dict:
        argv = ["node", str(DRIVE), "--vsix", str(vsix), "--folder", str(folder),
                *(["--work-dir", str(work_dir)] if work_dir else []),
                "--setting", f"codegen.server.command={json.dumps([str(server)])}",
                "--setting", f"codegen.model.baseUrl={json.dumps(model.base_url)}",
                "--setting", 'codegen.model.name="scripted-model"',
                "--setting", 'codegen.model.maxRetries=0',
                "--timeout", "40", "--settle", "1", "--screenshot", str(shots / "last.png"),
                *[s.replace("{shots}", str(shots)) for s in steps]]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=110,
                              env={**os.environ, "VSCODE_REAL_HOME": str(KIT)})
        lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        assert lines, f"drive.mjs printed no result (exit {done.returncode}):\n{done.stderr[-3000:]}"
        result = json.loads(lines[-1][len("RESULT "):])
        assert done.returncode == 0 and result["ok"], (
            f"the VS Code run failed: {result.get('errors')}\nscreenshot: {result.get('failureScreenshot')}\n"
            f"code-server log: {result.get('codeServerLog')}\n{done.stderr[-3000:]}")
        refresh = os.environ.get("CODEGEN_VSCODE_SCREENSHOTS")
        if refresh:
            for shot in result.get("shots", []):
                shutil.copy(shot, ROOT / refresh / Path(shot).name)
        return result

    return run


def workspace_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and ".codegen" not in p.relative_to(root).parts and "__pycache__" not in p.parts
                  and ".pytest_cache" not in p.parts)


# The preview: every changed file in one changes editor, Apply / Discard in its title bar.
APPLY = '.editor-actions .action-label[aria-label^="Apply Previewed Changes"]'
DISCARD = '.editor-actions .action-label[aria-label^="Discard Previewed Changes"]'
CHOOSE = '.editor-actions .action-label[aria-label^="Choose Changes to Apply"]'
PICK_ROW = '.quick-input-widget .quick-input-list .monaco-list-row:has-text("{}")'.format
PREVIEW_OF = '.multiDiffEditor :text("{}")'.format
# A run in the Codegen view.
RUN_ROW = '.pane-body .monaco-list-row:has-text("{}")'.format

# A clarifying question: its input box's prompt, Back and "skip the rest" in its title bar.
QUESTION = '.quick-input-widget .quick-input-message:has-text("{}")'.format
SKIP_REST = ".quick-input-widget .quick-input-right-action-bar .action-label.codicon-run-all"
BACK = ".quick-input-widget .quick-input-left-action-bar .action-label"
DIALOG = ".monaco-dialog-box"
DIALOG_BUTTON = '.monaco-dialog-box .dialog-buttons .monaco-button:has-text("{}")'.format

GENERATE_STEPS = ("--command", "Codegen: Generate from Prompt", "--wait-input", "What should codegen build",
                  "--type", "a calculator library with tests", "--key", "Enter",
                  "--wait-input", "Which operations should", "--click", SKIP_REST,
                  "--wait", APPLY, "--wait", PREVIEW_OF("ops.py"), "--wait-notification", "6 new files")


def test_generate_from_the_palette_previewed_then_applied(e2e, scripted_model, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    model = scripted_model([ScriptStep(content="OK"), ScriptStep(content=CLARIFY_QUESTIONS),
                            ScriptStep(content=NOTHING_TO_CLARIFY), ScriptStep(content=CALC_PROJECT)])
    e2e(ws, model,
        # Onboarding: "no model" until a model answered; the walkthrough; its connection test.
        "--wait", ".statusbar-item:has-text('Codegen: no model')", "--command", "Codegen: Set Up a Model",
        "--wait", ':text("Test the connection")', "--shot", "{shots}/walkthrough.png",
        "--command", "Codegen: Test Model Connection", "--wait-notification", "scripted-model at",
        "--wait", ".statusbar-item:has-text('Codegen'):not(:has-text('no model'))",
        # The walkthrough re-renders as its step completes and can take the focus back from a new input.
        "--command", "View: Close All Editors",
        "--command", "Codegen: Generate from Prompt", "--wait-input", "What should codegen build",
        "--type", "a calculator library with tests", "--key", "Enter",
        # Each question is the input's prompt, whole; Back returns to the previous one with its answer.
        "--wait", QUESTION("Which operations should the calculator support?"), "--type", "add and divide", "--key", "Enter",
        "--wait", QUESTION("Should it be a library"), "--shot", "{shots}/generate-question.png",
        "--wait", BACK, "--key", "Control+Alt+Minus",  # Back (its keybinding: a click leaves a hover that takes Escape)
        "--wait-value", "add and divide", "--key", "Enter",
        # Escape after answering keeps the answers and asks; "Keep Answering" shows the question again.
        "--wait", QUESTION("Should it be a library"), "--type", "a library", "--key", "Escape",
        "--wait-pick", "Keep answering", "--shot", "{shots}/generate-discard-answers.png",
        "--pick", "Keep answering", "--wait-value", "a library", "--key", "Enter",
        "--wait", APPLY, "--wait", PREVIEW_OF("ops.py"), "--wait-notification", "6 new files",
        "--shot", "{shots}/generate-preview.png", "--click", APPLY,
        "--await-file", str(ws / "tests" / "test_ops.py"), "--wait-notification", "generate wrote 6 files")

    assert workspace_files(ws) == sorted(CALC_FILES)
    assert "raise ZeroDivisionError" in (ws / "calc" / "ops.py").read_text()
    # The connection test, clarify, the answers (round 2), then generate from the clarified run.
    assert len(model.requests) == 4
    answers = model.requests[2]["messages"][-1]["content"]
    assert "add and divide" in answers and "a library" in answers
    # The tests the generated project brings pass: the files were written whole and saved.
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=ws,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout


def test_generate_discarded_in_the_preview_writes_nothing(e2e, scripted_model, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "notes.txt").write_text("keep me\n")
    model = scripted_model([ScriptStep(content=CLARIFY_QUESTIONS), ScriptStep(content=CALC_PROJECT)])
    result = e2e(ws, model, *GENERATE_STEPS, "--click", DISCARD,
                 "--wait-notification", "generate wrote nothing")

    assert workspace_files(ws) == ["notes.txt"]
    assert (ws / "notes.txt").read_text() == "keep me\n"
    assert any("discarded in the preview" in n for n in result["notifications"])
    # "Skip the rest" leaves the questions to the model.
    spec = model.requests[1]["messages"][-1]["content"]
    assert "Which operations should the calculator support?" in spec and "(no answer: decide sensibly)" in spec
    runs = list((ws / ".codegen" / "runs").glob("*/run.json"))
    outcomes = [json.loads(r.read_text()).get("outcome") or {} for r in runs]
    assert any(o.get("applied") is False for o in outcomes), outcomes


def test_generate_with_some_files_left_out_in_the_review(e2e, scripted_model, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    model = scripted_model([ScriptStep(content=CLARIFY_QUESTIONS), ScriptStep(content=CALC_PROJECT)])
    result = e2e(ws, model, *GENERATE_STEPS,
                 # The title bar's Choose lists every file (and every hunk of an edited file), all ticked.
                 "--wait", '.editor-actions .action-label[aria-label="Choose Changes to Apply… (Ctrl+Alt+\\\\)"]',
                 "--click", CHOOSE, "--wait", PICK_ROW("README.md"), "--wait", PICK_ROW("new file"),
                 "--click", PICK_ROW("README.md"), "--shot", "{shots}/choose-changes.png", "--key", "Enter",
                 "--await-file", str(ws / "calc" / "ops.py"),
                 "--wait-notification", "generate wrote 5 files", "--shot", "{shots}/choose-changes-written.png")

    assert workspace_files(ws) == sorted(set(CALC_FILES) - {"README.md"})
    written = next(n for n in result["notifications"] if "generate wrote 5 files" in n)
    assert "left out or changed in the review: README.md" in written
    # The daemon wrote nothing more (it would have written README.md), and recorded what landed.
    [run] = [json.loads(r.read_text()) for r in (ws / ".codegen" / "runs").glob("*/run.json")
             if json.loads(r.read_text()).get("kind") == "generate"]
    assert sorted(f["path"] for f in run["outcome"]["files"]) == sorted(set(CALC_FILES) - {"README.md"})


def test_typing_during_the_review_away_from_the_change_keeps_the_preview(e2e, scripted_model, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "stats.py").write_text(STATS)
    model = scripted_model([ScriptStep(content=FEEDBACK_ANSWER)])
    e2e(ws, model, "--open", "stats.py", "--goto", "1", "--key", "Shift+ArrowDown",
        "--command", "Codegen: Add Feedback Comment", "--wait", ".review-widget textarea",
        "--type", "mean() should handle an empty list", "--key", "Control+Enter",
        "--wait", APPLY, "--wait", PREVIEW_OF("stats.py"),
        # While the preview waits, the user types at the end of the file, away from the change.
        # A click in the file's own editor (the left group, first in the page) puts the cursor there.
        "--click", '.editor-instance .view-line:has-text("def spread")', "--key", "Control+End",
        "--type", "# typed during the review",
        "--wait", '.monaco-editor.focused .view-line:has-text("# typed during the review")',
        "--command", "Codegen: Apply Previewed Changes",
        "--await-text", str(ws / "stats.py"), "if not values:",
        "--wait", '.review-widget :text("Applied to")', "--shot", "{shots}/typed-during-review.png")

    assert (ws / "stats.py").read_text() == STATS.replace(
        "def mean(values):\n", "def mean(values):\n    if not values:\n        return 0.0\n") + "# typed during the review"
    # The change landed whole beside the user's typing: nothing is reported left out.
    [outcome] = [json.loads(r.read_text())["outcome"] for r in (ws / ".codegen" / "runs").glob("*/run.json")]
    assert outcome["applied"] is True and "left_out" not in outcome, outcome


def test_feedback_comment_on_a_selection_of_an_unsaved_buffer_with_a_question_back(e2e, scripted_model, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "stats.py").write_text(STATS)
    question = "Should mean() of an empty list return 0.0 or raise a ValueError?"
    model = scripted_model([ScriptStep(content=f"QUESTION: {question}"), ScriptStep(content=FEEDBACK_ANSWER)])
    e2e(ws, model, "--open", "stats.py",
        # Typing the user has not saved: the change is made to the buffer, and the file is saved after Apply.
        "--key", "Control+End", "--type", "# an unsaved note",
        "--goto", "1", "--key", "Shift+ArrowDown", "--key", "Shift+ArrowDown",
        "--command", "Codegen: Add Feedback Comment", "--wait", ".review-widget textarea",
        "--type", "mean() should handle an empty list", "--key", "Control+Enter",
        # The model asks back: nothing changes, the question shows in the thread; the reply continues the run.
        "--wait", '.review-widget :text("Question:")', "--shot", "{shots}/feedback-question.png",
        "--click", ".review-widget .review-thread-reply-button", "--wait", ".review-widget textarea",
        "--type", "Return 0.0 for it", "--key", "Control+Enter",
        "--wait", APPLY, "--wait", PREVIEW_OF("stats.py"), "--shot", "{shots}/feedback-preview.png", "--click", APPLY,
        "--await-text", str(ws / "stats.py"), "if not values:",
        "--wait", '.review-widget :text("Applied to")', "--shot", "{shots}/feedback-applied.png",
        # After a reload the thread is back with its answer, and the Codegen view lists both turns' runs;
        # a run opens its transcript (read-only, titled by what was asked, not by its id).
        "--command", "Developer: Reload Window", "--sleep", "3", "--open", "stats.py",
        "--wait", '.review-widget :text("Applied to")', "--shot", "{shots}/feedback-thread-after-reload.png",
        "--command", "View: Show Codegen", "--wait", RUN_ROW("feedback: Return 0.0 for it"),
        "--wait", RUN_ROW("feedback: mean() should handle"), "--click", RUN_ROW("feedback: Return 0.0 for it"),
        "--wait", '.tab[aria-label*="Transcript — feedback Return 0.0 for it"]', "--shot", "{shots}/runs-view-transcript.png")

    transcripts = "".join(p.read_text() for p in (ws / ".codegen" / "runs").glob("*/transcript.md"))
    assert "**Comment:** Return 0.0 for it" in transcripts and "- Applied: yes" in transcripts
    assert (ws / "stats.py").read_text() == STATS.replace(
        "def mean(values):\n", "def mean(values):\n    if not values:\n        return 0.0\n") + "# an unsaved note"
    first, reply = (r["messages"] for r in model.requests)
    assert "mean() should handle an empty list" in first[-1]["content"]
    assert "lines 1-2" in first[-1]["content"]  # the two selected lines, not the line after them
    sent = "\n".join(m["content"] for m in reply)
    assert question in sent and "Return 0.0 for it" in sent  # the reply carries the thread




UNDO_BUTTON = '.notifications-toasts .monaco-button:has-text("Undo Run")'


def test_fix_until_tests_pass_then_undo_the_run(e2e, scripted_model, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    make_python_project(ws)
    model = scripted_model([ScriptStep(content="total() skips the first price."), ScriptStep(content=FIX_CART)])
    cart = ws / "shop" / "cart.py"
    result = e2e(ws, model, "--command", "Codegen: Fix Until Tests Pass",
                 "--wait", APPLY, "--wait", PREVIEW_OF("cart.py"), "--shot", "{shots}/fix-preview.png",
                 # The keybindings show in the title bar's tooltips; the model's diagnosis is the preview's first page.
                 "--wait", '.editor-actions .action-label[aria-label="Apply Previewed Changes (Ctrl+Alt+Enter)"]',
                 "--wait", PREVIEW_OF("total() skips the first price."),
                 "--click", APPLY, "--await-text", str(cart), "return sum(prices)\n",
                 "--wait-notification", "the tests pass — fixed", "--shot", "{shots}/fix-green.png",
                 # Undo refuses while the file has unsaved changes: the disk and the editor must not diverge.
                 "--open", "shop/cart.py", "--key", "Enter", "--click", UNDO_BUTTON,
                 "--wait-notification", "has unsaved changes", "--shot", "{shots}/undo-refused-unsaved.png",
                 # Reverted, the run is undone from the picker of runs (described, no ids).
                 "--command", "File: Revert File",
                 "--command", "Codegen: Undo Run", "--wait-pick", "fix", "--shot", "{shots}/undo-pick.png", "--pick", "fix",
                 "--await-text", str(cart), "prices[1:]", "--wait-notification", "1 file restored",
                 # The Codegen view: the fix run, and its transcript with the iteration's diagnosis and tests.
                 "--command", "View: Show Codegen", "--wait", RUN_ROW("fix"), "--click", RUN_ROW("fix"),
                 "--wait", '.tab[aria-label*="Transcript — fix"]', "--shot", "{shots}/runs-view-fix-transcript.png")

    assert any("fixed 1 failing test in 1 iteration" in n for n in result["notifications"])
    refused = next(n for n in result["notifications"] if "unsaved changes" in n)
    assert "shop/cart.py" in refused and "nothing was undone" in refused
    assert cart.read_text() == CART  # Undo Run returned the workspace to the start of the run
    transcript = "".join(p.read_text() for p in (ws / ".codegen" / "runs").glob("*/transcript.md"))
    assert "## Iteration 1" in transcript and "- Tests failing: 1 before, 0 after" in transcript
    assert len(model.requests) == 2
    assert "test_total" in model.requests[0]["messages"][-1]["content"]


def test_marker_comments_in_the_workspace_and_a_remembered_preference(e2e, scripted_model, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "loader.py").write_text(PY_MARKED)
    (ws / "util.ts").write_text(TS_MARKED)
    preference = "keep error messages in plain English"
    model = scripted_model([ScriptStep(content=f"{MARKERS_ANSWER}\nREMEMBER: {preference}\n")])
    result = e2e(ws, model, "--command", "Codegen: Apply Feedback Comments in Workspace",
                 "--wait", APPLY, "--wait", PREVIEW_OF("util.ts"), "--shot", "{shots}/markers-preview.png", "--click", APPLY,
                 # The marker left is named at its line now (line 6 before the change), its reason in Problems.
                 "--wait-notification", "Not done: util.ts:8", "--wait-notification", "proposes to remember",
                 "--shot", "{shots}/markers-applied.png",
                 "--wait", REMEMBER_BUTTON, "--click", REMEMBER_BUTTON,
                 "--await-text", str(ws / ".codegen" / "memory.md"), preference,
                 "--command", "View: Focus Problems", "--wait", NOT_DONE_PROBLEM, "--shot", "{shots}/markers-not-done.png",
                 "--dump", MARKER_PROBLEMS)

    assert any("applied 2 codegen: comments (loader.py:7, util.ts:2)" in n for n in result["notifications"])
    loader, util = (ws / "loader.py").read_text(), (ws / "util.ts").read_text()
    assert "if not os.path.exists(path):" in loader and "# codegen:" not in loader
    assert "/* codegen: rename to lastItem */" in util and "// codegen:" not in util
    assert (ws / ".codegen" / "memory.md").read_text().endswith(f"- {preference}\n")
    assert len(model.requests) == 1
    # One Problems entry for the marker left, saying why (the daemon's diagnostic, no second copy).
    [problem] = result["dumps"]
    assert "rename to lastItem — not done: renaming" in problem and "break its callers" in problem


NOT_DONE_PROBLEM = '.markers-panel .monaco-list-row:has-text("rename to lastItem — not done")'
MARKER_PROBLEMS = '.markers-panel .monaco-list-row:has-text("rename to lastItem")'
CLOSE_PREVIEW = '.tabs-container .tab[aria-label^="Codegen: generate"] .action-label.codicon-close'
REMEMBER_BUTTON = '.notifications-toasts .monaco-button:has-text("Remember")'
SET_KEY_BUTTON = '.notifications-toasts .monaco-button:has-text("Set API Key")'


def serve_on_loopback(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """An HTTP server on a free loopback port, serving in a daemon thread."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


class KeyCheckingProxy:
    """An OpenAI-style endpoint that wants ``Authorization: Bearer <key>``: it answers 401 without
    it (as OpenAI does) and forwards the request to the scripted model with it. Records each
    request's Authorization header, so a test sees which key reached the model."""

    def __init__(self, upstream: str, key: str) -> None:
        self.seen: list[str | None] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.seen.append(self.headers.get("Authorization"))
                if self.headers.get("Authorization") != f"Bearer {key}":
                    self._send(401, b'{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}')
                    return
                request = urllib.request.Request(upstream + self.path[len("/v1"):], data=body, method="POST",
                                                 headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=30) as answer:
                    self._send(answer.status, answer.read(), answer.headers.get("Content-Type", "text/event-stream"))

            def _send(self, status: int, data: bytes, kind: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = serve_on_loopback(Handler)
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def test_a_rejected_key_offers_set_api_key_kept_in_secret_storage(e2e, scripted_model, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    key = "sk-test-4c1d9e"
    upstream = scripted_model([ScriptStep(content=NOTHING_TO_CLARIFY), ScriptStep(content=CALC_PROJECT)])
    proxy = KeyCheckingProxy(upstream.base_url, key)
    work = tmp_path / "vscode"
    try:
        # A verbose trace logs every message's params (initializationOptions and didChangeConfiguration
        # carry the key) into the Codegen output.
        e2e(ws, proxy, "--setting", 'codegen.trace.server="verbose"',
            "--command", "Codegen: Generate from Prompt", "--wait-input", "What should codegen build",
            "--type", "a calculator library", "--key", "Enter",
            "--wait-notification", "rejected the API key", "--shot", "{shots}/error-set-api-key.png",
            "--wait", SET_KEY_BUTTON, "--click", SET_KEY_BUTTON,
            "--wait-input", "model API key", "--type", key, "--key", "Enter",
            "--wait-notification", "the API key is stored",
            # The daemon has the key now (didChangeConfiguration): the same command goes through.
            "--command", "Codegen: Generate from Prompt", "--wait-input", "What should codegen build",
            "--type", "a calculator library", "--key", "Enter", "--wait", DISCARD,
            # Closing the preview without choosing discards it.
            "--click", CLOSE_PREVIEW, "--wait-notification", "generate wrote nothing",
            # A removed key is no longer used (the daemon keeps what it was sent: the extension restarts it).
            "--command", "Codegen: Set API Key", "--wait-input", "model API key", "--key", "Enter",
            "--wait-notification", "the API key was removed",
            "--command", "Codegen: Generate from Prompt", "--wait-input", "What should codegen build",
            "--type", "a calculator library", "--key", "Enter", "--wait-notification", "rejected the API key",
            work_dir=work)
    finally:
        proxy.stop()
    assert workspace_files(ws) == []
    assert proxy.seen[0] != f"Bearer {key}" and proxy.seen[3] != f"Bearer {key}"
    assert proxy.seen[1:3] == [f"Bearer {key}"] * 2 and len(upstream.requests) == 2
    # The key lives in SecretStorage: never in the user's settings, nor in any log VS Code or codegen wrote.
    settings = (work / "user-data" / "User" / "settings.json").read_text()
    assert key not in settings and "apiKey" not in settings
    logs = [p for p in (work / "user-data" / "logs").rglob("*") if p.is_file()]
    assert any("Codegen" in p.name for p in logs)
    assert any("didChangeConfiguration" in p.read_text(errors="replace") for p in logs if "Codegen" in p.name)
    assert not [p for p in logs if key in p.read_text(errors="replace")]
    assert not [p for p in (ws / ".codegen").rglob("*") if p.is_file() and key in p.read_text(errors="replace")]


def test_cancel_in_the_progress_notification_stops_the_run(e2e, scripted_model, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    model = scripted_model([ScriptStep(content=NOTHING_TO_CLARIFY),
                            ScriptStep(content=CALC_PROJECT, chunk_delay=0.5, chunk_size=4)])
    e2e(ws, model, "--command", "Codegen: Generate from Prompt", "--wait-input", "What should codegen build",
        "--type", "a calculator library", "--key", "Enter",
        # "asking the model — N tokens streamed" is the generate call's (the clarify call's label differs),
        # so the cancel lands while the project streams, after both requests were sent.
        "--wait-notification", "asking the model — ", "--shot", "{shots}/generate-progress.png",
        "--click", CANCEL_BUTTON, "--wait-notification", "was cancelled; nothing was written")
    assert workspace_files(ws) == []
    assert len(model.requests) == 2


CANCEL_BUTTON = '.notifications-toasts .notification-list-item:has-text("Codegen: generating") .monaco-button:has-text("Cancel")'


def test_cancel_while_the_preview_waits_closes_it_and_writes_nothing(e2e, scripted_model, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    model = scripted_model([ScriptStep(content=NOTHING_TO_CLARIFY), ScriptStep(content=CALC_PROJECT)])
    result = e2e(ws, model, "--command", "Codegen: Generate from Prompt", "--wait-input", "What should codegen build",
                 "--type", "a calculator library", "--key", "Enter", "--wait", APPLY, "--wait", CANCEL_BUTTON,
                 "--click", CANCEL_BUTTON, "--wait-notification", "was cancelled; nothing was written",
                 # The daemon said nothing was written: no preview is left whose Apply would write.
                 "--sleep", "1", "--dump", APPLY, "--click", APPLY, "--sleep", "2")
    assert result.get("dumps", []) == []
    assert workspace_files(ws) == []


OPEN_SETTINGS = '.notifications-toasts .monaco-button:has-text("Open Settings")'


def test_a_daemon_that_is_not_installed_gets_one_message_with_the_setting(e2e, scripted_model, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    missing = tmp_path / "old-venv" / "bin" / "codegen-server"
    result = e2e(ws, scripted_model([]), "--wait-notification", "is not an executable file",
                 "--wait", ".statusbar-item:has-text('Codegen (error)')", "--shot", "{shots}/server-missing.png",
                 "--wait", OPEN_SETTINGS, "--click", OPEN_SETTINGS,
                 # The Settings editor, filtered to the one setting to fix.
                 "--wait", '.settings-editor [data-key="codegen.server.command"]',
                 "--dump", ".settings-editor .setting-item-contents[data-key]", server=missing)
    [message] = [n for n in result["notifications"] if "not an executable file" in n]
    assert str(missing) in message and "codegen.server.command" in message
    assert ['data-key="codegen.server.command"' in d for d in result["dumps"]] == [True]


def test_a_daemon_that_exits_at_start_gets_one_message_with_its_exit_code_and_stderr(e2e, scripted_model, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    broken = tmp_path / "codegen-server"
    broken.write_text("#!/bin/sh\necho 'Traceback (most recent call last):' >&2\necho '  File \"app.py\", line 1' >&2\n"
                      "echo \"ModuleNotFoundError: No module named 'pygls'\" >&2\nexit 3\n")
    broken.chmod(0o755)
    result = e2e(ws, scripted_model([]), "--wait-notification", "exited at start", "--sleep", "3",
                 "--shot", "{shots}/server-exits-at-start.png",
                 "--dump", ".notifications-toasts .notification-toast", server=broken)
    # One toast, not vscode-languageclient's cascade (EPIPE, "connection is erroring", "Restarting server failed").
    [toast] = result["dumps"]
    assert "exit code 3" in toast and "No module named 'pygls'" in toast
    assert "Traceback" not in toast and "EPIPE" not in toast


class Recorder:
    """An HTTP endpoint a cloned repository names as its model: it records every request (any method,
    with its Authorization header) and answers 500, so nothing it gets goes unnoticed."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str | None]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _record(self) -> None:
                recorder.requests.append((self.command, self.path, self.headers.get("Authorization")))
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_HEAD = do_OPTIONS = _record

        self._httpd = serve_on_loopback(Handler)
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def test_a_cloned_workspace_cannot_choose_the_daemon_the_endpoint_or_the_test_command(e2e, scripted_model, tmp_path):
    """The repository's .vscode/settings.json names a program for the daemon, its own model endpoint,
    autoAccept, allowTestEdits and a test command: none of them is used without the user saying so."""
    recorder = Recorder()

    def plant(repo: Path, outside: Path) -> None:
        make_python_project(repo)
        (repo / ".vscode").mkdir()
        (repo / ".vscode" / "settings.json").write_text(json.dumps({
            "codegen.server.command": ["sh", "-c", f"touch {outside}/server-ran; exec sleep 60"],
            "codegen.model.baseUrl": recorder.base_url,
            "codegen.fix.autoAccept": True,
            "codegen.fix.allowTestEdits": True,
            "codegen.fix.testCommand": f"touch {outside}/tests-ran",
        }, indent=2))

    key = "sk-test-7f3a2b"
    upstream = scripted_model([ScriptStep(content="total() skips the first price."), ScriptStep(content=FIX_CART)])
    proxy = KeyCheckingProxy(upstream.base_url, key)
    try:
        ws, outside = hostile_clone(tmp_path, plant)
        command = f"touch {outside.folder}/tests-ran"
        result = e2e(
            ws, proxy,
            "--command", "Codegen: Set API Key", "--wait-input", "model API key", "--type", key, "--key", "Enter",
            "--wait-notification", "the API key is stored",
            # The workspace's test command is shown, exactly, with its file, before anything runs it.
            "--command", "Codegen: Fix Until Tests Pass", "--wait", DIALOG, "--wait", f'{DIALOG} :text("{command}")',
            "--dump", DIALOG, "--shot", "{shots}/fix-test-command-confirm.png",
            "--click", DIALOG_BUTTON("Cancel"), "--wait-notification", "test command was not run",
            # Asked again (nothing was allowed); this time the fix runs with the detected command (pytest).
            "--command", "Codegen: Fix Until Tests Pass", "--wait", DIALOG, "--click", DIALOG_BUTTON("Run Without It"),
            # The workspace's autoAccept is not used: the iteration is previewed.
            "--wait", APPLY, "--wait", PREVIEW_OF("cart.py"), "--click", APPLY,
            "--wait-notification", "the tests pass — fixed")
    finally:
        proxy.stop()
        recorder.stop()

    [dialog] = result["dumps"]
    assert command in dialog and f"{ws}/.vscode/settings.json (codegen.fix.testCommand)" in dialog
    # Neither the repository's program nor its test command ran; nothing outside the clone changed.
    assert outside.changes() == []
    assert not (outside.folder / "server-ran").exists() and not (outside.folder / "tests-ran").exists()
    # The repository's endpoint got nothing; the key went to the user's endpoint only.
    assert recorder.requests == []
    assert proxy.seen == [f"Bearer {key}"] * 2 and len(upstream.requests) == 2
    assert "return sum(prices)" in (ws / "shop" / "cart.py").read_text()


def test_a_workspace_test_command_allowed_once_runs_in_that_folder_without_asking_again(e2e, scripted_model, tmp_path):
    ws = tmp_path / "ws"
    (ws / ".vscode").mkdir(parents=True)
    log = tmp_path / "tests.log"
    command = f"echo ran >> {log}"
    (ws / ".vscode" / "settings.json").write_text(json.dumps({"codegen.fix.testCommand": command}))
    e2e(ws, scripted_model([]),
        "--command", "Codegen: Fix Until Tests Pass", "--wait", DIALOG, "--click", DIALOG_BUTTON("Allow and Run"),
        "--await-text", str(log), "ran", "--wait-notification", "nothing was failing",
        # Allowed for this folder and this command: the next run does not ask (a dialog would block it).
        "--command", "Codegen: Fix Until Tests Pass", "--await-text", str(log), "ran\nran\n")
    assert log.read_text() == "ran\nran\n"
    # The daemon ran the allowed command, passed with the fix command (its settings never held it).
    runs = [json.loads(p.read_text()) for p in (ws / ".codegen" / "runs").glob("*/run.json")]
    assert [r.get("test_command") for r in runs] == [command, command], runs


#: A generated project that carries workspace settings for VS Code (a file that can make it run code).
WITH_VSCODE_SETTINGS = '''Here is the project.

hello.py
```python
print("hello")
```

.vscode/settings.json
```json
{"python.defaultInterpreterPath": "/tmp/not-a-python"}
```
'''
FLAGGED_TAB = '.tabs-container .tab[aria-label*="⚠ flagged: .vscode/settings.json"]'


def test_a_flagged_file_is_named_in_the_preview_and_apply_asks_once_more(e2e, scripted_model, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    settings = ws / ".vscode" / "settings.json"
    model = scripted_model([ScriptStep(content=NOTHING_TO_CLARIFY), ScriptStep(content=WITH_VSCODE_SETTINGS)])
    result = e2e(ws, model, "--command", "Codegen: Generate from Prompt", "--wait-input", "What should codegen build",
                 "--type", "hello world", "--key", "Enter",
                 # The preview's tab names the flagged file; the progress says so too.
                 "--wait", APPLY, "--wait", FLAGGED_TAB, "--wait-notification", "flagged (can run code)",
                 "--shot", "{shots}/preview-flagged.png",
                 # Apply asks once more, quoting the daemon's warning; Cancel there writes nothing.
                 "--click", APPLY, "--wait", DIALOG, "--dump", DIALOG, "--shot", "{shots}/preview-flagged-confirm.png",
                 "--click", DIALOG_BUTTON("Cancel"), "--sleep", "1", "--absent-file", str(settings),
                 "--absent-file", str(ws / "hello.py"), "--wait", APPLY,
                 "--click", APPLY, "--wait", DIALOG, "--click", DIALOG_BUTTON("Apply Anyway"),
                 "--await-file", str(settings), "--wait-notification", "generate wrote 2 files")
    [dialog] = result["dumps"]
    assert "writes .vscode/settings.json" in dialog and "can run code" in dialog
    assert "editor workspace settings can name programs" in dialog  # the daemon's reason, verbatim
    assert workspace_files(ws) == [".vscode/settings.json", "hello.py"]
