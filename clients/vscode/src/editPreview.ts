/**
 * The preview of the daemon's edits (`workspace/applyEdit`), handled by the extension itself.
 *
 * Why not VS Code's Refactor Preview (vscode-languageclient's default): the daemon marks its edits
 * `needsConfirmation`, and the Refactor Preview then shows every change UNCHECKED — Apply does
 * nothing until the user ticks each file. Instead, every changed file opens in one multi-file diff
 * editor ("changes" editor), and the editor title bar offers Apply and Discard (also in the palette:
 * "Codegen: Apply Previewed Changes" / "Discard Previewed Changes"); the progress notification says
 * the run waits for that choice. Apply writes the whole edit through `workspace.applyEdit` and saves
 * the files (the daemon's checkpoints and the tests read the disk); Discard, closing the preview, or
 * the end of the command that asked (its Cancel) writes nothing and answers `applied: false`.
 * A file the daemon flagged (one that makes an editor or shell run code, warnings.ts) is named in
 * the preview's title and the progress, and Apply asks once more in a modal dialog that quotes the
 * daemon's warning.
 */
import * as vscode from 'vscode';
import type { ApplyWorkspaceEditParams, ApplyWorkspaceEditResult } from 'vscode-languageclient/node';
import {
  discardResult,
  displayPath,
  documentChanges,
  editLabel,
  explanationPage,
  fileChanges,
  isFixIteration,
  isTextDocumentEdit,
  staleDocuments,
  summary,
  type FileChange,
  type LspWorkspaceEdit,
} from './preview';
import { settingReader } from './vscodeapi';
import { APPLY_ANYWAY, applyConfirmation, fileWarnings, previewTitle, waitingWarning, type FileWarning } from './warnings';

export const PREVIEW_SCHEME = 'codegen-preview';
const PENDING_CONTEXT = 'codegen.previewPending';

type Choice = 'apply' | 'discard';

const ENDED: ApplyWorkspaceEditResult = { applied: false, failureReason: 'the command ended (cancelled) before the change was reviewed' };

export class EditPreview implements vscode.Disposable, vscode.TextDocumentContentProvider {
  private readonly contents = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly registration: vscode.Disposable;
  private serial = 0;
  private decide: ((choice: Choice) => void) | undefined;
  /** The flagged files of the preview that waits: Apply asks about them once more. */
  private warnings: FileWarning[] = [];
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
  async choose(choice: Choice): Promise<void> {
    const decide = this.decide;
    if (!decide) {
      void vscode.window.showInformationMessage('Codegen: no change is waiting for review.');
      return;
    }
    if (choice === 'apply' && this.warnings.length > 0) {
      const { message, detail } = applyConfirmation(this.warnings, folderUris());
      const chosen = await vscode.window.showWarningMessage(message, { modal: true, detail }, APPLY_ANYWAY);
      // Declined: the preview stays open. The preview may also have ended while the dialog was up.
      if (chosen !== APPLY_ANYWAY || this.decide !== decide) return;
    }
    decide(choice);
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
    const choice = await this.ask(label, files, fileWarnings(edit), explanationPage(edit, label));
    if (choice !== 'apply') {
      // In a fix run, Discard may skip only this iteration's change; not when the command already ended.
      const skip = isFixIteration(label) && generation === this.generation && await askSkip(label);
      this.output.appendLine(`[codegen] ${label}: discarded in the preview; nothing written${skip ? '; the fix run goes on' : ''}`);
      return discardResult(skip);
    }
    // Typing during the review makes the edit stale too.
    return refuseStale(edit, 'during the review') ?? this.apply(edit, files, label);
  }

  /**
   * Opens the changes editor and waits for Apply or Discard (closing the preview discards). The model's
   * explanation comes first in it, as a page of its own (it is no file of the edit: Apply never writes it).
   */
  private async ask(label: string, files: FileChange[], warnings: FileWarning[], explanation: string | undefined): Promise<Choice> {
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
    await vscode.commands.executeCommand('setContext', PENDING_CONTEXT, true);
    this.waitingEmitter.fire(`${waitingWarning(warnings, folders)}review the changes (${summary(files)}), then Apply ✓ (Ctrl+Alt+Enter) or Discard ✗ (Ctrl+Alt+Backspace) in the editor title bar`);
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
    const workspaceEdit = toWorkspaceEdit(edit);
    const ok = await vscode.workspace.applyEdit(workspaceEdit);
    if (!ok) {
      this.output.appendLine(`[codegen] ${label}: VS Code refused the edit`);
      return { applied: false, failureReason: 'VS Code could not apply the edit (a file changed or could not be created)' };
    }
    if (settingReader()('apply.saveAfterApply') !== false) {
      for (const file of files) {
        if (file.action === 'delete') continue;
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

/** The LSP edit as a VS Code edit without the `needsConfirmation` annotations (the user already confirmed). */
export function toWorkspaceEdit(edit: LspWorkspaceEdit): vscode.WorkspaceEdit {
  const result = new vscode.WorkspaceEdit();
  for (const change of documentChanges(edit)) {
    if (isTextDocumentEdit(change)) {
      const uri = vscode.Uri.parse(change.textDocument.uri);
      for (const e of change.edits) {
        result.replace(uri, new vscode.Range(e.range.start.line, e.range.start.character, e.range.end.line, e.range.end.character), e.newText);
      }
    } else if (change.kind === 'create') {
      result.createFile(vscode.Uri.parse(change.uri), { overwrite: change.options?.overwrite, ignoreIfExists: change.options?.ignoreIfExists });
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

/** A refusal when a document the edit targets changed since the daemon computed it, else undefined. */
function refuseStale(edit: LspWorkspaceEdit, when: string): ApplyWorkspaceEditResult | undefined {
  const stale = staleDocuments(edit, (uri) => openDocument(uri)?.version);
  if (stale.length === 0) return undefined;
  const names = stale.map((u) => displayPath(u, folderUris())).join(', ');
  void vscode.window.showWarningMessage(`Codegen: ${names} changed ${when}; the edit was not applied (nothing was written). Run it again.`);
  return { applied: false, failureReason: `the document changed in the editor ${when}: ${names}` };
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
