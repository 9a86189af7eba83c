/**
 * "Codegen: Undo Run" without run ids: the runs `codegen.runs` lists, as a picker shows them, and
 * the open documents that stop an undo (unsaved changes the restore would leave stale). No `vscode` import.
 */

/** One run as `codegen.runs` answers it (README "The daemon"). */
export interface RunSummary {
  id: string;
  kind: string;
  status: string;
  created: string;
  started: string;
  title: string;
  description: string;
  files: string[];
  written: string[];
  undoable: boolean;
}

export interface RunItem { label: string; description: string; detail: string; run: RunSummary }

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** When a run started, as a person says it: "just now", "5 min ago", "3 h ago", else the date and time (local). */
export function startedAgo(run: Pick<RunSummary, 'started' | 'created'>, now: Date): string {
  const at = new Date(run.started || run.created);
  if (Number.isNaN(at.getTime())) return run.created;
  const minutes = Math.floor((now.getTime() - at.getTime()) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  if (minutes < 24 * 60) return `${Math.floor(minutes / 60)} h ago`;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

/** The files an undo of `run` writes back: those it left changed. */
export function undoTargets(run: RunSummary): string[] {
  return [...new Set([...run.written, ...run.files])];
}

/** The picker's rows: the runs that can be undone, newest first as listed, each with its files. */
export function runItems(runs: RunSummary[], now: Date): RunItem[] {
  return runs.filter((run) => run.undoable).map((run) => {
    const files = undoTargets(run);
    const shown = files.slice(0, 4).join(', ') + (files.length > 4 ? `, … (${files.length} in all)` : '');
    return {
      label: run.description || run.kind,
      description: `${run.kind} · ${startedAgo(run, now)}${run.status ? ` · ${run.status}` : ''}`,
      detail: `${plural(files.length, 'file')} written: ${shown}`,
      run,
    };
  });
}

/**
 * The undo's files that are open with unsaved changes (`dirty`: workspace-relative paths): the undo
 * refuses while there are any, since it restores the disk and the editor would keep other text.
 */
export function dirtyTargets(run: RunSummary, dirty: string[]): string[] {
  const targets = new Set(undoTargets(run));
  return dirty.filter((path) => targets.has(path));
}

/** Why the undo did not run, naming the files to save or revert first. */
export function dirtyRefusal(paths: string[]): string {
  return `Codegen: nothing was undone — ${paths.join(', ')} ${paths.length === 1 ? 'has' : 'have'} unsaved changes. `
    + 'Save or revert ' + (paths.length === 1 ? 'it' : 'them') + ' first, then undo again (the undo restores the files on disk).';
}
