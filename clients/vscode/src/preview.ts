/**
 * What a `workspace/applyEdit` from the daemon would do, file by file, for the extension's preview.
 * No `vscode` import: it works on the LSP WorkspaceEdit and the texts the editor holds.
 */
import type { Range } from './protocol';

export interface LspTextEdit { range: Range; newText: string; annotationId?: string }
export interface LspTextDocumentEdit { textDocument: { uri: string; version: number | null }; edits: LspTextEdit[] }
export interface LspCreateFile { kind: 'create'; uri: string; options?: { overwrite?: boolean; ignoreIfExists?: boolean }; annotationId?: string }
export interface LspRenameFile { kind: 'rename'; oldUri: string; newUri: string; options?: { overwrite?: boolean; ignoreIfExists?: boolean }; annotationId?: string }
export interface LspDeleteFile { kind: 'delete'; uri: string; options?: { recursive?: boolean; ignoreIfNotExists?: boolean }; annotationId?: string }
export type LspDocumentChange = LspTextDocumentEdit | LspCreateFile | LspRenameFile | LspDeleteFile;
export interface LspChangeAnnotation { label: string; needsConfirmation?: boolean; description?: string }
export interface LspWorkspaceEdit {
  documentChanges?: LspDocumentChange[];
  changes?: Record<string, LspTextEdit[]>;
  changeAnnotations?: Record<string, LspChangeAnnotation>;
}

/** One file of the edit: its text before and after, for the diff and the summary. */
export interface FileChange {
  uri: string;
  /** The file's URI before a rename. */
  oldUri?: string;
  action: 'create' | 'edit' | 'delete' | 'rename';
  before: string;
  after: string;
  added: number;
  removed: number;
}

export function isTextDocumentEdit(change: LspDocumentChange): change is LspTextDocumentEdit {
  return (change as LspTextDocumentEdit).textDocument !== undefined;
}

/** All the operations of an edit, `changes` (the older form) turned into unversioned document edits. */
export function documentChanges(edit: LspWorkspaceEdit): LspDocumentChange[] {
  if (edit.documentChanges) return edit.documentChanges;
  return Object.entries(edit.changes ?? {}).map(([uri, edits]) => ({ textDocument: { uri, version: null }, edits }));
}

/** Offsets of each line's start; only \n, \r\n and \r end a line, as in LSP. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 13 /* \r */) {
      if (text.charCodeAt(i + 1) === 10) i++;
      starts.push(i + 1);
    } else if (c === 10 /* \n */) {
      starts.push(i + 1);
    }
  }
  return starts;
}

/** The UTF-16 offset of an LSP position, clamped to the document as LSP requires. */
function offsetAt(text: string, starts: number[], line: number, character: number): number {
  if (line >= starts.length) return text.length;
  if (line < 0) return 0;
  const start = starts[line];
  const nextStart = line + 1 < starts.length ? starts[line + 1] : text.length;
  let end = nextStart;
  while (end > start && (text[end - 1] === '\n' || text[end - 1] === '\r')) end--;
  return Math.min(start + Math.max(character, 0), end);
}

/** Applies LSP text edits (all relative to `text`, non-overlapping) to `text`. */
export function applyTextEdits(text: string, edits: LspTextEdit[]): string {
  const starts = lineStarts(text);
  const placed = edits.map((e, index) => ({
    start: offsetAt(text, starts, e.range.start.line, e.range.start.character),
    end: offsetAt(text, starts, e.range.end.line, e.range.end.character),
    newText: e.newText,
    index,
  }));
  // Back to front, so earlier offsets stay valid; equal starts keep their order (inserts at one spot).
  placed.sort((a, b) => b.start - a.start || b.index - a.index);
  let result = text;
  for (const p of placed) {
    if (p.end < p.start) throw new Error('an edit ends before it starts');
    result = result.slice(0, p.start) + p.newText + result.slice(p.end);
  }
  return result;
}

