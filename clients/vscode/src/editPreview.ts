/**
 * The preview of the daemon's edits (`workspace/applyEdit`), handled by the extension itself.
 *
 * Why not VS Code's Refactor Preview (vscode-languageclient's default): the daemon marks its edits
 * `needsConfirmation`, and the Refactor Preview then shows every change UNCHECKED — Apply does
 * nothing until the user ticks each file. Instead, a quick pick lists the files with Apply and
 * Discard, and moving through the list shows each file's diff beside it. Apply writes the whole
 * edit through `workspace.applyEdit` and saves the files (the daemon's checkpoints and the tests
 * read the disk); Discard, Escape or closing the pick writes nothing and answers `applied: false`.
 */
import * as vscode from 'vscode';
import type { ApplyWorkspaceEditParams, ApplyWorkspaceEditResult } from 'vscode-languageclient/node';
import {
  describe,
  displayPath,
  documentChanges,
  editLabel,
  fileChanges,
  isTextDocumentEdit,
  staleDocuments,
  type FileChange,
  type LspWorkspaceEdit,
} from './preview';
import { settingReader } from './vscodeapi';

export const PREVIEW_SCHEME = 'codegen-preview';

type Choice = 'apply' | 'discard';
interface Item extends vscode.QuickPickItem { choice?: Choice; file?: FileChange }

export class EditPreview implements vscode.Disposable, vscode.TextDocumentContentProvider {
  private readonly contents = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly registration: vscode.Disposable;
  private serial = 0;

  constructor(private readonly output: vscode.OutputChannel) {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(PREVIEW_SCHEME, this);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? '';
  }

  /** One edit at a time: a second request waits until the first one is decided. */
  handle(params: ApplyWorkspaceEditParams): Promise<ApplyWorkspaceEditResult> {
    const next = this.queue.then(() => this.review(params));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async review(params: ApplyWorkspaceEditParams): Promise<ApplyWorkspaceEditResult> {
    const edit = params.edit as LspWorkspaceEdit;
    const label = editLabel(edit, params.label).replace(/^codegen: /i, '');
    const stale = staleDocuments(edit, (uri) => openDocument(uri)?.version);
    if (stale.length > 0) {
      const names = stale.map((u) => displayPath(u, folderUris())).join(', ');
      void vscode.window.showWarningMessage(`Codegen: ${names} changed while the model worked; the edit was not applied. Run it again.`);
      return { applied: false, failureReason: `the document changed in the editor since the edit was computed: ${names}` };
    }
    let files: FileChange[];
    try {
      files = await fileChanges(edit, readText);
    } catch (error) {
      return { applied: false, failureReason: `the edit could not be read: ${String(error)}` };
    }
    const choice = await this.ask(label, files);
    await closePreviewTabs();
    if (choice !== 'apply') {
      this.output.appendLine(`[codegen] ${label}: discarded in the preview; nothing written`);
      return { applied: false, failureReason: 'discarded in the preview' };
    }
    return this.apply(edit, files, label);
  }

  /** The quick pick: Apply, Discard, and the files (the active one's diff shows beside it). */
  private ask(label: string, files: FileChange[]): Promise<Choice> {
    const id = ++this.serial;
    const folders = folderUris();
    const pick = vscode.window.createQuickPick<Item>();
    const n = files.length;
    pick.title = `Codegen: ${label}`;
    pick.placeholder = `Review ${n} file${n === 1 ? '' : 's'}: Apply writes ${n === 1 ? 'it' : 'them all'}, Discard (Esc) writes nothing`;
    pick.ignoreFocusOut = true;
    pick.matchOnDescription = true;
    const fileItems: Item[] = files.map((file) => ({
      label: `${file.action === 'create' ? '$(new-file)' : file.action === 'delete' ? '$(trash)' : '$(diff)'} ${displayPath(file.uri, folders)}`,
      description: describe(file),
      file,
    }));
    pick.items = [
      { label: `$(check) Apply`, description: `write ${n} file${n === 1 ? '' : 's'}`, choice: 'apply', alwaysShow: true },
      { label: `$(close) Discard`, description: 'write nothing', choice: 'discard', alwaysShow: true },
      { label: 'changes — select one to see its diff', kind: vscode.QuickPickItemKind.Separator },
      ...fileItems,
    ];
    const showDiff = (file: FileChange) => void this.showDiff(id, file, folders);
    if (files[0]) showDiff(files[0]);
    return new Promise<Choice>((resolve) => {
      let decided = false;
      const finish = (choice: Choice) => {
        if (decided) return;
        decided = true;
        resolve(choice);
        pick.dispose();
      };
      pick.onDidChangeActive((items) => {
        const file = items[0]?.file;
        if (file) showDiff(file);
      });
      pick.onDidAccept(() => {
        const item = pick.selectedItems[0] ?? pick.activeItems[0];
        if (item?.choice) finish(item.choice);
        else if (item?.file) showDiff(item.file);
      });
      pick.onDidHide(() => finish('discard'));
      pick.show();
    });
  }

  private async showDiff(id: number, file: FileChange, folders: string[]): Promise<void> {
    const path = displayPath(file.uri, folders);
    const before = vscode.Uri.from({ scheme: PREVIEW_SCHEME, path: `/${id}/before/${path}` });
    const after = vscode.Uri.from({ scheme: PREVIEW_SCHEME, path: `/${id}/after/${path}` });
    this.contents.set(before.toString(), file.before);
    this.contents.set(after.toString(), file.after);
    await vscode.commands.executeCommand('vscode.diff', before, after, `${path} (codegen: ${describe(file)})`,
      { preview: true, preserveFocus: true } satisfies vscode.TextDocumentShowOptions);
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
    this.registration.dispose();
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

async function closePreviewTabs(): Promise<void> {
  const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) =>
    t.input instanceof vscode.TabInputTextDiff && t.input.modified.scheme === PREVIEW_SCHEME);
  if (tabs.length > 0) await vscode.window.tabGroups.close(tabs, true);
}
