/** Ajv validators for the Statuspage API v2 schemas in test/fixtures/statuspage/schemas.ts. */
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import * as schemas from '../fixtures/statuspage/schemas.js';

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats.default(ajv);

export const statuspageValidators = {
  summary: ajv.compile(schemas.summaryResponse),
  status: ajv.compile(schemas.statusResponse),
  components: ajv.compile(schemas.componentsResponse),
  incidents: ajv.compile(schemas.incidentsResponse),
};

/** The schema errors of `value`, as text (empty when it conforms). */
export function statuspageErrors(which: keyof typeof statuspageValidators, value: unknown): string[] {
  const v = statuspageValidators[which];
  return v(value) ? [] : (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
}
