/**
 * A feedback comment thread's state: the run it continues, and what to show after each answer.
 * No `vscode` import: the extension keeps one `ThreadState` per comment thread.
 */
import type { FeedbackResult, Marker } from './protocol';

export type ThreadStatus = 'draft' | 'running' | 'applied' | 'question' | 'no-change' | 'declined' | 'failed' | 'error';

export interface ThreadState {
  /** The runId of the last answer: a reply on the thread continues that run. */
  runId?: string;
  status: ThreadStatus;
}

export function newThread(): ThreadState {
  return { status: 'draft' };
}

/** What the thread shows after an answer from `codegen.applyFeedback`. */
export interface Outcome {
  state: ThreadState;
  /** The model's comment in the thread (markdown). */
  reply: string;
  /** The thread's label, under its title. */
  label: string;
  /** Preferences the model proposes to remember; the user is asked about each. */
  proposedMemory: string[];
}

const LABELS: Record<ThreadStatus, string> = {
  draft: 'Codegen: write what to change, then Apply Feedback',
  running: 'Codegen: working…',
  applied: 'Codegen: applied',
  question: 'Codegen: asks a question — reply to answer',
  'no-change': 'Codegen: no change needed',
  declined: 'Codegen: not applied',
  failed: 'Codegen: some changes did not apply',
  error: 'Codegen: failed',
};

export function labelFor(status: ThreadStatus): string {
  return LABELS[status];
}

function fileList(paths: string[]): string {
  return paths.map((p) => '`' + p + '`').join(', ');
}

/** The thread's next state and texts for one result of `codegen.applyFeedback`. */
export function outcomeOf(previous: ThreadState, result: FeedbackResult): Outcome {
  const runId = result.runId || previous.runId;
  const explanation = (result.explanation ?? '').trim();
  const proposedMemory = (result.proposedMemory ?? []).filter((m) => m.trim() !== '');
  const question = (result.question ?? '').trim();
  let status: ThreadStatus;
  const parts: string[] = [];
  if (question !== '') {
    status = 'question';
    if (explanation !== '') parts.push(explanation);
    parts.push(`**Question:** ${question}`, '_Reply in this thread to answer; nothing was changed._');
  } else if (result.changed === false || (result.files.length === 0 && result.failures.length === 0)) {
    status = 'no-change';
    parts.push(explanation !== '' ? explanation : 'No change is needed here.');
  } else if (result.applied) {
    status = 'applied';
    if (explanation !== '') parts.push(explanation);
    parts.push(`Applied to ${fileList(result.files.map((f) => f.path))}.`);
  } else if (result.failures.length > 0) {
    status = 'failed';
    if (explanation !== '') parts.push(explanation);
    parts.push(`Not applied: ${result.reason || 'some changes could not be placed'}.`);
    parts.push(result.failures.map((f) => `- \`${f.path}\`: ${f.message}`).join('\n'));
  } else {
    status = 'declined';
    if (explanation !== '') parts.push(explanation);
    parts.push(`Not applied: ${result.reason || 'the change was discarded'}.`);
  }
  if (result.tests) {
    const t = result.tests;
    parts.push(t.failed === 0 ? `Tests pass (${t.passed}) with \`${t.command}\`.` : `Tests: ${t.failed} failing with \`${t.command}\`: ${t.failing.join(', ')}`);
  }
  if ((result.remembered ?? []).length > 0) parts.push(`Remembered: ${(result.remembered ?? []).join('; ')}`);
  return { state: { runId, status }, reply: parts.join('\n\n'), label: labelFor(status), proposedMemory };
}

/** The thread after an error or a cancel (`run` tells them apart to the user): the run stays, so a reply can try again. */
export function failedOutcome(previous: ThreadState, message: string): Outcome {
  return { state: { ...previous, status: 'error' }, reply: message, label: labelFor('error'), proposedMemory: [] };
}

/** A one-line summary of a marker run (`codegen.applyFeedback {markers: true}`). */
export function markerSummary(result: FeedbackResult): string {
  const acted = result.markers?.acted ?? [];
  const remaining = result.markers?.remaining ?? [];
  const where = (ms: Marker[]) => ms.map((m) => `${m.path}:${m.line}`).join(', ');
  const parts: string[] = [];
  if (result.question) parts.push(`Codegen asks: ${result.question}`);
  else if (result.applied) parts.push(`Codegen: applied ${acted.length} codegen: comment${acted.length === 1 ? '' : 's'} (${where(acted)}).`);
  else if (result.changed === false) parts.push(`Codegen: no change needed. ${result.explanation ?? ''}`.trim());
  else parts.push(`Codegen: not applied: ${result.reason || 'the change was discarded'}.`);
  if (remaining.length > 0) parts.push(`Remaining: ${where(remaining)}.`);
  return parts.join(' ');
}
