import type { Duration } from './config-schema.js';

const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Milliseconds of a configured duration: a number is seconds, a string carries its unit (`15m`). */
export function durationMs(d: Duration): number {
  if (typeof d === 'number') return Math.round(d * 1000);
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)$/.exec(d);
  if (!m) throw new Error(`invalid duration "${d}" (use e.g. 30s, 15m, 2h)`);
  return Math.round(Number(m[1]) * unitMs[m[2] as keyof typeof unitMs]);
}

/** A short human form of a duration in milliseconds: `90s` → `1m 30s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  let s = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  if (s > 0 || parts.length === 0) parts.push(`${s}s`);
  return parts.join(' ');
}
