/**
 * Onboarding: "Codegen: Pick a Model Provider" (the endpoint and model name into the user's settings),
 * "Codegen: Test Model Connection" (one short request through the daemon), and the walkthrough.
 */
import * as vscode from 'vscode';
import type { CodegenClient } from './client';
import { baseUrlProblem, PROVIDERS, type Provider } from './onboarding';
import { SECTION } from './vscodeapi';

/** The walkthrough (package.json `contributes.walkthroughs`), as `<publisher>.<name>#<id>`. */
const WALKTHROUGH = 'codegen.codegen-vscode#codegen.setup';

export function openWalkthrough(): Thenable<unknown> {
  return vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH, false);
}

/** Sets `codegen.model.baseUrl` and `codegen.model.name` in the user's settings (the endpoint is user-only). */
export async function pickProvider(): Promise<void> {
  const picked = await vscode.window.showQuickPick(PROVIDERS.map((p) => ({ label: p.label, detail: p.detail, provider: p })), {
    title: 'Codegen: Pick a Model Provider', placeHolder: 'Where is the model codegen should use?', ignoreFocusOut: true,
  });
  if (!picked) return;
  const provider: Provider = picked.provider;
  const config = vscode.workspace.getConfiguration(SECTION);
  const baseUrl = provider.baseUrl ?? await vscode.window.showInputBox({
    title: `Codegen: ${provider.label}`, prompt: "The server's OpenAI-compatible endpoint (its URL, usually ending in /v1)",
    value: String(config.get('model.baseUrl') ?? ''), placeHolder: 'http://localhost:8000/v1', ignoreFocusOut: true,
    validateInput: baseUrlProblem,
  });
  if (baseUrl === undefined) return;
  const name = await vscode.window.showInputBox({
    title: `Codegen: ${provider.label}`, prompt: 'The model to use (its name as the server knows it)',
    value: provider.model || String(config.get('model.name') ?? ''), ignoreFocusOut: true,
    validateInput: (value) => (value.trim() === '' ? 'Name the model, e.g. gpt-4o or qwen2.5-coder:14b' : undefined),
  });
  if (name === undefined) return;
  await config.update('model.baseUrl', baseUrl.trim(), vscode.ConfigurationTarget.Global);
  await config.update('model.name', name.trim(), vscode.ConfigurationTarget.Global);
  const next = provider.needsKey ? 'Set API Key' : 'Test Connection';
  const chosen = await vscode.window.showInformationMessage(`Codegen: using ${name.trim()} (${provider.label}).`, next);
  if (chosen === 'Set API Key') await vscode.commands.executeCommand('codegen.ui.setApiKey');
  else if (chosen === 'Test Connection') await vscode.commands.executeCommand('codegen.ui.testConnection');
}

/** One short request to the model through the daemon: it answered, or one error that says what to fix. */
export async function testConnection(client: CodegenClient): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  const args = folder ? { root: folder.uri.fsPath } : {};
  const result = await client.run<{ model: string; endpoint: string; answer: string; seconds: number }>('codegen.testModel', args, 'Codegen: testing the model');
  if (result) void vscode.window.showInformationMessage(`Codegen: ${result.model} at ${result.endpoint} answered in ${result.seconds} s.`);
}
