/**
 * The check state machine: `failThreshold` failures in a row make a healthy check failing (with an
 * immediate re-probe after the first failure), `recoverThreshold` successes in a row make a failing
 * check healthy. Pure: the monitor activity feeds it probe results.
 */
export type Health = 'healthy' | 'failing';

export interface ThresholdState {
  health: Health;
  /** Consecutive results that disagree with `health` (failures while healthy, passes while failing). */
  streak: number;
}

export interface Thresholds {
  failThreshold: number;
  recoverThreshold: number;
}

export const defaultThresholds: Thresholds = { failThreshold: 3, recoverThreshold: 2 };

export interface Observation {
  state: ThresholdState;
  changed: boolean;
  /** Probe again at once instead of after the interval (the first failure of a healthy check). */
  reprobeNow: boolean;
}

export function observe(state: ThresholdState, ok: boolean, t: Thresholds): Observation {
  const agrees = (state.health === 'healthy') === ok;
  if (agrees) return { state: { health: state.health, streak: 0 }, changed: false, reprobeNow: false };
  const streak = state.streak + 1;
  const needed = state.health === 'healthy' ? t.failThreshold : t.recoverThreshold;
  if (streak >= needed) {
    return {
      state: { health: state.health === 'healthy' ? 'failing' : 'healthy', streak: 0 },
      changed: true,
      reprobeNow: false,
    };
  }
  return {
    state: { health: state.health, streak },
    changed: false,
    reprobeNow: state.health === 'healthy' && streak === 1,
  };
}

/** The fastest a down check can be detected: the first failure, one immediate re-probe, then intervals. */
export function detectionFloorMs(intervalMs: number, t: Thresholds): number {
  return Math.max(0, t.failThreshold - 2) * intervalMs;
}
