/**
 * The few VS Code calls the extension's modules share, in one place: the `codegen` settings,
 * workspace folders, and the commands that open a setting or the output.
 */
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { findOnPath, userOnlyReader, type SettingLevels, type SettingReader } from './settings';

export const SECTION = 'codegen';

/**
 * Reads `codegen.<key>` as VS Code resolves it, except the settings a workspace must not choose
 * (USER_ONLY_SETTINGS), which come from the user's settings only.
 */
export function settingReader(): SettingReader {
  const config = vscode.workspace.getConfiguration(SECTION);
  return userOnlyReader((key) => config.get(key), (key) => config.inspect(key));
}

/** `codegen.<key>` at each level for `folder` (its folder settings, the workspace's, the user's). */
export function settingLevels(key: string, folder: vscode.WorkspaceFolder): SettingLevels | undefined {
  return vscode.workspace.getConfiguration(SECTION, folder.uri).inspect(key);
}

/** Whether `file` is an executable file. */
export function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** An executable `name` on the extension host's PATH. */
export function findExecutable(name: string): string | undefined {
  return findOnPath(name, process.env.PATH, isExecutable);
}

/** Opens the Settings editor filtered to `query` (e.g. "codegen.model"). */
export function openSettings(query: string): Thenable<unknown> {
  return vscode.commands.executeCommand('workbench.action.openSettings', query);
}

/**
 * The workspace folder a command works in: the only one, else the one the user picks.
 * Undefined when no folder is open (a message says so) or the user dismissed the pick.
 */
export async function pickRoot(what: string): Promise<vscode.WorkspaceFolder | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 0) {
    void vscode.window.showErrorMessage(`Codegen: open a folder first — ${what} works in a workspace folder.`);
    return undefined;
  }
  if (folders.length === 1) return folders[0];
  return vscode.window.showWorkspaceFolderPick({ placeHolder: `Codegen: which folder should ${what} work in?`, ignoreFocusOut: true });
}

