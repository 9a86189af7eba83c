/**
 * The files of a daemon edit that carry a warning. The daemon flags a change to a file that makes
 * an editor or shell run code (`.vscode/settings.json`, `.vscode/tasks.json`, `.envrc`, `.nvim.lua`,
 * `.exrc`, git configuration...): that file's operations reference a change annotation of their own
 * whose label and description say why. The preview names such files in its title and asks once more
 * before Apply (editPreview.ts).
 * No `vscode` import: unit tests run this with plain `node --test`.
 */
import { displayPath, documentChanges, isTextDocumentEdit, type LspDocumentChange, type LspWorkspaceEdit } from './preview';

/** One flagged file: its URI (the new one for a rename) and the daemon's warning. */
export interface FileWarning {
  uri: string;
  label: string;
  description?: string;
}

/** The file an operation changes (a rename changes the file at its new name). */
function changedUri(change: LspDocumentChange): string {
  if (isTextDocumentEdit(change)) return change.textDocument.uri;
  return change.kind === 'rename' ? change.newUri : change.uri;
}

/** The annotations an operation references: its own, or its text edits'. */
function annotationIds(change: LspDocumentChange): string[] {
  if (isTextDocumentEdit(change)) return change.edits.flatMap((e) => (e.annotationId === undefined ? [] : [e.annotationId]));
  return change.annotationId === undefined ? [] : [change.annotationId];
}

/** The id of the edit's own annotation: its label names the run, its description is the model's explanation. */
export const OWN_ANNOTATION = 'codegen';

/**
 * The flagged files of `edit`, in the edit's order, one entry per file. Every annotation but the
 * edit's own (`codegen`, which every file references) is a warning about the files that reference it.
 * Only the `documentChanges` form carries annotations.
 */
export function fileWarnings(edit: LspWorkspaceEdit): FileWarning[] {
  const annotations = edit.changeAnnotations ?? {};
  const isWarning = (id: string): boolean => annotations[id] !== undefined && id !== OWN_ANNOTATION;
  const warnings = new Map<string, FileWarning>();
  for (const change of documentChanges(edit)) {
    const uri = changedUri(change);
    if (warnings.has(uri)) continue;
    const id = annotationIds(change).find(isWarning);
    if (id === undefined) continue;
    const { label, description } = annotations[id];
    warnings.set(uri, description && description.trim() !== '' ? { uri, label, description } : { uri, label });
  }
  return [...warnings.values()];
}

/** The changes editor's title: the run, then the flagged files, so the tab itself warns. */
export function previewTitle(label: string, warnings: FileWarning[], folderUris: string[]): string {
  const title = `Codegen: ${label}`;
  if (warnings.length === 0) return title;
  return `${title} — ⚠ flagged: ${warnings.map((w) => displayPath(w.uri, folderUris)).join(', ')}`;
}

/** The line the running command's progress shows while such a preview waits. */
export function waitingWarning(warnings: FileWarning[], folderUris: string[]): string {
  if (warnings.length === 0) return '';
  return `⚠ ${warnings.map((w) => displayPath(w.uri, folderUris)).join(', ')} flagged (can run code): `;
}

export const APPLY_ANYWAY = 'Apply Anyway';

/**
 * A warning in the daemon's words: its label (with the file's name in front unless it says it),
 * then the sentences of its description the label does not already say.
 */
function warningText(warning: FileWarning, name: string): string {
  const label = warning.label.includes(name) ? warning.label : `${name}: ${warning.label}`;
  const core = (sentence: string) => sentence.replace(/^warning:\s*/i, '').replace(/[.\s]+$/, '');
  const extra = (warning.description ?? '').split(/(?<=\.)\s+/).filter((s) => core(s) !== '' && !label.includes(core(s)));
  return [label, ...extra].join('\n');
}

/** The modal confirmation before Apply writes a flagged file: each file with the daemon's warning. */
export function applyConfirmation(warnings: FileWarning[], folderUris: string[]): { message: string; detail: string } {
  const names = warnings.map((w) => displayPath(w.uri, folderUris));
  const one = names.length === 1;
  return {
    message: `Codegen: this change writes ${names.join(', ')}, which ${one ? 'is a file' : 'are files'} that can make your editor or shell run code. Apply it anyway?`,
    detail: warnings.map((w, i) => warningText(w, names[i])).join('\n\n'),
  };
}
