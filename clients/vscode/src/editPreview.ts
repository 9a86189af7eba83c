/**
 * The preview of the daemon's edits (`workspace/applyEdit`), handled by the extension itself.
 *
 * Why not VS Code's Refactor Preview (vscode-languageclient's default): the daemon marks its edits
 * `needsConfirmation`, and the Refactor Preview then shows every change UNCHECKED — Apply does
 * nothing until the user ticks each file. Instead, every changed file opens in one multi-file diff
 * editor ("changes" editor), and the editor title bar offers Apply, Choose and Discard (also in the
 * palette: "Codegen: Apply Previewed Changes" / "Choose Changes to Apply…" / "Discard Previewed
 * Changes"); the progress notification says the run waits for that choice. Apply writes the whole edit
 * through `workspace.applyEdit` and saves the files (the daemon's checkpoints and the tests read the
 * disk); Choose takes some files or hunks only, and answers `codegen:reviewed` so that the daemon
 * writes nothing more; Discard, closing the preview, or the end of the command that asked (its Cancel)
 * writes nothing and answers `applied: false`. Typing in a target file during the review does not void
 * the change when it still applies cleanly around the typing (`rebaseEdits`).
 * A file the daemon flagged (one that makes an editor or shell run code, warnings.ts) is named in
 * the preview's title and the progress, and Apply asks once more in a modal dialog that quotes the
 * daemon's warning.
 */
import * as vscode from 'vscode';
import type { ApplyWorkspaceEditParams, ApplyWorkspaceEditResult } from 'vscode-languageclient/node';
import {
  REVIEWED,
  changePicks,
  discardResult,
  displayPath,
  documentChanges,
  editLabel,
  explanationPage,
  fileChanges,
  isFixIteration,
  isTextDocumentEdit,
  rebaseEdits,
  selectChanges,
  staleDocuments,
  summary,
  type FileChange,
  type LspDocumentChange,
  type LspWorkspaceEdit,
} from './preview';
import { settingReader } from './vscodeapi';
import { APPLY_ANYWAY, applyConfirmation, fileWarnings, previewTitle, waitingWarning, type FileWarning } from './warnings';

export const PREVIEW_SCHEME = 'codegen-preview';
const PENDING_CONTEXT = 'codegen.previewPending';

/** Apply all, discard all, or apply the picks (``changePicks`` keys) the user kept. */
type Choice = 'apply' | 'discard' | { keys: Set<string> };

const ENDED: ApplyWorkspaceEditResult = { applied: false, failureReason: 'the command ended (cancelled) before the change was reviewed' };

export class EditPreview implements vscode.Disposable, vscode.TextDocumentContentProvider {
  private readonly contents = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly registration: vscode.Disposable;
  private serial = 0;
  private decide: ((choice: Choice) => void) | undefined;
  /** The flagged files of the preview that waits: Apply asks about them once more. */
  private warnings: FileWarning[] = [];
  /** The edit of the preview that waits, for "Choose Changes to Apply". */
  private pending: LspWorkspaceEdit | undefined;
  /** Daemon commands running now: only they wait for a preview's answer. */
  private commands = 0;
  /** Bumped when the last command ends, so a preview still queued for an ended command never opens. */
  private generation = 0;
  private readonly waitingEmitter = new vscode.EventEmitter<string | undefined>();
  /** A line for the running command's progress while a preview waits for the user (undefined when done). */
  readonly onDidChangeWaiting = this.waitingEmitter.event;

  constructor(private readonly output: vscode.OutputChannel) {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(PREVIEW_SCHEME, this);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? '';
  }

  /** A daemon command started (`CodegenClient.run`). */
  commandStarted(): void {
    this.commands++;
  }

  /**
   * A daemon command ended. With none left, nobody waits for a preview's answer: a command cancelled
   * while its preview was open has answered "nothing was written", so that preview must not write
   * on a later Apply. Open and queued previews are discarded.
   */
  commandEnded(): void {
    this.commands = Math.max(0, this.commands - 1);
    if (this.commands > 0) return;
    this.generation++;
    this.decide?.('discard');
  }

