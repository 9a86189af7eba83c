import assert from 'node:assert/strict';
import { test } from 'node:test';
import { baseUrlProblem, modelFingerprint, PROVIDERS, readyStatus } from '../../src/onboarding';

test('onboarding: the four providers; local servers need no key, the last asks for its URL', () => {
  assert.deepEqual(PROVIDERS.map((p) => [p.label, p.baseUrl, p.needsKey]), [
    ['OpenAI', '', true], ['Ollama', 'http://localhost:11434/v1', false], ['llama.cpp', 'http://localhost:8080/v1', false],
    ['Another OpenAI-compatible server', undefined, true],
  ]);
  assert.equal(baseUrlProblem('http://localhost:8000/v1'), undefined);
  assert.equal(baseUrlProblem(' https://api.example.com/v1 '), undefined);
  assert.match(baseUrlProblem('localhost:8000') ?? '', /http:\/\//);
  assert.match(baseUrlProblem('file:///etc/passwd') ?? '', /http:\/\//);
});

test('onboarding: "no model" until a model answered with these settings', () => {
  assert.equal(modelFingerprint(' http://localhost:11434/v1 ', 'qwen'), 'http://localhost:11434/v1|qwen');
  assert.notEqual(modelFingerprint('', 'gpt-4o'), modelFingerprint('', 'gpt-4o-mini'));
  assert.equal(modelFingerprint(undefined, null), '|');
  assert.match(readyStatus(false).text, /no model/);
  assert.equal(readyStatus(false).setup, true);
  assert.doesNotMatch(readyStatus(true).text, /no model/);
});
