/**
 * The Codegen view (activity bar): the workspace's runs, newest first, from `codegen.runs` (the run
 * store, so the list survives reloads). A run opens its transcript — the `transcript.md` the daemon
 * rewrites each time the run records something — in a read-only editor; rows offer Undo, Re-run and
 * Continue. "Live": a watcher on `.codegen/runs/` refreshes the list and any open transcript whenever
 * the daemon writes a run's files, so a run's transcript grows phase by phase (each model call,
 * question, iteration and outcome) while it works.
 */
import * as vscode from 'vscode';
import type { CodegenClient } from './client';
import { reportChanges } from './generate';
import { COMMANDS, feedbackArgs, undoArgs, type ChangeResult, type FeedbackResult, type UndoResult } from './protocol';
import { runIdOfPath, runRow, transcriptPath, transcriptTitle, type RunEntry } from './runs';

export const TRANSCRIPT_SCHEME = 'codegen-transcript';

/** A row of the view: one run of one workspace folder. */
export class RunItem extends vscode.TreeItem {
  constructor(readonly run: RunEntry, readonly root: string) {
    const row = runRow(run, new Date());
    super(row.label, vscode.TreeItemCollapsibleState.None);
    this.id = `${root}|${run.id}`;
    this.description = row.detail;
    this.tooltip = new vscode.MarkdownString(row.tooltip);
    this.iconPath = new vscode.ThemeIcon(row.icon);
    this.contextValue = row.contextValue;
    this.command = { command: 'codegen.ui.runs.open', title: 'Open Transcript', arguments: [this] };
  }
}

