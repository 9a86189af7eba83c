/**
 * The daemon connection: starts `codegen-server` with vscode-languageclient, keeps its settings
 * and API key current, shows its state in the status bar, and runs its commands with a
 * cancellable progress notification.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import {
  ApplyWorkspaceEditRequest,
  CloseAction,
  ErrorAction,
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  RevealOutputChannelOn,
  State,
  WorkDoneProgress,
  WorkDoneProgressCancelNotification,
  type LanguageClientOptions,
  type ServerOptions as LspServerOptions,
  type WorkDoneProgressBegin,
  type WorkDoneProgressReport,
} from 'vscode-languageclient/node';
import { adviceFor, isRequestCancelled, type FixAction, type RpcErrorLike } from './errors';
import type { EditPreview } from './editPreview';
import { MODEL_COMMANDS, modelFingerprint, readyStatus } from './onboarding';
import { isCancelled } from './protocol';
import { droppedSettings, maskSecret, redacted, resolveServerCommand, serverOptions, type ServerOptions } from './settings';
import { describeExit, StderrLog } from './stderr';
import { findExecutable, isExecutable, openSettings, SECTION, settingReader } from './vscodeapi';

export const API_KEY_SECRET = 'codegen.apiKey';
/** Global state: the endpoint and model name (modelFingerprint) a model last answered with. */
const MODEL_ANSWERED = 'codegen.modelAnswered';

type ServerState = 'stopped' | 'starting' | 'ready' | 'error';

/** The daemon process the extension started: how it ended (once it has), for the one message about it. */
interface ServerProcess { child: ChildProcess; exited: Promise<string>; exit?: string }

/**
 * vscode-languageclient with its own notifications off: for one daemon that exits at start it shows
 * up to five ("write EPIPE", "connection to server is erroring", "couldn't create connection",
 * "Restarting server failed"). Its messages still go to the output channel; the extension shows one
 * notification per failure itself, with the exit code and the end of the daemon's stderr.
 */
class QuietLanguageClient extends LanguageClient {
  override error(message: string, data?: unknown): void {
    super.error(message, data, false);
  }
}

/** What `run` gives back: the result, or nothing when the command failed or was cancelled (the user was told). */
export type RunResult<T> = T | undefined;

