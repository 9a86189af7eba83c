import assert from 'node:assert/strict';
import { test } from 'node:test';
import { markerReport } from '../../src/markers';
import type { FeedbackResult, Marker } from '../../src/protocol';

const marker = (path: string, line: number, text: string, note?: string): Marker => ({
  path, uri: `file:///ws/${path}`, line, text, scope: '', ...(note ? { note } : {}),
  range: { start: { line: line - 1, character: 3 }, end: { line: line - 1, character: 30 } },
});

function result(fields: Partial<FeedbackResult>): FeedbackResult {
  return { runId: 'r1', files: [], diff: '', applied: true, apply: 'client', reason: '', failures: [], explanation: '', ...fields };
}

test('markers: acted and remaining at their current lines, with the NOT DONE reason and the explanation', () => {
  const report = markerReport(result({
    explanation: 'load() now returns [] for a missing file; first() throws on an empty list.',
    markers: {
      acted: [marker('loader.py', 7, 'return an empty list'), marker('util.ts', 2, 'throw a clear error')],
      remaining: [marker('util.ts', 9, 'rename to lastItem', 'renaming `last` would break its callers')],
    },
  }));
  assert.equal(report.summary, 'Codegen: applied 2 codegen: comments (loader.py:7, util.ts:2). Not done: util.ts:9 (see why in Problems).');
  assert.deepEqual(report.details.slice(1), [
    '', 'load() now returns [] for a missing file; first() throws on an empty list.',
    '', 'Not done — util.ts:9: rename to lastItem', '  renaming `last` would break its callers',
  ]);
});

test('markers: a question back, no change, or a discarded change say so; no reason is said plainly', () => {
  assert.equal(markerReport(result({ question: 'Which error type?', applied: false })).summary, 'Codegen asks: Which error type?');
  assert.equal(markerReport(result({ applied: false, changed: false, explanation: 'It already does.' })).summary, 'Codegen: no change needed. It already does.');
  const discarded = markerReport(result({ applied: false, reason: 'discarded in the preview', markers: { acted: [], remaining: [marker('a.py', 1, 'x')] } }));
  assert.equal(discarded.summary, 'Codegen: not applied: discarded in the preview. Not done: a.py:1.');
});
