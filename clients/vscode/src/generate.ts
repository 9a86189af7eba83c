/**
 * "Codegen: Generate from Prompt": prompt → clarifying questions one by one → generate → preview.
 */
import * as vscode from 'vscode';
import { askRound, choices, type Reply } from './clarify';
import type { CodegenClient } from './client';
import { clarifyAnswerArgs, clarifyStartArgs, COMMANDS, generateArgs, type ChangeResult, type ClarifyResult } from './protocol';
import { pickRoot } from './vscodeapi';

export async function generateFromPrompt(client: CodegenClient): Promise<void> {
  const folder = await pickRoot('Generate');
  if (!folder) return;
  const root = folder.uri.fsPath;
  const prompt = await vscode.window.showInputBox({
    title: 'Codegen: Generate from Prompt',
    prompt: `What should codegen build or change in ${folder.name}?`,
    placeHolder: 'e.g. a command-line todo app in Python with pytest tests',
    ignoreFocusOut: true,
    validateInput: (value) => (value.trim() === '' ? 'Say what to build.' : undefined),
  });
  if (prompt === undefined) return;

  const first = await client.run<ClarifyResult>(COMMANDS.clarify, clarifyStartArgs(prompt, root), 'Codegen: reading the prompt');
  if (!first) return;
  let clarified: ClarifyResult = first;
  while (clarified.questions.length > 0 && !clarified.done) {
    const { questions, round: roundNumber } = clarified;
    const round = await askRound(questions, (q, i, total) => askQuestion(q, i, total, roundNumber));
    if (round.cancelled) {
      void vscode.window.showInformationMessage('Codegen: generate cancelled; nothing was written.');
      return;
    }
    if (round.skipRest) break; // generate from what is known; the model decides the rest sensibly
    const next: ClarifyResult | undefined = await client.run<ClarifyResult>(COMMANDS.clarify, clarifyAnswerArgs(clarified.runId, questions, round.answers, root), 'Codegen: sending your answers');
    if (!next) return;
    clarified = next;
  }

  const result = await client.run<ChangeResult>(COMMANDS.generate, generateArgs(clarified.runId, root), 'Codegen: generating');
  if (result) void reportChanges('generate', result, client);
}

/** One question in a quick input: type an answer, skip it, or skip the rest. Escape cancels generate. */
function askQuestion(question: string, index: number, total: number, round: number): Promise<Reply> {
  const pick = vscode.window.createQuickPick<vscode.QuickPickItem & { reply: Reply }>();
  pick.title = `Codegen: question ${index + 1} of ${total}${round > 1 ? ` (round ${round})` : ''}`;
  pick.placeholder = question;
  pick.ignoreFocusOut = true;
  const update = () => {
    pick.items = choices(pick.value).map((c) => ({ label: c.label, description: c.description, reply: c.reply, alwaysShow: true }));
  };
  update();
  return new Promise<Reply>((resolve) => {
    let done = false;
    const finish = (reply: Reply) => {
      if (done) return;
      done = true;
      resolve(reply);
      pick.dispose();
    };
    pick.onDidChangeValue(update);
    pick.onDidAccept(() => {
      const item = pick.selectedItems[0] ?? pick.activeItems[0];
      finish(item ? item.reply : { kind: 'skip' });
    });
    pick.onDidHide(() => finish({ kind: 'cancel' }));
    pick.show();
  });
}

/** The outcome of a change (generate, markers): files written, or why nothing was. */
export async function reportChanges(what: string, result: ChangeResult, client: CodegenClient): Promise<void> {
  const paths = result.files.map((f) => f.path);
  if (result.applied) {
    const shown = paths.slice(0, 6).join(', ') + (paths.length > 6 ? `, … (${paths.length} in all)` : '');
    void vscode.window.showInformationMessage(`Codegen: ${what} wrote ${paths.length} file${paths.length === 1 ? '' : 's'}: ${shown}`);
    return;
  }
  if (result.failures.length > 0) {
    for (const f of result.failures) client.output.appendLine(`[codegen] ${what}: ${f.path}: ${f.message}`);
    const chosen = await vscode.window.showWarningMessage(
      `Codegen: ${what} wrote nothing: ${result.reason || 'some changes could not be placed'} (${result.failures.map((f) => f.path).join(', ')}).`, 'Show Output');
    if (chosen) client.output.show(true);
    return;
  }
  if (paths.length === 0) {
    void vscode.window.showInformationMessage(`Codegen: ${what}: the model proposed no change.`);
    return;
  }
  void vscode.window.showInformationMessage(`Codegen: ${what} wrote nothing (${result.reason || 'discarded'}).`);
}