function lines(text: string): string[] {
  if (text === '') return [];
  const parts = text.split(/\r\n|\r|\n/);
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** Lines added and removed between two texts (a line-multiset count; enough for a summary). */
export function lineCounts(before: string, after: string): { added: number; removed: number } {
  const counts = new Map<string, number>();
  for (const l of lines(before)) counts.set(l, (counts.get(l) ?? 0) + 1);
  let added = 0;
  for (const l of lines(after)) {
    const n = counts.get(l) ?? 0;
    if (n > 0) counts.set(l, n - 1);
    else added++;
  }
  let removed = 0;
  for (const n of counts.values()) removed += n;
  return { added, removed };
}

/**
 * The file-by-file result of an edit. `readText(uri)` gives the text the editor holds (the open
 * buffer, else the file on disk), or undefined when the file does not exist.
 */
export async function fileChanges(edit: LspWorkspaceEdit, readText: (uri: string) => Promise<string | undefined>): Promise<FileChange[]> {
  const files = new Map<string, FileChange>();
  const order: string[] = [];
  const current = async (uri: string): Promise<FileChange> => {
    let file = files.get(uri);
    if (!file) {
      const text = await readText(uri);
      file = { uri, action: text === undefined ? 'create' : 'edit', before: text ?? '', after: text ?? '', added: 0, removed: 0 };
      files.set(uri, file);
      order.push(uri);
    }
    return file;
  };
  for (const change of documentChanges(edit)) {
    if (isTextDocumentEdit(change)) {
      const file = await current(change.textDocument.uri);
      file.after = applyTextEdits(file.after, change.edits);
    } else if (change.kind === 'create') {
      const file = await current(change.uri);
      if (file.action === 'edit' && change.options?.overwrite) file.after = '';
      if (file.action !== 'edit') file.action = 'create';
    } else if (change.kind === 'delete') {
      const file = await current(change.uri);
      file.action = 'delete';
      file.after = '';
    } else {
      const old = await current(change.oldUri);
      files.delete(change.oldUri);
      order.splice(order.indexOf(change.oldUri), 1);
      files.set(change.newUri, { ...old, uri: change.newUri, oldUri: change.oldUri, action: 'rename' });
      order.push(change.newUri);
    }
  }
  return order.map((uri) => {
    const file = files.get(uri) as FileChange;
    return { ...file, ...lineCounts(file.before, file.after) };
  });
}

/**
 * Documents the edit was computed against that changed since: an open document whose version
 * differs from the edit's. Such an edit must not be applied (it would clobber newer typing).
 */
export function staleDocuments(edit: LspWorkspaceEdit, openVersion: (uri: string) => number | undefined): string[] {
  const stale: string[] = [];
  for (const change of documentChanges(edit)) {
    if (!isTextDocumentEdit(change) || change.textDocument.version === null) continue;
    const version = openVersion(change.textDocument.uri);
    if (version !== undefined && version !== change.textDocument.version) stale.push(change.textDocument.uri);
  }
  return stale;
}

/** The edit's label: its change annotation's, else a generic one. */
export function editLabel(edit: LspWorkspaceEdit, label: string | undefined): string {
  if (label && label.trim() !== '') return label;
  const annotation = Object.values(edit.changeAnnotations ?? {})[0];
  return annotation?.label ?? 'codegen';
}

/**
 * The model's explanation, diagnosis or summary carried by the edit's own annotation (id `codegen`),
 * as a Markdown page shown beside the diff; undefined when the daemon sent none.
 */
export function explanationPage(edit: LspWorkspaceEdit, label: string): string | undefined {
  const text = (edit.changeAnnotations?.codegen?.description ?? '').trim();
  if (text === '') return undefined;
  return `# Why: ${label}\n\n${text}\n`;
}

/** The failureReason that skips only this fix iteration's change: the run goes on (README "apply"). */
export const SKIP_CHANGE = 'codegen:skip';

/** Whether an edit (by its label, "codegen: " removed) is one iteration of a fix run, where Discard may skip just it. */
export function isFixIteration(label: string): boolean {
  return /^fix, iteration \d+/.test(label);
}

/** The answer to a discarded edit: skip only this change (a fix run goes on), or decline it (the run ends). */
export function discardResult(skip: boolean): { applied: false; failureReason: string } {
  return { applied: false, failureReason: skip ? SKIP_CHANGE : 'discarded in the preview' };
}

/** The whole edit in a few words: "3 new files, 1 changed". */
export function summary(changes: FileChange[]): string {
  const count = (action: FileChange['action']) => changes.filter((c) => c.action === action).length;
  const parts: string[] = [];
  const created = count('create');
  const edited = count('edit') + count('rename');
  const deleted = count('delete');
  if (created) parts.push(`${created} new file${created === 1 ? '' : 's'}`);
  if (edited) parts.push(`${edited} changed`);
  if (deleted) parts.push(`${deleted} deleted`);
  return parts.join(', ') || 'no change';
}

/** A URI shown relative to the workspace folder that holds it. */
export function displayPath(uri: string, folderUris: string[]): string {
  for (const folder of folderUris) {
    const prefix = folder.endsWith('/') ? folder : folder + '/';
    if (uri.startsWith(prefix)) return decodeURIComponent(uri.slice(prefix.length));
  }
  return decodeURIComponent(uri.replace(/^file:\/\//, ''));
}

/**
 * The `failureReason` sent WITH `applied: true` when the user took the change only in part (some files
 * or hunks), or it was placed around typing done during the review: the extension saved what it
 * applied, and the daemon must write nothing more (it would write what the user left out).
 */
export const REVIEWED = 'codegen:reviewed';

/** One thing the user can take or leave in "Choose Changes to Apply": a whole file, or one hunk of an edited one. */
export interface ChangePick {
  key: string;
  uri: string;
  label: string;
  description: string;
  detail?: string;
}

/** Files the edit creates or renames: their text edits go with the file, not hunk by hunk. */
function wholeFileUris(changes: LspDocumentChange[]): Set<string> {
  const uris = new Set<string>();
  for (const change of changes) {
    if (isTextDocumentEdit(change)) continue;
    uris.add(change.kind === 'rename' ? change.newUri : change.uri);
  }
  return uris;
}

function fileKey(uri: string): string {
  return `file:${uri}`;
}

function newLines(text: string): number {
  return lines(text).length;
}

/** Each file operation and each hunk of an edited file, in the edit's order, labelled for a pick list. */
export function changePicks(edit: LspWorkspaceEdit, folderUris: string[]): ChangePick[] {
  const changes = documentChanges(edit);
  const whole = wholeFileUris(changes);
  const picks: ChangePick[] = [];
  changes.forEach((change, i) => {
    if (!isTextDocumentEdit(change)) {
      const uri = change.kind === 'rename' ? change.newUri : change.uri;
      const content = changes.filter((c): c is LspTextDocumentEdit => isTextDocumentEdit(c) && c.textDocument.uri === uri)
        .flatMap((c) => c.edits).reduce((n, e) => n + newLines(e.newText), 0);
      const description = change.kind === 'create' ? `new file, ${content} line${content === 1 ? '' : 's'}`
        : change.kind === 'delete' ? 'delete the file'
        : `renamed from ${displayPath(change.oldUri, folderUris)}`;
      picks.push({ key: fileKey(uri), uri, label: displayPath(uri, folderUris), description });
      return;
    }
    const uri = change.textDocument.uri;
    if (whole.has(uri)) return;
    change.edits.forEach((e, j) => {
      const first = e.range.start.line + 1;
      const removed = Math.max(0, e.range.end.line - e.range.start.line + (e.range.end.character > 0 ? 1 : 0));
      const added = newLines(e.newText);
      const where = removed === 0 ? `after line ${first - 1}` : removed === 1 ? `line ${first}` : `lines ${first}–${first + removed - 1}`;
      const firstNew = e.newText.split(/\r\n|\r|\n/).find((l) => l.trim() !== '')?.trim();
      picks.push({ key: `${i}:${j}`, uri, label: `${displayPath(uri, folderUris)}: ${where}`, description: `+${added} −${removed}`,
        detail: firstNew === undefined ? 'removes lines' : firstNew });
    });
  });
  return picks;
}

/** The part of ``edit`` whose picks (``changePicks`` keys) are in ``keys``. */
export function selectChanges(edit: LspWorkspaceEdit, keys: ReadonlySet<string>): LspWorkspaceEdit {
  const changes = documentChanges(edit);
  const whole = wholeFileUris(changes);
  const kept: LspDocumentChange[] = [];
  changes.forEach((change, i) => {
    if (!isTextDocumentEdit(change)) {
      if (keys.has(fileKey(change.kind === 'rename' ? change.newUri : change.uri))) kept.push(change);
      return;
    }
    const uri = change.textDocument.uri;
    const edits = whole.has(uri) ? (keys.has(fileKey(uri)) ? change.edits : [])
      : change.edits.filter((_, j) => keys.has(`${i}:${j}`));
    if (edits.length > 0) kept.push({ textDocument: change.textDocument, edits });
  });
  return { documentChanges: kept, changeAnnotations: edit.changeAnnotations };
}

/** Lines with their endings (only \n, \r\n and \r end a line), as the daemon cuts them. */
function linesWithEndings(text: string): string[] {
  return text.match(/[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$/g) ?? [];
}

/** The line index an LSP position stands for, when it is a line start or the end of the text; else undefined. */
function lineIndex(all: string[], position: { line: number; character: number }): number | undefined {
  if (position.character === 0) return Math.min(position.line, all.length);
  const last = all.length - 1;
  const atEnd = position.line === last && !/[\r\n]$/.test(all[last]) && position.character >= all[last].length;
  return atEnd ? all.length : undefined;
}

/** The LSP position where line ``k`` of ``all`` starts; past the last line, the end of the text. */
function linePosition(all: string[], k: number): { line: number; character: number } {
  if (k < all.length) return { line: k, character: 0 };
  if (all.length === 0) return { line: 0, character: 0 };
  const last = all[all.length - 1];
  return /[\r\n]$/.test(last) ? { line: all.length, character: 0 } : { line: all.length - 1, character: last.length };
}

/**
 * The daemon's line edits, computed against ``base``, moved onto ``current`` (the buffer after the user
 * typed during the review) — or undefined when the typing touches or borders a hunk, so the change no
 * longer applies cleanly. The user's typing is taken as one region (the lines between the texts' common
 * start and end): typing in two places around a hunk counts as touching it, which errs on refusing.
 */
export function rebaseEdits(base: string, current: string, edits: LspTextEdit[]): LspTextEdit[] | undefined {
  if (base === current) return edits;
  const before = linesWithEndings(base);
  const now = linesWithEndings(current);
  let prefix = 0;
  while (prefix < before.length && prefix < now.length && before[prefix] === now[prefix]) prefix++;
  let suffix = 0;
  while (suffix < before.length - prefix && suffix < now.length - prefix
    && before[before.length - 1 - suffix] === now[now.length - 1 - suffix]) suffix++;
  const typedEnd = before.length - suffix; // the typing replaced base lines [prefix, typedEnd)
  const shift = now.length - before.length;
  const moved: LspTextEdit[] = [];
  for (const e of edits) {
    const start = lineIndex(before, e.range.start);
    const end = lineIndex(before, e.range.end);
    if (start === undefined || end === undefined) return undefined;
    let offset: number;
    if (end < prefix) offset = 0;
    else if (start > typedEnd) offset = shift;
    else return undefined;
    moved.push({ ...e, range: { start: linePosition(now, start + offset), end: linePosition(now, end + offset) } });
  }
  return moved;
}
