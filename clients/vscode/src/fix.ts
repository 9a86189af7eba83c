/**
 * "Codegen: Fix Until Tests Pass": the daemon's fix loop with a cancellable progress notification
 * (the iteration and the failing count), then green or why it stopped, with "Undo Run". A test
 * command from the workspace's settings runs only after the user allowed it (testCommand.ts).
 */
import * as vscode from 'vscode';
import type { CodegenClient } from './client';
import { fixMessage } from './fixreport';
import { COMMANDS, fixArgs, undoArgs, type FixResult, type UndoResult } from './protocol';
import { ALLOW_BUTTON, confirmation, decide, remember, testCommandPlan, WITHOUT_BUTTON, type TestCommandAnswer, type TestCommandDecision } from './testCommand';
import { pickRoot, settingLevels } from './vscodeapi';

/** The last fix run, which "Codegen: Undo Run" offers first. */
let lastRun: { runId: string; root: string } | undefined;

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
  lastRun = { runId: result.runId, root };
  const { ok, message } = fixMessage(result);
  const actions = ['Undo Run', 'Show Output'];
  const chosen = ok ? await vscode.window.showInformationMessage(message, ...actions) : await vscode.window.showWarningMessage(message, ...actions);
  if (chosen === 'Show Output') client.output.show(true);
  if (chosen === 'Undo Run') await undoRun(client, result.runId, root);
}

/** "Codegen: Undo Run": returns the workspace to the start of a run (the last fix run by default). */
export async function undoCommand(client: CodegenClient): Promise<void> {
  const folder = lastRun ? undefined : await pickRoot('Undo Run');
  const root = lastRun?.root ?? folder?.uri.fsPath;
  if (!root) return;
  const runId = await vscode.window.showInputBox({
    title: 'Codegen: Undo Run',
    prompt: 'The run to undo (its id, as under .codegen/runs/); the workspace returns to its start.',
    value: lastRun?.runId ?? '',
    ignoreFocusOut: true,
    validateInput: (value) => (value.trim() === '' ? 'Give a run id.' : undefined),
  });
  if (runId) await undoRun(client, runId.trim(), root);
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

async function undoRun(client: CodegenClient, runId: string, root: string): Promise<void> {
  const undone = await client.run<UndoResult>(COMMANDS.undo, undoArgs(runId, root), 'Codegen: undoing the run');
  if (!undone) return;
  const count = undone.written.length + undone.removed.length;
  void vscode.window.showInformationMessage(`Codegen: the workspace is back at ${undone.restoredTo} of run ${undone.runId} (${count} file${count === 1 ? '' : 's'} restored).`);
}
