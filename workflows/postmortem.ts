/**
 * The postmortem, a child of the incident: renders the draft from the incident's record and sends it
 * to the owner with a due date. (Scheduling the meeting and reminders build on this.)
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { IncidentView, Recipient } from '../domain/incident.js';
import { renderPostmortem } from '../domain/postmortem.js';
import { postmortemMail } from '../domain/templates.js';

const { sendEmail } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

export interface PostmortemInput {
  view: IncidentView;
  owner: Recipient;
  dueDays: number;
  publicBaseUrl?: string;
}

export interface PostmortemResult {
  dueDate: string;
  markdown: string;
}

export async function postmortemWorkflow(input: PostmortemInput): Promise<PostmortemResult> {
  const started = new Date();
  const dueDate = new Date(started.getTime() + input.dueDays * 86_400_000).toISOString().slice(0, 10);
  const markdown = renderPostmortem(input.view, {
    owner: input.owner,
    dueDate,
    generatedAt: started.toISOString(),
  });
  const base = input.publicBaseUrl ?? 'http://localhost:3000';
  const m = postmortemMail(input.view, markdown, dueDate, input.owner, {
    incidentUrl: `${base}/api/incidents/${input.view.id}`,
  });
  await sendEmail({
    idempotencyKey: `${workflowInfo().workflowId}/draft`,
    to: [input.owner],
    subject: m.subject,
    text: m.text,
    attachments: [
      { filename: `postmortem-${input.view.id}.md`, content: markdown, contentType: 'text/markdown' },
    ],
  });
  return { dueDate, markdown };
}
