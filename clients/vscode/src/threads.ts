/**
 * A feedback comment thread's state: the run it continues, and what to show after each answer.
 * No `vscode` import: the extension keeps one `ThreadState` per comment thread.
 */
import { failurePlace, leftOutFiles, type Failure, type FeedbackResult, type Range } from './protocol';

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

/** One failure as a Markdown list item: where, why, and the closest text found as a code block. */
function failureMarkdown(f: Failure): string {
  const item = `- \`${failurePlace(f)}\`: ${f.reason}`;
  if (!f.closest) return item;
  const fence = f.closest.includes('```') ? '~~~' : '```';
  return `${item}\n\n  closest text in the file:\n\n  ${fence}\n${f.closest.split('\n').map((l) => `  ${l}`).join('\n')}\n  ${fence}`;
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
    const left = leftOutFiles(result);
    if (left.length > 0) parts.push(`Left out or changed in the review: ${fileList(left)}.`);
  } else if (result.failures.length > 0) {
    status = 'failed';
    if (explanation !== '') parts.push(explanation);
    parts.push(`Not applied: ${result.reason || 'some changes could not be placed'}.`);
    parts.push(result.failures.map(failureMarkdown).join('\n'));
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

/** A comment as kept across reloads (workspaceState): who wrote it and its Markdown. */
export interface SavedComment { author: 'you' | 'codegen'; body: string }

/** A thread as kept across reloads: where it is, what was said, and its state. */
export interface SavedThread {
  uri: string;
  range: Range;
  comments: SavedComment[];
  state: ThreadState;
}

const INTERRUPTED = 'The window reloaded while this ran; its answer is not shown here (see the Codegen view for the run). Reply to try again.';

/**
 * A saved thread as it comes back after a reload: its comments and state, except that one that was
 * working when the window went away says so (the answer went to a window that no longer exists).
 */
export function restoredThread(saved: SavedThread): { state: ThreadState; comments: SavedComment[]; label: string } {
  if (saved.state.status !== 'running') return { state: saved.state, comments: saved.comments, label: labelFor(saved.state.status) };
  const state: ThreadState = { ...saved.state, status: 'error' };
  return { state, comments: [...saved.comments, { author: 'codegen', body: INTERRUPTED }], label: labelFor('error') };
}

/** The saved threads that are worth restoring: well-formed, with something said in them. */
export function savedThreads(value: unknown): SavedThread[] {
  if (!Array.isArray(value)) return [];
  return value.filter((t): t is SavedThread => typeof t === 'object' && t !== null && typeof t.uri === 'string'
    && typeof t.range?.start?.line === 'number' && typeof t.range?.end?.line === 'number'
    && Array.isArray(t.comments) && t.comments.length > 0 && typeof t.state?.status === 'string' && t.state.status in LABELS);
}
