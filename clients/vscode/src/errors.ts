/**
 * Errors from the daemon as one notification with a button that fixes the cause.
 * No `vscode` import: the extension turns an `ErrorAdvice` into a notification.
 */

/** What a button does; the extension maps each to a VS Code command. */
export type FixAction = 'setApiKey' | 'openModelSettings' | 'showOutput' | 'restartServer';

export interface ErrorAdvice {
  message: string;
  actions: { title: string; action: FixAction }[];
}

/** JSON-RPC error codes the daemon and vscode-jsonrpc use. */
const INVALID_PARAMS = -32602;
const REQUEST_CANCELLED = -32800;
// vscode-jsonrpc: a write to a closed pipe, a pending response rejected, the client no longer running.
const CONNECTION_LOST = [-32099, -32097, -32096];

const SET_KEY = { title: 'Set API Key', action: 'setApiKey' } as const;
const MODEL_SETTINGS = { title: 'Open Settings', action: 'openModelSettings' } as const;
const OUTPUT = { title: 'Show Output', action: 'showOutput' } as const;

/** A thrown value from `sendRequest`, as far as we can read it. */
export interface RpcErrorLike { code?: unknown; message?: unknown; data?: unknown }

export function errorKind(error: RpcErrorLike): string | undefined {
  const data = error.data;
  if (typeof data === 'object' && data !== null && typeof (data as { kind?: unknown }).kind === 'string') {
    return (data as { kind: string }).kind;
  }
  return undefined;
}

/** What fixes the error, from its `data`: the setting (like "model.apiKey") and environment variable, or null. */
export function errorSetting(error: RpcErrorLike): { setting: string | null; env: string | null } {
  const data = (typeof error.data === 'object' && error.data !== null ? error.data : {}) as { setting?: unknown; env?: unknown };
  return { setting: typeof data.setting === 'string' ? data.setting : null, env: typeof data.env === 'string' ? data.env : null };
}

/**
 * The daemon's message is neutral (it names the setting as `model.apiKey`): the advice in VS Code's
 * words — the command that stores the key, or the `codegen.` setting — comes from `data`.
 */
export function vscodeAdvice(error: RpcErrorLike): string {
  const { setting, env } = errorSetting(error);
  const orEnv = env ? ` (or the environment variable ${env})` : '';
  if (setting === 'model.apiKey') return `Use the command “Codegen: Set API Key”${orEnv}.`;
  if (setting) return `Set \`codegen.${setting}\` in the settings${orEnv}.`;
  return '';
}

/** True for the standard RequestCancelled answer (the user cancelled; nothing to report). */
export function isRequestCancelled(error: RpcErrorLike): boolean {
  return error.code === REQUEST_CANCELLED;
}

/**
 * `message` without the daemon's pointers into its run folder ("See /ws/.codegen/runs/<id>/calls for
 * what it said."): a path of internals is no advice in a notification (Show Output, the run's transcript).
 */
export function withoutRunPaths(message: string): string {
  return message.replace(/\s*See \S*\.codegen\/runs\/\S+ for [^.]*\./g, '').trim();
}

/** The notification for a failed command: the daemon's message, and the button that fixes its kind. */
export function adviceFor(what: string, error: RpcErrorLike): ErrorAdvice {
  const text = typeof error.message === 'string' && error.message.trim() !== '' ? withoutRunPaths(error.message) : String(error);
  const advice = vscodeAdvice(error);
  const message = `Codegen: ${what} failed: ${text}` + (advice ? ` ${advice}` : '');
  if (typeof error.code === 'number' && CONNECTION_LOST.includes(error.code)) {
    return { message: `Codegen: ${what} failed: the codegen server stopped (${text}).`, actions: [{ title: 'Restart Server', action: 'restartServer' }, OUTPUT] };
  }
  if (error.code === INVALID_PARAMS) return { message, actions: [OUTPUT] };
  switch (errorKind(error)) {
    case 'not-configured':
      return { message, actions: [SET_KEY, MODEL_SETTINGS] };
    case 'auth':
      return { message, actions: [SET_KEY] };
    case 'not-found':
    case 'unreachable':
    case 'bad-request':
      return { message, actions: [MODEL_SETTINGS] };
    case 'timeout':
      return { message, actions: [MODEL_SETTINGS, OUTPUT] };
    default:
      return { message, actions: [OUTPUT] };
  }
}