export class RunsView implements vscode.TreeDataProvider<RunItem>, vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunItem | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly transcriptChanged = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.transcriptChanged.event;
  private readonly disposables: vscode.Disposable[] = [];
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(private readonly client: CodegenClient) {
    this.disposables.push(
      this.changed,
      this.transcriptChanged,
      vscode.window.registerTreeDataProvider('codegen.runsView', this),
      vscode.workspace.registerTextDocumentContentProvider(TRANSCRIPT_SCHEME, this),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.refresh()),
    );
    for (const folder of vscode.workspace.workspaceFolders ?? []) this.watch(folder);
  }

  /** The daemon writes run.json and transcript.md as a run goes: refresh the list and the open transcript. */
  private watch(folder: vscode.WorkspaceFolder): void {
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, '.codegen/runs/*/{run.json,transcript.md}'));
    const onChange = (uri: vscode.Uri) => {
      const runId = runIdOfPath(uri.fsPath);
      if (!runId) return;
      if (uri.fsPath.endsWith('transcript.md')) {
        for (const doc of vscode.workspace.textDocuments) {
          if (doc.uri.scheme === TRANSCRIPT_SCHEME && new URLSearchParams(doc.uri.query).get('run') === runId) this.transcriptChanged.fire(doc.uri);
        }
      } else {
        this.refresh();
      }
    };
    this.disposables.push(watcher, watcher.onDidCreate(onChange), watcher.onDidChange(onChange));
  }

  /** Refresh soon (a run writes several files at once: one refresh for them). */
  refresh(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => { this.refreshTimer = undefined; this.changed.fire(undefined); }, 300);
  }

  /**
   * A daemon command without a progress toast (a view refresh is no command of the user's), through the
   * command vscode-languageclient registers for it; undefined when the daemon is not there or it failed.
   */
  private async quiet<T>(command: string, args: object): Promise<T | undefined> {
    if (!(await this.client.start())) return undefined;
    try {
      return await vscode.commands.executeCommand<T>(command, args);
    } catch (error) {
      this.client.output.appendLine(`[codegen] ${command}: ${String(error)}`);
      return undefined;
    }
  }

  getTreeItem(item: RunItem): vscode.TreeItem {
    return item;
  }

  async getChildren(item?: RunItem): Promise<RunItem[]> {
    if (item) return [];
    const items: RunItem[] = [];
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const root = folder.uri.fsPath;
      const listed = await this.quiet<{ runs: RunEntry[] }>('codegen.runs', { root });
      for (const run of listed?.runs ?? []) items.push(new RunItem(run, root));
    }
    return items;
  }

  /** The transcript's text, read from the run's folder (written by the daemon; absent for a run from an older codegen). */
  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const query = new URLSearchParams(uri.query);
    const root = query.get('root') ?? '';
    const runId = query.get('run') ?? '';
    const file = vscode.Uri.file(transcriptPath(root, runId));
    try {
      return new TextDecoder('utf-8').decode(await vscode.workspace.fs.readFile(file));
    } catch {
      // An older run without one: the daemon writes it on request.
      await this.quiet('codegen.transcript', { runId, root });
      try {
        return new TextDecoder('utf-8').decode(await vscode.workspace.fs.readFile(file));
      } catch {
        return `# No transcript\n\nRun ${runId} recorded nothing to show.\n`;
      }
    }
  }

  /** Opens the run's transcript in a read-only editor beside the code (a second click keeps one tab). */
  async open(item: RunItem): Promise<void> {
    const query = new URLSearchParams({ root: item.root, run: item.run.id }).toString();
    const uri = vscode.Uri.from({ scheme: TRANSCRIPT_SCHEME, path: '/' + transcriptTitle(item.run), query });
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.languages.setTextDocumentLanguage(document, 'markdown');
    await vscode.window.showTextDocument(document, { preview: true, preserveFocus: false, viewColumn: vscode.ViewColumn.Active });
  }

  /** Undo: the workspace returns to the run's start, after a confirmation naming the files. */
  async undo(item: RunItem): Promise<void> {
    const files = item.run.written.join(', ');
    const chosen = await vscode.window.showWarningMessage(`Codegen: undo "${item.run.description}"?`,
      { modal: true, detail: `The files it changed return to how they were before it: ${files}.` }, 'Undo');
    if (chosen !== 'Undo') return;
    const undone = await this.client.run<UndoResult>(COMMANDS.undo, undoArgs(item.run.id, item.root), 'Codegen: undoing the run');
    if (undone) {
      const count = undone.written.length + undone.removed.length;
      void vscode.window.showInformationMessage(`Codegen: "${item.run.description}" undone (${count} file${count === 1 ? '' : 's'} restored).`);
    }
    this.refresh();
  }

  /** Re-run: the same prompt (generate), the same comment on the same lines (feedback), the tests again (fix). */
  async rerun(item: RunItem): Promise<void> {
    const run = item.run;
    if (run.kind === 'fix') {
      await vscode.commands.executeCommand('codegen.ui.fix');
    } else if (run.kind === 'generate' && run.asked) {
      const result = await this.client.run<ChangeResult>(COMMANDS.generate, { prompt: run.asked, root: item.root }, 'Codegen: generating again');
      if (result) await reportChanges('generate', result, this.client);
    } else if (run.kind === 'feedback' && run.asked && run.path && run.lines) {
      const uri = vscode.Uri.joinPath(vscode.Uri.file(item.root), run.path).toString();
      const range = { start: { line: run.lines[0] - 1, character: 0 }, end: { line: run.lines[1], character: 0 } };
      const result = await this.client.run<FeedbackResult>(COMMANDS.applyFeedback, feedbackArgs(uri, range, run.asked, undefined, item.root), 'Codegen: applying the feedback again');
      if (result) await reportChanges('feedback', result, this.client);
    }
    this.refresh();
  }

  /** Continue a feedback run: its file at its lines, where its comment thread takes a reply. */
  async continueRun(item: RunItem): Promise<void> {
    const run = item.run;
    if (!run.path || !run.lines) return;
    const uri = vscode.Uri.joinPath(vscode.Uri.file(item.root), run.path);
    const range = new vscode.Range(run.lines[0] - 1, 0, run.lines[0] - 1, 0);
    await vscode.window.showTextDocument(uri, { selection: range, preview: false });
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    for (const d of this.disposables) d.dispose();
  }
}
