/**
 * Codegen for VS Code: a thin client of the `codegen-server` daemon. The daemon does the work;
 * this wires its commands to the palette, comments, progress, previews and notifications.
 */
import * as vscode from 'vscode';
import { API_KEY_SECRET, CodegenClient } from './client';
import { EditPreview } from './editPreview';
import { FeedbackComments } from './feedback';
import { fixUntilTestsPass, undoCommand } from './fix';
import { generateFromPrompt } from './generate';
import { RunsView, type RunItem } from './runsView';
import { openWalkthrough, pickProvider, testConnection } from './setup';

let client: CodegenClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('Codegen');
  const preview = new EditPreview(output);
  client = new CodegenClient(context, output, preview);
  const codegen = client;
  const comments = new FeedbackComments(codegen, context.workspaceState);
  const command = vscode.commands.registerCommand;
  context.subscriptions.push(
    output, preview, codegen, comments,
    command('codegen.ui.generate', () => generateFromPrompt(codegen)),
    command('codegen.ui.addFeedback', () => comments.addOnSelection()),
    command('codegen.ui.applyFeedback', (reply: vscode.CommentReply) => comments.apply(reply)),
    command('codegen.ui.deleteThread', (thread: vscode.CommentThread) => comments.deleteThread(thread)),
    command('codegen.ui.applyMarkers', () => comments.applyMarkers()),
    command('codegen.ui.fix', () => fixUntilTestsPass(codegen, context.globalState)),
    command('codegen.ui.undo', () => undoCommand(codegen)),
    command('codegen.ui.previewApply', () => preview.choose('apply')),
    command('codegen.ui.previewChoose', () => preview.chooseSome()),
    command('codegen.ui.previewDiscard', () => preview.choose('discard')),
    command('codegen.ui.restart', () => codegen.restart()),
    command('codegen.ui.showOutput', () => output.show(true)),
    command('codegen.ui.setApiKey', () => setApiKey(context)),
    // Onboarding (setup.ts).
    command('codegen.ui.setup', () => openWalkthrough()),
    command('codegen.ui.pickProvider', () => pickProvider()),
    command('codegen.ui.testConnection', () => testConnection(codegen)),
  );
  // The Codegen view: runs and their transcripts.
  const runs = new RunsView(codegen);
  context.subscriptions.push(
    runs,
    command('codegen.ui.runs.refresh', () => runs.refresh()),
    command('codegen.ui.runs.open', (item: RunItem) => runs.open(item)),
    command('codegen.ui.runs.undo', (item: RunItem) => runs.undo(item)),
    command('codegen.ui.runs.rerun', (item: RunItem) => runs.rerun(item)),
    command('codegen.ui.runs.continue', (item: RunItem) => runs.continueRun(item)),
  );
  if ((vscode.workspace.workspaceFolders ?? []).length > 0) await codegen.start();
}

/** Keeps the key in SecretStorage (never settings.json); the daemon gets it through didChangeConfiguration. */
async function setApiKey(context: vscode.ExtensionContext): Promise<void> {
  const key = await vscode.window.showInputBox({
    title: 'Codegen: Set API Key',
    prompt: 'The model API key (kept in VS Code\'s secret storage). Leave empty to remove the stored key.',
    password: true,
    ignoreFocusOut: true,
  });
  if (key === undefined) return;
  if (key.trim() === '') {
    await context.secrets.delete(API_KEY_SECRET);
    void vscode.window.showInformationMessage('Codegen: the API key was removed.');
  } else {
    await context.secrets.store(API_KEY_SECRET, key.trim());
    void vscode.window.showInformationMessage('Codegen: the API key is stored.');
  }
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
