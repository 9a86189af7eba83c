import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeExit, StderrLog, TRACEBACK_HIDDEN } from '../../src/stderr';

const CRASH = [
  'INFO codegen: starting',
  'Traceback (most recent call last):',
  '  File "/x/codegen_server/server/__main__.py", line 3, in <module>',
  '    from .app import main',
  'KeyError: \'a\'',
  '',
  'During handling of the above exception, another exception occurred:',
  '',
  'Traceback (most recent call last):',
  '  File "/x/codegen_server/server/app.py", line 9, in main',
  'ModuleNotFoundError: No module named \'pygls\'',
  '',
].join('\n');

test('stderr: a traceback shows as one notice and its exception; lines split across chunks are joined', () => {
  const shown: string[] = [];
  const log = new StderrLog((l) => shown.push(l), () => false);
  for (let i = 0; i < CRASH.length; i += 7) log.append(CRASH.slice(i, i + 7));
  log.flush();
  assert.deepEqual(shown, ['INFO codegen: starting', TRACEBACK_HIDDEN, "KeyError: 'a'", "ModuleNotFoundError: No module named 'pygls'"]);
  assert.deepEqual(log.tail(2), ["KeyError: 'a'", "ModuleNotFoundError: No module named 'pygls'"]);
});

test('stderr: with a verbose trace every line is shown; the tail stays folded; a last line without newline counts', () => {
  const shown: string[] = [];
  const log = new StderrLog((l) => shown.push(l), () => true);
  log.append(CRASH + 'usage: codegen-server [-h]');
  log.flush();
  assert.deepEqual(shown, [...CRASH.split('\n').slice(0, -1), 'usage: codegen-server [-h]']);
  assert.deepEqual(log.tail(3), ["KeyError: 'a'", "ModuleNotFoundError: No module named 'pygls'", 'usage: codegen-server [-h]']);
  assert.equal(describeExit(1, null, log.tail(1)), 'exit code 1: usage: codegen-server [-h]');
  assert.equal(describeExit(null, 'SIGKILL', []), 'signal SIGKILL');
});
