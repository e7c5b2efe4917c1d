/**
 * Request validation (Fastify's validator compiler), stricter than Fastify's default:
 *
 * - JSON bodies are validated as sent: no type coercion (`{"text": false}` is not the note "false").
 *   Query strings, path parameters and headers are text, so they are coerced (`limit=20` → 20).
 * - Numbers must be finite: `limit=Infinity` (which coercion would turn into a number that passes
 *   `maximum`) is refused.
 * - `date-time` is strict RFC 3339: impossible dates and times, such as a leap second
 *   (`23:59:60Z`, which `Date` cannot represent) or 30 February, are refused.
 * - Bodies nest at most {@link maxBodyDepth} levels: a deeper one is refused before any handler
 *   walks it recursively (a PagerDuty `custom_details` nested 3,000 deep overflowed the stack).
 *
 * Every refusal is an Ajv-style error, so the error handlers answer 400 naming the field.
 */
import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

/** Nesting levels a request body may have (objects and arrays; the body itself is level 1). */
export const maxBodyDepth = 32;

const rfc3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

const daysIn = (year: number, month: number) =>
  month === 2
    ? year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
      ? 29
      : 28
    : [4, 6, 9, 11].includes(month)
      ? 30
      : 31;

/** An RFC 3339 date-time that exists: no leap seconds, no 30 February, and one `Date` can read. */
export function isDateTime(s: string): boolean {
  const m = rfc3339.exec(s);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return false;
  if (hour > 23 || minute > 59 || second > 59) return false;
  if (m[7] !== undefined && (Number(m[7]) > 23 || Number(m[8]) > 59)) return false;
  return Number.isFinite(Date.parse(s));
}

function newAjv(o: Options): Ajv {
  const ajv = new Ajv({ allErrors: false, removeAdditional: false, strict: false, ...o });
  addFormats.default(ajv);
  ajv.addFormat('date-time', { type: 'string', validate: isDateTime });
  return ajv;
}

type Path = (string | number)[];
const pointer = (path: Path) =>
  path.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

const problem = (path: Path, keyword: string, message: string): ErrorObject => ({
  instancePath: pointer(path),
  schemaPath: '#',
  keyword,
  params: {},
  message,
});

/**
 * The first value nested deeper than `max` levels (its path, cut to the first two fields, which is
 * enough to name it), or the first number that is not finite. Iterative: no depth can overflow it.
 */
function inspect(data: unknown, max: number): ErrorObject | undefined {
  const stack: { value: unknown; depth: number; path: Path }[] = [{ value: data, depth: 1, path: [] }];
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop()!;
    if (typeof value === 'number' && !Number.isFinite(value))
      return problem(path, 'finite', 'must be a finite number');
    if (value === null || typeof value !== 'object') continue;
    if (depth > max)
      return problem(path.slice(0, 2), 'maxDepth', `must not be nested more than ${max} levels deep`);
    const child = (key: string | number) => (path.length < 2 ? [...path, key] : path);
    if (Array.isArray(value))
      value.forEach((v, i) => stack.push({ value: v, depth: depth + 1, path: child(i) }));
    else
      for (const [k, v] of Object.entries(value as Record<string, unknown>))
        stack.push({ value: v, depth: depth + 1, path: child(k) });
  }
  return undefined;
}

export interface ValidationOptions {
  /** Nesting levels a body may have (default {@link maxBodyDepth}). */
  maxDepth?: number;
}

/** The validator compiler for `app.setValidatorCompiler`. */
export function createValidatorCompiler(o: ValidationOptions = {}): FastifySchemaCompiler<unknown> {
  const maxDepth = o.maxDepth ?? maxBodyDepth;
  const bodies = newAjv({ coerceTypes: false, useDefaults: true });
  const text = newAjv({ coerceTypes: 'array', useDefaults: true });
  return ({ schema, httpPart }) => {
    const isBody = httpPart === 'body' || httpPart === undefined;
    const ajv = isBody ? bodies : text;
    const compiled: ValidateFunction =
      (typeof schema === 'object' && schema && '$id' in schema && typeof schema.$id === 'string'
        ? ajv.getSchema(schema.$id)
        : undefined) ?? ajv.compile(schema as object);
    // Fastify hands `parentData` to functions with `schemaEnv` (Ajv's own), so coercion can replace
    // the root value: keep that.
    const validate = Object.assign(
      (data: unknown, ctx?: object) => {
        // A body is looked at before Ajv walks it; coerced text after Ajv produced the numbers.
        const before = isBody ? inspect(data, maxDepth) : undefined;
        const ok = !before && (compiled as (d: unknown, c?: object) => boolean)(data, ctx);
        const after = ok && !isBody ? inspect(data, Number.POSITIVE_INFINITY) : undefined;
        const problem = before ?? after;
        validate.errors = problem ? [problem] : (compiled.errors ?? null);
        return ok && !problem;
      },
      { errors: null as ErrorObject[] | null, schemaEnv: compiled.schemaEnv },
    );
    return validate;
  };
}