export class CodegenClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private process: ServerProcess | undefined;
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
    this.render();
    this.status.show();
    this.disposables.push(
      this.status,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.server.command`)) void this.restart();
        else if (e.affectsConfiguration(SECTION)) void this.sendSettings();
        if (e.affectsConfiguration(`${SECTION}.model`)) this.render(); // another model has not answered yet
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
    const server: LspServerOptions = async () => {
      this.process = this.spawnServer(resolved.command, resolved.args);
      const { stdout, stdin } = this.process.child;
      if (!stdout || !stdin) throw new Error('its standard input and output could not be opened');
      return { reader: stdout, writer: stdin, detached: false };
    };
    const options = await this.options();
    this.output.appendLine(`[codegen] starting ${[resolved.command, ...resolved.args].join(' ')} with settings ${JSON.stringify(redacted(options))}`);
    const clientOptions: LanguageClientOptions = {
      // Every file buffer is synced, so edits target the text and version the editor holds.
      documentSelector: [{ scheme: 'file' }],
      // Its log messages and the trace (codegen.trace.server), with the key masked; stderr: spawnServer.
      outputChannel: this.clientOutput,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: options,
      // One message per failure, ours (QuietLanguageClient): no restarts behind the user's back, no retry.
      errorHandler: {
        error: (_error, _message, count) => ({ action: (count ?? 0) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown, handled: true }),
        closed: () => {
          void this.serverClosed();
          return { action: CloseAction.DoNotRestart, handled: true };
        },
      },
      initializationFailedHandler: () => false,
    };
    const client = new QuietLanguageClient('codegen', 'Codegen', server, clientOptions);
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
      // A daemon that exited says why on stderr: wait a moment for its exit to report it.
      const exit = this.process ? await Promise.race([this.process.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 2000))]) : undefined;
      const message = exit !== undefined
        ? `Codegen: the server ${resolved.command} exited at start (${exit}).`
        : `Codegen: the server ${resolved.command} did not start: ${error instanceof Error ? error.message : String(error)}`;
      this.setState('error', message);
      void this.offerServerSetting(message);
      try { await client.dispose(); } catch { /* it never ran */ }
      return false;
    }
  }

  /**
   * Starts the daemon process; its stderr goes to the output channel a line at a time, Python
   * tracebacks folded to their exception unless `codegen.trace.server` is verbose.
   */
  private spawnServer(command: string, args: string[]): ServerProcess {
    const child = spawn(command, args, { stdio: 'pipe' });
    const stderr = new StderrLog((line) => this.clientOutput.appendLine(line), () => settingReader()('trace.server') === 'verbose');
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => stderr.append(chunk));
    const started: ServerProcess = { child, exited: Promise.resolve('') };
    started.exited = new Promise<string>((resolve) => {
      const ended = (how: string) => { started.exit ??= how; resolve(started.exit); };
      child.on('error', (error) => ended(`it could not be run: ${error.message}`));
      child.on('close', (code, signal) => { stderr.flush(); ended(describeExit(code, signal, stderr.tail())); });
    });
    return started;
  }

  /**
   * The connection closed: expected after stop(), the start's own failure while starting; otherwise
   * the daemon died. A running command reports it (run()); else one message with its exit.
   */
  private async serverClosed(): Promise<void> {
    if (this.state !== 'ready' || !this.process) return;
    const exit = await this.process.exited;
    const message = `Codegen: the codegen server stopped (${exit}).`;
    this.setState('error', message);
    if (this.running.length > 0) return;
    const chosen = await vscode.window.showErrorMessage(message, 'Restart Server', 'Show Output');
    if (chosen === 'Restart Server') await this.restart();
    else if (chosen === 'Show Output') this.output.show(true);
  }

  async stop(): Promise<void> {
    const client = this.client;
    const started = this.process;
    this.client = undefined;
    this.state = 'stopped'; // before the connection closes: serverClosed() must not report a stop we asked for
    if (client) {
      try { await client.stop(); } catch (error) { this.output.appendLine(`[codegen] stop: ${String(error)}`); }
    }
    // The daemon exits on LSP `exit`; one that does not within a few seconds is ended.
    if (started && started.exit === undefined) {
      const timer = setTimeout(() => started.child.kill(), 3000);
      void started.exited.then(() => clearTimeout(timer));
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
          // The daemon reports absolute percentages (fix iterations); VS Code's bar takes increments.
          let shown = 0;
          const listener = client.onProgress(WorkDoneProgress.type, token, (value) => {
            if (value.kind === 'end') return;
            const { message, percentage } = value as WorkDoneProgressBegin | WorkDoneProgressReport;
            const increment = typeof percentage === 'number' && percentage > shown ? percentage - shown : 0;
            shown += increment;
            if (message || increment) progress.report({ ...(message ? { message } : {}), ...(increment ? { increment } : {}) });
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
            if (MODEL_COMMANDS.includes(command)) await this.modelAnswered();
            return result as T;
          } finally {
            listener.dispose();
            waiting.dispose();
            onCancel.dispose();
          }
        },
      );
    } catch (error) {
      let rpc = error as RpcErrorLike;
      // The daemon died under the command: say how it ended rather than how the pipe broke.
      if (this.process?.exit !== undefined) rpc = { ...rpc, message: this.process.exit };
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

  /** A quick daemon command (a listing) without a progress notification; a failure is one notification. */
  async request<T>(command: string, args: object, what: string): Promise<RunResult<T>> {
    if (!(await this.start()) || !this.client) return undefined;
    try {
      return await this.client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [args] }) as T;
    } catch (error) {
      void this.showError(what, error as RpcErrorLike);
      return undefined;
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

  /** The endpoint and model name in the settings, as MODEL_ANSWERED records them. */
  private modelInUse(): string {
    const read = settingReader();
    return modelFingerprint(read('model.baseUrl'), read('model.name'));
  }

  /** A model answered (a command that asks it succeeded): the status bar stops saying "no model". */
  private async modelAnswered(): Promise<void> {
    await this.context.globalState.update(MODEL_ANSWERED, this.modelInUse());
    this.render();
  }

  private render(detail?: string): void {
    const busy = this.running.length > 0;
    this.status.command = 'codegen.ui.showOutput';
    this.status.backgroundColor = this.state === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    if (!busy && this.state === 'ready') {
      const answered = this.context.globalState.get(MODEL_ANSWERED) === this.modelInUse();
      // The walkthrough's "test the connection" step completes on this context key.
      void vscode.commands.executeCommand('setContext', 'codegen.modelAnswered', answered);
      const ready = readyStatus(answered);
      this.status.text = ready.text;
      this.status.tooltip = ready.tooltip;
      if (ready.setup) this.status.command = 'codegen.ui.setup';
      return;
    }
    const icon = busy || this.state === 'starting' ? '$(sync~spin)' : this.state === 'error' ? '$(error)' : '$(circle-slash)';
    const what = busy ? `: ${this.running[this.running.length - 1]}` : ` (${this.state})`;
    this.status.text = `${icon} Codegen${what}`;
    this.status.tooltip = `Codegen server: ${this.state}${detail ? ` — ${detail}` : ''}. Click to show its output.`;
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
