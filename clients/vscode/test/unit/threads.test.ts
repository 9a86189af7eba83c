import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixMessage } from '../../src/fixreport';
import type { FeedbackResult, FixResult } from '../../src/protocol';
import { failedOutcome, newThread, outcomeOf, restoredThread, savedThreads, type SavedThread } from '../../src/threads';

const base: FeedbackResult = { runId: 'r1', explanation: '', files: [], diff: '', applied: false, apply: 'client', reason: '', failures: [] };

test('an applied feedback: the explanation, the files, and the run kept for a reply', () => {
  const outcome = outcomeOf(newThread(), { ...base, explanation: 'Guarded the empty list.', changed: true, applied: true, files: [{ path: 'calc/ops.py', action: 'modify' }] });
  assert.deepEqual(outcome.state, { runId: 'r1', status: 'applied' });
  assert.match(outcome.reply, /Guarded the empty list\./);
  assert.match(outcome.reply, /Applied to `calc\/ops\.py`/);
  assert.equal(outcome.label, 'Codegen: applied');
});

test('a question back: nothing edited, the thread waits for a reply on the same run', () => {
  const outcome = outcomeOf({ runId: 'r0', status: 'applied' }, { ...base, runId: 'r2', question: 'Should zero raise or return None?', changed: false });
  assert.equal(outcome.state.status, 'question');
  assert.equal(outcome.state.runId, 'r2');
  assert.match(outcome.reply, /\*\*Question:\*\* Should zero raise or return None\?/);
});

test('no change needed, declined, and failed hunks each say so', () => {
  assert.equal(outcomeOf(newThread(), { ...base, changed: false, explanation: 'It already does that.' }).state.status, 'no-change');
  const declined = outcomeOf(newThread(), { ...base, changed: true, files: [{ path: 'a.py', action: 'modify' }], reason: 'discarded in the preview' });
  assert.equal(declined.state.status, 'declined');
  assert.match(declined.reply, /Not applied: discarded in the preview\./);
  const failed = outcomeOf(newThread(), { ...base, changed: true, files: [{ path: 'a.py', action: 'modify' }], reason: 'hunks failed', failures: [{ file: 'a.py', hunk: 2, reason: 'context not found', closest: 'def f():\n    return 1' }] });
  assert.equal(failed.state.status, 'failed');
  assert.match(failed.reply, /- `a\.py hunk 2`: context not found/);
  assert.ok(failed.reply.includes('  def f():\n      return 1'), failed.reply);  // the closest text keeps its lines
  assert.ok(!failed.reply.includes('undefined'), failed.reply);
});

test('proposed memory is passed on for the user to confirm; an error keeps the run', () => {
  const outcome = outcomeOf(newThread(), { ...base, changed: true, applied: true, files: [{ path: 'a.py', action: 'modify' }], proposedMemory: ['Use type hints', ' '] });
  assert.deepEqual(outcome.proposedMemory, ['Use type hints']);
  const failed = failedOutcome({ runId: 'r5', status: 'running' }, 'boom');
  assert.deepEqual(failed.state, { runId: 'r5', status: 'error' });
});

test('fix report: green with the count, or the daemon summary of why it stopped', () => {
  const result: FixResult = { runId: 'f1', green: true, stopped: 'green', iterations: [{}], failingAtStart: 1, failingAtEnd: 0, testsFixed: 1, tokensUsed: 10, restoredTo: null, summary: '' };
  assert.deepEqual(fixMessage(result), { ok: true, message: 'Codegen: the tests pass — fixed 1 failing test in 1 iteration.' });
  const stopped = fixMessage({ ...result, green: false, stopped: 'no-progress', failingAtEnd: 1, testsFixed: 0, summary: 'Stopped after 2 iterations: the model made no progress.' });
  assert.deepEqual(stopped, { ok: false, message: 'Codegen: Stopped after 2 iterations: the model made no progress.' });
});

test('threads across a reload: kept with their state; one that was working says it was interrupted; junk is dropped', () => {
  const range = { start: { line: 3, character: 0 }, end: { line: 5, character: 0 } };
  const applied: SavedThread = { uri: 'file:///ws/stats.py', range, state: { runId: 'r1', status: 'applied' },
    comments: [{ author: 'you', body: 'handle []' }, { author: 'codegen', body: 'Applied to `stats.py`.' }] };
  const failed: SavedThread = { ...applied, state: { runId: 'r2', status: 'failed' } };
  const running: SavedThread = { ...applied, state: { runId: 'r0', status: 'running' }, comments: [{ author: 'you', body: 'again' }] };
  const kept = savedThreads([applied, failed, running, { uri: 1 }, { ...applied, comments: [] }, { ...applied, state: { status: 'bogus' } }, null]);
  assert.deepEqual(kept, [applied, failed, running]);
  assert.deepEqual(savedThreads(undefined), []);
  assert.deepEqual(restoredThread(applied), { state: applied.state, comments: applied.comments, label: 'Codegen: applied' });
  assert.equal(restoredThread(failed).label, 'Codegen: some changes did not apply');
  const back = restoredThread(running);
  assert.deepEqual(back.state, { runId: 'r0', status: 'error' });
  assert.equal(back.comments.length, 2);
  assert.match(back.comments[1].body, /reloaded while this ran.*Reply to try again/);
});

test('a change taken in part names what the review left out', () => {
  const out = outcomeOf({ runId: 'r1', status: 'running' }, {
    runId: 'r2', files: [{ path: 'stats.py', action: 'modify' }], diff: '', applied: true, apply: 'client', reason: '', failures: [],
    explanation: 'Guard the empty list.', leftOut: ['util.py: the user rejected your change to it in the review'],
  });
  assert.equal(out.state.status, 'applied');
  assert.match(out.reply, /Applied to `stats.py`\.\n\nLeft out or changed in the review: `util.py`\./);
});
