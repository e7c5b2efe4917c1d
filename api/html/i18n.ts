/**
 * The public pages' words in English and Norwegian (bokmål), and the choice between them: `?lang=`
 * wins, then `Accept-Language` by preference; anything unknown falls back to English.
 */
import type { StatusLanguage } from '../../domain/templates.js';
import type { StatusState } from '../../domain/incident.js';

export type Lang = StatusLanguage;
export const languages: readonly Lang[] = ['en', 'nb'];

/** Norwegian in any written form (`nb`, `nn`, `no`) is served in bokmål. */
function fromTag(tag: string): Lang | undefined {
  const primary = tag.trim().toLowerCase().split('-')[0];
  if (primary === 'nb' || primary === 'no' || primary === 'nn') return 'nb';
  if (primary === 'en') return 'en';
  return undefined;
}

export function pickLanguage(query: unknown, acceptLanguage: string | undefined): Lang {
  if (typeof query === 'string' && query !== '') return fromTag(query) ?? 'en';
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .slice(0, 20)
    .map((entry, i) => {
      const [tag = '', ...params] = entry.split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { lang: fromTag(tag), q: q === undefined ? 1 : Number(q), i };
    })
    .filter((x) => x.lang !== undefined && x.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  return ranked[0]?.lang ?? 'en';
}

export type ComponentStatus = 'operational' | 'degraded' | 'major_outage';

export interface StatusPageStrings {
  title: string;
  heading: string;
  allOperational: string;
  someProblems: string;
  components: string;
  componentStatus: Record<ComponentStatus, string>;
  openIncidents: string;
  noOpenIncidents: string;
  history: string;
  noHistory: string;
  stateLabel: Record<StatusState, string>;
  localTime: string;
  opened: string;
  resolved: string;
  duration: string;
  feed: string;
  json: string;
  language: string;
  generated: string;
  feedTitle: string;
  feedSubtitle: string;
  historyDays: (days: number) => string;
  showMessages: (n: number) => string;
  staleNotice: string;
}

export const statusPageStrings: Record<Lang, StatusPageStrings> = {
  en: {
    title: 'Service status',
    heading: 'Service status',
    allOperational: 'All services are operating normally.',
    someProblems: 'Some services have problems right now.',
    components: 'Services',
    componentStatus: { operational: 'Operational', degraded: 'Degraded', major_outage: 'Outage' },
    openIncidents: 'Current incidents',
    noOpenIncidents: 'There are no current incidents.',
    history: 'History',
    noHistory: 'No incidents in this period.',
    stateLabel: {
      investigating: 'Investigating',
      identified: 'Identified',
      monitoring: 'Monitoring',
      resolved: 'Resolved',
    },
    localTime: 'Norwegian time',
    opened: 'Started',
    resolved: 'Resolved',
    duration: 'Duration',
    feed: 'Subscribe (Atom feed)',
    json: 'JSON',
    language: 'Language',
    generated: 'Page generated',
    feedTitle: 'Service status',
    feedSubtitle: 'Status messages about incidents',
    historyDays: (days) => `The last ${days} days`,
    showMessages: (n) => `Status messages (${n})`,
    staleNotice: 'The status could not be refreshed just now; this is the status as of',
  },
  nb: {
    title: 'Driftsstatus',
    heading: 'Driftsstatus',
    allOperational: 'Alle tjenester fungerer som normalt.',
    someProblems: 'Noen tjenester har problemer akkurat nå.',
    components: 'Tjenester',
    componentStatus: { operational: 'I drift', degraded: 'Redusert', major_outage: 'Driftsavbrudd' },
    openIncidents: 'Pågående hendelser',
    noOpenIncidents: 'Det er ingen pågående hendelser.',
    history: 'Historikk',
    noHistory: 'Ingen hendelser i denne perioden.',
    stateLabel: {
      investigating: 'Undersøker',
      identified: 'Årsak funnet',
      monitoring: 'Overvåker',
      resolved: 'Løst',
    },
    localTime: 'norsk tid',
    opened: 'Startet',
    resolved: 'Løst',
    duration: 'Varighet',
    feed: 'Abonner (Atom-feed)',
    json: 'JSON',
    language: 'Språk',
    generated: 'Siden laget',
    feedTitle: 'Driftsstatus',
    feedSubtitle: 'Driftsmeldinger om hendelser',
    historyDays: (days) => `De siste ${days} dagene`,
    showMessages: (n) => `Driftsmeldinger (${n})`,
    staleNotice: 'Statusen kunne ikke oppdateres akkurat nå; dette er statusen per',
  },
};

export interface AckPageStrings {
  title: string;
  confirmHeading: string;
  confirmText: (who: string, service: string) => string;
  button: string;
  doneHeading: string;
  doneText: string;
  alreadyHeading: string;
  alreadyByYou: (at: string) => string;
  alreadyBy: (who: string, at: string) => string;
  resolvingText: string;
  closedHeading: string;
  closedText: (state: string) => string;
  expiredHeading: string;
  expiredText: string;
  invalidHeading: string;
  forgedText: string;
  malformedText: string;
  notConfiguredText: string;
  notFoundText: string;
  incident: string;
  state: string;
  since: string;
  console: string;
}

export const ackPageStrings: Record<Lang, AckPageStrings> = {
  en: {
    title: 'Acknowledge incident',
    confirmHeading: 'Acknowledge this incident?',
    confirmText: (who, service) =>
      `You are acknowledging as ${who}. This stops the escalation for ${service}: nobody else is paged while you work on it.`,
    button: 'Acknowledge',
    doneHeading: 'Acknowledged',
    doneText: 'Escalation has stopped. Resolve the incident when the service works again.',
    alreadyHeading: 'Already acknowledged',
    alreadyByYou: (at) =>
      `You acknowledged this incident at ${at}. This link has been used; nothing was changed.`,
    alreadyBy: (who, at) => `${who} acknowledged this incident at ${at}. Nothing was changed.`,
    resolvingText:
      'Someone has asked to resolve this incident; its recovery is being checked. Nothing was changed.',
    closedHeading: 'Incident closed',
    closedText: (state) => `This incident is already ${state}. Nothing was changed.`,
    expiredHeading: 'Link expired',
    expiredText:
      'This acknowledge link has expired. Nothing was changed. Acknowledge in the staff console or with the API.',
    invalidHeading: 'Invalid link',
    forgedText:
      'This acknowledge link is not valid (its signature does not match). Nothing was changed. Use the link from the page mail as it was sent, or the staff console.',
    malformedText:
      'This is not an acknowledge link (it may have been cut off). Nothing was changed. Use the whole link from the page mail, or the staff console.',
    notConfiguredText:
      'One-click acknowledge is not configured on this server (ACK_LINK_SECRET). Nothing was changed. Use the staff console or the API.',
    notFoundText: 'This incident does not exist (any more). Nothing was changed.',
    incident: 'Incident',
    state: 'State',
    since: 'Since',
    console: 'Open the staff console',
  },
  nb: {
    title: 'Kvitter for hendelse',
    confirmHeading: 'Kvittere for denne hendelsen?',
    confirmText: (who, service) =>
      `Du kvitterer som ${who}. Det stopper eskaleringen for ${service}: ingen andre varsles mens du jobber med saken.`,
    button: 'Kvitter',
    doneHeading: 'Kvittert',
    doneText: 'Eskaleringen er stoppet. Løs hendelsen når tjenesten virker igjen.',
    alreadyHeading: 'Allerede kvittert',
    alreadyByYou: (at) => `Du kvitterte for denne hendelsen ${at}. Lenken er brukt; ingenting ble endret.`,
    alreadyBy: (who, at) => `${who} kvitterte for denne hendelsen ${at}. Ingenting ble endret.`,
    resolvingText: 'Noen har bedt om å løse hendelsen; gjenopprettingen sjekkes nå. Ingenting ble endret.',
    closedHeading: 'Hendelsen er lukket',
    closedText: (state) => `Denne hendelsen er allerede ${state}. Ingenting ble endret.`,
    expiredHeading: 'Lenken er utløpt',
    expiredText:
      'Denne kvitteringslenken er utløpt. Ingenting ble endret. Kvitter i driftskonsollet eller med API-et.',
    invalidHeading: 'Ugyldig lenke',
    forgedText:
      'Denne kvitteringslenken er ikke gyldig (signaturen stemmer ikke). Ingenting ble endret. Bruk lenken slik den kom i varselet, eller driftskonsollet.',
    malformedText:
      'Dette er ikke en kvitteringslenke (den kan være kuttet av). Ingenting ble endret. Bruk hele lenken fra varselet, eller driftskonsollet.',
    notConfiguredText:
      'Kvittering med ett klikk er ikke satt opp på denne serveren (ACK_LINK_SECRET). Ingenting ble endret. Bruk driftskonsollet eller API-et.',
    notFoundText: 'Denne hendelsen finnes ikke (lenger). Ingenting ble endret.',
    incident: 'Hendelse',
    state: 'Tilstand',
    since: 'Siden',
    console: 'Åpne driftskonsollet',
  },
};
