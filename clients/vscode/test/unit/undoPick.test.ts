import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dirtyRefusal, dirtyTargets, runItems, startedAgo, type RunSummary } from '../../src/undoPick';

function run(fields: Partial<RunSummary>): RunSummary {
  return { id: '20261204-180000-abc123', kind: 'fix', status: 'green', created: '', started: '2026-12-04T18:00:00.000000+00:00',
    title: '', description: 'fix', files: [], written: [], undoable: true, ...fields };
}
const NOW = new Date('2026-12-04T18:05:30Z');

test('undo picker: undoable runs described by what they were, when and their files — never by id', () => {
  const items = runItems([
    run({ description: 'generate: a calculator library ...', kind: 'generate', status: 'applied', written: ['calc/ops.py', 'tests/test_ops.py'] }),
    run({ description: 'feedback: handle empty list', kind: 'feedback', undoable: false }),
    run({ description: 'fix', written: ['a.py', 'b.py', 'c.py', 'd.py'], files: ['e.py'] }),
  ], NOW);
  assert.deepEqual(items.map((i) => [i.label, i.description, i.detail]), [
    ['generate: a calculator library ...', 'generate · 5 min ago · applied', '2 files written: calc/ops.py, tests/test_ops.py'],
    ['fix', 'fix · 5 min ago · green', '5 files written: a.py, b.py, c.py, d.py, … (5 in all)'],
  ]);
  for (const item of items) assert.ok(![item.label, item.description, item.detail].join(' ').includes('abc123'));
});

test('undo picker: started as a person says it', () => {
  assert.equal(startedAgo({ started: '2026-12-04T18:05:10.000000+00:00', created: '' }, NOW), 'just now');
  assert.equal(startedAgo({ started: '2026-12-04T15:00:00.000000+00:00', created: '' }, NOW), '3 h ago');
  assert.match(startedAgo({ started: '2026-11-01T15:00:00.000000+00:00', created: '' }, NOW), /^2026-11-0[12] \d\d:\d\d$/);
  assert.equal(startedAgo({ started: '', created: 'yesterday' }, NOW), 'yesterday');
});

test('undo refuses while a file it restores has unsaved changes, and names it', () => {
  const r = run({ written: ['shop/cart.py'], files: ['shop/util.py'] });
  assert.deepEqual(dirtyTargets(r, ['notes.txt', 'shop/util.py', 'shop/cart.py']), ['shop/util.py', 'shop/cart.py']);
  assert.deepEqual(dirtyTargets(r, ['notes.txt']), []);
  assert.match(dirtyRefusal(['shop/cart.py']), /nothing was undone — shop\/cart\.py has unsaved changes\. Save or revert it first/);
});
