/**
 * "Codegen: Generate from Prompt": prompt → clarifying questions one by one → generate → preview.
 */
import * as vscode from 'vscode';
import { accepted, ANSWER_HINT, askRound, DISCARD_BUTTON, DISCARD_QUESTION, KEEP_BUTTON, SKIP_REST_TOOLTIP, stepTitle, type Reply, type Step } from './clarify';
import type { CodegenClient } from './client';
import { clarifyAnswerArgs, clarifyStartArgs, COMMANDS, describeFailure, failurePlace, leftOutFiles, generateArgs, type ChangeResult, type ClarifyResult } from './protocol';
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
    const round = await askRound(questions, (step) => askQuestion(step, roundNumber), confirmDiscard);
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

/** One question in an input box: the question is its prompt (wrapped, whole), Back and "skip the rest" its buttons. */
function askQuestion(step: Step, round: number): Promise<Reply> {
  const box = vscode.window.createInputBox();
  box.title = stepTitle(step, round);
  box.prompt = step.question;
  box.placeholder = ANSWER_HINT;
  box.value = step.value;
  box.ignoreFocusOut = true;
  const skipRest: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('run-all'), tooltip: SKIP_REST_TOOLTIP };
  box.buttons = [...(step.index > 0 ? [vscode.QuickInputButtons.Back] : []), skipRest];
  return new Promise<Reply>((resolve) => {
    let done = false;
    const finish = (reply: Reply) => {
      if (done) return;
      done = true;
      resolve(reply);
      box.dispose();
    };
    box.onDidAccept(() => finish(accepted(box.value)));
    box.onDidTriggerButton((button) => finish(button === skipRest ? { kind: 'skipRest' } : { kind: 'back', typed: box.value }));
    box.onDidHide(() => finish({ kind: 'cancel', typed: box.value }));
    box.show();
  });
}

/**
 * Escape after answering: the answers stay unless the user picks "discard". A quick pick, not a modal
 * dialog: a dialog opened by the Escape's keydown is closed again by its keyup. Escape here keeps them.
 */
async function confirmDiscard(): Promise<boolean> {
  const items = [
    { label: `$(edit) ${KEEP_BUTTON}`, discard: false },
    { label: `$(trash) ${DISCARD_BUTTON}`, description: 'stop this generate; nothing was written', discard: true },
  ];
  const chosen = await vscode.window.showQuickPick(items, { title: `Codegen: ${DISCARD_QUESTION}`, placeHolder: 'Escape keeps them', ignoreFocusOut: true });
  return chosen?.discard === true;
}

/** The outcome of a change (generate, markers): files written, or why nothing was. */
export async function reportChanges(what: string, result: ChangeResult, client: CodegenClient): Promise<void> {
  const paths = result.files.map((f) => f.path);
  if (result.applied) {
    const shown = paths.slice(0, 6).join(', ') + (paths.length > 6 ? `, … (${paths.length} in all)` : '');
    const left = leftOutFiles(result);
    const rest = left.length > 0 ? ` (left out or changed in the review: ${left.join(', ')})` : '';
    void vscode.window.showInformationMessage(`Codegen: ${what} wrote ${paths.length} file${paths.length === 1 ? '' : 's'}: ${shown}${rest}`);
    return;
  }
  if (result.failures.length > 0) {
    for (const f of result.failures) client.output.appendLine(`[codegen] ${what}: ${describeFailure(f)}`);
    const chosen = await vscode.window.showWarningMessage(
      `Codegen: ${what} wrote nothing: ${result.reason || 'some changes could not be placed'} (${result.failures.map(failurePlace).join(', ')}).`, 'Show Output');
    if (chosen) client.output.show(true);
    return;
  }
  if (paths.length === 0) {
    void vscode.window.showInformationMessage(`Codegen: ${what}: the model proposed no change.`);
    return;
  }
  void vscode.window.showInformationMessage(`Codegen: ${what} wrote nothing (${result.reason || 'discarded'}).`);
}
