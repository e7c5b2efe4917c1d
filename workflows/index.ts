// The workflow bundle's entry point: every workflow the worker runs.
export { incidentWorkflow } from './incident.js';
export { postmortemWorkflow } from './postmortem.js';
export { monitorWorkflow } from './monitor.js';
export { changeLogWorkflow } from './change-log.js';
export { deliveryWorkflow } from './delivery.js';
export { probeShardWorkflow } from './probe-shard.js';