  /** One edit at a time: a second request waits until the first one is decided. */
  handle(params: ApplyWorkspaceEditParams): Promise<ApplyWorkspaceEditResult> {
    if (this.commands === 0) return Promise.resolve(ENDED);
    const generation = this.generation;
    const next = this.queue.then(() => this.review(params, generation));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** "Apply" / "Discard" from the editor title bar or the palette; Apply of a flagged file asks once more. */
  async choose(choice: 'apply' | 'discard'): Promise<void> {
    const decide = this.decide;
    if (!decide) {
      void vscode.window.showInformationMessage('Codegen: no change is waiting for review.');
      return;
    }
    if (choice === 'apply' && !(await this.confirmFlagged(this.warnings))) return;
    if (this.decide === decide) decide(choice);
  }

  /**
   * "Choose Changes to Apply…": every new, deleted or renamed file and every hunk of an edited file in a
   * pick list, all picked; the user unticks what to leave out. Nothing picked is Discard, all is Apply.
   */
  async chooseSome(): Promise<void> {
    const decide = this.decide;
    const edit = this.pending;
    if (!decide || !edit) {
      void vscode.window.showInformationMessage('Codegen: no change is waiting for review.');
      return;
    }
    const folders = folderUris();
    const picks = changePicks(edit, folders);
    const items = picks.map((pick) => ({ label: pick.label, description: pick.description, detail: pick.detail, key: pick.key, picked: true }));
    const chosen = await vscode.window.showQuickPick(items, {
      canPickMany: true, ignoreFocusOut: true, matchOnDescription: true, matchOnDetail: true,
      title: 'Codegen: Choose Changes to Apply', placeHolder: 'Untick the files and hunks to leave out, then press Enter (Escape: back to the preview)',
    });
    if (chosen === undefined || this.decide !== decide) return; // Escape: the preview still waits
    const keys = new Set(chosen.map((item) => item.key));
    if (keys.size === 0) return decide('discard');
    const flagged = this.warnings.filter((w) => picks.some((p) => keys.has(p.key) && p.uri === w.uri));
    if (!(await this.confirmFlagged(flagged)) || this.decide !== decide) return;
    decide(keys.size === picks.length ? 'apply' : { keys });
  }

  /** True when no flagged file is among ``warnings``, or the user confirmed applying them in a modal dialog. */
  private async confirmFlagged(warnings: FileWarning[]): Promise<boolean> {
    if (warnings.length > 0) {
      const { message, detail } = applyConfirmation(warnings, folderUris());
      const chosen = await vscode.window.showWarningMessage(message, { modal: true, detail }, APPLY_ANYWAY);
      // Declined: the preview stays open. The preview may also have ended while the dialog was up.
      return chosen === APPLY_ANYWAY;
    }
    return true;
  }

  private async review(params: ApplyWorkspaceEditParams, generation: number): Promise<ApplyWorkspaceEditResult> {
    if (generation !== this.generation) return ENDED;
    const edit = params.edit as LspWorkspaceEdit;
    const label = editLabel(edit, params.label).replace(/^codegen: /i, '');
    const stale = refuseStale(edit, 'while the model worked');
    if (stale) return stale;
    let files: FileChange[];
    try {
      files = await fileChanges(edit, readText);
    } catch (error) {
      return { applied: false, failureReason: `the edit could not be read: ${String(error)}` };
    }
    if (generation !== this.generation) return ENDED; // it ended while the edit was read
    const choice = await this.ask(edit, label, files, fileWarnings(edit), explanationPage(edit, label));
    if (choice === 'discard') {
      // In a fix run, Discard may skip only this iteration's change; not when the command already ended.
      const skip = isFixIteration(label) && generation === this.generation && await askSkip(label);
      this.output.appendLine(`[codegen] ${label}: discarded in the preview; nothing written${skip ? '; the fix run goes on' : ''}`);
      return discardResult(skip);
    }
    const chosen = choice === 'apply' ? edit : selectChanges(edit, choice.keys);
    // Typing during the review: the change goes around it where it still applies cleanly, else nothing is written.
    const placed = aroundTyping(chosen, files);
    if (placed === undefined) return refuseTyped(chosen, files);
    const reviewed = choice !== 'apply' || placed !== chosen;
    const applied = await this.apply(placed, reviewed ? await fileChanges(placed, readText) : files, label);
    if (!reviewed || !applied.applied) return applied;
    // Applied in part: the daemon must not write the rest, whatever else happened (a save that failed).
    if (applied.failureReason) void vscode.window.showWarningMessage(`Codegen: ${applied.failureReason}.`);
    return { applied: true, failureReason: REVIEWED };
  }

  /**
   * Opens the changes editor and waits for Apply or Discard (closing the preview discards). The model's
   * explanation comes first in it, as a page of its own (it is no file of the edit: Apply never writes it).
   */
  private async ask(edit: LspWorkspaceEdit, label: string, files: FileChange[], warnings: FileWarning[], explanation: string | undefined): Promise<Choice> {
    const id = ++this.serial;
    const folders = folderUris();
    const title = previewTitle(label, warnings, folders);
    const resources = files.map((file) => {
      const path = displayPath(file.uri, folders);
      const before = this.virtual(id, 'before', path, file.before);
      const after = this.virtual(id, 'after', path, file.after);
      return [vscode.Uri.parse(file.uri), file.action === 'create' ? undefined : before, file.action === 'delete' ? undefined : after];
    });
    if (explanation) {
      const page = this.virtual(id, 'why', 'Codegen explanation.md', explanation);
      resources.unshift([page, undefined, page]);
    }
    const decided = new Promise<Choice>((resolve) => {
      this.decide = (choice) => {
        this.decide = undefined;
        resolve(choice);
      };
    });
    this.warnings = warnings;
    this.pending = edit;
    await vscode.commands.executeCommand('setContext', PENDING_CONTEXT, true);
    this.waitingEmitter.fire(`${waitingWarning(warnings, folders)}review the changes (${summary(files)}), then Apply ✓ (Ctrl+Alt+Enter), Choose ☰ (Ctrl+Alt+\\) or Discard ✗ (Ctrl+Alt+Backspace) in the editor title bar`);
    // Beside the code the user is looking at (and its comment threads), not in place of it.
    if (vscode.window.activeTextEditor) await vscode.commands.executeCommand('workbench.action.newGroupRight');
    await vscode.commands.executeCommand('vscode.changes', title, resources);
    // Closing the preview without choosing writes nothing.
    const closed = vscode.window.tabGroups.onDidChangeTabs((e) => {
      if (e.closed.some((t) => isPreviewTab(t, title)) && !allTabs().some((t) => isPreviewTab(t, title))) this.decide?.('discard');
    });
    try {
      return await decided;
    } finally {
      closed.dispose();
      this.warnings = [];
      this.pending = undefined;
      this.waitingEmitter.fire(undefined);
      await vscode.commands.executeCommand('setContext', PENDING_CONTEXT, false);
      const tabs = allTabs().filter((t) => isPreviewTab(t, title));
      if (tabs.length > 0) await vscode.window.tabGroups.close(tabs, true);
      for (const key of [...this.contents.keys()]) if (key.endsWith(`-${id}`)) this.contents.delete(key);
    }
  }

  private virtual(id: number, side: string, path: string, text: string): vscode.Uri {
    // The path is the file's, so the changes editor names it as the workspace does; the query tells
    // the two sides (and two previews) apart.
    const uri = vscode.Uri.from({ scheme: PREVIEW_SCHEME, path: `/${path}`, query: `${side}-${id}` });
    this.contents.set(uri.toString(), text);
    return uri;
  }

  /** Applies the whole edit, then saves what it touched (unless codegen.apply.saveAfterApply is off). */
  private async apply(edit: LspWorkspaceEdit, files: FileChange[], label: string): Promise<ApplyWorkspaceEditResult> {
    const created = createdWhole(edit, files);
    const ok = await vscode.workspace.applyEdit(toWorkspaceEdit(edit, created));
    if (!ok) {
      this.output.appendLine(`[codegen] ${label}: VS Code refused the edit`);
      return { applied: false, failureReason: 'VS Code could not apply the edit (a file changed or could not be created)' };
    }
    if (settingReader()('apply.saveAfterApply') !== false) {
      for (const file of files) {
        if (file.action === 'delete' || created.has(file.uri)) continue; // a new file is on disk whole
        const document = openDocument(file.uri) ?? await vscode.workspace.openTextDocument(vscode.Uri.parse(file.uri));
        if (document.isDirty && !(await document.save())) {
          return { applied: true, failureReason: `applied, but ${displayPath(file.uri, folderUris())} could not be saved` };
        }
      }
    }
    this.output.appendLine(`[codegen] ${label}: applied ${files.length} file(s)`);
    return { applied: true };
  }

  dispose(): void {
    this.decide?.('discard');
    this.registration.dispose();
    this.waitingEmitter.dispose();
  }
}

/**
 * The new files of an edit (each one its `create` names and the disk does not hold), with their whole
 * text: VS Code creates each with that text. Created empty and then typed into, a new file was an
 * unsaved buffer over an empty file, and its save could fail (seen under load in code-server), leaving
 * the file empty on disk.
 */
function createdWhole(edit: LspWorkspaceEdit, files: FileChange[]): Map<string, string> {
  const creates = new Set(documentChanges(edit).flatMap((c) => (!isTextDocumentEdit(c) && c.kind === 'create' ? [c.uri] : [])));
  return new Map(files.filter((f) => f.action === 'create' && creates.has(f.uri)).map((f) => [f.uri, f.after]));
}

/**
 * The LSP edit as a VS Code edit without the `needsConfirmation` annotations (the user already
 * confirmed). A file in `created` is created with its text, and the text edits into it are left out.
 */
export function toWorkspaceEdit(edit: LspWorkspaceEdit, created: Map<string, string>): vscode.WorkspaceEdit {
  const result = new vscode.WorkspaceEdit();
  for (const change of documentChanges(edit)) {
    if (isTextDocumentEdit(change)) {
      if (created.has(change.textDocument.uri)) continue;
      const uri = vscode.Uri.parse(change.textDocument.uri);
      for (const e of change.edits) {
        result.replace(uri, new vscode.Range(e.range.start.line, e.range.start.character, e.range.end.line, e.range.end.character), e.newText);
      }
    } else if (change.kind === 'create') {
      const text = created.get(change.uri);
      result.createFile(vscode.Uri.parse(change.uri), {
        overwrite: change.options?.overwrite,
        ignoreIfExists: change.options?.ignoreIfExists,
        ...(text === undefined ? {} : { contents: new TextEncoder().encode(text) }),
      });
    } else if (change.kind === 'delete') {
      result.deleteFile(vscode.Uri.parse(change.uri), { recursive: change.options?.recursive, ignoreIfNotExists: change.options?.ignoreIfNotExists });
    } else {
      result.renameFile(vscode.Uri.parse(change.oldUri), vscode.Uri.parse(change.newUri), { overwrite: change.options?.overwrite, ignoreIfExists: change.options?.ignoreIfExists });
    }
  }
  return result;
}

const SKIP = 'Skip This Change';
const STOP = 'Stop the Fix Run';

/** Discard in a fix run: skip this iteration's change and let the run go on, or stop it (also on Escape). */
async function askSkip(label: string): Promise<boolean> {
  const chosen = await vscode.window.showInformationMessage(`Codegen: ${label} discarded. Skip only this change, or stop the fix run?`,
    { modal: true, detail: 'Skip: nothing is written, the model hears the change was skipped and tries again. Stop: the run ends here; what earlier iterations wrote stays (Undo Run returns to the start).' },
    SKIP, STOP);
  return chosen === SKIP;
}

/** The refusal when typing during the review touched the change. */
function refuseTyped(edit: LspWorkspaceEdit, files: FileChange[]): ApplyWorkspaceEditResult {
  const targets = new Set(documentChanges(edit).flatMap((c) => (isTextDocumentEdit(c) ? [c.textDocument.uri] : [])));
  const typed = files.filter((f) => {
    const text = openDocument(f.uri)?.getText();
    return f.action === 'edit' && targets.has(f.uri) && text !== undefined && text !== f.before;
  });
  const names = typed.map((f) => displayPath(f.uri, folderUris())).join(', ');
  void vscode.window.showWarningMessage(`Codegen: ${names} changed where the change goes during the review; the edit was not applied (nothing was written). Run it again.`);
  return { applied: false, failureReason: `the document changed in the editor where the change goes, during the review: ${names}` };
}

/** A refusal when a document the edit targets changed since the daemon computed it, else undefined. */
function refuseStale(edit: LspWorkspaceEdit, when: string): ApplyWorkspaceEditResult | undefined {
  const stale = staleDocuments(edit, (uri) => openDocument(uri)?.version);
  if (stale.length === 0) return undefined;
  const names = stale.map((u) => displayPath(u, folderUris())).join(', ');
  void vscode.window.showWarningMessage(`Codegen: ${names} changed ${when}; the edit was not applied (nothing was written). Run it again.`);
  return { applied: false, failureReason: `the document changed in the editor ${when}: ${names}` };
}

/**
 * ``edit`` with each document the user typed in during the review re-placed around that typing, from
 * the text the review started with (``files``' before); ``edit`` itself when nothing was typed; undefined
 * when the typing touches the change. A document opened only during the review counts too: its edit
 * carries no version to tell.
 */
function aroundTyping(edit: LspWorkspaceEdit, files: FileChange[]): LspWorkspaceEdit | undefined {
  let typed = false;
  const changes: LspDocumentChange[] = [];
  for (const change of documentChanges(edit)) {
    const file = isTextDocumentEdit(change) ? files.find((f) => f.uri === change.textDocument.uri) : undefined;
    const document = isTextDocumentEdit(change) ? openDocument(change.textDocument.uri) : undefined;
    if (!isTextDocumentEdit(change) || !file || file.action !== 'edit' || !document || document.getText() === file.before) {
      changes.push(change);
      continue;
    }
    const moved = rebaseEdits(file.before, document.getText(), change.edits);
    if (moved === undefined) return undefined;
    typed = true;
    changes.push({ textDocument: { uri: change.textDocument.uri, version: document.version }, edits: moved });
  }
  return typed ? { documentChanges: changes, changeAnnotations: edit.changeAnnotations } : edit;
}

function folderUris(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.toString());
}

function openDocument(uri: string): vscode.TextDocument | undefined {
  const wanted = vscode.Uri.parse(uri).toString();
  return vscode.workspace.textDocuments.find((d) => d.uri.toString() === wanted);
}

/** The text the editor holds for `uri` (its buffer, else the file), or undefined when there is no file. */
async function readText(uri: string): Promise<string | undefined> {
  const open = openDocument(uri);
  if (open) return open.getText();
  try {
    return new TextDecoder('utf-8').decode(await vscode.workspace.fs.readFile(vscode.Uri.parse(uri)));
  } catch {
    return undefined;
  }
}

/** The changes editor's tab: VS Code adds " (N files)" to the title it was given. */
function isPreviewTab(tab: vscode.Tab, title: string): boolean {
  return tab.label === title || tab.label.startsWith(`${title} (`);
}

function allTabs(): readonly vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs);
}
