/**
 * Recorded histories (test/fixtures/*.history.json, made by `npm run record-history`) must replay
 * against the current workflow code. A change that breaks this needs `patched()`, not a new fixture.
 */
import { describe, expect, it, inject } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';

const dir = path.resolve('test/fixtures');
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.history.json'));

describe('workflow replay', () => {
  it('has at least one recorded incident history', () => {
    expect(fixtures.length).toBeGreaterThan(0);
  });

  for (const file of fixtures) {
    it(`${file} replays without non-determinism`, async () => {
      const history = historyFromJSON(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
      expect(history.events?.length).toBeGreaterThan(20);
      await expect(
        Worker.runReplayHistory(
          { workflowBundle: { codePath: inject('workflowBundlePath') } },
          history,
          file,
        ),
      ).resolves.toBeUndefined();
    });
  }

  it('a replay of a history against changed code fails (the test can fail)', async () => {
    const file = fixtures[0]!;
    const json = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as {
      events: Record<string, unknown>[];
    };
    // Pretend the workflow once scheduled a different activity first: the current code must object.
    const tampered = structuredClone(json);
    const scheduled = tampered.events.find((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED') as
      { activityTaskScheduledEventAttributes: { activityType: { name: string } } } | undefined;
    expect(scheduled).toBeDefined();
    scheduled!.activityTaskScheduledEventAttributes.activityType.name = 'somethingElse';
    await expect(
      Worker.runReplayHistory(
        { workflowBundle: { codePath: inject('workflowBundlePath') } },
        historyFromJSON(tampered),
        'tampered',
      ),
    ).rejects.toThrow(/[Nn]ondetermin/);
  });
});
