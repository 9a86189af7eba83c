import assert from 'node:assert/strict';
import { test } from 'node:test';
import { approvalKey, confirmation, decide, remember, testCommandPlan } from '../../src/testCommand';

const FOLDER = 'file:///home/me/cloned';
const FILES = { workspace: '/home/me/cloned/.vscode/settings.json', workspaceFolder: '/home/me/cloned/.vscode/settings.json' };
const MULTI = { workspace: '/home/me/all.code-workspace', workspaceFolder: '/home/me/cloned/.vscode/settings.json' };

test("no workspace-level test command: the daemon's own (the user's setting, else detected), nothing asked", () => {
  assert.deepEqual(testCommandPlan(undefined, FOLDER, FILES, []), { kind: 'own' });
  assert.deepEqual(testCommandPlan({ defaultValue: '', globalValue: 'pytest -x' }, FOLDER, FILES, []), { kind: 'own' });
  assert.deepEqual(testCommandPlan({ defaultValue: '', workspaceValue: '   ' }, FOLDER, FILES, []), { kind: 'own' });
  // The workspace says what the user's own setting says: nothing new would run.
  assert.deepEqual(testCommandPlan({ globalValue: 'pytest -x', workspaceValue: ' pytest -x ' }, FOLDER, FILES, []), { kind: 'own' });
  assert.deepEqual(decide({ kind: 'own' }, undefined), { run: true });
});

test('a workspace-level test command is asked about, with the exact command and its file', () => {
  const plan = testCommandPlan({ defaultValue: '', globalValue: 'pytest -q', workspaceValue: 'sh -c "touch /tmp/pwned"' }, FOLDER, FILES, []);
  assert.deepEqual(plan, { kind: 'ask', command: 'sh -c "touch /tmp/pwned"', file: FILES.workspace, key: approvalKey(FOLDER, 'sh -c "touch /tmp/pwned"'), userCommand: 'pytest -q' });
  if (plan.kind !== 'ask') throw new Error('unreachable');
  const { message, detail } = confirmation(plan, 'cloned');
  assert.match(message, /\nsh -c "touch \/tmp\/pwned"\n/);
  assert.ok(detail.includes('/home/me/cloned/.vscode/settings.json (codegen.fix.testCommand)'), detail);
  assert.ok(detail.includes('your own setting: pytest -q'), detail);
  const detected = testCommandPlan({ workspaceValue: 'make evil' }, FOLDER, FILES, []);
  if (detected.kind !== 'ask') throw new Error('expected ask');
  assert.match(confirmation(detected, 'cloned').detail, /the detected test command/);
});

test("a folder's value wins over the workspace's and names the folder's file", () => {
  const plan = testCommandPlan({ workspaceValue: 'tox', workspaceFolderValue: './run-tests.sh' }, FOLDER, MULTI, []);
  assert.equal(plan.kind, 'ask');
  assert.equal(plan.kind === 'ask' && plan.command, './run-tests.sh');
  assert.equal(plan.kind === 'ask' && plan.file, MULTI.workspaceFolder);
  const fromWorkspaceFile = testCommandPlan({ workspaceValue: 'tox' }, FOLDER, MULTI, []);
  assert.equal(fromWorkspaceFile.kind === 'ask' && fromWorkspaceFile.file, MULTI.workspace);
});

test('allowing runs it and remembers it for this folder and this text only; a changed command asks again', () => {
  const levels = { workspaceValue: 'make test' };
  const plan = testCommandPlan(levels, FOLDER, FILES, []);
  const allowed = decide(plan, 'allow');
  assert.deepEqual(allowed, { run: true, testCommand: 'make test', remember: approvalKey(FOLDER, 'make test') });
  const approvals = remember([], allowed.remember as string);
  assert.deepEqual(testCommandPlan(levels, FOLDER, FILES, approvals), { kind: 'allowed', command: 'make test' });
  assert.deepEqual(decide({ kind: 'allowed', command: 'make test' }, undefined), { run: true, testCommand: 'make test' });
  assert.equal(testCommandPlan({ workspaceValue: 'make test; curl evil' }, FOLDER, FILES, approvals).kind, 'ask');
  assert.equal(testCommandPlan(levels, 'file:///home/me/other', FILES, approvals).kind, 'ask');
});

test('declining: dismissed cancels the run; "run without it" leaves the command to the daemon; nothing is remembered', () => {
  const plan = testCommandPlan({ workspaceValue: 'make test' }, FOLDER, FILES, []);
  assert.deepEqual(decide(plan, undefined), { run: false });
  assert.deepEqual(decide(plan, 'without'), { run: true });
});

test('approvals: the newest last, no duplicates, at most the limit kept', () => {
  assert.deepEqual(remember(['a', 'b'], 'a'), ['b', 'a']);
  assert.deepEqual(remember(['a', 'b', 'c'], 'd', 3), ['b', 'c', 'd']);
});
