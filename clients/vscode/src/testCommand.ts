/**
 * Whether a fix run may use the test command a workspace's settings name. A cloned repository's
 * `.vscode/settings.json` can set `codegen.fix.testCommand` to any shell command, so such a command
 * is never sent to the daemon as a default (settings.ts reads it from the user's settings only): a
 * fix run passes it only after the user has seen it, where it came from, and allowed it, once per
 * folder and command text (a changed command is asked about again).
 * No `vscode` import: unit tests run this with plain `node --test`.
 */
import type { SettingLevels } from './settings';

/** The settings files a workspace-level value can come from, as the user should see them. */
export interface TestCommandFiles {
  /** The workspace's settings: `.vscode/settings.json` of a single folder, or the `.code-workspace` file. */
  workspace: string;
  /** The folder's own `.vscode/settings.json` (a folder of a multi-root workspace). */
  workspaceFolder: string;
}

export type TestCommandPlan =
  /** No test command from the workspace: the daemon uses the user's own setting, else detects one. */
  | { kind: 'own' }
  /** The user allowed this command for this folder before: the run passes it. */
  | { kind: 'allowed'; command: string }
  /** The user must see it first. `key` remembers the approval; `userCommand` is what runs without it. */
  | { kind: 'ask'; command: string; file: string; key: string; userCommand?: string };

/** The user's answer to the confirmation: allow it, run without it, or nothing (dismissed: cancel). */
export type TestCommandAnswer = 'allow' | 'without' | undefined;

/** What the fix run does: run or not, with which `testCommand` argument, and what approval to keep. */
export interface TestCommandDecision {
  run: boolean;
  testCommand?: string;
  remember?: string;
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** The approval's key: the folder and the exact command text. */
export function approvalKey(folder: string, command: string): string {
  return JSON.stringify([folder, command]);
}

/**
 * What a fix run in `folder` (its URI) should do about the test command, from the setting's levels
 * (`inspect`) and the approvals the user gave. A folder's value wins over the workspace's, as in
 * VS Code; an empty workspace value counts as unset (the user's own setting, else detection, runs).
 */
export function testCommandPlan(levels: SettingLevels | undefined, folder: string, files: TestCommandFiles, allowed: readonly string[]): TestCommandPlan {
  const user = nonEmpty(levels?.globalValue);
  const fromFolder = nonEmpty(levels?.workspaceFolderValue);
  const command = fromFolder ?? nonEmpty(levels?.workspaceValue);
  // The user's own setting says the same: nothing to ask (the daemon holds that value).
  if (command === undefined || command === user) return { kind: 'own' };
  const key = approvalKey(folder, command);
  if (allowed.includes(key)) return { kind: 'allowed', command };
  return { kind: 'ask', command, file: fromFolder !== undefined ? files.workspaceFolder : files.workspace, key, userCommand: user };
}

/**
 * The run that follows the plan and the user's answer. Dismissing the question cancels the run
 * (nothing runs); "run without it" leaves the test command to the daemon (the user's own setting,
 * else the detected one).
 */
export function decide(plan: TestCommandPlan, answer: TestCommandAnswer): TestCommandDecision {
  if (plan.kind === 'own') return { run: true };
  if (plan.kind === 'allowed') return { run: true, testCommand: plan.command };
  if (answer === 'allow') return { run: true, testCommand: plan.command, remember: plan.key };
  if (answer === 'without') return { run: true };
  return { run: false };
}

/** The approvals with `key` added (most recent last, at most `limit` kept). */
export function remember(allowed: readonly string[], key: string, limit = 200): string[] {
  return [...allowed.filter((k) => k !== key), key].slice(-limit);
}

export const ALLOW_BUTTON = 'Allow and Run';
export const WITHOUT_BUTTON = 'Run Without It';

/** The modal confirmation: the exact command in the message, where it came from in the detail. */
export function confirmation(plan: Extract<TestCommandPlan, { kind: 'ask' }>, folderName: string): { message: string; detail: string } {
  const fallback = plan.userCommand !== undefined
    ? `your own setting: ${plan.userCommand}`
    : 'the detected test command (pytest, npm test, cargo test or go test)';
  return {
    message: `Codegen: this workspace's settings set the test command\n\n${plan.command}\n\nRun it?`,
    detail: [
      `It comes from ${plan.file} (codegen.fix.testCommand), not from your user settings. ` +
        'A cloned repository can put any command there.',
      `"${ALLOW_BUTTON}" runs it in ${folderName} for this and later fix runs (you are asked again if it changes). ` +
        `"${WITHOUT_BUTTON}" uses ${fallback}. Cancel runs nothing.`,
    ].join('\n\n'),
  };
}
