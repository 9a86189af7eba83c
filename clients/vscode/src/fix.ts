/**
 * "Codegen: Fix Until Tests Pass": the daemon's fix loop with a cancellable progress notification
 * (the iteration and the failing count), then green or why it stopped, with "Undo Run". A test
 * command from the workspace's settings runs only after the user allowed it (testCommand.ts).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CodegenClient } from './client';
import { fixMessage } from './fixreport';
import { COMMANDS, fixArgs, undoArgs, type FixResult, type UndoResult } from './protocol';
import { dirtyRefusal, dirtyTargets, runItems, type RunSummary } from './undoPick';
import { ALLOW_BUTTON, confirmation, decide, remember, testCommandPlan, WITHOUT_BUTTON, type TestCommandAnswer, type TestCommandDecision } from './testCommand';
import { pickRoot, settingLevels } from './vscodeapi';

/** Where the approvals of workspaces' test commands are kept (the extension's global state). */
const ALLOWED_TEST_COMMANDS = 'codegen.allowedTestCommands';

export async function fixUntilTestsPass(client: CodegenClient, state: vscode.Memento): Promise<void> {
  const folder = await pickRoot('Fix Until Tests Pass');
  if (!folder) return;
  const root = folder.uri.fsPath;
  const tests = await testCommandFor(folder, state);
  if (!tests.run) {
    void vscode.window.showInformationMessage("Codegen: fix cancelled; the workspace's test command was not run.");
    return;
  }
  // Buffers the user has not saved would not be seen by the tests.
  await vscode.workspace.saveAll(false);
  const result = await client.run<FixResult>(COMMANDS.fix, fixArgs(root, tests.testCommand), 'Codegen: fixing until the tests pass');
  if (!result) return;
  const { ok, message } = fixMessage(result);
  const actions = ['Undo Run', 'Show Output'];
  const chosen = ok ? await vscode.window.showInformationMessage(message, ...actions) : await vscode.window.showWarningMessage(message, ...actions);
  if (chosen === 'Show Output') client.output.show(true);
  if (chosen === 'Undo Run') await undoFixRun(client, result.runId, root);
}

/** "Codegen: Undo Run": the user picks the run from the workspace's runs (described, never by id). */
export async function undoCommand(client: CodegenClient): Promise<void> {
  const folder = await pickRoot('Undo Run');
  if (!folder) return;
  const root = folder.uri.fsPath;
  const listed = await client.request<{ runs: RunSummary[] }>(COMMANDS.runs, { root }, 'Undo Run');
  if (!listed) return;
  const items = runItems(listed.runs, new Date());
  if (items.length === 0) {
    void vscode.window.showInformationMessage(`Codegen: no run in ${folder.name} left files changed; there is nothing to undo.`);
    return;
  }
  const chosen = await vscode.window.showQuickPick(items, {
    title: 'Codegen: Undo Run',
    placeHolder: 'Which run should be undone? The files it wrote return to what they were before it.',
    matchOnDescription: true,
    matchOnDetail: true,
    ignoreFocusOut: true,
  });
  if (chosen) await undoRun(client, chosen.run, root);
}

/**
 * The test command of this fix run: a workspace's `codegen.fix.testCommand` runs only once the user
 * has seen it (a modal naming the exact command and its file) and allowed it for this folder.
 */
async function testCommandFor(folder: vscode.WorkspaceFolder, state: vscode.Memento): Promise<TestCommandDecision> {
  const allowed = state.get<string[]>(ALLOWED_TEST_COMMANDS, []);
  const folderSettings = vscode.Uri.joinPath(folder.uri, '.vscode', 'settings.json').fsPath;
  const workspaceFile = vscode.workspace.workspaceFile;
  const files = { workspaceFolder: folderSettings, workspace: workspaceFile?.scheme === 'file' ? workspaceFile.fsPath : folderSettings };
  const plan = testCommandPlan(settingLevels('fix.testCommand', folder), folder.uri.toString(), files, allowed);
  let answer: TestCommandAnswer;
  if (plan.kind === 'ask') {
    const { message, detail } = confirmation(plan, folder.name);
    // "Run Without It" first: the default button (Enter) must not run the repository's command.
    const chosen = await vscode.window.showWarningMessage(message, { modal: true, detail }, WITHOUT_BUTTON, ALLOW_BUTTON);
    answer = chosen === ALLOW_BUTTON ? 'allow' : chosen === WITHOUT_BUTTON ? 'without' : undefined;
  }
  const decision = decide(plan, answer);
  if (decision.remember) await state.update(ALLOWED_TEST_COMMANDS, remember(allowed, decision.remember));
  return decision;
}

/**
 * Undoes `run` (restores its start on disk), refusing while one of its files has unsaved changes in
 * the editor: the disk would be restored and the buffer keep the run's text, and the next save fail.
 */
async function undoRun(client: CodegenClient, run: RunSummary, root: string): Promise<void> {
  const blocked = dirtyTargets(run, dirtyPaths(root));
  if (blocked.length > 0) {
    void vscode.window.showWarningMessage(dirtyRefusal(blocked));
    return;
  }
  const undone = await client.run<UndoResult>(COMMANDS.undo, undoArgs(run.id, root), 'Codegen: undoing the run');
  if (!undone) return;
  const count = undone.written.length + undone.removed.length;
  void vscode.window.showInformationMessage(`Codegen: undone “${run.description || run.kind}” — ${count} file${count === 1 ? '' : 's'} restored.`);
}

/** The finished fix run's row in `codegen.runs` (what "Undo Run" after it undoes). */
async function undoFixRun(client: CodegenClient, runId: string, root: string): Promise<void> {
  const listed = await client.request<{ runs: RunSummary[] }>(COMMANDS.runs, { root }, 'Undo Run');
  if (!listed) return;
  const run = listed.runs.find((r) => r.id === runId);
  if (!run || !run.undoable) {
    void vscode.window.showInformationMessage('Codegen: this fix run left no file changed; there is nothing to undo.');
    return;
  }
  await undoRun(client, run, root);
}

/** Workspace-relative paths of the documents under `root` with unsaved changes. */
function dirtyPaths(root: string): string[] {
  return vscode.workspace.textDocuments
    .filter((d) => d.isDirty && d.uri.scheme === 'file')
    .map((d) => path.relative(root, d.uri.fsPath).split(path.sep).join('/'))
    .filter((p) => !p.startsWith('..') && !path.isAbsolute(p));
}
