/**
 * The severity levels, most severe first. Apart from the configuration schema so that workflow code
 * can use them without bundling the schema (and its validator library) into every workflow.
 */
export const severities = ['P0', 'P1', 'P2', 'P3'] as const;
export type Severity = (typeof severities)[number];
