/**
 * What a marker run (`codegen.applyFeedback {markers: true}`) did, for the notification and the output:
 * the markers acted on, those remaining at their current lines with the reason they were not done, and
 * the model's explanation. The Problems list has the daemon's diagnostics for the markers left, each
 * saying why. No `vscode` import.
 */
import type { FeedbackResult, Marker } from './protocol';

export interface MarkerReport {
  /** One line for the notification. */
  summary: string;
  /** The whole account, for the output channel. */
  details: string[];
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
  return { summary, details };
}
