/**
 * The extension's settings as the daemon's options, and how the daemon is found.
 * No `vscode` import: unit tests run these with plain `node --test`.
 */

/** Reads one setting of the `codegen` section; `undefined` when unset. */
export type SettingReader = (key: string) => unknown;

/** One setting's value at each level, as `WorkspaceConfiguration.inspect` gives it. */
export interface SettingLevels {
  defaultValue?: unknown;
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/**
 * Settings a cloned repository must not choose: the program the extension runs, the URL that
 * receives the API key, the safeguards a fix run keeps, and the test command. package.json scopes
 * the first four `application` (VS Code ignores them in workspace and folder settings); they and
 * `fix.testCommand` are also read from the user's settings only, so a workspace value never
 * reaches the daemon even where the scope is not honoured. A workspace's test command is asked
 * about before a fix run (testCommand.ts).
 */
export const USER_ONLY_SETTINGS: readonly string[] = ['server.command', 'model.baseUrl', 'fix.autoAccept', 'fix.allowTestEdits', 'fix.testCommand'];

/** The value the user chose in their own settings, else the default: never a workspace's. */
export function userValue(levels: SettingLevels | undefined): unknown {
  return levels?.globalValue !== undefined ? levels.globalValue : levels?.defaultValue;
}

/** `read`, except that the USER_ONLY_SETTINGS come from the user's settings (`inspect`) only. */
export function userOnlyReader(read: SettingReader, inspect: (key: string) => SettingLevels | undefined): SettingReader {
  return (key) => (USER_ONLY_SETTINGS.includes(key) ? userValue(inspect(key)) : read(key));
}

/** The daemon's `initializationOptions` / `didChangeConfiguration` object (README: section `codegen`). */
export interface ServerOptions {
  model: { name?: string; baseUrl?: string; apiKey?: string; timeout?: number; maxRetries?: number; maxAnswerChars?: number; maxCallSeconds?: number };
  apply: { saveAfterApply?: boolean };
  fix: { maxIterations?: number; testCommand?: string; autoAccept?: boolean; allowTestEdits?: boolean };
}

function text(read: SettingReader, key: string): string | undefined {
  const value = read(key);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function positiveNumber(read: SettingReader, key: string): number | undefined {
  const value = read(key);
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

function positiveInteger(read: SettingReader, key: string): number | undefined {
  const value = positiveNumber(read, key);
  return value !== undefined && Number.isInteger(value) ? value : undefined;
}

function flag(read: SettingReader, key: string): boolean | undefined {
  const value = read(key);
  return typeof value === 'boolean' ? value : undefined;
}

/** Drops the keys whose value is undefined, so the daemon keeps its own default (or the env's) for them. */
function defined<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Maps the user's settings (and the API key from SecretStorage) onto the daemon's options.
 * Empty settings are left out, so OPENAI_BASE_URL / CODEGEN_MODEL from the environment still apply.
 */
export function serverOptions(read: SettingReader, apiKey: string | undefined): ServerOptions {
  return {
    model: defined({
      name: text(read, 'model.name'),
      baseUrl: text(read, 'model.baseUrl'),
      apiKey: apiKey && apiKey.trim() !== '' ? apiKey.trim() : undefined,
      timeout: positiveNumber(read, 'model.timeout'),
      maxRetries: ((v) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined))(read('model.maxRetries')),
      maxAnswerChars: positiveInteger(read, 'model.maxAnswerChars'),
      maxCallSeconds: positiveNumber(read, 'model.maxCallSeconds'),
    }),
    apply: defined({ saveAfterApply: flag(read, 'apply.saveAfterApply') }),
    fix: defined({
      maxIterations: positiveInteger(read, 'fix.maxIterations'),
      testCommand: text(read, 'fix.testCommand'),
      autoAccept: flag(read, 'fix.autoAccept'),
      allowTestEdits: flag(read, 'fix.allowTestEdits'),
    }),
  };
}

/**
 * The settings `previous` held that `next` leaves out (e.g. `codegen.model.baseUrl`). The daemon
 * overlays what it is sent on what it holds, so only a restart takes such a value away from it.
 */
export function droppedSettings(previous: ServerOptions, next: ServerOptions): string[] {
  const dropped: string[] = [];
  for (const section of ['model', 'apply', 'fix'] as const) {
    const now: Record<string, unknown> = next[section];
    for (const key of Object.keys(previous[section])) {
      if (now[key] === undefined) dropped.push(`codegen.${section}.${key}`);
    }
  }
  return dropped;
}

/** The settings a user sees in logs: the options with the API key masked. */
export function redacted(options: ServerOptions): ServerOptions {
  return { ...options, model: { ...options.model, ...(options.model.apiKey ? { apiKey: '***' } : {}) } };
}

/**
 * `text` with every occurrence of `secret` masked, as written and as JSON escapes it (a verbose LSP
 * trace prints message params as JSON, and the key travels in initializationOptions and
 * didChangeConfiguration).
 */
export function maskSecret(text: string, secret: string | undefined): string {
  if (!secret) return text;
  const forms = new Set([secret, JSON.stringify(secret).slice(1, -1)]);
  let masked = text;
  for (const form of forms) masked = masked.split(form).join('***');
  return masked;
}

/** How to start the daemon: an argv, or why it cannot be started. */
export type ServerCommand =
  | { ok: true; command: string; args: string[] }
  | { ok: false; message: string };

export const DEFAULT_SERVER = 'codegen-server';

/**
 * The daemon's argv: the `codegen.server.command` setting (an argv array), else `codegen-server`
 * found on PATH. `findOnPath` returns the absolute path of an executable, or undefined;
 * `isExecutable` checks a path given in the setting.
 */
export function resolveServerCommand(
  setting: unknown,
  findOnPath: (name: string) => string | undefined,
  isExecutable: (file: string) => boolean,
): ServerCommand {
  if (Array.isArray(setting) && setting.length > 0) {
    if (!setting.every((part) => typeof part === 'string') || (setting[0] as string).trim() === '') {
      return { ok: false, message: 'The setting codegen.server.command must be a list of strings, e.g. ["/path/to/codegen-server"].' };
    }
    const [command, ...args] = setting as string[];
    const found = command.includes('/') ? (isExecutable(command) ? command : undefined) : findOnPath(command);
    if (found === undefined) {
      const where = command.includes('/') ? 'is not an executable file' : 'was not found on PATH';
      return { ok: false, message: `The codegen server ${command} (setting codegen.server.command) ${where}: install the codegen-server Python package there, or fix the setting.` };
    }
    return { ok: true, command: found, args };
  }
  if (setting !== undefined && setting !== null && !(Array.isArray(setting) && setting.length === 0)) {
    return { ok: false, message: 'The setting codegen.server.command must be a list of strings, e.g. ["/path/to/codegen-server"].' };
  }
  const found = findOnPath(DEFAULT_SERVER);
  if (found === undefined) {
    return {
      ok: false,
      message: 'The codegen server was not found: install the codegen-server Python package (`pip install -e <codegen checkout>` puts `codegen-server` on PATH) or set codegen.server.command to its path.',
    };
  }
  return { ok: true, command: found, args: [] };
}

/** Looks `name` up in a PATH string; `isExecutable` checks one candidate file. */
export function findOnPath(name: string, pathVariable: string | undefined, isExecutable: (file: string) => boolean): string | undefined {
  for (const dir of (pathVariable ?? '').split(':')) {
    if (dir === '') continue;
    const candidate = `${dir.replace(/\/+$/, '')}/${name}`;
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}
