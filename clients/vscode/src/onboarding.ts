/**
 * First steps: the model providers the walkthrough offers, and whether a model has answered with the
 * settings in use (the status bar says "no model" until one has). No `vscode` import.
 */

export interface Provider {
  label: string;
  detail: string;
  /** `codegen.model.baseUrl`: '' for OpenAI's own API; undefined: the user types it. */
  baseUrl: string | undefined;
  /** A model name to start from. */
  model: string;
  /** Whether it takes an API key (local servers do not). */
  needsKey: boolean;
}

export const PROVIDERS: readonly Provider[] = [
  { label: 'OpenAI', detail: "OpenAI's API (an API key from platform.openai.com)", baseUrl: '', model: 'gpt-4o', needsKey: true },
  { label: 'Ollama', detail: 'A local Ollama server (ollama serve) on port 11434', baseUrl: 'http://localhost:11434/v1', model: 'qwen2.5-coder:14b', needsKey: false },
  { label: 'llama.cpp', detail: 'A local llama.cpp server (llama-server) on port 8080', baseUrl: 'http://localhost:8080/v1', model: 'local', needsKey: false },
  { label: 'Another OpenAI-compatible server', detail: 'vLLM, LM Studio, a hosted endpoint: you give its URL', baseUrl: undefined, model: '', needsKey: true },
];

/** Why `text` is not an endpoint URL, or undefined when it is one. */
export function baseUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return 'An http:// or https:// URL, e.g. http://localhost:8000/v1';
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? undefined : 'An http:// or https:// URL, e.g. http://localhost:8000/v1';
}

/** What a model answer is tied to: the endpoint and the model's name (another of either has not answered yet). */
export function modelFingerprint(baseUrl: unknown, name: unknown): string {
  const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
  return `${text(baseUrl)}|${text(name)}`;
}

/** The daemon commands whose success means the model answered. */
export const MODEL_COMMANDS: readonly string[] = ['codegen.clarify', 'codegen.generateProject', 'codegen.applyFeedback', 'codegen.fixTests', 'codegen.testModel'];

/** The status bar's words while the daemon is ready: a model answered, or not yet (`setup`: a click opens the walkthrough). */
export function readyStatus(modelAnswered: boolean): { text: string; tooltip: string; setup: boolean } {
  return modelAnswered
    ? { text: '$(sparkle) Codegen', tooltip: 'Codegen server: ready; the model answered. Click to show its output.', setup: false }
    : { text: '$(circle-slash) Codegen: no model', tooltip: 'No model has answered yet with these settings. Click to set one up and test the connection.', setup: true };
}
