import assert from 'node:assert/strict';
import { test } from 'node:test';
import { age, runIdOfPath, runRow, transcriptPath, transcriptTitle, type RunEntry } from '../../src/runs';

const base: RunEntry = {
  id: '20261204-100000-abcdef', kind: 'generate', status: 'applied', created: '2026-12-04T10:00:00+0000',
  started: '2026-12-04T10:00:00.000000+00:00', title: 'a calculator', description: 'generate: a calculator',
  files: ['calc/ops.py'], written: ['calc/ops.py'], undoable: true, asked: 'a calculator library', path: '', lines: [],
};
const now = new Date('2026-12-04T10:05:30Z');

test('a row: the description (never the id), status words and age, and the actions the run offers', () => {
  const row = runRow(base, now);
  assert.equal(row.label, 'generate: a calculator');
  assert.equal(row.detail, 'applied · 5 min ago');
  assert.equal(row.icon, 'check');
  assert.equal(row.contextValue, 'run.undoable.rerun');
  assert.match(row.tooltip, /a calculator library/);
  assert.match(row.tooltip, /`calc\/ops\.py`/);
  assert.doesNotMatch(row.tooltip + row.label + row.detail, /20261204-100000-abcdef/);
});

test('a feedback run continues in its thread; a running or prompt-less run offers no re-run; undo only when undoable', () => {
  const feedback = { ...base, kind: 'feedback', status: 'running', undoable: false, asked: 'handle []', path: 'stats.py', lines: [1, 2] };
  const row = runRow(feedback, now);
  assert.equal(row.contextValue, 'run.rerun.continue');
  assert.equal(row.detail, 'working… · 5 min ago');
  assert.equal(row.icon, 'sync~spin');
  assert.equal(runRow({ ...base, asked: '', undoable: false }, now).contextValue, 'run');
  assert.equal(runRow({ ...base, kind: 'fix', status: 'failed', undoable: false }, now).contextValue, 'run.rerun');
});

test('age: from started (UTC), else the created stamp; days as a date', () => {
  assert.equal(age({ ...base, started: '' }, now), '5 min ago');
  assert.equal(age({ ...base, started: '2026-12-04T10:05:10+00:00' }, now), 'just now');
  assert.equal(age({ ...base, started: '2026-12-01T10:00:00+00:00' }, now), 'Dec 1');
  assert.equal(age({ ...base, started: '', created: 'garbage' }, now), '');
});

test('the transcript: its file in the run folder, a tab title from the description, the run of a changed file', () => {
  assert.equal(transcriptPath('/ws/', 'r1'), '/ws/.codegen/runs/r1/transcript.md');
  assert.equal(transcriptTitle({ description: 'feedback: a/b: "x"', kind: 'feedback' }), 'Transcript — feedback a b x.md');
  assert.equal(transcriptTitle({ description: 'x'.repeat(80), kind: 'generate' }).length, 'Transcript — '.length + 60 + 3);
  assert.equal(runIdOfPath('/ws/.codegen/runs/20261204-100000-abcdef/run.json'), '20261204-100000-abcdef');
  assert.equal(runIdOfPath('/ws/src/run.json'), undefined);
});
