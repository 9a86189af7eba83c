/**
 * "Codegen: Fix Until Tests Pass": the daemon's fix loop with a cancellable progress notification
 * (the iteration and the failing count), then green or why it stopped, with "Undo Run".
 */
import * as vscode from 'vscode';
import type { CodegenClient } from './client';
import { fixMessage } from './fixreport';
import { COMMANDS, fixArgs, undoArgs, type FixResult, type UndoResult } from './protocol';
import { pickRoot } from './vscodeapi';

/** The last fix run, which "Codegen: Undo Run" offers first. */
let lastRun: { runId: string; root: string } | undefined;

export async function fixUntilTestsPass(client: CodegenClient): Promise<void> {
  const folder = await pickRoot('Fix Until Tests Pass');
  if (!folder) return;
  const root = folder.uri.fsPath;
  // Buffers the user has not saved would not be seen by the tests.
  await vscode.workspace.saveAll(false);
  const result = await client.run<FixResult>(COMMANDS.fix, fixArgs(root), 'Codegen: fixing until the tests pass');
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

async function undoRun(client: CodegenClient, runId: string, root: string): Promise<void> {
  const undone = await client.run<UndoResult>(COMMANDS.undo, undoArgs(runId, root), 'Codegen: undoing the run');
  if (!undone) return;
  const count = undone.written.length + undone.removed.length;
  void vscode.window.showInformationMessage(`Codegen: the workspace is back at ${undone.restoredTo} of run ${undone.runId} (${count} file${count === 1 ? '' : 's'} restored).`);
}
