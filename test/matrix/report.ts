/**
 * The matrix as a table, printed after a run: one row per (server, client), one column
 * per behaviour; `ok` passed, `FAIL` failed, `n/a` not applicable (reasons listed under
 * the table), `known` a known limitation (its issue listed).
 * @module
 */
import type { Behaviour, CellPlan } from './behaviours.ts';

/** A cell's outcome. */
export type Outcome = 'ok' | 'FAIL' | 'n/a' | 'known' | 'not run';

/** Collects outcomes and prints them. */
export class MatrixReport {
  readonly #behaviours: readonly Behaviour[];
  readonly #rows = new Map<string, Map<string, Outcome>>();
  readonly #notes = new Map<string, string>();
  readonly #observations: string[] = [];

  constructor(behaviours: readonly Behaviour[]) {
    this.#behaviours = behaviours;
  }

  /** Declares a cell (at collection time): n/a and known cells get their note. */
  plan(row: string, behaviour: string, plan: CellPlan): void {
    this.#row(row).set(behaviour, plan.status === 'n/a' ? 'n/a' : 'not run');
    if (plan.status === 'n/a') this.#notes.set(`n/a ${plan.reason}`, '');
    if (plan.status === 'known') this.#notes.set(`known ${plan.limitation.issue} — ${plan.limitation.note}`, '');
  }

  /** Records how a cell ended. */
  record(row: string, behaviour: string, outcome: Outcome): void {
    this.#row(row).set(behaviour, outcome);
  }

  /** Records an observation of a cell. */
  observe(row: string, behaviour: string, text: string): void {
    this.#observations.push(`${row} ${behaviour}: ${text}`);
  }

  #row(row: string): Map<string, Outcome> {
    let r = this.#rows.get(row);
    if (r === undefined) this.#rows.set(row, (r = new Map()));
    return r;
  }

  /** Plain-text table plus notes. */
  format(title: string): string {
    const ids = this.#behaviours.map((b) => b.id);
    const first = Math.max(...[...this.#rows.keys()].map((k) => k.length), 'server × client'.length);
    const lines = [`${title}`, `${'server × client'.padEnd(first)}  ${ids.map((id, i) => `${i + 1}`.padStart(2)).join(' ')}`];
    const symbol: Record<Outcome, string> = { ok: ' ✓', FAIL: ' ✗', 'n/a': ' -', known: ' K', 'not run': ' ?' };
    let counts = { ok: 0, FAIL: 0, 'n/a': 0, known: 0, 'not run': 0 } as Record<Outcome, number>;
    for (const [row, cells] of this.#rows) {
      lines.push(`${row.padEnd(first)}  ${ids.map((id) => symbol[cells.get(id) ?? 'not run']).join(' ')}`);
      for (const id of ids) counts = { ...counts, [cells.get(id) ?? 'not run']: counts[cells.get(id) ?? 'not run'] + 1 };
    }
    lines.push('', `columns: ${ids.map((id, i) => `${i + 1} ${id}`).join(', ')}`);
    lines.push(`✓ pass ${counts.ok}, ✗ fail ${counts.FAIL}, - n/a ${counts['n/a']}, K known limitation ${counts.known}, ? not run ${counts['not run']}`);
    if (this.#notes.size > 0) lines.push('', ...[...this.#notes.keys()].map((n) => `  ${n}`));
    if (this.#observations.length > 0) lines.push('', 'observations:', ...this.#observations.map((o) => `  ${o}`));
    return lines.join('\n');
  }
}
