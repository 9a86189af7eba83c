/**
 * Inline feedback comments: one comment controller; a thread's "Apply Feedback" sends its range
 * and text to `codegen.applyFeedback`, a reply continues the same run; and `codegen:` marker
 * comments across the workspace.
 */
import * as vscode from 'vscode';
import type { CodegenClient } from './client';
import { reportChanges } from './generate';
import { COMMANDS, commentRange, feedbackArgs, markerFeedbackArgs, rememberArgs, type FeedbackResult, type Marker } from './protocol';
import { markerReport } from './markers';
import { failedOutcome, labelFor, newThread, outcomeOf, restoredThread, savedThreads, type Outcome, type SavedThread, type ThreadState } from './threads';
import { pickRoot } from './vscodeapi';

/** workspaceState key of the threads kept across window reloads. */
const SAVED_THREADS = 'codegen.feedbackThreads';

const YOU: vscode.CommentAuthorInformation = { name: 'You' };
const CODEGEN: vscode.CommentAuthorInformation = { name: 'Codegen' };

class Note implements vscode.Comment {
  mode = vscode.CommentMode.Preview;
  constructor(public body: string | vscode.MarkdownString, public author: vscode.CommentAuthorInformation, public contextValue?: string) {}
}

export class FeedbackComments implements vscode.Disposable {
  private readonly controller: vscode.CommentController;
  private readonly states = new WeakMap<vscode.CommentThread, ThreadState>();
  /** The threads something was said in: what is saved for the next window (workspaceState). */
  private readonly kept = new Set<vscode.CommentThread>();

  constructor(private readonly client: CodegenClient, private readonly memory: vscode.Memento) {
    this.controller = vscode.comments.createCommentController('codegen', 'Codegen feedback');
    this.controller.options = { prompt: 'Tell codegen what to change here…', placeHolder: 'e.g. handle the empty list' };
    // Any line of a file can take a comment (the gutter's +).
    this.controller.commentingRangeProvider = {
      provideCommentingRanges: (document) =>
        document.uri.scheme === 'file' ? [new vscode.Range(0, 0, Math.max(document.lineCount - 1, 0), 0)] : [],
    };
    this.restore();
  }

