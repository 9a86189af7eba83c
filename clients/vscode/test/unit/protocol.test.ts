import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adviceFor, isRequestCancelled } from '../../src/errors';
import { clarifyAnswerArgs, clarifyStartArgs, commentRange, describeFailure, feedbackArgs, fixArgs, generateArgs, isCancelled, markerFeedbackArgs, undoArgs } from '../../src/protocol';

const range = { start: { line: 3, character: 0 }, end: { line: 5, character: 12 } };

test('command arguments are one object each, as the daemon expects', () => {
  assert.deepEqual(clarifyStartArgs('  a todo app  ', '/ws'), { prompt: 'a todo app', root: '/ws' });
  assert.deepEqual(clarifyStartArgs('x'), { prompt: 'x' });
  assert.deepEqual(clarifyAnswerArgs('run1', ['q1', 'q2', 'q3'], ['  yes ', undefined], '/ws'), { runId: 'run1', answers: ['yes', '', ''], root: '/ws' });
  assert.deepEqual(generateArgs('run1', '/ws'), { runId: 'run1', root: '/ws' });
  assert.deepEqual(undoArgs('run9'), { runId: 'run9' });
  assert.deepEqual(undoArgs(''), {});
  assert.deepEqual(fixArgs('/ws'), { root: '/ws' });
  assert.deepEqual(fixArgs('/ws', 'make test'), { testCommand: 'make test', root: '/ws' });
  assert.deepEqual(markerFeedbackArgs('/ws'), { markers: true, root: '/ws' });
});

test('a first comment starts a run; a reply carries the thread runId', () => {
  assert.deepEqual(feedbackArgs('file:///ws/a.py', range, ' use a set ', undefined, '/ws'),
    { uri: 'file:///ws/a.py', range, comment: 'use a set', root: '/ws' });
  assert.deepEqual(feedbackArgs('file:///ws/a.py', range, 'and sort it', 'run7', '/ws'),
    { uri: 'file:///ws/a.py', range, comment: 'and sort it', runId: 'run7', root: '/ws' });
});

test('a cancelled result is told apart from a real one', () => {
  assert.equal(isCancelled({ cancelled: true, message: 'x' }), true);
  assert.equal(isCancelled({ runId: 'r', applied: false }), false);
  assert.equal(isCancelled(null), false);
});

test('each daemon error kind gets the button that fixes it', () => {
  const titles = (kind: string) => adviceFor('generate', { code: -32803, message: 'No model is configured', data: { kind } }).actions.map((a) => a.action);
  assert.deepEqual(titles('not-configured'), ['setApiKey', 'openModelSettings']);
  assert.deepEqual(titles('auth'), ['setApiKey']);
  assert.deepEqual(titles('not-found'), ['openModelSettings']);
  assert.deepEqual(titles('unreachable'), ['openModelSettings']);
  assert.deepEqual(titles('rate-limited'), ['showOutput']);
  assert.deepEqual(titles('EditError'), ['showOutput']);
  const advice = adviceFor('generate', { code: -32803, message: 'The model endpoint http://x is unreachable', data: { kind: 'unreachable' } });
  assert.equal(advice.message, 'Codegen: generate failed: The model endpoint http://x is unreachable');
  assert.deepEqual(adviceFor('fix', { code: -32097, message: 'Connection got disposed.' }).actions.map((a) => a.action), ['restartServer', 'showOutput']);
  assert.deepEqual(adviceFor('fix', { code: -32096, message: 'Client is not running' }).actions.map((a) => a.action), ['restartServer', 'showOutput']);
  assert.equal(isRequestCancelled({ code: -32800 }), true);
  assert.equal(isRequestCancelled({ code: -32803 }), false);
});

test('a selection of whole lines is about those lines, not the next one', () => {
  const length = (line: number) => [17, 36, 0][line];
  assert.deepEqual(commentRange({ start: { line: 0, character: 0 }, end: { line: 2, character: 0 } }, length),
    { start: { line: 0, character: 0 }, end: { line: 1, character: 36 } });
  const inside = { start: { line: 1, character: 4 }, end: { line: 1, character: 10 } };
  assert.deepEqual(commentRange(inside, length), inside);
  const empty = { start: { line: 2, character: 0 }, end: { line: 2, character: 0 } };
  assert.deepEqual(commentRange(empty, length), empty);
});

test('a failure reads as file, hunk and reason, with the closest text on its own lines', () => {
  assert.equal(describeFailure({ file: 'stats.py', hunk: 2, reason: 'context not found', closest: 'def mean(v):\n    return 0' }),
    'stats.py hunk 2: context not found\n  closest text in the file:\n    def mean(v):\n        return 0');
  assert.equal(describeFailure({ file: null, hunk: null, reason: 'no unified diff or whole-file block found in the answer', closest: null }),
    'the answer: no unified diff or whole-file block found in the answer');
});

test('the advice is worded in VS Code from the error data, not from the daemon\'s neutral message', () => {
  const auth = adviceFor('generate', { code: -32803, message: 'The model endpoint at http://x rejected the API key (HTTP 401). Fix the API key (the client\'s `model.apiKey`, or the environment variable OPENAI_API_KEY).', data: { kind: 'auth', setting: 'model.apiKey', env: 'OPENAI_API_KEY' } });
  assert.ok(auth.message.endsWith('Use the command \u201cCodegen: Set API Key\u201d (or the environment variable OPENAI_API_KEY).'), auth.message);
  assert.deepEqual(auth.actions.map((a) => a.action), ['setApiKey']);
  const noTests = adviceFor('fix', { code: -32803, message: 'No test command found for this workspace.', data: { kind: 'no-test-command', setting: 'fix.testCommand', env: null } });
  assert.ok(noTests.message.endsWith('Set `codegen.fix.testCommand` in the settings.'), noTests.message);
  const plain = adviceFor('fix', { code: -32803, message: 'Run x has no checkpoints to return to.', data: { kind: 'WorkflowError', setting: null, env: null } });
  assert.equal(plain.message, 'Codegen: fix failed: Run x has no checkpoints to return to.');
});
