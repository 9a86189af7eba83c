/**
 * What a marker run (`codegen.applyFeedback {markers: true}`) did, for the notification, the output
 * and the Problems list: the markers acted on, those remaining at their current lines with the reason
 * they were not done, and the model's explanation. No `vscode` import.
 */
import type { FeedbackResult, Marker, Range } from './protocol';

export interface MarkerProblem { uri: string; range: Range; message: string }

export interface MarkerReport {
  /** One line for the notification. */
  summary: string;
  /** The whole account, for the output channel. */
  details: string[];
  /** One entry per remaining marker. */
  problems: MarkerProblem[];
}

const place = (m: Marker) => `${m.path}:${m.line}`;

export function markerReport(result: FeedbackResult): MarkerReport {
  const acted = result.markers?.acted ?? [];
  const remaining = result.markers?.remaining ?? [];
  const count = (n: number) => `${n} codegen: comment${n === 1 ? '' : 's'}`;
  let summary: string;
  if (result.question) summary = `Codegen asks: ${result.question}`;
  else if (result.applied) summary = `Codegen: applied ${count(acted.length)} (${acted.map(place).join(', ')}).`;
  else if (result.changed === false) summary = `Codegen: no change needed. ${result.explanation ?? ''}`.trim();
  else summary = `Codegen: not applied: ${result.reason || 'the change was discarded'}.`;
  if (remaining.length > 0) {
    const reasons = remaining.filter((m) => m.note).length;
    summary += ` Not done: ${remaining.map(place).join(', ')}${reasons > 0 ? ' (see why in Problems)' : ''}.`;
  }
  const details = [summary];
  const explanation = (result.explanation ?? '').trim();
  if (explanation) details.push('', explanation);
  for (const m of remaining) details.push('', `Not done — ${place(m)}: ${m.text}`, `  ${m.note ? m.note : '(no reason given)'}`);
  const problems = remaining.map((m) => ({
    uri: m.uri,
    range: m.range,
    message: `codegen: ${m.text} — not done${m.note ? `: ${m.note}` : ''}`,
  }));
  return { summary, details, problems };
}