  /** The threads of the last window, with their comments and state (a working one says it was interrupted). */
  private restore(): void {
    for (const saved of savedThreads(this.memory.get(SAVED_THREADS))) {
      const { state, comments, label } = restoredThread(saved);
      const r = saved.range;
      const thread = this.controller.createCommentThread(vscode.Uri.parse(saved.uri),
        new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character),
        comments.map((c) => c.author === 'you' ? new Note(c.body, YOU) : new Note(new vscode.MarkdownString(c.body), CODEGEN)));
      thread.canReply = true;
      thread.collapsibleState = vscode.CommentThreadCollapsibleState.Expanded;
      thread.label = label;
      thread.contextValue = state.status;
      this.states.set(thread, state);
      this.kept.add(thread);
    }
  }

  /** Saves every thread something was said in, for the next window. */
  private save(): void {
    const threads: SavedThread[] = [...this.kept].filter((t) => t.range && t.comments.length > 0).map((t) => {
      const range = t.range as vscode.Range;
      return {
        uri: t.uri.toString(),
        range: { start: { line: range.start.line, character: range.start.character }, end: { line: range.end.line, character: range.end.character } },
        comments: t.comments.map((c) => ({ author: c.author.name === CODEGEN.name ? 'codegen' as const : 'you' as const,
          body: typeof c.body === 'string' ? c.body : c.body.value })),
        state: this.states.get(t) ?? newThread(),
      };
    });
    void this.memory.update(SAVED_THREADS, threads);
  }

  /** "Codegen: Add Feedback Comment": a thread on the selection (or the cursor's line), ready to type into. */
  async addOnSelection(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.uri.scheme !== 'file') {
      void vscode.window.showErrorMessage('Codegen: open a file and select the code to comment on.');
      return;
    }
    // VS Code's own "Add Comment on Current Selection" opens the reply box focused, as the gutter + does.
    try {
      await vscode.commands.executeCommand('workbench.action.addComment');
      return;
    } catch {
      // Older VS Code: create the thread ourselves.
    }
    const selection = editor.selection;
    const range = selection.isEmpty ? editor.document.lineAt(selection.active.line).range : new vscode.Range(selection.start, selection.end);
    const thread = this.controller.createCommentThread(editor.document.uri, range, []);
    thread.canReply = true;
    thread.collapsibleState = vscode.CommentThreadCollapsibleState.Expanded;
    thread.label = labelFor('draft');
  }

  /** The thread's "Apply Feedback" (a new comment or a reply): send it, show the answer in the thread. */
  async apply(reply: vscode.CommentReply): Promise<void> {
    const thread = reply.thread;
    const text = reply.text.trim();
    if (text === '') {
      void vscode.window.showWarningMessage('Codegen: write what to change first.');
      return;
    }
    const state = this.states.get(thread) ?? newThread();
    const folder = vscode.workspace.getWorkspaceFolder(thread.uri);
    if (!folder || !thread.range) {
      void vscode.window.showErrorMessage('Codegen: feedback works on files inside an open workspace folder.');
      return;
    }
    thread.comments = [...thread.comments, new Note(text, YOU)];
    thread.label = labelFor('running');
    thread.contextValue = 'running';
    this.states.set(thread, { ...state, status: 'running' });
    this.kept.add(thread);
    this.save();
    const document = await vscode.workspace.openTextDocument(thread.uri);
    const range = commentRange({
      start: { line: thread.range.start.line, character: thread.range.start.character },
      end: { line: thread.range.end.line, character: thread.range.end.character },
    }, (line) => document.lineAt(line).text.length);
    const args = feedbackArgs(thread.uri.toString(), range, text, state.runId, folder.uri.fsPath);
    // Not awaited: VS Code keeps the typed text in the reply box until this command returns, and
    // asks before collapsing a thread with "unsubmitted" text; the comment is in the thread already.
    void this.send(thread, state, args, folder.uri.fsPath);
  }

  private async send(thread: vscode.CommentThread, state: ThreadState, args: object, root: string): Promise<void> {
    const result = await this.client.run<FeedbackResult>(COMMANDS.applyFeedback, args, 'Codegen: applying feedback');
    const outcome = result ? outcomeOf(state, result) : failedOutcome(state, 'No change was made (the request failed or was cancelled). Reply to try again.');
    this.show(thread, outcome);
    if (result) await this.offerMemory(outcome.proposedMemory, root);
  }

  /** "Codegen: Apply Feedback Comments in Workspace": every `codegen:` marker comment. */
  async applyMarkers(): Promise<void> {
    const folder = await pickRoot('Apply Feedback Comments');
    if (!folder) return;
    const root = folder.uri.fsPath;
    const found = await this.client.run<{ markers: Marker[] }>(COMMANDS.collectFeedback, { root }, 'Codegen: looking for codegen: comments');
    if (!found) return;
    if (found.markers.length === 0) {
      void vscode.window.showInformationMessage(`Codegen: no \`codegen:\` comments in ${folder.name}. Write one (e.g. "# codegen: add input validation") above the code to change.`);
      return;
    }
    const result = await this.client.run<FeedbackResult>(COMMANDS.applyFeedback, markerFeedbackArgs(root),
      `Codegen: applying ${found.markers.length} codegen: comment${found.markers.length === 1 ? '' : 's'}`);
    if (!result) return;
    // The markers left, with why, are the daemon's own diagnostics (one Problems entry per marker).
    const report = markerReport(result);
    this.client.output.appendLine(`[codegen] ${report.details.join('\n')}`);
    if (result.failures.length > 0) await reportChanges('feedback', result, this.client);
    else {
      void vscode.window.showInformationMessage(report.summary, 'Show Details').then((chosen) => {
        if (chosen) this.client.output.show(true);
      });
    }
    await this.offerMemory(result.proposedMemory ?? [], root);
  }

  deleteThread(thread: vscode.CommentThread): void {
    this.kept.delete(thread);
    thread.dispose();
    this.save();
  }

  private show(thread: vscode.CommentThread, outcome: Outcome): void {
    this.states.set(thread, outcome.state);
    thread.comments = [...thread.comments, new Note(new vscode.MarkdownString(outcome.reply), CODEGEN)];
    thread.label = outcome.label;
    thread.contextValue = outcome.state.status;
    this.save();
    // No Resolved state: VS Code collapses resolved threads (comments.collapseOnResolve), hiding the answer.
  }

  /** Each preference the model proposes is remembered only if the user says so. */
  private async offerMemory(proposals: string[], root: string): Promise<void> {
    for (const text of proposals) {
      const chosen = await vscode.window.showInformationMessage(`Codegen proposes to remember: "${text}"`, 'Remember', 'Not now');
      if (chosen === 'Remember') {
        await this.client.run(COMMANDS.memory, rememberArgs(text, root), 'Codegen: remembering');
      }
    }
  }

  dispose(): void {
    this.controller.dispose();
  }
}
