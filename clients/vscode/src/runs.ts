/**
 * The Codegen view's rows: one per run of `codegen.runs`, with what it offers (Undo, Re-run,
 * Continue) and where its transcript is. No `vscode` import.
 */

import type { RunSummary } from './undoPick';

/** One entry of `codegen.runs` (README "The daemon"), with what a feedback run's row needs to Re-run
 * (the whole comment) and Continue (the place of its thread). */
export interface RunEntry extends RunSummary {
  asked?: string;
  path?: string;
  lines?: number[];
}

/** What a row shows and offers. */
export interface RunRow {
  label: string;
  /** Beside the label: the status and when. */
  detail: string;
  /** A codicon id. */
  icon: string;
  /** Markdown for the hover. */
  tooltip: string;
  /** The tree item's contextValue: `run` plus one word per action the run offers (package.json's `viewItem =~`). */
  contextValue: string;
}

const ICONS: Record<string, string> = {
  running: 'sync~spin',
  'waiting-for-answers': 'question',
  clarified: 'comment-discussion',
  applied: 'check',
  green: 'pass',
  answered: 'comment',
  'not-applied': 'circle-slash',
  cancelled: 'circle-slash',
  refused: 'shield',
  failed: 'error',
  question: 'question',
  'no-change': 'circle-outline',
  declined: 'circle-slash',
  iterations: 'warning',
  budget: 'warning',
  'no-progress': 'warning',
};

const STATUS_WORDS: Record<string, string> = {
  running: 'working…',
  'waiting-for-answers': 'waiting for answers',
  'not-applied': 'not applied',
  green: 'tests pass',
  question: 'asked a question',
  'no-change': 'no change needed',
  iterations: 'iteration limit reached',
  budget: 'token budget spent',
  'no-progress': 'stopped: no progress',
};

export function statusWords(status: string): string {
  return STATUS_WORDS[status] ?? (status || 'unknown');
}

/** Re-run: generate (its prompt again), feedback (its comment again, on its lines) and fix (the tests again). */
export function canRerun(run: RunEntry): boolean {
  if (run.kind === 'fix') return true;
  if (run.kind === 'generate') return (run.asked ?? '').trim() !== '';
  return run.kind === 'feedback' && (run.asked ?? '').trim() !== '' && !!run.path && (run.lines ?? []).length === 2;
}

/** Continue: a feedback run goes on in its comment thread (a reply there continues the run). */
export function canContinue(run: RunEntry): boolean {
  return run.kind === 'feedback' && !!run.path && (run.lines ?? []).length === 2;
}

/** "2 min ago", "3 h ago", "Dec 4": when a run started, from its `started` (UTC ISO) or `created` stamp. */
export function age(run: RunEntry, now: Date): string {
  const stamp = run.started || run.created.replace(/([+-]\d\d)(\d\d)$/, '$1:$2');
  const when = new Date(stamp);
  if (Number.isNaN(when.getTime())) return '';
  const seconds = Math.max(0, (now.getTime() - when.getTime()) / 1000);
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return when.toLocaleDateString('en-US', { month: 'short', day: 'numeric' });
}

export function runRow(run: RunEntry, now: Date): RunRow {
  const actions = ['run', run.undoable ? 'undoable' : '', canRerun(run) ? 'rerun' : '', canContinue(run) ? 'continue' : '']
    .filter((word) => word !== '');
  const when = age(run, now);
  const changed = run.written.length > 0 ? run.written : run.files;
  const tooltip = [
    `**${run.description || run.kind}** — ${statusWords(run.status)}${when ? `, ${when}` : ''}`,
    run.asked ? '\n\n' + run.asked.trim() : '',
    changed.length > 0 ? '\n\nFiles: ' + changed.map((p) => '`' + p + '`').join(', ') : '',
    '\n\nClick to open its transcript.',
  ].join('');
  return {
    label: run.description || run.kind,
    detail: [statusWords(run.status), when].filter((s) => s !== '').join(' · '),
    icon: ICONS[run.status] ?? 'circle-outline',
    tooltip,
    contextValue: actions.join('.'),
  };
}

/** The transcript's file inside the workspace folder `root` (the daemon rewrites it as the run records). */
export function transcriptPath(root: string, runId: string): string {
  return `${root.replace(/[\\/]+$/, '')}/.codegen/runs/${runId}/transcript.md`;
}

/** A tab title for a run's transcript: its description, not its id, safe as a file name. */
export function transcriptTitle(run: Pick<RunEntry, 'description' | 'kind'>): string {
  const words = (run.description || run.kind).replace(/[\\/:*?"<>|\r\n]+/g, ' ').replace(/\s+/g, ' ').trim();
  const short = words.length > 60 ? words.slice(0, 59).trimEnd() + '…' : words;
  return `Transcript — ${short}.md`;
}

/** The run id a changed file under `.codegen/runs/` belongs to, or undefined for any other file. */
export function runIdOfPath(path: string): string | undefined {
  const match = /[\\/]\.codegen[\\/]runs[\\/]([^\\/]+)[\\/][^\\/]+$/.exec(path);
  return match ? match[1] : undefined;
}
