/**
 * The daemon's command contract (README "The daemon" and the feedback protocol): command names,
 * argument objects and result shapes. No `vscode` import.
 */

export const COMMANDS = {
  clarify: 'codegen.clarify',
  generate: 'codegen.generateProject',
  applyFeedback: 'codegen.applyFeedback',
  collectFeedback: 'codegen.collectFeedback',
  memory: 'codegen.memory',
  fix: 'codegen.fixTests',
  undo: 'codegen.undo',
  runs: 'codegen.runs',
} as const;

/** An LSP position / range (0-based lines, UTF-16 characters). */
export interface Position { line: number; character: number }
export interface Range { start: Position; end: Position }

export interface FileEntry { path: string; action: string }
/**
 * A hunk or file that did not apply, in the daemon's one failure shape (README "Failures"): `hunk` is
 * 1-based (null when the failure is no hunk's), `closest` the nearest text found in the file (lines kept).
 */
export interface Failure { file: string | null; hunk: number | null; reason: string; closest: string | null }

/** Where a failure is: the file and its hunk, as a person reads it. */
export function failurePlace(f: Failure): string {
  return (f.file ?? 'the answer') + (typeof f.hunk === 'number' ? ` hunk ${f.hunk}` : '');
}

/** One failure as plain text (an output channel): where, why, and the closest text found, indented. */
export function describeFailure(f: Failure): string {
  const closest = f.closest ? '\n  closest text in the file:\n' + f.closest.split('\n').map((l) => `    ${l}`).join('\n') : '';
  return `${failurePlace(f)}: ${f.reason}${closest}`;
}

export interface ClarifyResult { runId: string; questions: string[]; round: number; done: boolean; spec: string }

/** Generate and feedback share one outcome shape. */
export interface ChangeResult {
  runId: string;
  files: FileEntry[];
  diff: string;
  applied: boolean;
  apply: string;
  reason: string;
  failures: Failure[];
  /** One note per file the user took in part or not at all in the review ("path: what happened"). */
  leftOut?: string[];
}

/** The files a result's `leftOut` notes name, for a message: "calc/cli.py, README.md". */
export function leftOutFiles(result: ChangeResult): string[] {
  return (result.leftOut ?? []).map((note) => note.split(': ')[0]);
}

/** A `codegen:` marker comment; `line` is 1-based. `note`: why a remaining marker was not done (the model's NOT DONE). */
export interface Marker { path: string; uri: string; line: number; range: Range; text: string; scope: string; note?: string }

export interface FeedbackResult extends ChangeResult {
  explanation: string;
  question?: string;
  changed?: boolean;
  proposedMemory?: string[];
  remembered?: string[];
  tests?: null | { command: string; passed: number; failed: number; failing: string[] };
  markers?: { acted: Marker[]; remaining: Marker[] };
}

export interface FixResult {
  runId: string;
  green: boolean;
  stopped: string;
  iterations: unknown[];
  failingAtStart: number;
  failingAtEnd: number;
  testsFixed: number;
  tokensUsed: number;
  restoredTo: string | null;
  summary: string;
}

export interface UndoResult { runId: string; restoredTo: string; written: string[]; removed: string[] }

/**
 * What a command cancelled from the progress notification answers: the message says what stays written;
 * `runId` is the run to undo (null when none came to writing), `written` the files that differ from its
 * start (null when that could not be read), `restoredTo` where a fix run returned ("start", "iteration N").
 */
export interface Cancelled {
  cancelled: true;
  message: string;
  runId?: string | null;
  written?: string[] | null;
  restoredTo?: string | null;
}

export function isCancelled(result: unknown): result is Cancelled {
  return typeof result === 'object' && result !== null && (result as { cancelled?: unknown }).cancelled === true;
}

// ------------------------------------------------------------------ argument objects

/** `root` is omitted for a single-folder workspace: the daemon uses the editor's workspace then. */
function withRoot<T extends object>(args: T, root: string | undefined): T & { root?: string } {
  return root === undefined ? args : { ...args, root };
}

export function clarifyStartArgs(prompt: string, root?: string): { prompt: string; root?: string } {
  return withRoot({ prompt: prompt.trim() }, root);
}

/** Answers aligned with the questions; a skipped question is an empty string. */
export function clarifyAnswerArgs(runId: string, questions: string[], answers: (string | undefined)[], root?: string) {
  return withRoot({ runId, answers: questions.map((_, i) => (answers[i] ?? '').trim()) }, root);
}

export function generateArgs(runId: string, root?: string) {
  return withRoot({ runId }, root);
}

/** A comment on a range; `runId` continues the thread's previous run (a reply). */
export function feedbackArgs(uri: string, range: Range, comment: string, runId: string | undefined, root?: string) {
  const args: { uri: string; range: Range; comment: string; runId?: string } = { uri, range, comment: comment.trim() };
  if (runId) args.runId = runId;
  return withRoot(args, root);
}

/**
 * A selection of whole lines ends at column 0 of the line after them; the comment is about the
 * lines selected, so such a range ends at the end of its last selected line instead.
 */
export function commentRange(range: Range, lineLength: (line: number) => number): Range {
  const { start, end } = range;
  if (end.character === 0 && end.line > start.line) {
    return { start, end: { line: end.line - 1, character: lineLength(end.line - 1) } };
  }
  return range;
}

export function markerFeedbackArgs(root?: string) {
  return withRoot({ markers: true as const }, root);
}

export function rememberArgs(text: string, root?: string) {
  return withRoot({ add: text }, root);
}

/**
 * Fix options (iterations, auto-accept, the user's test command) are settings the daemon already
 * holds; `testCommand` is a workspace's test command the user allowed for this run (testCommand.ts).
 */
export function fixArgs(root?: string, testCommand?: string) {
  return withRoot(testCommand === undefined ? {} : { testCommand }, root);
}

/** An empty `runId` is left out: the daemon then undoes the latest run that left files changed. */
export function undoArgs(runId: string, root?: string) {
  return withRoot(runId ? { runId } : {}, root);
}
