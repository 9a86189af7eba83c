"""The safety checks are each pinned by a test: disable one, and the suite must fail.

Each case copies the package, the tests and the editor clients into a scratch folder, breaks one
check there (the all-or-nothing refusal of a multi-file patch, the path checks, the stale-file check,
and every guard that keeps a cloned repository from acting through codegen), and runs the tests that
guard it against the broken copy. A guard test that still passes would let that check rot unnoticed,
so this test fails then. The working tree is never modified.

Two guards of the VS Code extension are caught only by its end-to-end runs in a real VS Code (about
70 s each): the confirmation before a workspace's test command runs, and the second question before a
flagged file is applied. They are checked by hand (the README says how, next to the test command), not here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

#: (name, file, text to break, broken text, the tests that must catch it)
MUTATIONS = [
    ("all-or-nothing guard", "codegen_server/workflows/apply.py",
     "    if plan.failures and not salvage:\n", "    if False:\n",
     ["tests/edits/test_edits_refusals.py", "tests/server/test_apply_diff_over_lsp.py", "-k", "multi_file"]),
    ("'..' path check", "codegen_server/edits/paths.py",
     '    if ".." in parts:\n', "    if False:\n",
     ["tests/edits/test_edits_refusals.py", "-k", "outside_root"]),
    ("absolute path check", "codegen_server/edits/paths.py",
     '    if path.startswith("/") or _WINDOWS_DRIVE.match(raw.strip()):\n', "    if False:\n",
     ["tests/edits/test_edits_refusals.py", "tests/edits/test_edits_integrity.py", "-k", "outside_root or absolute"]),
    ("symlink escape check", "codegen_server/edits/paths.py",
     "    if target != root_real and not target.startswith(root_real.rstrip(os.sep) + os.sep):\n",
     "    if False:\n",
     ["tests/edits/test_edits_refusals.py", "-k", "symlink_escape"]),
    (".git/.codegen check", "codegen_server/edits/paths.py",
     '_PROTECTED = {".git": ".git/", ".codegen": ".codegen/"}', "_PROTECTED = {}",
     ["tests/edits/test_edits_integrity.py", "tests/edits/test_edits_refusals.py", "-k", "codegen or git"]),
    ("stale-file check", "codegen_server/edits/write.py",
     "            if on_disk != ch.old_text:\n", "            if False:\n",
     ["tests/edits/test_edits_write.py", "-k", "stale or planned or changed"]),
    # issue 23: the crash journal and the writer's state (edits/)
    ("journal seal check", "codegen_server/edits/journal.py",
     "        body = load_json(path, _purpose(root), REMEDY, _LIMIT)\n",
     '        body = __import__("json").loads(path.read_text())\n',
     ["tests/edits/test_journal_trust.py", "-k", "inside or another_workspace"]),
    ("journal entry validation", "codegen_server/edits/journal.py",
     "        _clean(root_real, path, whole=False)\n", "        pass\n",
     ["tests/edits/test_journal_trust.py", "-k", "bad_entry"]),
    ("writer folder must be a real folder", "codegen_server/edits/journal.py",
     "    directory = state_dir(root, WRITER, create=create)\n",
     '    directory = root / ".codegen" / WRITER\n    if create:\n        directory.mkdir(parents=True, exist_ok=True)\n',
     ["tests/edits/test_writer_state_symlinks.py", "-k", "state_folder"]),
    ("writer lock O_NOFOLLOW", "codegen_server/edits/lock.py",
     '_LOCK_FLAGS = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)',
     '_LOCK_FLAGS = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)',
     ["tests/edits/test_writer_state_symlinks.py", "-k", "lock"]),
    ("deleting a symlink acts on the link", "codegen_server/edits/write.py",
     "        src = entry_inside(root, rel) if leaves else resolve_inside(root, rel)\n",
     "        src = resolve_inside(root, rel)\n",
     ["tests/edits/test_edits_link_and_case.py", "-k", "removes_the_link or moves_the_link"]),
    ("case-insensitive .git/.codegen", "codegen_server/edits/paths.py",
     '    folded = _HFS_IGNORED.sub("", name).partition(":")[0].rstrip(". ").lower()\n', "    folded = name\n",
     ["tests/edits/test_edits_link_and_case.py", "-k", "spelling or letter_case"]),
    ("config edits refused by the disk applier", "codegen_server/workflows/host.py",
     '        reason = "" if self.allow_config_edits else refusal(flag_changes(changes))\n', '        reason = ""\n',
     ["tests/server/test_sensitive_edits.py", "-k", "fix_under_auto_accept_refuses or generate_refuses"]),
    ("config edits refused by apply to disk", "codegen_server/workflows/apply.py",
     "    if not previewed:\n", "    if False:\n",
     ["tests/server/test_sensitive_edits.py", "-k", "codegen_apply or apply_diff_to_disk or renaming or each_kind"]),
    ("config edits warned in the preview", "codegen_server/server/workspace_edit.py",
     "    for n, flag in enumerate(flag_changes(changes)):\n", "    for n, flag in enumerate([]):\n",
     ["tests/server/test_sensitive_edits.py", "-k", "preview_warns"]),
    # issue 23: runs, checkpoints, memory and preprompts (store/)
    ("run.json seal", "codegen_server/store/runs.py",
     '            open_json(raw, _purpose(run_id, "run.json"))\n', "            json.loads(raw)\n",
     ["tests/store/test_planted_undo.py", "tests/store/test_planted_runs.py", "-k",
      "planted_runs_restore_nothing or cannot_be_generated"]),
    ("run file seal on read", "codegen_server/store/runs.py",
     "        data = load_json(path, _purpose(self.id, name), _REMEDY)\n",
     "        data = json.loads(path.read_text()) if path.exists() else None\n",
     ["tests/store/test_planted_runs.py", "-k", "conversation_codegen_did_not_seal"]),
    ("recorded call seal", "codegen_server/store/runs.py",
     '        loaded = (load_json(path, _purpose(self.id, f"calls/{path.name}"), _REMEDY)\n',
     "        loaded = (json.loads(path.read_text())\n",
     ["tests/store/test_planted_runs.py", "-k", "replay"]),
    ("run list seal", "codegen_server/store/runs.py",
     '            meta = load_json(folder / run_id / "run.json", _purpose(run_id, "run.json"), _REMEDY, _META_LIMIT)\n',
     '            meta = json.loads((folder / run_id / "run.json").read_text())\n',
     ["tests/store/test_planted_runs.py", "-k", "run_list"]),
    ("runs folder is a real folder", "codegen_server/store/runs.py",
     "                os.mkdir(state_dir(self.root, RUNS_DIR, create=True) / run_id)\n",
     '                os.makedirs(self.root / ".codegen" / RUNS_DIR / run_id)\n',
     ["tests/store/test_planted_runs.py", "-k", "symlinked_codegen_or_runs"]),
    (".codegen is a real folder", "codegen_server/store/runs.py",
     "    directory = state_dir(root, create=True)\n",
     '    directory = root / ".codegen"\n    directory.mkdir(exist_ok=True)\n',
     ["tests/store/test_planted_runs.py", "-k", "symlinked_codegen_or_runs"]),
    (".codegen/.gitignore regular read", "codegen_server/store/runs.py",
     "        raw = read_regular(ignore, _GITIGNORE_LIMIT)\n",
     "        raw = ignore.read_bytes() if ignore.exists() else None\n",
     ["tests/store/test_planted_runs.py", "-k", "gitignore_link and secret"]),
    ("checkpoint manifest seal", "codegen_server/store/checkpoints.py",
     "            body = open_json(raw, manifest_purpose(self.run_id, checkpoint_id))\n", "            body = json.loads(raw)\n",
     ["tests/store/test_planted_undo.py", "-k", "unsealed_manifest or sealed_for_another"]),
    ("blob digest check", "codegen_server/store/blobs.py",
     "            if hashlib.sha256(data).hexdigest() != digest:\n", "            if False:\n",
     ["tests/store/test_planted_undo.py", "-k", "swapped_blob"]),
    ("blobs checked before writing", "codegen_server/store/checkpoints.py",
     "        self._verify_blobs({path: wanted[path] for path in written})\n", "",
     ["tests/store/test_planted_undo.py", "-k", "swapped_blob"]),
    ("blob name hex check", "codegen_server/store/checkpoints.py",
     "        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):\n", "        if not isinstance(digest, str):\n",
     ["tests/store/test_planted_undo.py", "-k", "path_for_a_blob"]),
    ("mode mask", "codegen_server/store/checkpoints.py",
     '            return {"sha256": digest, "mode": mode & _PERMISSIONS}\n', '            return {"sha256": digest, "mode": mode}\n',
     ["tests/store/test_planted_undo.py", "-k", "setuid"]),
    ("link containment", "codegen_server/store/checkpoints.py",
     '        outside = [p for p in written if "link" in wanted[p] and not _link_stays_inside(p, wanted[p]["link"])]\n',
     "        outside = []\n",
     ["tests/store/test_planted_undo.py", "-k", "link_out or links_it_did_not"]),
    ("link climbing above the root", "codegen_server/store/checkpoints.py",
     "    if ups > len(folder):\n", "    if False:\n", ["tests/store/test_planted_undo.py", "-k", "link_out"]),
    ("absolute link target", "codegen_server/store/checkpoints.py",
     '    if not target or target.startswith("/") or "\\\\" in target:\n', "    if not target:\n",
     ["tests/store/test_planted_undo.py", "-k", "link_out"]),
    ("blob folders are real folders", "codegen_server/store/blobs.py",
     '            folder = state_dir(self.root, *parts, prefix, create=create)\n',
     '            folder = self.root.joinpath(".codegen", *parts, prefix)\n            folder.mkdir(parents=True, exist_ok=True)\n',
     ["tests/store/test_planted_undo.py", "-k", "symlinked_blob"]),
    ("a shared blob is read before it is trusted", "codegen_server/store/blobs.py",
     '        if data is None or hashlib.sha256(data).hexdigest() != digest:\n', '        if data is None:\n',
     ["tests/store/test_planted_undo.py", "-k", "planted_shared_blob"]),
    ("memory regular-file read", "codegen_server/store/memory.py",
     "    data = read_regular(state_dir(root) / FILE_NAME, MAX_BYTES)\n",
     "    path = root / STATE_DIR / FILE_NAME\n    data = path.read_bytes() if path.is_file() else None\n",
     ["tests/store/test_workspace_instructions.py", "-k", "memory-to-secret"]),
    ("memory size cap", "codegen_server/store/memory.py", "MAX_BYTES = 256 * 1024\n", "MAX_BYTES = 1 << 40\n",
     ["tests/store/test_workspace_instructions.py", "-k", "oversized"]),
    ("preprompt regular-file read", "codegen_server/preprompts.py",
     '        data = read_regular(state_dir(workspace, "preprompts") / name, OVERRIDE_MAX_BYTES)\n',
     '        path = workspace / ".codegen" / "preprompts" / name\n        data = path.read_bytes() if path.is_file() else None\n',
     ["tests/store/test_workspace_instructions.py", "-k", "preprompt-to-secret or philosophy-to-secret"]),
    # issue 23: the index cache, ignore files and the watcher (context/)
    ("index cache seal check", "codegen_server/context/store.py",
     "        payload = load_bytes(path, PURPOSE, REMEDY, CACHE_LIMIT)\n", "        payload = path.read_bytes()\n",
     ["tests/context/test_planted_index_cache.py", "-k", "unsealed"]),
    ("index cache row validation", "codegen_server/context/store.py",
     "            return {row[0]: from_row(_checked(row)) for row in data[2]}\n",
     "            return {row[0]: from_row(row) for row in data[2]}\n",
     ["tests/context/test_planted_index_cache.py", "-k", "short-row"]),
    ("ignore-file regular-file read", "codegen_server/trust/ignore_files.py",
     "        raw = read_regular(path, IGNORE_FILE_LIMIT)\n", "        raw = path.read_bytes() if path.is_file() else None\n",
     ["tests/context/test_planted_ignore_files.py", "-k", "outside-rules or read_ignore_lines"]),
    ("watcher symlink refusal", "codegen_server/context/walk.py",
     "                is_folder = entry.is_dir(follow_symlinks=False)\n", "                is_folder = entry.is_dir()\n",
     ["tests/context/test_hostile_watcher.py", "-k", "no_watch_outside and links-to-a-tree"]),
    ("watch cap", "codegen_server/context/inotify_watch.py",
     "            if len(self._watches) >= self.limit:\n", "            if False:\n",
     ["tests/context/test_hostile_watcher.py", "tests/context/test_watch.py", "-k", "cap"]),
    # issue 23: the protocol, secrets and errors (server/, CLI)
    ("tcp token check", "codegen_server/server/app.py",
     "                    accepted, msg_id = authenticate(first.message, token.token)\n",
     "                    accepted, msg_id = True, None\n", ["tests/server/test_tcp.py", "-k", "without_the_token"]),
    ("tcp HTTP refusal", "codegen_server/server/tcp.py",
     "        if not _may_be_header(bytes(data if end < 0 else data[:end + 2]), complete=end >= 0):\n",
     "        if False:\n", ["tests/server/test_tcp.py", "-k", "http_request"]),
    ("tcp loopback default", "codegen_server/server/__main__.py",
     "        if not is_loopback(args.tcp[0]):\n", "        if False:\n",
     ["tests/server/test_tcp.py", "-k", "needs_allow_remote"]),
    ("root must be an opened folder", "codegen_server/server/app.py",
     "            if (opened or self.require_opened_root) and not any(resolved.is_relative_to(f) for f in opened):\n",
     "            if False:\n", ["tests/server/test_protocol_trust.py", "tests/server/test_tcp.py", "-k", "root"]),
    ("environ wipe", "codegen_server/secret_env.py",
     "            ctypes.memset(address, 0, len(entry))\n", "            pass\n", ["tests/testing/test_secret_environment.py"]),
    ("URL userinfo redaction", "codegen_server/redaction.py",
     '    return _URL_USERINFO.sub(r"\\1[redacted]@", text)\n', "    return text\n", ["tests/model/test_url_credentials.py"]),
    ("traceback strip", "codegen_server/server/app.py",
     "        error = without_traceback(error)\n", "", ["tests/server/test_protocol_trust.py", "-k", "no_traceback"]),
    ("CLI last line of defense", "codegen_server/cli/__init__.py",
     "    except Exception as error:  # the last line of defense: one line, never a traceback unless asked\n",
     "    except ZeroDivisionError as error:\n", ["tests/cli/test_cli_trust.py", "-k", "unexpected_error"]),
    ("trust warnings shown by the daemon", "codegen_server/server/notices.py",
     "            self.loop.call_soon_threadsafe(self._show, message)\n", "            pass\n",
     ["tests/server/test_protocol_trust.py", "-k", "ignored_state"]),
    ("trust warnings as plain CLI lines", "codegen_server/logs.py",
     '            print(f"codegen: warning: {redact(record.getMessage())}", file=sys.stderr)\n', "            pass\n",
     ["tests/cli/test_cli_trust.py", "-k", "plain_line"]),
    ("run list for pickers", "codegen_server/server/features/runs.py",
     "        runs = await asyncio.to_thread(RunStore(root).list_runs, kinds)\n",
     "        runs = [{'id': p.name} for p in sorted((root / '.codegen' / 'runs').iterdir(), reverse=True)]\n",
     ["tests/test_hostile_repository.py", "-k", "daemon"]),
    # issue 23: the VS Code extension's settings (fast tests only: the e2e-only guards are listed in the README)
    ("vscode server.command scope", "clients/vscode/package.json",
     '"codegen.server.command": {\n          "scope": "application",\n', '"codegen.server.command": {\n',
     ["tests/clients/test_vscode.py", "-k", "package_writes"]),
    ("vscode user-only settings reader", "clients/vscode/src/settings.ts",
     "(USER_ONLY_SETTINGS.includes(key) ? userValue", "(USER_ONLY_SETTINGS.includes(key) && false ? userValue",
     ["tests/clients/test_vscode.py", "-k", "unit_tests"]),
    ("vscode test command approval", "clients/vscode/src/testCommand.ts",
     "  if (allowed.includes(key)) return", "  if (allowed.includes(key) || key !== '') return",
     ["tests/clients/test_vscode.py", "-k", "unit_tests"]),
    ("vscode flagged-file warning", "clients/vscode/src/warnings.ts",
     "annotations[id] !== undefined && id !== OWN_ANNOTATION;",
     "annotations[id] !== undefined && id !== OWN_ANNOTATION && false;",
     ["tests/clients/test_vscode.py", "-k", "unit_tests"]),
    # issue 33: consent per kind of action, and test files a fix may not edit
    ("daemon: allowInstall approves commands", "codegen_server/server/features/fix.py",
     '(allow_commands and action.startswith("run "))', '(allow_install and action.startswith("run "))',
     ["tests/fix/test_fix_over_lsp.py", "-k", "users_consent"]),
    ("cli: --allow-install approves commands", "codegen_server/cli/fix.py",
     '(args.allow_commands and action.startswith("run "))', '(args.allow_install and action.startswith("run "))',
     ["tests/cli/test_fix_and_undo.py", "-k", "not_run_without_the_flag"]),
    ("scrubbed prefixes emptied", "codegen_server/testing/process.py",
     '_SECRET_PREFIXES = ("OPENAI_", "AZURE_OPENAI_", "ANTHROPIC_", "CODEGEN_")', "_SECRET_PREFIXES = ()",
     ["tests/testing/test_testing_process.py", "-k", "model_secrets"]),
    ("redaction by value", "codegen_server/redaction.py",
     '            text = text.replace(secret, "[redacted]")\n', "            pass\n",
     ["tests/server/test_errors_and_settings.py", "-k", "echoes"]),
    ("misframed body cut at its length", "codegen_server/server/framing.py",
     "        cut = body_start + (match.start() if match and match.start() < length else length)\n",
     "        cut = body_start + length\n",
     ["tests/server/test_framing.py", "-k", "not_json"]),
    ("null params not read as an empty object", "codegen_server/server/transport.py",
     '        return protocol.structure_message({**without, "params": {}})', '        raise',
     ["tests/server/test_protocol_faults.py", "-k", "initialized_with_null"]),
    ("a committing journal rolled forward", "codegen_server/edits/journal.py",
     '        if journal.state == "complete":', '        if journal.state in ("complete", "committing"):',
     ["tests/edits/test_edits_crash.py", "-k", "every_step"]),
    ("the committing journal saved after the renames", "codegen_server/edits/write.py",
     '        journal.state = "committing"\n        journal_mod.save(root, journal)\n        for entry in journal.entries:\n'
     '            if entry.backup is not None:\n                os.replace(root / entry.path, root / entry.backup)\n'
     '            if entry.temp is not None:\n                os.replace(root / entry.temp, root / entry.path)\n',
     '        for entry in journal.entries:\n'
     '            if entry.backup is not None:\n                os.replace(root / entry.path, root / entry.backup)\n'
     '            if entry.temp is not None:\n                os.replace(root / entry.temp, root / entry.path)\n'
     '        journal.state = "committing"\n        journal_mod.save(root, journal)\n',
     ["tests/edits/test_edits_crash.py", "-k", "every_step"]),
    ("a duplication only looks applied", "codegen_server/edits/locate.py",
     "        if keys[located.start:located.end] == old_side:\n", "        if False:\n",
     ["tests/edits/test_edits_integrity.py", "-k", "duplication"]),
    ("the writer lock not taken", "codegen_server/edits/lock.py",
     "        fcntl.flock(fd, fcntl.LOCK_EX)\n", "        pass\n",
     ["tests/edits/test_edits_race.py", "-k", "waits_while"]),
    # issue 30: the MCP face reports progress
    ("mcp progress", "codegen_server/mcp/workspace.py",
     "self._queue.put_nowait((percentage, message))", "pass", ["tests/mcp/test_mcp_tools.py"]),
    ("conftest.py not a test file", "codegen_server/workflows/fix_actions.py",
     r"|_test\.go$|^conftest\.py$)", r"|_test\.go$)",
     ["tests/fix/test_fix_over_lsp.py", "-k", "not_edited"]),
    ("neovim preview asks once more for a flagged file", "clients/neovim/lua/codegen/preview.lua",
     "      confirmed = vim.fn.confirm(question, ", "      confirmed = true or vim.fn.confirm(question, ",
     ["tests/clients/test_neovim.py", "-k", "preview"]),
    # issue 33: allowInstall approves installs, not every action
    ("allowInstall approves installs only", "codegen_server/server/features/fix.py",
     '(allow_install and action.startswith("install "))', "allow_install",
     ["tests/fix/test_stops.py", "-k", "does_not_approve"]),
    # issue 24: equal spectrum scores go to the lines every failing test ran
    ("spectrum ties left to float noise", "codegen_server/context/spectrum.py",
     "    suspects.sort(key=lambda s: (-round(s.score, 9), s.failed < failed_total, -s.failed, s.path, s.line))\n",
     "    suspects.sort(key=lambda s: (-s.score, s.path, s.line))\n",
     ["tests/context/test_spectrum.py"]),
    # issue 31: a message over the size limit is skipped, never held whole
    ("message size limit", "codegen_server/server/framing.py",
     "        if length > self._max:\n", "        if False:\n",
     ["tests/server/test_framing.py", "-k", "over_the_limit or never_held"]),
    # issue 31: a model stream is bounded in size and in time
    ("answer size limit", "codegen_server/model/client.py",
     "            if allowance < 0:", "            if False:",
     ["tests/model/test_stream_bounds.py", "-k", "size_limit"]),
    ("call time limit", "codegen_server/model/client.py",
     "return await asyncio.wait_for(self._complete(client, messages, started, on_token, on_reasoning, on_retry),\n"
     "                                        limit)",
     "return await self._complete(client, messages, started, on_token, on_reasoning, on_retry)",
     ["tests/model/test_stream_bounds.py", "-k", "time_limit"]),
    # issue 31: the walk made when a watcher starts stands in for a request's walk only while no event was lost
    ("lost events keep the start walk", "codegen_server/context/watch.py",
     "            self._walked = None\n\n    def settle", "\n\n    def settle",
     ["tests/context/test_watch.py", "-k", "events_lost_after"]),
    # issue 26: a preview whose files changed on disk since it was computed is never written
    ("stale preview written after acceptance", "codegen_server/server/client_applier.py",
     "            await asyncio.to_thread(check_unchanged, self._root, list(changes), before)\n", "",
     ["tests/server/test_runs_over_lsp.py", "-k", "stale_preview"]),
    ("stale preview offered", "codegen_server/edits/stale.py",
     "                and state[change.path] != _text_digest(change.old_text):\n", "                and False:\n",
     ["tests/edits/test_stale.py"]),
    # issue 26: one writing command per workspace at a time
    ("one-writer wait", "codegen_server/server/app.py",
     "        turn = self._writer_turns.setdefault(writer, WriterTurn()) if writer is not None else None\n",
     "        turn = None\n",
     ["tests/server/test_runs_over_lsp.py", "-k", "second_generate_waits or while_waiting"]),
    # issue 26: every writing run has a start checkpoint, so undo works for it
    ("start checkpoint of generate and feedback", "codegen_server/workflows/changes.py",
     "        await save_start(run)  # what undo returns to", "        pass  #",
     ["tests/server/test_runs_over_lsp.py", "-k", "undo_after_generate or undo_after_feedback"]),
    ("start checkpoint of applyDiff", "codegen_server/workflows/apply_run.py",
     "        await save_start(run)\n", "        pass\n",
     ["tests/server/test_runs_over_lsp.py", "-k", "walks_back"]),
    # issue 26: no traceback for ordinary events
    ("a preview answered after its cancel logs a traceback", "codegen_server/server/app.py",
     "        if future is not None and future.done():\n", "        if False:\n",
     ["tests/server/test_client_neutral_errors.py", "-k", "preview_is_open"]),
    ("a failed command logs a traceback", "codegen_server/server/app.py",
     "        if not isinstance(error, JsonRpcException):\n", "        if True:\n",
     ["tests/server/test_client_neutral_errors.py", "-k", "rejected_key"]),
    # issue 33 rows: the fix loop's best state, token budget and disk
    ("best state taken from a focused re-run", "codegen_server/workflows/fix.py",
     "        if not loop.verdict.selected and iteration.failing_after < loop.best.failing:\n",
     "        if iteration.failing_after < loop.best.failing:\n",
     ["tests/fix/test_stops.py", "-k", "best_state"]),
    ("plan calls' tokens not counted", "codegen_server/workflows/fix.py",
     '    loop.tokens += proposal.usage["prompt_tokens"] + proposal.usage["completion_tokens"]\n', "",
     ["tests/fix/test_stops.py", "-k", "plan_calls"]),
    ("fix loop does not put the accepted edit on disk", "codegen_server/workflows/fix.py",
     "            await asyncio.to_thread(write_accepted_buffers, host.root, changes, host.open_buffers())\n", "",
     ["tests/fix/test_fix_over_lsp.py", "-k", "save_after_apply_off"]),
    ("fix loop writes the model's whole change over the review", "codegen_server/workflows/host.py",
     "        if on_disk == change.old_text and held is not None and held != on_disk:\n",
     "        if on_disk == change.old_text:\n            held = change.new_text\n",
     ["tests/fix/test_fix_over_lsp.py", "-k", "rejected_in_the_review"]),
    # issue 33 rows: redaction's documented rules, and a folder's buffer is no file
    ("8-character secrets not redacted", "codegen_server/redaction.py",
     "MIN_SECRET_LENGTH = 8\n", "MIN_SECRET_LENGTH = 9\n",
     ["tests/server/test_errors_and_settings.py", "-k", "eight_characters"]),
    ("environment *API_KEY values not redacted", "codegen_server/redaction.py",
     '    secrets = _known_secrets | {v for k, v in os.environ.items() if k.endswith("API_KEY")}\n',
     "    secrets = set(_known_secrets)\n",
     ["tests/cli/test_promises_cli.py", "-k", "redacted_by_value"]),
    ("a folder URI taken as a file", "codegen_server/server/app.py",
     "        if not relative.parts or resolved.is_dir():\n", "        if not relative.parts:\n",
     ["tests/server/test_non_file_documents.py", "-k", "folder_buffer"]),
    # issue 33 point 5: guards found in a mutation round of trust/, store/ and edits/
    ("the key readable by others", "codegen_server/trust/key.py",
     "            if info.st_mode & 0o077:\n", "            if False:\n",
     ["tests/cli/test_cli_trust.py", "-k", "others_can_read"]),
    ("a checkpoint's link leading out restored", "codegen_server/store/checkpoints.py",
     "        written = [p for p in written if p not in outside]\n", "",
     ["tests/store/test_planted_undo.py", "-k", "link_out_of_the_workspace"]),
    ("sealed JSON read without its MAC", "codegen_server/trust/seal.py",
     "    if version != _VERSION or not hmac.compare_digest(given, _mac(purpose, _canonical(data))):\n",
     "    if version != _VERSION:\n",
     ["tests/edits/test_journal_trust.py", "-k", "another_workspace"]),
    ("a state file that is no regular file read", "codegen_server/trust/files.py",
     '        if not stat.S_ISREG(info.st_mode):\n            raise RefusedPath(path, "is not a regular file")\n', "",
     ["tests/store/test_workspace_instructions.py", "-k", "must_not_read"]),
    ("the TCP first message read past --max-message-mb", "codegen_server/server/tcp.py",
     "    limit = min(max_message, MAX_FIRST_MESSAGE)\n", "    limit = MAX_FIRST_MESSAGE\n",
     ["tests/server/test_tcp.py", "-k", "first_message"]),
    ("a generated JS/TS file's import of a file the project lacks let through", "codegen_server/workflows/fit_js.py",
     '    return "" if extension in ("", *EXTENSIONS) else None', "    return None",
     ["tests/workflows/test_generate_parallel.py", "-k", "fit_check"]),
    # issue 27: undo never lets the disk and the editor diverge (it refuses while a file it restores is unsaved)
    ("vscode undo refuses unsaved files", "clients/vscode/src/undoPick.ts",
     "  return dirty.filter((path) => targets.has(path));", "  return dirty.filter((path) => targets.has(path) && false);",
     ["tests/clients/test_vscode.py", "-k", "unit_tests"]),
    # issue 27 item 2: what the review left out is never written, and typing is never overwritten
    ("the daemon writes the files the review left out", "codegen_server/server/client_applier.py",
     "        if response.failure_reason == REVIEWED:\n", "        if False:\n",
     ["tests/server/test_generate_over_lsp.py", "-k", "left_out"]),
    ("vscode applies a hunk over typing that touches it", "clients/vscode/src/preview.ts",
     "    else return undefined;\n", "    else offset = 0;\n",
     ["tests/clients/test_vscode.py", "-k", "unit_tests"]),
    # issue 31: files asked for while the plan streams stay within model.parallel and fit the whole plan
    ("the plan's own request left out of model.parallel", "codegen_server/workflows/generate_parallel.py",
     "        async with writers.gate:  # the plan's call is one of the requests at once\n",
     "        if True:\n",
     ["tests/workflows/test_generate_parallel.py", "-k", "while_the_plan_still_streams"]),
    ("files asked for early kept when the whole plan does not begin with them",
     "codegen_server/workflows/generate_parallel.py",
     "        if first.patch.changes or plan is None or writers.plan != plan[:len(writers.plan)]:\n",
     "        if first.patch.changes or plan is None:\n",
     ["tests/workflows/test_generate_parallel.py", "-k", "does_not_begin_with_them"]),
]


@pytest.mark.timeout(660)  # the guard run below has 600 s of its own
@pytest.mark.parametrize("name, path, old, new, guards", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_disabling_a_safety_check_fails_its_tests(tmp_path: Path, name: str, path: str, old: str, new: str,
                                                  guards: list[str]) -> None:
    copy = tmp_path / "repo"
    for folder in ("codegen_server", "tests", "preprompts", "clients"):
        shutil.copytree(REPO / folder, copy / folder, symlinks=True, ignore=shutil.ignore_patterns(
            "__pycache__", "node_modules", "out", "dist", "*.vsix"))
    shutil.copy(REPO / "pyproject.toml", copy / "pyproject.toml")
    if (REPO / "clients" / "vscode" / "node_modules").is_dir():  # the extension's tools, as installed
        (copy / "clients" / "vscode" / "node_modules").symlink_to(REPO / "clients" / "vscode" / "node_modules")
    target = copy / path
    text = target.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"the check to break is no longer in {path}: update this mutation"
    target.write_text(text.replace(old, new), encoding="utf-8")

    # The copy comes first on the path, for the tests and for every daemon or CLI they start.
    env = {**os.environ, "PYTHONPATH": str(copy), "CODEGEN_CRASH_TRIALS": "2"}
    env.pop("CI", None)  # a guard test that skips in the copy must not read as a failure
    env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)  # the guard tests need the suite's plugins
    where = subprocess.run([sys.executable, "-c", "import codegen_server; print(codegen_server.__file__)"],
                           cwd=copy, env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).is_relative_to(copy), f"the broken copy is not the one imported: {where}"
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *guards],
                          cwd=copy, env=env, capture_output=True, text=True, timeout=600)
    summary = (done.stdout.strip().splitlines() or [done.stderr[-500:]])[-1]
    assert done.returncode == 1, f"with the {name} disabled the guard tests still pass: {summary}"
    assert "failed" in summary, summary
