/**
 * The daemon connection: starts `codegen-server` with vscode-languageclient, keeps its settings
 * and API key current, shows its state in the status bar, and runs its commands with a
 * cancellable progress notification.
 */
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import {
  ApplyWorkspaceEditRequest,
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  RevealOutputChannelOn,
  State,
  TransportKind,
  WorkDoneProgress,
  WorkDoneProgressCancelNotification,
  type LanguageClientOptions,
  type ServerOptions as LspServerOptions,
  type WorkDoneProgressBegin,
  type WorkDoneProgressReport,
} from 'vscode-languageclient/node';
import { adviceFor, isRequestCancelled, type FixAction, type RpcErrorLike } from './errors';
import type { EditPreview } from './editPreview';
import { isCancelled } from './protocol';
import { droppedSettings, maskSecret, redacted, resolveServerCommand, serverOptions, type ServerOptions } from './settings';
import { findExecutable, isExecutable, openSettings, SECTION, settingReader } from './vscodeapi';

export const API_KEY_SECRET = 'codegen.apiKey';

type ServerState = 'stopped' | 'starting' | 'ready' | 'error';

/** What `run` gives back: the result, or nothing when the command failed or was cancelled (the user was told). */
export type RunResult<T> = T | undefined;

export class CodegenClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<boolean> | undefined;
  private state: ServerState = 'stopped';
  private running: string[] = [];
  /** The key last sent to the daemon, masked in everything vscode-languageclient writes. */
  private apiKey: string | undefined;
  /** The options the running daemon holds (sent at start and with each change). */
  private sent: ServerOptions | undefined;
  private readonly clientOutput: vscode.OutputChannel;
  private readonly status: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly output: vscode.OutputChannel,
    private readonly preview: EditPreview,
  ) {
    this.clientOutput = maskedChannel(output, () => this.apiKey);
    this.status = vscode.window.createStatusBarItem('codegen.status', vscode.StatusBarAlignment.Left, 10);
    this.status.name = 'Codegen';
    this.status.command = 'codegen.ui.showOutput';
    this.render();
    this.status.show();
    this.disposables.push(
      this.status,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.server.command`)) void this.restart();
        else if (e.affectsConfiguration(SECTION)) void this.sendSettings();
      }),
      context.secrets.onDidChange((e) => {
        if (e.key === API_KEY_SECRET) void this.sendSettings();
      }),
    );
  }

  /** The options the daemon gets: the settings plus the key from SecretStorage. */
  async options(): Promise<ServerOptions> {
    const options = serverOptions(settingReader(), await this.context.secrets.get(API_KEY_SECRET));
    this.apiKey = options.model.apiKey;
    return options;
  }

  /** Starts the daemon (once, however many callers); one that cannot start gives one message with a way out. */
  async start(): Promise<boolean> {
    if (this.client?.isRunning()) return true;
    if (!this.starting) this.starting = this.startOnce().finally(() => { this.starting = undefined; });
    return this.starting;
  }

  private async startOnce(): Promise<boolean> {
    if (this.client) await this.stop(); // it stopped on its own (crashed): start afresh
    const resolved = resolveServerCommand(settingReader()('server.command'), findExecutable, isExecutable);
    if (!resolved.ok) {
      this.setState('error', resolved.message);
      void this.offerServerSetting(`Codegen: ${resolved.message}`);
      return false;
    }
    const server: LspServerOptions = { command: resolved.command, args: resolved.args, transport: TransportKind.stdio };
    const options = await this.options();
    this.output.appendLine(`[codegen] starting ${[resolved.command, ...resolved.args].join(' ')} with settings ${JSON.stringify(redacted(options))}`);
    const clientOptions: LanguageClientOptions = {
      // Every file buffer is synced, so edits target the text and version the editor holds.
      documentSelector: [{ scheme: 'file' }],
      // The daemon's stderr, its log messages and the trace (codegen.trace.server), with the key masked.
      outputChannel: this.clientOutput,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: options,
    };
    const client = new LanguageClient('codegen', 'Codegen', server, clientOptions);
    // Our own preview replaces vscode-languageclient's applyEdit handler (see editPreview.ts).
    client.onRequest(ApplyWorkspaceEditRequest.type, (params) => this.preview.handle(params));
    client.onDidChangeState((e) => {
      if (e.newState === State.Running) this.setState('ready');
      else if (e.newState === State.Starting) this.setState('starting');
      else if (this.state !== 'error') this.setState('stopped');
    });
    this.client = client;
    this.sent = options;
    this.setState('starting');
    try {
      await client.start();
      this.setState('ready');
      return true;
    } catch (error) {
      this.client = undefined;
      const message = `Codegen: the server ${resolved.command} did not start: ${error instanceof Error ? error.message : String(error)}`;
      this.setState('error', message);
      void this.offerServerSetting(message);
      try { await client.dispose(); } catch { /* it never ran */ }
      return false;
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      try { await client.stop(); } catch (error) { this.output.appendLine(`[codegen] stop: ${String(error)}`); }
    }
    this.setState('stopped');
  }

  async restart(): Promise<boolean> {
    await this.stop();
    return this.start();
  }

  /**
   * Sends the current settings and key (workspace/didChangeConfiguration, section `codegen`). A
   * setting cleared or the key removed restarts the daemon instead: it keeps what it was sent before.
   */
  async sendSettings(): Promise<void> {
    const client = this.client;
    if (!client || this.state !== 'ready') return;
    const options = await this.options();
    const dropped = this.sent ? droppedSettings(this.sent, options) : [];
    if (dropped.length > 0) {
      this.output.appendLine(`[codegen] ${dropped.join(', ')} cleared: restarting the server so that it stops using the old value`);
      await this.restart();
      return;
    }
    this.sent = options;
    this.output.appendLine(`[codegen] settings changed: ${JSON.stringify(redacted(options))}`);
    await client.sendNotification(DidChangeConfigurationNotification.type, { settings: { [SECTION]: options } });
  }

  /**
   * Runs a daemon command with a progress notification whose Cancel cancels it (the daemon's
   * work-done progress). Errors become one notification with the button that fixes the cause.
   */
  async run<T>(command: string, args: object, title: string): Promise<RunResult<T>> {
    if (!(await this.start()) || !this.client) return undefined;
    const client = this.client;
    const label = title.replace(/^Codegen: /, '');
    this.running.push(label);
    this.preview.commandStarted();
    this.render();
    try {
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title, cancellable: true },
        async (progress, cancel) => {
          const token = randomUUID();
          const listener = client.onProgress(WorkDoneProgress.type, token, (value) => {
            const message = (value as WorkDoneProgressBegin | WorkDoneProgressReport).message;
            if (value.kind !== 'end' && message) progress.report({ message });
          });
          // While a preview waits for the user, the notification says so.
          const waiting = this.preview.onDidChangeWaiting((message) => { if (message) progress.report({ message }); });
          const onCancel = cancel.onCancellationRequested(() => {
            void client.sendNotification(WorkDoneProgressCancelNotification.type, { token });
          });
          try {
            const result: unknown = await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [args], workDoneToken: token });
            if (isCancelled(result)) {
              void vscode.window.showInformationMessage(`Codegen: ${result.message}`);
              return undefined;
            }
            return result as T;
          } finally {
            listener.dispose();
            waiting.dispose();
            onCancel.dispose();
          }
        },
      );
    } catch (error) {
      const rpc = error as RpcErrorLike;
      if (!isRequestCancelled(rpc)) {
        this.output.appendLine(`[codegen] ${command} failed: ${String(rpc.message ?? error)}`);
        void this.showError(label, rpc);
      }
      return undefined;
    } finally {
      this.running.splice(this.running.indexOf(label), 1);
      this.preview.commandEnded();
      this.render();
    }
  }

  /** One notification for a failed command, with the button that fixes its cause. */
  async showError(what: string, error: RpcErrorLike): Promise<void> {
    const advice = adviceFor(what, error);
    const chosen = await vscode.window.showErrorMessage(advice.message, ...advice.actions.map((a) => a.title));
    const action = advice.actions.find((a) => a.title === chosen);
    if (action) await this.fix(action.action);
  }

  async fix(action: FixAction): Promise<void> {
    switch (action) {
      case 'setApiKey': await vscode.commands.executeCommand('codegen.ui.setApiKey'); break;
      case 'openModelSettings': await openSettings(`${SECTION}.model`); break;
      case 'restartServer': await this.restart(); break;
      case 'showOutput': this.output.show(true); break;
    }
  }

  private async offerServerSetting(message: string): Promise<void> {
    const chosen = await vscode.window.showErrorMessage(message, 'Open Settings', 'Show Output');
    if (chosen === 'Open Settings') await openSettings(`${SECTION}.server.command`);
    else if (chosen === 'Show Output') this.output.show(true);
  }

  private setState(state: ServerState, detail?: string): void {
    this.state = state;
    if (detail) this.output.appendLine(`[codegen] ${detail}`);
    this.render(detail);
  }

  private render(detail?: string): void {
    const busy = this.running.length > 0;
    const icon = busy || this.state === 'starting' ? '$(sync~spin)' : this.state === 'error' ? '$(error)' : this.state === 'ready' ? '$(sparkle)' : '$(circle-slash)';
    const what = busy ? `: ${this.running[this.running.length - 1]}` : this.state === 'ready' ? '' : ` (${this.state})`;
    this.status.text = `${icon} Codegen${what}`;
    this.status.tooltip = `Codegen server: ${this.state}${detail ? ` — ${detail}` : ''}. Click to show its output.`;
    this.status.backgroundColor = this.state === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }

  dispose(): void {
    void this.stop();
    for (const d of this.disposables) d.dispose();
  }
}

/**
 * `output` for vscode-languageclient with `secret()` masked in every line: a verbose trace prints
 * the params of initialize and didChangeConfiguration, which carry the API key.
 */
function maskedChannel(output: vscode.OutputChannel, secret: () => string | undefined): vscode.OutputChannel {
  return {
    name: output.name,
    append: (value) => output.append(maskSecret(value, secret())),
    appendLine: (value) => output.appendLine(maskSecret(value, secret())),
    replace: (value) => output.replace(maskSecret(value, secret())),
    clear: () => output.clear(),
    show: (...args: unknown[]) => (output.show as (...a: unknown[]) => void)(...args),
    hide: () => output.hide(),
    dispose: () => undefined, // the extension owns `output`
  };
}
