import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adviceFor, withoutRunPaths } from '../../src/errors';

test("a failure's notification holds no path into the run folder", () => {
  const message = "The model's answer held no files or diffs; nothing to apply. See /home/me/ws/.codegen/runs/20261204-101500-ab12cd/calls for what it said.";
  assert.equal(withoutRunPaths(message), "The model's answer held no files or diffs; nothing to apply.");
  assert.equal(adviceFor('Generate', { code: -32603, message }).message, "Codegen: Generate failed: The model's answer held no files or diffs; nothing to apply.");
  assert.equal(withoutRunPaths('See the docs for more.'), 'See the docs for more.');
});
